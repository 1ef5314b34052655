// @siteed/audio-studio's native module (AudioStudio) as Jest sees it: Node has no microphone.
// Only the native side is replaced; the library's own JavaScript (useAudioRecorder and its
// events) runs on top of it. The "microphone" hears the 16 kHz mono PCM16 WAV in VOICE_WAV
// (espeak-ng speaking, made by tests/clients/test_mobile_app.py), in real time as the native
// recorder delivers it (base64 every `interval` ms), then silence until recording stops: an
// open microphone while its person listens (a voice session that hears nothing closes).
import { readFileSync } from "node:fs";

import { pcm16ToBase64 } from "../src/lib/pcm";

const RATE = 16_000;

/** The samples of a PCM16 WAV file (its `data` chunk). */
export function wavSamples(path: string): Int16Array {
  const file = readFileSync(path);
  for (let at = 12; at + 8 <= file.length;) {
    const id = file.toString("ascii", at, at + 4);
    const size = file.readUInt32LE(at + 4);
    if (id === "fmt ") {
      const channels = file.readUInt16LE(at + 10);
      const rate = file.readUInt32LE(at + 12);
      const bits = file.readUInt16LE(at + 22);
      if (channels !== 1 || rate !== RATE || bits !== 16) throw new Error(`${path}: not 16k mono`);
    }
    if (id === "data") {
      const samples = new Int16Array(size >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = file.readInt16LE(at + 8 + i * 2);
      return samples;
    }
    at += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

/** What the stand-in microphone sent to the app, for the tests. */
export const mic = { chunks: 0, speechChunks: 0, recording: false };

type Emitter = { emit(event: string, payload: unknown): void };

let timer: ReturnType<typeof setInterval> | null = null;
let started = 0;

const AudioStudio = {
  __expo_module_name__: "AudioStudio",
  async requestPermissionsAsync() {
    return { granted: true, status: "granted", canAskAgain: true, expires: "never" };
  },
  async getPermissionsAsync() {
    return { granted: true, status: "granted", canAskAgain: true, expires: "never" };
  },
  async startRecording(this: Emitter, options: { sampleRate?: number; interval?: number }) {
    if (options.sampleRate !== RATE) throw new Error(`asked for ${options.sampleRate} Hz`);
    const speech = process.env.VOICE_WAV ? wavSamples(process.env.VOICE_WAV) : new Int16Array(0);
    const interval = options.interval ?? 100;
    const step = (RATE * interval) / 1000;
    let position = 0;
    started = Date.now();
    mic.recording = true;
    timer = setInterval(() => {
      const frame = new Int16Array(step);
      frame.set(speech.subarray(position, position + step));
      const bytes = step * 2;
      mic.chunks++;
      if (position < speech.length) mic.speechChunks++;
      position += step;
      this.emit("AudioData", {
        encoded: pcm16ToBase64(frame),
        fileUri: "",
        lastEmittedSize: (position - step) * 2,
        position: ((position - step) / RATE) * 1000,
        deltaSize: bytes,
        totalSize: position * 2,
        mimeType: "audio/wav",
        streamUuid: "test-mic",
      });
    }, interval);
    return { fileUri: "", mimeType: "audio/wav", channels: 1, bitDepth: 16, sampleRate: RATE };
  },
  async stopRecording() {
    if (timer) clearInterval(timer);
    timer = null;
    mic.recording = false;
    const durationMs = Date.now() - started;
    return {
      fileUri: "",
      filename: "",
      durationMs,
      size: (durationMs * RATE * 2) / 1000,
      mimeType: "audio/wav",
      channels: 1,
      bitDepth: 16,
      sampleRate: RATE,
      createdAt: started,
    };
  },
  status() {
    return {
      isRecording: mic.recording,
      isPaused: false,
      durationMs: mic.recording ? Date.now() - started : 0,
      size: 0,
      interval: 100,
      mimeType: "audio/wav",
    };
  },
  async pauseRecording() {},
  async resumeRecording() {},
  async prepareRecording() {
    return true;
  },
};

const expo = (globalThis as unknown as { expo: { modules?: Record<string, unknown> } }).expo;
expo.modules = { ...expo.modules, AudioStudio };
