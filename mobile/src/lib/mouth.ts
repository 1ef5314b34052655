// The 15 Oculus visemes the server streams, as the two things a flat mouth can show: how open
// it is (0..1) and how wide (0..1). Lips closed for PP, round for oh/ou, wide for E/ih.
export interface MouthShape {
  open: number;
  wide: number;
}

const SHAPES: Record<string, MouthShape> = {
  sil: { open: 0, wide: 0.5 },
  PP: { open: 0, wide: 0.45 },
  FF: { open: 0.15, wide: 0.55 },
  TH: { open: 0.2, wide: 0.55 },
  DD: { open: 0.3, wide: 0.55 },
  kk: { open: 0.35, wide: 0.5 },
  CH: { open: 0.3, wide: 0.4 },
  SS: { open: 0.15, wide: 0.65 },
  nn: { open: 0.25, wide: 0.5 },
  RR: { open: 0.3, wide: 0.4 },
  aa: { open: 1, wide: 0.6 },
  E: { open: 0.6, wide: 0.8 },
  ih: { open: 0.45, wide: 0.75 },
  oh: { open: 0.8, wide: 0.3 },
  ou: { open: 0.5, wide: 0.2 },
};

/** The shape for a viseme at a weight (0..1), resting (sil) for names the app does not know. */
export function mouthShape(viseme: string, weight = 1): MouthShape {
  const rest = SHAPES.sil;
  const target = SHAPES[viseme] ?? rest;
  const w = Math.max(0, Math.min(1, weight));
  return {
    open: rest.open + (target.open - rest.open) * w,
    wide: rest.wide + (target.wide - rest.wide) * w,
  };
}
