// Hands-free talking, the protocol side (no React, no native module): a microphone's 16 kHz mono
// PCM16, cut into 100 ms chunks, sent in order as sendVoiceChunk over the GraphQL socket the
// conversation's stream already holds. The server hears when a turn ends (its events come on
// the conversation stream: speech started, partial and final transcript, turn ended) and when
// speech over a playing reply interrupts it; each chunk says which reply is playing and how
// much of it was heard, so a barge-in cuts the reply where the person stopped hearing it.
import { pcm16ToBase64 } from "./pcm";
import type { HoloClient } from "./holoClient";
import { END_VOICE_SESSION, SEND_VOICE_CHUNK, START_VOICE_SESSION } from "./operations";

export const CHUNK_MS = 100;

/** A microphone streaming PCM16 mono at the rate asked for, in frames of any length. */
export interface MicSource {
  start(sampleRate: number, onPcm: (samples: Int16Array) => void): Promise<void>;
  stop(): Promise<void>;
}

/** The reply being played as a chunk is recorded: where a barge-in cuts it. */
export interface Playing {
  messageId: string;
  heardUntilMs: number;
}

/** Frames of any length in, whole chunks of `size` samples out (the rest waits for more). */
export class Chunker {
  private pending = new Int16Array(0);

  constructor(readonly size: number) {}

  push(frame: Int16Array): Int16Array[] {
    const all = new Int16Array(this.pending.length + frame.length);
    all.set(this.pending);
    all.set(frame, this.pending.length);
    const chunks: Int16Array[] = [];
    let at = 0;
    for (; at + this.size <= all.length; at += this.size)
      chunks.push(all.slice(at, at + this.size));
    this.pending = all.slice(at);
    return chunks;
  }
}

export interface VoiceSessionOptions {
  holo: Pick<HoloClient, "mutate">;
  conversationId: string;
  mic: MicSource;
  /** What is playing now (null: nothing), read as each chunk is sent. */
  playing: () => Playing | null;
  /** A chunk was refused or the socket failed: the session is over. */
  onError: (error: unknown) => void;
}

export class VoiceSession {
  private seq = 0;
  private stopped = false;

  private constructor(
    readonly id: string,
    readonly sampleRate: number,
    private readonly options: VoiceSessionOptions,
  ) {}

  /** Opens a session on the server, then the microphone at the session's rate. */
  static async start(options: VoiceSessionOptions): Promise<VoiceSession> {
    const { startVoiceSession: started } = await options.holo.mutate(
      START_VOICE_SESSION,
      { conversationId: options.conversationId },
      { viaSocket: true },
    );
    const session = new VoiceSession(started.id, started.sampleRate, options);
    const chunker = new Chunker((started.sampleRate * CHUNK_MS) / 1000);
    try {
      await options.mic.start(started.sampleRate, (frame) => {
        for (const chunk of chunker.push(frame)) session.send(chunk);
      });
    } catch (error) {
      session.stopped = true;
      await session.end();
      throw error;
    }
    return session;
  }

  /** Chunks go out as they are made, without waiting for answers (the server orders them). */
  private send(samples: Int16Array): void {
    if (this.stopped) return;
    const variables = {
      sessionId: this.id,
      seq: this.seq++,
      audio: pcm16ToBase64(samples),
      playing: this.options.playing(),
    };
    this.options.holo.mutate(SEND_VOICE_CHUNK, variables, { viaSocket: true }).catch((error) => {
      if (this.stopped) return;
      void this.stop(false);
      this.options.onError(error);
    });
  }

  /** Closes the microphone; `end` also ends the session (a turn under way is still answered). */
  async stop(end = true): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.options.mic.stop();
    if (end) await this.end();
  }

  private async end(): Promise<void> {
    await this.options.holo
      .mutate(END_VOICE_SESSION, { sessionId: this.id }, { viaSocket: true })
      .catch(() => {}); // closed already (idle, or the socket went): nothing left to end
  }
}
