"use client";

// The conversation's live event stream, resumed from the last cursor after any drop. It starts
// from the conversation's liveCursor, read before the history the screen shows (nothing missed,
// nothing twice); when the server no longer holds what follows our cursor (CURSOR_EXPIRED: its
// replay log was trimmed or lost), it reloads that history and goes on from a new liveCursor.
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { useApolloClient } from "@apollo/client/react";
import { useEffect, useEffectEvent, useState } from "react";

import { useApp } from "@/app/providers";
import type { ConversationEventsSubscription } from "@/gql/graphql";
import { CONVERSATION_EVENTS } from "@/lib/operations";

export type ConversationEvent = ConversationEventsSubscription["conversationEvents"];

// 4401: the server closed the socket as the token expired; 4403: it refused connection_init
// (an expired token sent by a client whose clock runs behind). Both: refresh, then reconnect.
const AUTH_CLOSES = new Set([4401, 4403]);

/** The WebSocket close code, from a CloseEvent or Apollo's "Socket closed with event <code>" error. */
function closeCode(error: unknown): number | null {
  if (error && typeof error === "object" && "code" in error && typeof error.code === "number")
    return error.code;
  const match =
    error instanceof Error ? /Socket closed with event (\d{4})/.exec(error.message) : null;
  if (match) return Number(match[1]);
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause && cause !== error ? closeCode(cause) : null;
}

/** The server no longer has events after our cursor (CURSOR_EXPIRED, or unknown after a reset). */
function lostCursor(error: unknown): boolean {
  if (!CombinedGraphQLErrors.is(error)) return false;
  return error.errors.some(
    (e) =>
      e.extensions?.code === "CURSOR_EXPIRED" ||
      (e.extensions?.code === "BAD_USER_INPUT" && e.extensions?.field === "after"),
  );
}

/**
 * Calls onEvent for every event of the conversation; `live` is true while subscribed.
 * `reload` loads what the screen shows and resolves with the liveCursor it read first (null if
 * it could not): it runs before the first subscription (`initial` true: a cursor the page was
 * handed, such as startConversation's, may be used) and after every CURSOR_EXPIRED.
 */
export function useConversationEvents(
  conversationId: string,
  onEvent: (event: ConversationEvent) => void,
  reload: (initial: boolean) => Promise<string | null>,
): { live: boolean } {
  const client = useApolloClient();
  const { connection, session } = useApp();
  const [live, setLive] = useState(false);
  // The latest callbacks, called from the stream without restarting it when they change.
  const handle = useEffectEvent(onEvent);
  const reloadNow = useEffectEvent(reload);

  useEffect(() => {
    let cursor: string | null = null;
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let subscription: { unsubscribe: () => void } | null = null;
    let attempt = 0;

    const reconnect = (error: unknown) => {
      setLive(false);
      subscription?.unsubscribe();
      subscription = null;
      if (stopped) return;
      const token = session.current?.accessToken;
      const code = closeCode(error);
      console.debug("[stream] dropped", code, error instanceof Error ? error.message : error);
      if (code !== null && AUTH_CLOSES.has(code) && token) void session.renew(token);
      attempt += 1;
      const delay = Math.min(10_000, 250 * 2 ** attempt);
      // The log no longer reaches back to our cursor: reload the history, go on from there.
      retry = setTimeout(lostCursor(error) ? () => resync() : start, delay);
    };

    const resync = (initial = false) => {
      if (stopped) return;
      reloadNow(initial).then(
        (liveCursor) => {
          cursor = liveCursor;
          start();
        },
        () => {
          cursor = null;
          start();
        },
      );
    };

    const start = () => {
      if (stopped) return;
      subscription = client
        .subscribe({ query: CONVERSATION_EVENTS, variables: { id: conversationId, after: cursor } })
        .subscribe({
          next: (result) => {
            if (result.error) {
              reconnect(result.error);
              return;
            }
            const event = result.data?.conversationEvents;
            if (!event) return;
            attempt = 0;
            cursor = event.cursor;
            handle(event);
          },
          error: reconnect,
          complete: () => reconnect(new Error("stream ended")),
        });
    };

    const offState = connection.onSocketState((state) => {
      setLive(state === "connected" && subscription !== null);
    });
    resync(true);
    // The socket may already be up: no state change will come to say so.
    // eslint-disable-next-line react-hooks/set-state-in-effect -- state of an external system
    if (connection.socketState() === "connected") setLive(true);
    return () => {
      stopped = true;
      clearTimeout(retry);
      offState();
      subscription?.unsubscribe();
    };
  }, [client, connection, session, conversationId]);

  return { live };
}
