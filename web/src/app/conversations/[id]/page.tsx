"use client";

import { useApolloClient, useMutation } from "@apollo/client/react";
import Link from "next/link";
import { useParams } from "next/navigation";
import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";

import { useApp } from "@/app/providers";
import { Avatar, type CharacterChoice } from "@/components/character3d/Avatar";
import type { FaceState } from "@/components/Face";
import { RequireAuth } from "@/components/Nav";
import type { MessageFieldsFragment } from "@/gql/graphql";
import { errorText } from "@/lib/errors";
import {
  CONVERSATION,
  CONVERSATION_SUMMARY,
  INTERRUPT_REPLY,
  LIVE_CURSOR,
  SEND_MESSAGE,
} from "@/lib/operations";
import { ReplyPlayer, unlockAudio } from "@/lib/player";
import { type ConversationEvent, useConversationEvents } from "@/lib/stream";
import { sendVoiceMessage } from "@/lib/upload";
import { HandsFree, type Playing } from "@/lib/voice";
import { VoiceRecorder } from "@/lib/wav";

const PAGE = 20;

type Message = Pick<MessageFieldsFragment, "id" | "role" | "text" | "status">;

/** What the live stream said about a message beyond its text: a reply went on without voice
 * (ReplyDegraded) or failed in a way that sending the message again may fix; the companion
 * will remember something from a person's message (MemoryFormed). */
type ReplyNotice = { degraded?: boolean; retryable?: boolean; remembered?: string[] };

/** What ReplyStarted.model says for a conversation's opening greeting (pipeline/llm/fixed.py). */
const GREETING_MODEL = "greeting";

/** Which model answers (ReplyStarted): fallback when the configured one could not run. */
type Answering = { model: string; fallback: boolean };

/** What the hands-free session heard: "listening" once speech started, then the partial
 * transcript, then the final one (outcome MESSAGE: it was sent; otherwise why not). */
type Heard = {
  state: "waiting" | "listening" | "partial" | "final";
  text: string;
  outcome?: string;
};

/** startConversation's liveCursor, passed as ?from=: the stream then carries the whole greeting.
 * It is dropped from the address (a reload of the page reads a fresh liveCursor) and kept for
 * the page's first subscription only (not for one after CURSOR_EXPIRED). */
function takeStartCursor(): string | null {
  const url = new URL(window.location.href);
  const from = url.searchParams.get("from");
  if (from === null) return null;
  url.searchParams.delete("from");
  window.history.replaceState(window.history.state, "", url);
  return from;
}

export default function ConversationPage() {
  const { id } = useParams<{ id: string }>();
  return (
    <RequireAuth>
      <Conversation id={id} />
    </RequireAuth>
  );
}

function Conversation({ id }: { id: string }) {
  const client = useApolloClient();
  const { graphqlUrl, session } = useApp();
  const [messages, setMessages] = useState<Message[]>([]);
  const [title, setTitle] = useState("");
  const [companionName, setCompanionName] = useState("");
  const [companionId, setCompanionId] = useState<string | null>(null);
  const [character, setCharacter] = useState<CharacterChoice | null | undefined>(undefined);
  const [summary, setSummary] = useState("");
  const [answering, setAnswering] = useState<Answering | null>(null);
  const startCursor = useRef<string | null | undefined>(undefined);
  const [older, setOlder] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [replying, setReplying] = useState<string | null>(null);
  const [recorder, setRecorder] = useState<VoiceRecorder | null>(null);
  const [busy, setBusy] = useState(false);
  const [speaking, setSpeaking] = useState(false);
  const [notices, setNotices] = useState<Record<string, ReplyNotice>>({});
  const [handsFree, setHandsFree] = useState<HandsFree | null>(null);
  const handsFreeRef = useRef<HandsFree | null>(null);
  const [heard, setHeard] = useState<Heard | null>(null);
  const player = useRef<ReplyPlayer | null>(null);
  const deltaSeq = useRef(new Map<string, number>());
  const emotionNow = useRef<{ emotion: string; intensity: number }>({
    emotion: "neutral",
    intensity: 0.5,
  });
  const bottom = useRef<HTMLDivElement>(null);
  const [sendMessage] = useMutation(SEND_MESSAGE);
  const [interruptReply] = useMutation(INTERRUPT_REPLY);

  const upsert = useCallback((message: Pick<Message, "id"> & Partial<Message>) => {
    setMessages((list) => {
      const at = list.findIndex((m) => m.id === message.id);
      if (at < 0)
        return [...list, { role: "COMPANION", text: "", status: "STREAMING", ...message }];
      // A streaming snapshot (a replayed ReplyStarted, an interruptReply answer that raced the
      // ReplyInterrupted event) never overwrites text the deltas built or a final state.
      if (message.status === "STREAMING") return list;
      const next = [...list];
      next[at] = { ...next[at]!, ...message };
      return next;
    });
  }, []);

  /** One page of history before `before` (null: the newest); `reset` drops what is shown. */
  const loadPage = useCallback(
    async (before: string | null, reset = false) => {
      try {
        // ?page=<n> picks the history page size (links to a long conversation stay light).
        const size = Number(new URLSearchParams(window.location.search).get("page")) || PAGE;
        const { data } = await client.query({
          query: CONVERSATION,
          variables: { id, last: size, before },
          fetchPolicy: "network-only",
        });
        if (!data) return;
        const conversation = data.conversation;
        setTitle(conversation.title);
        setCompanionName(conversation.companion?.name ?? "Companion");
        setCompanionId(conversation.companion?.id ?? null);
        setCharacter(conversation.companion?.characterAsset ?? null);
        setSummary(conversation.summary);
        const page = conversation.messages.edges.map((e) => e.node);
        setMessages((list) => {
          if (reset) {
            // A reply still streaming is saved with its text at the end: keep what streamed.
            const shown = new Map(list.map((m) => [m.id, m]));
            return page.map((m) => {
              const had = shown.get(m.id);
              return m.status === "STREAMING" && had && had.text.length > m.text.length
                ? { ...m, text: had.text }
                : m;
            });
          }
          const known = new Set(page.map((m) => m.id));
          const rest = list.filter((m) => !known.has(m.id));
          return [...page, ...rest]; // an older page goes first; streamed messages stay after
        });
        setOlder(
          conversation.messages.pageInfo.hasPreviousPage
            ? (conversation.messages.pageInfo.startCursor ?? null)
            : null,
        );
      } catch (e) {
        setError(errorText(e));
      }
    },
    [client, id],
  );

  /** The newest page of history, reloaded; resolves with the liveCursor read just before it. */
  const reload = useCallback(
    async (initial: boolean): Promise<string | null> => {
      // Read once per page (React's strict mode runs the first subscription's effect twice).
      if (startCursor.current === undefined) startCursor.current = takeStartCursor();
      let cursor = initial ? startCursor.current : null;
      if (cursor === null) {
        try {
          const { data } = await client.query({
            query: LIVE_CURSOR,
            variables: { id },
            fetchPolicy: "network-only",
          });
          cursor = data?.conversation.liveCursor ?? null;
        } catch (e) {
          setError(errorText(e));
        }
      }
      await loadPage(null, true);
      return cursor;
    },
    [client, id, loadPage],
  );

  /** The summary is folded after a turn, in the background: read it again a little later. */
  const summaryTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const refreshSummary = useCallback(() => {
    clearTimeout(summaryTimer.current);
    summaryTimer.current = setTimeout(() => {
      client
        .query({ query: CONVERSATION_SUMMARY, variables: { id }, fetchPolicy: "network-only" })
        .then(({ data }) => data && setSummary(data.conversation.summary))
        .catch(() => undefined); // the header keeps the summary it has
    }, 2000);
  }, [client, id]);
  useEffect(() => () => clearTimeout(summaryTimer.current), []);

  const onEvent = useCallback(
    (event: ConversationEvent) => {
      const messageId = event.messageId;
      switch (event.__typename) {
        case "MessagePosted":
          upsert(event.message);
          break;
        case "ReplyStarted":
          player.current?.stop();
          player.current = new ReplyPlayer(messageId, unlockAudio());
          emotionNow.current = { emotion: "neutral", intensity: 0.5 };
          setReplying(messageId);
          // A greeting is the companion's written text (model "greeting"): no model answers it.
          if (event.model !== GREETING_MODEL)
            setAnswering({ model: event.model, fallback: event.fallback });
          upsert({ id: messageId, role: "COMPANION", text: "", status: "STREAMING" });
          break;
        case "MessageDelta": {
          // Each delta once, even when a resumed stream replays it.
          const last = deltaSeq.current.get(messageId) ?? -1;
          if (event.seq <= last) break;
          deltaSeq.current.set(messageId, event.seq);
          setReplying(messageId);
          setMessages((list) => {
            const at = list.findIndex((m) => m.id === messageId);
            if (at < 0)
              return [
                ...list,
                { id: messageId, role: "COMPANION", text: event.text, status: "STREAMING" },
              ];
            // A stream started before the history it goes with (a new conversation's greeting)
            // replays deltas of a reply the history already shows whole.
            if (list[at]!.status !== "STREAMING") return list;
            const next = [...list];
            next[at] = { ...next[at]!, text: next[at]!.text + event.text };
            return next;
          });
          break;
        }
        case "AudioChunk":
          if (player.current?.messageId !== messageId)
            player.current = new ReplyPlayer(messageId, unlockAudio());
          player.current.addChunk(event.seq, event.url, event.startMs, event.durationMs);
          break;
        case "VisemeFrames":
          if (player.current?.messageId === messageId)
            player.current.addVisemes(event.audioSeq, event.frames);
          break;
        case "EmotionChanged":
          if (player.current?.messageId === messageId) player.current.addEmotion(event);
          else emotionNow.current = { emotion: event.emotion, intensity: event.intensity };
          break;
        case "ReplyInterrupted":
          // Barge-in (a button here, or speech on a hands-free device): silence it now.
          if (player.current?.messageId === messageId) player.current.stop();
          upsert(event.message);
          setReplying((current) => (current === messageId ? null : current));
          refreshSummary();
          break;
        case "ReplyCompleted":
          upsert(event.message);
          setReplying((current) => (current === messageId ? null : current));
          refreshSummary();
          break;
        case "MemoryFormed": {
          const text = event.memory.text;
          setNotices((all) => {
            const had = all[messageId]?.remembered ?? [];
            return had.includes(text)
              ? all
              : { ...all, [messageId]: { ...all[messageId], remembered: [...had, text] } };
          });
          break;
        }
        case "VoiceSpeechStarted":
          if (event.sessionId === handsFreeRef.current?.sessionId)
            setHeard({ state: "listening", text: "" });
          break;
        case "VoicePartialTranscript":
          if (event.sessionId === handsFreeRef.current?.sessionId)
            setHeard({ state: "partial", text: event.partial });
          break;
        case "VoiceFinalTranscript":
          if (event.sessionId === handsFreeRef.current?.sessionId) {
            setHeard({ state: "final", text: event.final, outcome: event.outcome });
            if (event.outcome === "REFUSED" || event.outcome === "STT_FAILED")
              setError(event.detail || event.outcome);
          }
          break;
        case "VoiceSessionClosed":
          if (event.sessionId === handsFreeRef.current?.sessionId) {
            void handsFreeRef.current.stop(false);
            handsFreeRef.current = null;
            setHandsFree(null);
            if (event.reason !== "ENDED")
              setError(`Hands-free stopped: ${event.closedDetail || event.reason}`);
          }
          break;
        case "ReplyDegraded":
          setNotices((all) => ({ ...all, [messageId]: { ...all[messageId], degraded: true } }));
          break;
        case "ReplyFailed":
          upsert({
            id: messageId,
            role: "COMPANION",
            text: `(${event.detail || event.code})`,
            status: "FAILED",
          });
          setNotices((all) => ({
            ...all,
            [messageId]: { ...all[messageId], retryable: event.retryable },
          }));
          setReplying((current) => (current === messageId ? null : current));
          break;
      }
    },
    [upsert, refreshSummary],
  );

  const { live } = useConversationEvents(id, onEvent, reload);

  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [messages]);

  // The reply's text often finishes before its audio: barge-in stays possible while it plays.
  useEffect(() => {
    const timer = setInterval(() => setSpeaking(player.current?.playing ?? false), 200);
    return () => clearInterval(timer);
  }, []);

  const readFace = useCallback((): FaceState => {
    const current = player.current;
    if (!current) return { viseme: "sil", weight: 0, ...emotionNow.current };
    const at = current.positionMs();
    const cue = at === null ? null : current.visemeAt(at);
    const mood = current.emotionAt(at) ?? emotionNow.current;
    return {
      viseme: cue?.viseme ?? "sil",
      weight: cue?.weight ?? 0,
      emotion: mood.emotion,
      intensity: mood.intensity,
      clock: at === null ? "idle" : current.clock,
    };
  }, []);

  async function send(event: FormEvent) {
    event.preventDefault();
    const body = text.trim();
    if (body && (await submit(body))) setText("");
  }

  /** Sends the message; false when it was refused (the error is shown). */
  async function submit(body: string): Promise<boolean> {
    unlockAudio(); // inside the click: the browser lets the reply's audio play
    setBusy(true);
    setError(null);
    try {
      const { data } = await sendMessage({ variables: { conversationId: id, text: body } });
      if (data) upsert(data.sendMessage);
      return true;
    } catch (e) {
      setError(errorText(e));
      return false;
    } finally {
      setBusy(false);
    }
  }

  /** Sends again the person's message that a failed reply answered (the last one before it). */
  async function retry(replyId: string) {
    const at = messages.findIndex((m) => m.id === replyId);
    const asked =
      at < 0
        ? undefined
        : messages
            .slice(0, at)
            .reverse()
            .find((m) => m.role === "USER");
    if (!asked) return;
    setNotices((all) => ({ ...all, [replyId]: { ...all[replyId], retryable: false } }));
    await submit(asked.text);
  }

  async function toggleRecording() {
    const context = unlockAudio();
    setError(null);
    if (!recorder) {
      try {
        setRecorder(await VoiceRecorder.start());
      } catch (e) {
        setError(`Microphone unavailable: ${errorText(e)}`);
      }
      return;
    }
    setRecorder(null);
    setBusy(true);
    try {
      if (!context) throw new Error("This browser cannot process audio");
      const wav = await recorder.stop(context);
      upsert(await sendVoiceMessage(graphqlUrl, session, id, wav));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  /** The reply heard now, sent with each microphone chunk so speaking over it interrupts it. */
  const nowPlaying = useCallback((): Playing | null => {
    const current = player.current;
    if (!current?.playing) return null;
    return { messageId: current.messageId, heardUntilMs: Math.round(current.positionMs() ?? 0) };
  }, []);

  async function toggleHandsFree() {
    unlockAudio(); // inside the click: replies may play
    setError(null);
    const current = handsFreeRef.current;
    if (current) {
      handsFreeRef.current = null;
      setHandsFree(null);
      setHeard(null);
      await current.stop().catch((e: unknown) => setError(errorText(e)));
      return;
    }
    try {
      const started = await HandsFree.start({
        client,
        conversationId: id,
        playing: nowPlaying,
        onError: (e) => {
          handsFreeRef.current = null;
          setHandsFree(null);
          setError(`Hands-free stopped: ${errorText(e)}`);
        },
      });
      handsFreeRef.current = started;
      setHandsFree(started);
      setHeard({ state: "waiting", text: "" });
    } catch (e) {
      setError(`Hands-free unavailable: ${errorText(e)}`);
    }
  }

  // Leaving the page closes the microphone and the session.
  useEffect(
    () => () => {
      void handsFreeRef.current?.stop().catch(() => undefined);
      handsFreeRef.current = null;
    },
    [],
  );

  async function interrupt() {
    const current = player.current;
    const messageId = replying ?? current?.messageId;
    if (!messageId) return;
    const heardUntilMs = current?.messageId === messageId ? current.stop() : 0;
    try {
      const { data } = await interruptReply({ variables: { messageId, heardUntilMs } });
      if (data) upsert(data.interruptReply);
    } catch (e) {
      setError(errorText(e));
    }
    setReplying(null);
    setSpeaking(false);
  }

  return (
    <section className="conversation">
      <header className="row">
        <Link href="/companions">← Companions</Link>
        <h1>{companionName ? `${companionName}` : "Conversation"}</h1>
        <span className="muted">{title}</span>
        {companionId && (
          <Link href={`/companions/${companionId}/memories`} data-testid="memories-link">
            Memories
          </Link>
        )}
        <span className="spacer" />
        {answering && (
          <span
            className="muted model"
            data-testid="model"
            data-model={answering.model}
            data-fallback={answering.fallback}
          >
            answered by {answering.model}
            {answering.fallback && " (stand-in: the configured model could not run)"}
          </span>
        )}
        <span
          className={live ? "live on" : "live"}
          data-testid="live"
          data-live={live ? "true" : "false"}
        >
          {live ? "live" : "connecting…"}
        </span>
      </header>
      {summary && (
        <details className="summary" data-testid="summary">
          <summary>So far in this conversation</summary>
          <p>{summary}</p>
        </details>
      )}
      <div className="talk">
        <div className="stage">
          <Avatar character={character} read={readFace} />
          {(replying || speaking) && (
            <button type="button" className="danger" onClick={interrupt} data-testid="interrupt">
              Interrupt
            </button>
          )}
        </div>
        <div className="thread">
          {older && (
            <button type="button" className="link" onClick={() => void loadPage(older)}>
              Load earlier messages
            </button>
          )}
          <ol className="messages" data-testid="messages">
            {messages.map((m) => (
              <li
                key={m.id}
                className={`message ${m.role.toLowerCase()}`}
                data-id={m.id}
                data-role={m.role}
                data-status={m.status}
              >
                {m.text || (m.status === "STREAMING" ? "…" : "")}
                {notices[m.id]?.remembered && (
                  <small
                    className="notice remembered"
                    data-testid="memory-formed"
                    title={notices[m.id]!.remembered!.join("\n")}
                  >
                    {companionName || "Your companion"} will remember that
                  </small>
                )}
                {notices[m.id]?.degraded && m.status !== "FAILED" && (
                  <small className="notice muted" data-testid="reply-degraded">
                    Voice unavailable for this reply — showing text
                  </small>
                )}
                {notices[m.id]?.retryable && m.status === "FAILED" && (
                  <button
                    type="button"
                    className="link notice"
                    onClick={() => void retry(m.id)}
                    disabled={busy}
                    data-testid="retry"
                  >
                    Try again
                  </button>
                )}
              </li>
            ))}
          </ol>
          <div ref={bottom} />
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          <form onSubmit={send} className="composer">
            <input
              name="message"
              placeholder={`Say something to ${companionName || "your companion"}`}
              value={text}
              onChange={(e) => setText(e.target.value)}
              autoComplete="off"
            />
            <button type="submit" disabled={busy || !text.trim()}>
              Send
            </button>
            <button
              type="button"
              className={recorder ? "danger" : "secondary"}
              onClick={toggleRecording}
              disabled={busy || !!handsFree}
            >
              {recorder ? "Stop & send" : "🎤 Speak"}
            </button>
            <button
              type="button"
              className={handsFree ? "danger" : "secondary"}
              onClick={() => void toggleHandsFree()}
              disabled={!!recorder}
              data-testid="hands-free"
              aria-pressed={!!handsFree}
            >
              {handsFree ? "Stop hands-free" : "🎧 Hands-free"}
            </button>
          </form>
          {handsFree && heard && (
            <p
              className="muted heard"
              data-testid="heard"
              data-state={heard.state}
              data-outcome={heard.outcome ?? ""}
              aria-live="polite"
            >
              {heard.state === "waiting" && "Hands-free: speak any time"}
              {heard.state === "listening" && "Listening…"}
              {heard.state === "partial" && `“${heard.text}…”`}
              {heard.state === "final" && (heard.text ? `“${heard.text}”` : "(nothing recognised)")}
            </p>
          )}
        </div>
      </div>
    </section>
  );
}
