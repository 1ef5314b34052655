// What the 3D character's face should show now, as VRM 1.0 expression weights: the mouth from the
// reply's viseme, the rest from its emotion. Pure functions of the page's FaceState (the same
// audio-clock timeline the SVG face reads), so the timing lives in one place (lib/player.ts).

import type { FaceState } from "@/components/Face";

export type Weights = Record<string, number>;

/** The mouth expressions VRM 1.0 defines (speech writes these, nothing else does). */
export const MOUTH = ["aa", "ih", "ou", "ee", "oh"] as const;
/** The emotion expressions VRM 1.0 defines. */
export const MOODS = ["happy", "angry", "sad", "relaxed", "surprised"] as const;

// The server's default for a VRM character (services/devices/manifest.py VRM_VISEMES and
// VRM_EMOTIONS, what a hologram device is told): the 15 visemes as the five vowels.
const VISEMES: Record<string, Weights> = {
  sil: {},
  PP: {},
  FF: { ih: 0.4 },
  TH: { ih: 0.5 },
  DD: { ih: 0.6 },
  kk: { ih: 0.5, aa: 0.2 },
  CH: { ih: 0.6, ou: 0.3 },
  SS: { ih: 0.7 },
  nn: { ih: 0.4 },
  RR: { ou: 0.5 },
  aa: { aa: 1 },
  E: { ee: 1 },
  ih: { ih: 1 },
  oh: { oh: 1 },
  ou: { ou: 1 },
};
const EMOTIONS: Record<string, string> = {
  neutral: "neutral",
  joy: "happy",
  sadness: "sad",
  anger: "angry",
  fear: "surprised",
  surprise: "surprised",
  disgust: "angry",
  affection: "relaxed",
  thinking: "neutral",
};

/** The strongest an emotion gets (intensity 1): a full "happy" is a grin that hides speech. */
export const EMOTION_CAP = 0.7;
/** While the mouth speaks, emotions keep this share, so the two shapes do not fight. */
const SPEAKING_SHARE = 0.6;

/** A character asset's own maps (CharacterAsset.visemeMap / emotionMap), over the defaults. */
export interface ExpressionMaps {
  visemes: Record<string, Weights>;
  emotions: Record<string, string>;
}

/** The three spellings a character asset's viseme map allows: "name", {name, weight}, a list. */
function weightsOf(value: unknown): Weights {
  if (typeof value === "string") return { [value]: 1 };
  if (Array.isArray(value)) return Object.assign({}, ...value.map(weightsOf)) as Weights;
  if (value && typeof value === "object" && "name" in value) {
    const { name, weight } = value as { name: unknown; weight?: unknown };
    return { [String(name)]: typeof weight === "number" ? weight : 1 };
  }
  return {};
}

export function expressionMaps(visemeMap?: unknown, emotionMap?: unknown): ExpressionMaps {
  const visemes = { ...VISEMES };
  const emotions = { ...EMOTIONS };
  for (const [viseme, value] of Object.entries((visemeMap ?? {}) as Record<string, unknown>))
    if (viseme in visemes) visemes[viseme] = weightsOf(value);
  for (const [emotion, value] of Object.entries((emotionMap ?? {}) as Record<string, unknown>))
    if (emotion in emotions && typeof value === "string") emotions[emotion] = value;
  return { visemes, emotions };
}

const clamp = (n: number) => Math.max(0, Math.min(1, n));

/** The weights the face is heading for: speech on the mouth, the emotion (capped) elsewhere. */
export function targetWeights(state: FaceState, maps: ExpressionMaps): Weights {
  const out: Weights = {};
  let speaking = 0;
  for (const [name, w] of Object.entries(maps.visemes[state.viseme] ?? {})) {
    out[name] = clamp(w * state.weight);
    speaking = Math.max(speaking, out[name]);
  }
  const mood = maps.emotions[state.emotion] ?? "neutral";
  if (mood !== "neutral") {
    const share = 1 - (1 - SPEAKING_SHARE) * speaking;
    out[mood] = Math.max(out[mood] ?? 0, EMOTION_CAP * clamp(state.intensity) * share);
  }
  return out;
}

/**
 * Moves `current` towards `target` (names absent from target head for 0): the mouth quickly,
 * emotions slowly, so one mood blends into the next. Returns current, changed in place.
 */
export function approach(current: Weights, target: Weights, dtS: number, mouth: Set<string>) {
  for (const name of new Set([...Object.keys(current), ...Object.keys(target)])) {
    const tau = mouth.has(name) ? 0.05 : 0.35;
    const goal = target[name] ?? 0;
    const now = current[name] ?? 0;
    const next = now + (goal - now) * (1 - Math.exp(-dtS / tau));
    current[name] = Math.abs(next - goal) < 0.001 ? goal : next;
  }
  return current;
}

/** Idle blinking: a blink of 150 ms every 2 to 6 seconds (a model's moods may hold it back:
 * VRM's overrideBlink). */
export class Blinker {
  private nextAtS = 1.5;
  private seed = 7;

  weight(timeS: number): number {
    const since = timeS - this.nextAtS;
    if (since > 0.15) {
      this.seed = (this.seed * 16807) % 2147483647; // a fixed, cheap sequence of gaps
      this.nextAtS = timeS + 2 + 4 * (this.seed / 2147483647);
      return 0;
    }
    return since < 0 ? 0 : 1 - Math.abs(since / 0.075 - 1);
  }
}

/** The expression weights shown, as "name:0.42 …" (non-zero, by name): read by tests. */
export function describe(weights: Weights): string {
  return Object.entries(weights)
    .filter(([, w]) => w >= 0.005)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, w]) => `${name}:${w.toFixed(2)}`)
    .join(" ");
}
