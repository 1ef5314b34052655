// The phone's microphone as a MicSource (lib/voiceSession.ts): @siteed/audio-studio streams
// PCM16 mono at 16 kHz natively on iOS and Android (AVAudioEngine / AudioRecord), every 100 ms,
// without a file to poll. The server does not cancel echo: iOS's VoiceChat mode (voice
// processing) does, so the companion's voice from the speaker does not interrupt itself; the
// library records Android's plain MIC source (no echo canceller: see README).
import { AudioStudioModule, useAudioRecorder } from "@siteed/audio-studio";
import { useMemo } from "react";

import { base64ToPcm16 } from "./pcm";
import { CHUNK_MS, type MicSource } from "./voiceSession";

export function useDeviceMic(): MicSource {
  const { startRecording, stopRecording } = useAudioRecorder();
  return useMemo<MicSource>(
    () => ({
      async start(sampleRate, onPcm) {
        const permission = (await AudioStudioModule.requestPermissionsAsync()) as {
          granted: boolean;
        };
        if (!permission.granted) throw new Error("Hands-free needs the microphone");
        await startRecording({
          sampleRate: sampleRate as 16000,
          channels: 1,
          encoding: "pcm_16bit",
          interval: CHUNK_MS,
          keepAwake: true,
          ios: { audioSession: { category: "PlayAndRecord", mode: "VoiceChat" } },
          android: { audioFocusStrategy: "communication" },
          output: { primary: { enabled: false } },
          onAudioStream: async (event) => {
            if (typeof event.data === "string") onPcm(base64ToPcm16(event.data));
            else if (event.data instanceof Int16Array) onPcm(event.data);
          },
        });
      },
      async stop() {
        await stopRecording();
      },
    }),
    [startRecording, stopRecording],
  );
}
