// Plays one reply's audio chunks in seq order on one timeline and answers "which mouth shape
// now?" and "how much was heard?" from it, so the mouth, the sound and interruptReply agree.
//
// Each chunk starts at its startMs on the reply's timeline (VisemeFrames are relative to their
// chunk). The timeline runs on the wall clock from the moment the first chunk starts; when the
// next chunk has not arrived by its start, the timeline waits for it, so sound and mouth stay
// together. A chunk's player is made as soon as the chunk arrives, so it loads while the one
// before it plays.
import { type AudioPlayer, createAudioPlayer } from "expo-audio";

export interface VisemeCue {
  viseme: string;
  startMs: number;
  endMs: number;
  weight: number;
}

interface Chunk {
  startMs: number;
  durationMs: number;
  player: AudioPlayer | null;
}

export interface PlaybackState {
  /** Chunks started so far, in order. */
  played: number;
  /** Chunks the server has sent. */
  received: number;
  viseme: string;
  weight: number;
  /** Non-silent mouth shapes shown so far. */
  shapes: number;
  heardMs: number;
  done: boolean;
  /** Stopped before its end (interrupted). */
  stopped: boolean;
}

const TICK_MS = 30;

export class ReplyPlayer {
  private readonly chunks = new Map<number, Chunk>();
  private readonly pendingCues = new Map<number, VisemeCue[]>();
  private readonly cues: VisemeCue[] = [];
  private nextSeq = 0;
  private base: number | null = null; // wall-clock ms at timeline position 0
  private lastShown = "sil";
  private ended = false;
  private stopped = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  state: PlaybackState = {
    played: 0,
    received: 0,
    viseme: "sil",
    weight: 0,
    shapes: 0,
    heardMs: 0,
    done: false,
    stopped: false,
  };

  constructor(
    readonly messageId: string,
    private readonly onChange: (state: PlaybackState) => void,
    private readonly now: () => number = () => Date.now(),
  ) {}

  addChunk(seq: number, url: string, startMs: number, durationMs: number): void {
    if (this.chunks.has(seq) || this.stopped) return;
    this.chunks.set(seq, { startMs, durationMs, player: createAudioPlayer({ uri: url }) });
    for (const cue of this.pendingCues.get(seq) ?? []) this.addCue(cue, startMs);
    this.pendingCues.delete(seq);
    this.update({ received: this.chunks.size });
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  /** Frames arrive before their chunk: kept until the chunk says where it starts. */
  addVisemes(audioSeq: number, frames: VisemeCue[]): void {
    const chunk = this.chunks.get(audioSeq);
    if (chunk) for (const cue of frames) this.addCue(cue, chunk.startMs);
    else this.pendingCues.set(audioSeq, [...(this.pendingCues.get(audioSeq) ?? []), ...frames]);
  }

  /** The reply has ended on the server: no more chunks will come. */
  finish(): void {
    this.ended = true;
    if (this.chunks.size === 0) this.close();
    else this.tick();
  }

  /** While the sound plays: how many ms of it have been heard (a voice session's barge-in). */
  heardNow(): number | null {
    return this.stopped || this.base === null ? null : Math.round(this.position());
  }

  /** Stops the sound now; answers how many ms of the reply were heard (for interruptReply). */
  stop(): number {
    const heard = this.position();
    this.update({ heardMs: heard, stopped: !this.state.done });
    this.close();
    return heard;
  }

  private addCue(cue: VisemeCue, chunkStartMs: number): void {
    this.cues.push({
      ...cue,
      startMs: cue.startMs + chunkStartMs,
      endMs: cue.endMs + chunkStartMs,
    });
  }

  private position(): number {
    return this.base === null ? 0 : Math.max(0, this.now() - this.base);
  }

  private tick(): void {
    if (this.stopped) return;
    const next = this.chunks.get(this.nextSeq);
    if (this.base === null && next) this.base = this.now() - next.startMs;
    let position = this.position();
    if (next && position >= next.startMs) {
      next.player?.play();
      this.nextSeq += 1;
      this.update({ played: this.nextSeq });
    } else if (!next && this.base !== null) {
      // Waiting for a late chunk: hold the timeline at the end of what has been played.
      const last = this.chunks.get(this.nextSeq - 1);
      const end = last ? last.startMs + last.durationMs : 0;
      if (position > end && !this.ended) {
        this.base += position - end;
        position = end;
      }
    }
    const cue = this.cues.find((c) => c.startMs <= position && position < c.endMs);
    const viseme = cue?.viseme ?? "sil";
    const shapes = this.state.shapes + (viseme !== "sil" && viseme !== this.lastShown ? 1 : 0);
    this.lastShown = viseme;
    this.update({ viseme, weight: cue?.weight ?? 0, shapes, heardMs: position });
    const last = this.chunks.get(this.chunks.size - 1);
    const endMs = last ? last.startMs + last.durationMs : 0;
    if (this.ended && this.nextSeq === this.chunks.size && position >= endMs) this.close();
  }

  private close(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const chunk of this.chunks.values()) {
      chunk.player?.pause();
      chunk.player?.remove();
      chunk.player = null;
    }
    this.update({ viseme: "sil", weight: 0, done: true });
  }

  private update(change: Partial<PlaybackState>): void {
    this.state = { ...this.state, ...change };
    this.onChange(this.state);
  }
}
