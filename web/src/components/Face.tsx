"use client";

// A flat face: the mouth follows the reply's visemes on the audio clock, the brows, eyes and
// cheeks follow the latest emotion. Updated in requestAnimationFrame through refs, not React
// state, so sixty mouth shapes a second cost no re-renders.
import { useEffect, useEffectEvent, useRef } from "react";

export interface FaceState {
  viseme: string;
  weight: number;
  emotion: string;
  intensity: number;
  /** "audio" when timed by the AudioContext, "wall" when audio cannot play, "idle" before. */
  clock?: string;
}

// open: jaw drop, wide: lips spread, round: lips pushed forward (0..1).
const SHAPES: Record<string, { open: number; wide: number; round: number }> = {
  sil: { open: 0, wide: 0, round: 0 },
  PP: { open: 0, wide: 0.1, round: 0 },
  FF: { open: 0.15, wide: 0.3, round: 0 },
  TH: { open: 0.25, wide: 0.3, round: 0 },
  DD: { open: 0.35, wide: 0.4, round: 0 },
  kk: { open: 0.4, wide: 0.35, round: 0 },
  CH: { open: 0.3, wide: 0.2, round: 0.5 },
  SS: { open: 0.2, wide: 0.6, round: 0 },
  nn: { open: 0.3, wide: 0.35, round: 0 },
  RR: { open: 0.3, wide: 0.1, round: 0.4 },
  aa: { open: 1, wide: 0.4, round: 0 },
  E: { open: 0.6, wide: 0.7, round: 0 },
  ih: { open: 0.45, wide: 0.6, round: 0 },
  oh: { open: 0.75, wide: 0, round: 0.7 },
  ou: { open: 0.45, wide: 0, round: 1 },
};

// smile: mouth corners up (+) or down (-); brow: inner brow raise (+) or frown (-).
const MOODS: Record<string, { smile: number; brow: number; eye: number; cheek: number }> = {
  neutral: { smile: 1, brow: 0, eye: 1, cheek: 0 },
  joy: { smile: 7, brow: 2, eye: 0.8, cheek: 0.4 },
  affection: { smile: 5, brow: 1, eye: 0.7, cheek: 0.8 },
  sadness: { smile: -6, brow: 5, eye: 0.8, cheek: 0 },
  anger: { smile: -4, brow: -6, eye: 0.9, cheek: 0.2 },
  fear: { smile: -3, brow: 6, eye: 1.3, cheek: 0 },
  surprise: { smile: 0, brow: 7, eye: 1.4, cheek: 0 },
  disgust: { smile: -5, brow: -4, eye: 0.7, cheek: 0 },
  thinking: { smile: 0, brow: 3, eye: 0.9, cheek: 0 },
};

const r = (n: number) => Math.round(n * 10) / 10;

export function mouthPath(viseme: string, weight: number, smile: number): string {
  const shape = SHAPES[viseme] ?? SHAPES.sil!;
  const w = 26 * (1 + 0.35 * shape.wide - 0.45 * shape.round);
  const open = (2 + 24 * shape.open) * Math.max(0, Math.min(1, weight));
  const cx = 100;
  const cy = 142;
  const corner = cy - smile;
  return (
    `M ${r(cx - w)} ${r(corner)} ` +
    `Q ${cx} ${r(cy - open * 0.35 + smile * 0.2)} ${r(cx + w)} ${r(corner)} ` +
    `Q ${cx} ${r(cy + open + smile * 0.6)} ${r(cx - w)} ${r(corner)} Z`
  );
}

export function Face({ read }: { read: () => FaceState }) {
  const svg = useRef<SVGSVGElement>(null);
  const mouth = useRef<SVGPathElement>(null);
  const leftBrow = useRef<SVGPathElement>(null);
  const rightBrow = useRef<SVGPathElement>(null);
  const leftEye = useRef<SVGEllipseElement>(null);
  const rightEye = useRef<SVGEllipseElement>(null);
  const cheeks = useRef<SVGGElement>(null);
  const readNow = useEffectEvent(read);

  useEffect(() => {
    let frame = 0;
    const draw = () => {
      const state = readNow();
      const mood = MOODS[state.emotion] ?? MOODS.neutral!;
      const k = 0.5 + 0.5 * Math.max(0, Math.min(1, state.intensity));
      const d = mouthPath(state.viseme, state.weight, mood.smile * k);
      if (mouth.current && mouth.current.getAttribute("d") !== d) {
        mouth.current.setAttribute("d", d);
        mouth.current.dataset.viseme = state.viseme;
      }
      if (svg.current && state.clock && svg.current.dataset.clock !== state.clock) {
        svg.current.dataset.clock = state.clock;
      }
      if (svg.current && svg.current.dataset.emotion !== state.emotion) {
        svg.current.dataset.emotion = state.emotion;
        const brow = mood.brow * k;
        leftBrow.current?.setAttribute(
          "d",
          `M 58 ${r(72 - brow * 0.3)} Q 70 ${r(66 - brow)} 84 ${r(70 - brow)}`,
        );
        rightBrow.current?.setAttribute(
          "d",
          `M 116 ${r(70 - brow)} Q 130 ${r(66 - brow)} 142 ${r(72 - brow * 0.3)}`,
        );
        leftEye.current?.setAttribute("ry", String(r(9 * mood.eye)));
        rightEye.current?.setAttribute("ry", String(r(9 * mood.eye)));
        cheeks.current?.setAttribute("opacity", String(mood.cheek * k));
      }
      frame = requestAnimationFrame(draw);
    };
    frame = requestAnimationFrame(draw);
    return () => cancelAnimationFrame(frame);
  }, []);

  return (
    <svg
      ref={svg}
      className="face"
      viewBox="0 0 200 200"
      role="img"
      aria-label="Companion face"
      data-testid="face"
      data-emotion="neutral"
    >
      <circle cx="100" cy="100" r="88" fill="#ffe0c2" stroke="#c98b5e" strokeWidth="3" />
      <g ref={cheeks} opacity="0" fill="#ff8a8a">
        <ellipse cx="55" cy="125" rx="14" ry="8" />
        <ellipse cx="145" cy="125" rx="14" ry="8" />
      </g>
      <path
        ref={leftBrow}
        d="M 58 72 Q 70 66 84 70"
        stroke="#5a3b24"
        strokeWidth="4"
        fill="none"
        strokeLinecap="round"
      />
      <path
        ref={rightBrow}
        d="M 116 70 Q 130 66 142 72"
        stroke="#5a3b24"
        strokeWidth="4"
        fill="none"
        strokeLinecap="round"
      />
      <ellipse ref={leftEye} cx="71" cy="92" rx="8" ry="9" fill="#2d2018" />
      <ellipse ref={rightEye} cx="129" cy="92" rx="8" ry="9" fill="#2d2018" />
      <path
        ref={mouth}
        data-testid="mouth"
        data-viseme="sil"
        d={mouthPath("sil", 0, 1)}
        fill="#8c2f39"
        stroke="#5e1f26"
        strokeWidth="2"
        strokeLinejoin="round"
      />
    </svg>
  );
}
