// Hands-free talking: the microphone streamed to a voice session as 16 kHz mono PCM16 in 100 ms
// chunks over the GraphQL WebSocket the page already holds. The server decides when a turn ends
// and when speech over a playing reply interrupts it; this side captures, resamples, sends, and
// says with each chunk which reply is playing and how much of it was heard (barge-in).
//
// Echo: the server does not cancel echo, so the browser must, or the companion would interrupt
// itself from the speakers: getUserMedia's echoCancellation (with noise suppression and gain
// control) does it against what this page plays.
import type { ApolloClient } from "@apollo/client";

import { END_VOICE_SESSION, SEND_VOICE_CHUNK, START_VOICE_SESSION } from "@/lib/operations";

export const VOICE_RATE = 16_000;
const CHUNK_MS = 100;

/** The reply being played as a chunk is recorded, for barge-in at the heard position. */
export interface Playing {
  messageId: string;
  heardUntilMs: number;
}

// The AudioWorklet, loaded from a Blob so it ships inside the bundle with the code that uses it.
// It mixes to mono, decimates to 16 kHz by averaging each output sample's window of input
// samples (a box low-pass: any device rate, 44.1 kHz included), converts to 16-bit and posts
// one Int16Array of 100 ms at a time (its buffer transferred, not copied).
const WORKLET = `
class Pcm16Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions;
    this.step = sampleRate / o.targetRate;
    this.size = o.chunkSamples;
    this.chunk = new Int16Array(this.size);
    this.filled = 0;
    this.sum = 0;
    this.count = 0;
    this.pos = 0;
    this.next = this.step;
  }
  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const frames = channels[0].length;
    for (let i = 0; i < frames; i++) {
      let s = 0;
      for (let c = 0; c < channels.length; c++) s += channels[c][i];
      this.sum += s / channels.length;
      this.count++;
      this.pos++;
      if (this.pos < this.next) continue;
      this.next += this.step;
      const v = Math.max(-1, Math.min(1, this.sum / this.count));
      this.sum = 0;
      this.count = 0;
      this.chunk[this.filled++] = v < 0 ? v * 0x8000 : v * 0x7fff;
      if (this.filled === this.size) {
        this.port.postMessage(this.chunk.buffer, [this.chunk.buffer]);
        this.chunk = new Int16Array(this.size);
        this.filled = 0;
      }
    }
    return true;
  }
}
registerProcessor("pcm16-capture", Pcm16Capture);
`;

/** Base64 of PCM16 little-endian (every browser's platform is little-endian). */
export function pcm16Base64(samples: Int16Array): string {
  const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x2000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x2000));
  }
  return btoa(binary);
}

export interface HandsFreeOptions {
  client: ApolloClient;
  conversationId: string;
  /** What is playing now (null: nothing), read as each chunk is sent. */
  playing: () => Playing | null;
  /** A chunk was refused or the socket failed: the session is over. */
  onError: (error: unknown) => void;
}

export class HandsFree {
  private seq = 0;
  private stopped = false;

  private constructor(
    readonly sessionId: string,
    private readonly options: HandsFreeOptions,
    private readonly stream: MediaStream,
    private readonly context: AudioContext,
    private readonly node: AudioWorkletNode,
  ) {}

  /** Opens the microphone (inside a click: the browser asks once) and a voice session. */
  static async start(options: HandsFreeOptions): Promise<HandsFree> {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: {
        echoCancellation: true,
        noiseSuppression: true,
        autoGainControl: true,
        channelCount: 1,
      },
    });
    const context = new AudioContext();
    try {
      await context.resume();
      const url = URL.createObjectURL(new Blob([WORKLET], { type: "application/javascript" }));
      try {
        await context.audioWorklet.addModule(url);
      } finally {
        URL.revokeObjectURL(url);
      }
      const { data } = await options.client.mutate({
        mutation: START_VOICE_SESSION,
        variables: { conversationId: options.conversationId },
        context: { viaSocket: true },
      });
      if (!data) throw new Error("The voice session did not start");
      const session = data.startVoiceSession;
      const node = new AudioWorkletNode(context, "pcm16-capture", {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        processorOptions: {
          targetRate: session.sampleRate,
          chunkSamples: (session.sampleRate * CHUNK_MS) / 1000,
        },
      });
      const handsFree = new HandsFree(session.id, options, stream, context, node);
      node.port.onmessage = (message: MessageEvent<ArrayBuffer>) =>
        handsFree.send(new Int16Array(message.data));
      context.createMediaStreamSource(stream).connect(node);
      node.connect(context.destination); // pulls the worklet; it outputs silence
      return handsFree;
    } catch (e) {
      for (const track of stream.getTracks()) track.stop();
      void context.close();
      throw e;
    }
  }

  /** Chunks go out as they are made, without waiting for answers (the server orders them). */
  private send(samples: Int16Array): void {
    if (this.stopped) return;
    const seq = this.seq++;
    this.options.client
      .mutate({
        mutation: SEND_VOICE_CHUNK,
        variables: {
          sessionId: this.sessionId,
          seq,
          audio: pcm16Base64(samples),
          playing: this.options.playing(),
        },
        context: { viaSocket: true },
        fetchPolicy: "no-cache",
      })
      .catch((error: unknown) => {
        if (this.stopped) return;
        void this.stop(false);
        this.options.onError(error);
      });
  }

  /** Closes the microphone; `end` also ends the session (a turn under way is still answered). */
  async stop(end = true): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.node.port.onmessage = null;
    this.node.disconnect();
    for (const track of this.stream.getTracks()) track.stop();
    void this.context.close();
    if (!end) return;
    await this.options.client.mutate({
      mutation: END_VOICE_SESSION,
      variables: { sessionId: this.sessionId },
      context: { viaSocket: true },
    });
  }
}
