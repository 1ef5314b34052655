// Voice input: press to record, press again to send. The recording goes up as a WAV with
// sendVoiceMessage (speech-to-text on the server, then as a typed message).
import {
  AudioModule,
  AudioQuality,
  IOSOutputFormat,
  type RecordingOptions,
  useAudioRecorder,
} from "expo-audio";
import { useState } from "react";

import type { MessageFieldsFragment } from "../gql/graphql";
import { SEND_VOICE_MESSAGE } from "../lib/operations";
import { errorText, useHolo } from "../lib/session";
import { Button } from "./ui";

// The server takes WAV. iOS records linear PCM into a .wav; Android's MediaRecorder cannot
// write WAV, so on Android this needs the streamed voice session (PCM chunks) instead.
const WAV_16K: RecordingOptions = {
  extension: ".wav",
  sampleRate: 16000,
  numberOfChannels: 1,
  bitRate: 256000,
  android: { outputFormat: "default", audioEncoder: "default" },
  ios: {
    outputFormat: IOSOutputFormat.LINEARPCM,
    audioQuality: AudioQuality.HIGH,
    linearPCMBitDepth: 16,
    linearPCMIsBigEndian: false,
    linearPCMIsFloat: false,
  },
  web: {},
};

export function VoiceButton({
  conversationId,
  onSent,
  onError,
}: {
  conversationId: string;
  onSent: (message: MessageFieldsFragment) => void;
  onError: (text: string) => void;
}) {
  const holo = useHolo();
  const recorder = useAudioRecorder(WAV_16K);
  const [recording, setRecording] = useState(false);

  async function toggle() {
    try {
      if (!recording) {
        const permission = await AudioModule.requestRecordingPermissionsAsync();
        if (!permission.granted) throw new Error("Microphone permission was refused");
        await recorder.prepareToRecordAsync();
        recorder.record();
        setRecording(true);
        return;
      }
      setRecording(false);
      await recorder.stop();
      if (!recorder.uri) throw new Error("Nothing was recorded");
      const file = { uri: recorder.uri, name: "voice.wav", type: "audio/wav" };
      const data = await holo.upload(SEND_VOICE_MESSAGE, { conversationId }, "audio", file);
      onSent(data.sendVoiceMessage);
    } catch (e) {
      onError(errorText(e));
    }
  }

  return <Button title={recording ? "Send voice" : "Talk"} onPress={() => void toggle()} />;
}
