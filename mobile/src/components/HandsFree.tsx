// Hands-free: a toggle that streams the microphone to a voice session (lib/voiceSession.ts) and
// shows what the server hears, live: speech started, the partial transcript as it grows, the
// final one (which the server then posts as the person's message and answers).
import { useEffect, useRef, useState } from "react";
import { Text, View } from "react-native";

import { useDeviceMic } from "../lib/deviceMic";
import { errorText, useHolo } from "../lib/session";
import { type Playing, VoiceSession } from "../lib/voiceSession";
import { Button, styles } from "./ui";

/** What the conversation's stream said about the voice session. */
export interface Heard {
  sessionId: string;
  state: "listening" | "speaking" | "thinking" | "closed";
  transcript: string;
}

export function HandsFree({
  conversationId,
  heard,
  playing,
  onError,
}: {
  conversationId: string;
  heard: Heard | null;
  playing: () => Playing | null;
  onError: (message: string) => void;
}) {
  const holo = useHolo();
  const mic = useDeviceMic();
  const session = useRef<VoiceSession | null>(null);
  const [on, setOn] = useState(false);
  const [starting, setStarting] = useState(false);

  useEffect(() => () => void session.current?.stop(), []);
  // The server closed the session (idle, or an error it reported): the microphone goes off too.
  useEffect(() => {
    // (Another device's session on the same conversation closing leaves this one on.)
    if (heard?.state !== "closed" || heard.sessionId !== session.current?.id) return;
    void session.current.stop(false);
    session.current = null;
    setOn(false);
  }, [heard?.state, heard?.sessionId]);

  async function toggle() {
    if (session.current) {
      const current = session.current;
      session.current = null;
      setOn(false);
      await current.stop();
      return;
    }
    setStarting(true);
    try {
      session.current = await VoiceSession.start({
        holo,
        conversationId,
        mic,
        playing,
        onError: (e) => {
          session.current = null;
          setOn(false);
          onError(errorText(e));
        },
      });
      setOn(true);
    } catch (e) {
      onError(errorText(e));
    } finally {
      setStarting(false);
    }
  }

  return (
    <View style={{ gap: 4 }}>
      <Button
        title={on ? "Stop hands-free" : "Hands-free"}
        onPress={() => void toggle()}
        disabled={starting}
      />
      {on && (
        <Text style={styles.muted} testID="voice-status">
          {heard && heard.state !== "closed" ? heard.state : "listening"}
        </Text>
      )}
      {!!heard?.transcript && (
        <Text style={styles.text} testID="voice-transcript">
          {heard.transcript}
        </Text>
      )}
    </View>
  );
}
