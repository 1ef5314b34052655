// One conversation: its history, your messages, and the companion's reply as it streams:
// the text piece by piece (MessageDelta), the voice chunk by chunk in order, the mouth on the
// voice's timeline. Interrupt stops the voice and tells the server how much was heard.
// Hands-free streams the microphone instead; speaking over the reply interrupts it (barge-in).
import { useCallback, useEffect, useRef, useState } from "react";
import { ScrollView, Text, View } from "react-native";

import { HandsFree, type Heard } from "../components/HandsFree";
import { Mouth } from "../components/Mouth";
import { Button, ErrorText, Field, styles } from "../components/ui";
import { VoiceButton } from "../components/VoiceButton";
import type { ConversationEventsSubscription, MessageFieldsFragment } from "../gql/graphql";
import {
  CONVERSATION,
  CONVERSATION_EVENTS,
  INTERRUPT_REPLY,
  SEND_MESSAGE,
} from "../lib/operations";
import { type PlaybackState, ReplyPlayer } from "../lib/replyPlayer";
import { errorText, useHolo } from "../lib/session";

type Event = ConversationEventsSubscription["conversationEvents"];

/** What was heard so far in `sessionId` (its transcript), to change its state. */
const heardOf = (h: Heard | null, sessionId: string): Heard =>
  h?.sessionId === sessionId ? h : { sessionId, state: "listening", transcript: "" };

interface Reply {
  messageId: string;
  text: string;
  pieces: number;
  status: "streaming" | "complete" | "interrupted" | "failed";
}

export function Conversation({
  conversationId,
  companionName,
}: {
  conversationId: string;
  companionName: string;
}) {
  const holo = useHolo();
  const [messages, setMessages] = useState<MessageFieldsFragment[]>([]);
  const [reply, setReply] = useState<Reply | null>(null);
  const [playback, setPlayback] = useState<PlaybackState | null>(null);
  const [emotion, setEmotion] = useState("neutral");
  const [live, setLive] = useState(false);
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const [heard, setHeard] = useState<Heard | null>(null);
  const player = useRef<ReplyPlayer | null>(null);

  /** For each voice chunk: the reply playing and how much of it was heard (barge-in). */
  const playing = useCallback(() => {
    const heardUntilMs = player.current?.heardNow() ?? null;
    return player.current && heardUntilMs !== null
      ? { messageId: player.current.messageId, heardUntilMs }
      : null;
  }, []);

  const addMessage = useCallback((message: MessageFieldsFragment) => {
    setMessages((all) => [...all.filter((m) => m.id !== message.id), message]);
  }, []);

  // liveCursor first, then the history: nothing said in between is missed or shown twice.
  const reload = useCallback(async () => {
    const cursor = await holo.liveCursor(conversationId);
    const data = await holo.query(CONVERSATION, { id: conversationId, last: 30 });
    setMessages(data.conversation?.messages.edges.map((edge) => edge.node) ?? []);
    return cursor;
  }, [holo, conversationId]);

  const playerFor = useCallback((messageId: string) => {
    if (player.current?.messageId !== messageId) {
      player.current?.stop();
      player.current = new ReplyPlayer(messageId, setPlayback);
    }
    return player.current;
  }, []);

  const onEvent = useCallback(
    (event: Event) => {
      const id = event.messageId;
      switch (event.__typename) {
        case "MessagePosted":
          if (event.message.role === "USER") addMessage(event.message);
          break;
        case "ReplyStarted":
          setReply({ messageId: id, text: "", pieces: 0, status: "streaming" });
          break;
        case "MessageDelta":
          setReply((r) => ({
            messageId: id,
            text: (r?.messageId === id ? r.text : "") + event.text,
            pieces: (r?.messageId === id ? r.pieces : 0) + 1,
            status: "streaming",
          }));
          break;
        case "EmotionChanged":
          setEmotion(event.emotion.toLowerCase());
          break;
        case "VisemeFrames":
          playerFor(id).addVisemes(event.audioSeq, event.frames);
          break;
        case "AudioChunk":
          playerFor(id).addChunk(event.seq, event.url, event.startMs, event.durationMs);
          break;
        case "ReplyCompleted":
        case "ReplyInterrupted": {
          const status = event.__typename === "ReplyCompleted" ? "complete" : "interrupted";
          setReply((r) => ({
            messageId: id,
            text: event.message.text,
            pieces: r?.messageId === id ? r.pieces : 0,
            status,
          }));
          addMessage(event.message);
          if (player.current?.messageId !== id) break;
          // Interrupted by voice (barge-in) the sound stops here; by Interrupt it has already.
          if (status === "interrupted" && !player.current.state.done) player.current.stop();
          else player.current.finish();
          break;
        }
        case "VoiceSpeechStarted":
          setHeard({ sessionId: event.sessionId, state: "speaking", transcript: "" });
          break;
        case "VoicePartialTranscript":
          setHeard({ sessionId: event.sessionId, state: "speaking", transcript: event.partial });
          break;
        case "VoiceTurnEnded":
          setHeard((h) => ({ ...heardOf(h, event.sessionId), state: "thinking" }));
          break;
        case "VoiceFinalTranscript":
          setHeard({ sessionId: event.sessionId, state: "listening", transcript: event.final });
          break;
        case "VoiceSessionClosed":
          setHeard((h) => ({ ...heardOf(h, event.sessionId), state: "closed" }));
          break;
        case "ReplyFailed":
          setReply((r) => (r ? { ...r, status: "failed" } : r));
          setError(event.detail ?? event.code);
          player.current?.finish();
          break;
      }
    },
    [addMessage, playerFor],
  );

  useEffect(() => {
    let listener: { stop: () => void } | null = null;
    let closed = false;
    // eslint-disable-next-line react-hooks/set-state-in-effect -- set when the server answers
    reload().then(
      (after) => {
        if (closed) return;
        listener = holo.listen(
          CONVERSATION_EVENTS,
          { id: conversationId },
          (data) => data.conversationEvents,
          {
            after,
            onEvent,
            onReload: reload,
            onError: (e) => setError(errorText(e)),
            onLive: setLive,
          },
        );
      },
      (e: unknown) => setError(errorText(e)),
    );
    return () => {
      closed = true;
      listener?.stop();
      player.current?.stop();
    };
  }, [holo, conversationId, reload, onEvent]);

  async function send() {
    const message = text.trim();
    if (!message) return;
    setError("");
    setText("");
    try {
      addMessage((await holo.mutate(SEND_MESSAGE, { conversationId, text: message })).sendMessage);
    } catch (e) {
      setError(errorText(e));
    }
  }

  async function interrupt() {
    if (!reply) return;
    const heardUntilMs = Math.round(player.current?.stop() ?? 0);
    try {
      await holo.mutate(INTERRUPT_REPLY, { messageId: reply.messageId, heardUntilMs });
    } catch (e) {
      setError(errorText(e));
    }
  }

  const speaking = !!playback && !playback.done;
  const history = messages.filter((m) => m.id !== reply?.messageId);
  return (
    <View style={styles.screen}>
      <Text style={styles.title}>{companionName}</Text>
      <Text style={styles.muted} testID="stream-status">
        {live ? "Live" : "Connecting…"} · feeling {emotion}
      </Text>
      <Mouth viseme={playback?.viseme ?? "sil"} weight={playback?.weight ?? 0} />
      {playback && (
        <Text style={styles.muted} testID="audio-status">
          {`Voice ${playback.played}/${playback.received} chunks ${
            playback.stopped ? "stopped" : playback.done ? "played" : "playing"
          } · ${playback.shapes} mouth shapes`}
        </Text>
      )}
      <ScrollView style={{ flex: 1 }} contentContainerStyle={{ gap: 8 }}>
        {history.map((m) => (
          <View key={m.id} style={styles.card}>
            <Text style={styles.muted}>{m.role === "USER" ? "You" : companionName}</Text>
            <Text style={styles.text}>{m.text}</Text>
          </View>
        ))}
        {reply && (
          <View style={styles.card}>
            <Text style={styles.muted} testID="reply-status">
              {`${companionName} · ${reply.status} · ${reply.pieces} pieces`}
            </Text>
            <Text style={styles.text} testID="reply-text">
              {reply.text}
            </Text>
          </View>
        )}
      </ScrollView>
      <ErrorText>{error}</ErrorText>
      {(reply?.status === "streaming" || speaking) && (
        <Button title="Interrupt" onPress={() => void interrupt()} />
      )}
      <View style={styles.row}>
        <Field label="Message" value={text} onChangeText={setText} autoCapitalize="sentences" />
        <Button title="Send" onPress={() => void send()} disabled={!text.trim()} />
      </View>
      <VoiceButton conversationId={conversationId} onSent={addMessage} onError={setError} />
      <HandsFree
        conversationId={conversationId}
        heard={heard}
        playing={playing}
        onError={setError}
      />
    </View>
  );
}
