// Expo's native audio module (ExpoAudio) as Jest sees it: jest-expo ships no mock for it, and
// Node has no speaker or microphone. Only the native side is replaced; expo-audio's own
// JavaScript runs on top of it. Players note what was played, in order, for the tests.
type Source = { uri?: string } | null;

const { SharedObject } = (globalThis as unknown as { expo: { SharedObject: new () => object } })
  .expo;

/** The URIs players were asked to play, in the order they were. */
export const played: string[] = [];

class AudioPlayer extends SharedObject {
  uri: string | null;
  playing = false;
  constructor(source: Source) {
    super();
    this.uri = source?.uri ?? null;
  }
  play() {
    this.playing = true;
    if (this.uri) played.push(this.uri);
  }
  pause() {
    this.playing = false;
  }
  remove() {}
  replace(source: Source) {
    this.uri = source?.uri ?? null;
  }
  setPlaybackRate() {}
  async seekTo() {}
}

class AudioRecorder extends SharedObject {
  uri: string | null = null;
  isRecording = false;
  async prepareToRecordAsync() {}
  record() {
    this.isRecording = true;
  }
  async stop() {
    this.isRecording = false;
  }
  pause() {}
  getStatus() {
    return { isRecording: this.isRecording, url: this.uri };
  }
}

const ExpoAudio = {
  AudioPlayer,
  AudioRecorder,
  setAudioModeAsync: async () => {},
  setIsAudioActiveAsync: async () => {},
  requestRecordingPermissionsAsync: async () => ({ granted: false, status: "denied" }),
  getRecordingPermissionsAsync: async () => ({ granted: false, status: "denied" }),
};

const expo = (globalThis as unknown as { expo: { modules?: Record<string, unknown> } }).expo;
expo.modules = { ...expo.modules, ExpoAudio };
