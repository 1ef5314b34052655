// Plays one reply's audio chunks in seq order and answers "where are we in the reply?" from the
// audio clock, so the face's visemes and emotions line up with what is heard.
//
// Chunks may arrive (and finish downloading) out of order; each is scheduled at its startMs on a
// shared timeline. When a chunk is late, the timeline shifts so mouth and sound stay together.
// Without a running AudioContext (autoplay blocked, no audio device) the same timeline runs on the
// wall clock, silently, so the face still speaks.

export interface VisemeCue {
  viseme: string;
  startMs: number;
  endMs: number;
  weight: number;
}

export interface EmotionCue {
  emotion: string;
  intensity: number;
  atMs: number;
}

interface Chunk {
  startMs: number;
  durationMs: number;
  buffer: AudioBuffer | null | undefined; // undefined: still loading; null: failed, play silence
}

const LEAD_S = 0.05;
let sharedContext: AudioContext | null = null;

/** The page's AudioContext, made (or resumed) inside a click so the browser lets it play. */
export function unlockAudio(): AudioContext | null {
  if (typeof window === "undefined" || typeof AudioContext === "undefined") return null;
  sharedContext ??= new AudioContext();
  if (sharedContext.state === "suspended") void sharedContext.resume();
  return sharedContext;
}

export class ReplyPlayer {
  readonly visemes: VisemeCue[] = [];
  readonly emotions: EmotionCue[] = [];
  private readonly chunks = new Map<number, Chunk>();
  private readonly pendingFrames = new Map<number, VisemeCue[]>();
  private readonly sources: AudioBufferSourceNode[] = [];
  private nextSeq = 0;
  private base: number | null = null; // clock seconds at reply position 0
  private endMs = 0;
  private stoppedAt: number | null = null;

  constructor(
    readonly messageId: string,
    private readonly context: AudioContext | null,
  ) {}

  /** Which clock times the reply: "audio" (heard) or "wall" (silent fallback). */
  get clock(): "audio" | "wall" {
    return this.audible ? "audio" : "wall";
  }

  private get audible(): boolean {
    return this.context !== null && this.context.state === "running";
  }

  private now(): number {
    return this.audible && this.context ? this.context.currentTime : performance.now() / 1000;
  }

  addChunk(seq: number, url: string, startMs: number, durationMs: number): void {
    if (this.chunks.has(seq) || this.stoppedAt !== null) return;
    const chunk: Chunk = { startMs, durationMs, buffer: undefined };
    this.chunks.set(seq, chunk);
    for (const cue of this.pendingFrames.get(seq) ?? []) this.addCue(cue, startMs);
    this.pendingFrames.delete(seq);
    void this.load(url).then((buffer) => {
      chunk.buffer = buffer;
      this.pump();
    });
  }

  addVisemes(audioSeq: number, frames: VisemeCue[]): void {
    const chunk = this.chunks.get(audioSeq);
    if (!chunk) {
      this.pendingFrames.set(audioSeq, [...(this.pendingFrames.get(audioSeq) ?? []), ...frames]);
      return;
    }
    for (const frame of frames) this.addCue(frame, chunk.startMs);
  }

  addEmotion(cue: EmotionCue): void {
    this.emotions.push(cue);
    this.emotions.sort((a, b) => a.atMs - b.atMs);
  }

  /** Milliseconds of the reply heard so far; null before the first chunk plays. */
  positionMs(): number | null {
    if (this.stoppedAt !== null) return this.stoppedAt;
    if (this.base === null) return null;
    return Math.max(0, Math.min(this.endMs, (this.now() - this.base) * 1000));
  }

  /** True while scheduled audio remains to be heard. */
  get playing(): boolean {
    const at = this.positionMs();
    return this.stoppedAt === null && at !== null && at < this.endMs;
  }

  visemeAt(ms: number): VisemeCue | null {
    for (const cue of this.visemes) if (cue.startMs <= ms && ms < cue.endMs) return cue;
    return null;
  }

  emotionAt(ms: number | null): EmotionCue | null {
    let current: EmotionCue | null = null;
    for (const cue of this.emotions) {
      if (ms !== null && cue.atMs > ms) break;
      current = cue;
    }
    return current;
  }

  /** Silence now (barge-in); returns how much was heard, for interruptReply. */
  stop(): number {
    const heard = Math.round(this.positionMs() ?? 0);
    this.stoppedAt = heard;
    for (const source of this.sources) {
      try {
        source.stop();
      } catch {
        // never started
      }
    }
    return heard;
  }

  private addCue(frame: VisemeCue, offsetMs: number): void {
    this.visemes.push({
      ...frame,
      startMs: frame.startMs + offsetMs,
      endMs: frame.endMs + offsetMs,
    });
  }

  private async load(url: string): Promise<AudioBuffer | null> {
    if (!this.context) return null;
    try {
      const response = await fetch(url);
      if (!response.ok) return null;
      return await this.context.decodeAudioData(await response.arrayBuffer());
    } catch {
      return null;
    }
  }

  private pump(): void {
    for (;;) {
      const chunk = this.chunks.get(this.nextSeq);
      if (!chunk || chunk.buffer === undefined || this.stoppedAt !== null) return;
      this.schedule(chunk);
      this.nextSeq += 1;
    }
  }

  private schedule(chunk: Chunk): void {
    const now = this.now();
    this.base ??= now + LEAD_S - chunk.startMs / 1000;
    let when = this.base + chunk.startMs / 1000;
    if (when < now) {
      this.base += now - when + LEAD_S; // late chunk: delay the rest of the reply with it
      when = this.base + chunk.startMs / 1000;
    }
    this.endMs = Math.max(this.endMs, chunk.startMs + chunk.durationMs);
    if (chunk.buffer && this.audible && this.context) {
      const source = this.context.createBufferSource();
      source.buffer = chunk.buffer;
      source.connect(this.context.destination);
      source.start(when);
      this.sources.push(source);
    }
  }
}
