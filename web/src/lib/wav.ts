// Microphone recordings become small WAV files: 16 kHz, mono, 16-bit PCM is what speech-to-text
// wants, and a tenth of what the browser records at 48 kHz stereo float.

export const SPEECH_RATE = 16_000;

/** Mix down to mono and resample with an OfflineAudioContext (the browser's own resampler). */
export async function toSpeechPcm(
  recording: AudioBuffer,
  rate = SPEECH_RATE,
): Promise<Float32Array> {
  const frames = Math.max(1, Math.ceil(recording.duration * rate));
  const offline = new OfflineAudioContext(1, frames, rate);
  const source = offline.createBufferSource();
  source.buffer = recording;
  source.connect(offline.destination);
  source.start();
  const rendered = await offline.startRendering();
  return rendered.getChannelData(0);
}

export function encodeWav(samples: Float32Array, rate = SPEECH_RATE): Blob {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const text = (offset: number, value: string) => {
    for (let i = 0; i < value.length; i++) view.setUint8(offset + i, value.charCodeAt(i));
  };
  text(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true); // bytes per second
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  text(36, "data");
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i] ?? 0));
    view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([buffer], { type: "audio/wav" });
}

/** Records the microphone with MediaRecorder; `stop()` gives the recording as a speech WAV. */
export class VoiceRecorder {
  private constructor(
    private readonly stream: MediaStream,
    private readonly recorder: MediaRecorder,
    private readonly parts: Blob[],
  ) {}

  static async start(): Promise<VoiceRecorder> {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
    });
    const parts: Blob[] = [];
    const recorder = new MediaRecorder(stream);
    recorder.ondataavailable = (event) => {
      if (event.data.size > 0) parts.push(event.data);
    };
    recorder.start();
    return new VoiceRecorder(stream, recorder, parts);
  }

  async stop(context: BaseAudioContext): Promise<Blob> {
    const stopped = new Promise<void>((resolve) => {
      this.recorder.onstop = () => resolve();
    });
    this.recorder.stop();
    await stopped;
    for (const track of this.stream.getTracks()) track.stop();
    const recorded = new Blob(this.parts, { type: this.recorder.mimeType });
    const decoded = await context.decodeAudioData(await recorded.arrayBuffer());
    return encodeWav(await toSpeechPcm(decoded));
  }

  cancel(): void {
    if (this.recorder.state !== "inactive") this.recorder.stop();
    for (const track of this.stream.getTracks()) track.stop();
  }
}
