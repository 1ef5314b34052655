// The client a React Native app ships (see REACT_NATIVE.md), runnable in Node for the tests:
// @urql/core over HTTP for queries and mutations, graphql-ws for conversationEvents, the access
// token in connection_init, and one rule for every dropped socket (token expiry included):
// refresh if the server refused the token (4401, 4403), then subscribe again with
// `after` = the last cursor seen; on CURSOR_EXPIRED, reload and go on from a new liveCursor.
import { Client, fetchExchange, subscriptionExchange } from "@urql/core";
import { createClient } from "graphql-ws";

const REFRESH = `
mutation Refresh($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) { accessToken refreshToken accessTokenExpiresAt }
}`;

// 4401: the access token expired while the socket was open. 4403: connection_init was refused,
// e.g. the app woke up with a stored token that has expired since. Both mean: refresh, reconnect.
const TOKEN_CLOSE_CODES = new Set([4401, 4403]);

// The server's replay log no longer holds what follows the cursor (trimmed, or a Redis that came
// back empty): resuming cannot be made whole, the history must be reloaded.
const isCursorExpired = (error) =>
  (error?.graphQLErrors ?? []).some((e) => e.extensions?.code === "CURSOR_EXPIRED");

const LIVE_CURSOR = "query LiveCursor($id: ID!) { conversation(id: $id) { liveCursor } }";

const isExpired = (error) =>
  TOKEN_CLOSE_CODES.has(error?.networkError?.code) ||
  (error?.graphQLErrors ?? []).some((e) => e.extensions?.code === "UNAUTHENTICATED");

// tokens: { accessToken, refreshToken } from register/login; kept current here.
// onTokens: persist them (SecureStore/Keychain on a phone); called after every refresh.
export function createHoloClient({ httpUrl, wsUrl, webSocketImpl, tokens, onTokens = () => {} }) {
  const ws = createClient({
    url: wsUrl,
    webSocketImpl, // omit in React Native: it has a global WebSocket
    // Read at every connect, so a new socket always carries the newest token.
    connectionParams: () => ({ authorization: `Bearer ${tokens.accessToken}` }),
    // graphql-ws would re-subscribe by itself with the *original* variables; resuming needs the
    // newest `after`, so every close reaches the subscription and listen() re-subscribes.
    retryAttempts: 0,
  });
  const client = new Client({
    url: httpUrl,
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || "" };
          return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
        },
      }),
    ],
    fetchOptions: () => ({ headers: { authorization: `Bearer ${tokens.accessToken}` } }),
  });

  let refreshing = null;
  // One refresh at a time: the refresh token is single use, so concurrent callers share it.
  function refresh() {
    refreshing ??= (async () => {
      const result = await client
        .mutation(REFRESH, { refreshToken: tokens.refreshToken }, { requestPolicy: "network-only" })
        .toPromise();
      if (result.error) throw new Error(`refresh failed, log in again: ${result.error.message}`);
      const fresh = result.data.refreshToken;
      tokens.accessToken = fresh.accessToken;
      tokens.refreshToken = fresh.refreshToken;
      onTokens(fresh);
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  // A mutation that refreshes once and retries when the access token has expired.
  async function mutate(document, variables) {
    let result = await client.mutation(document, variables).toPromise();
    if (result.error && isExpired(result.error)) {
      await refresh();
      result = await client.mutation(document, variables).toPromise();
    }
    if (result.error) throw result.error;
    return result.data;
  }

  // Where a race-free listen() starts: read it before the history the screen shows.
  async function liveCursor(conversationId) {
    const data = await query(LIVE_CURSOR, { id: conversationId });
    return data.conversation.liveCursor;
  }

  async function query(document, variables) {
    let result = await client
      .query(document, variables, { requestPolicy: "network-only" })
      .toPromise();
    if (result.error && isExpired(result.error)) {
      await refresh();
      result = await client
        .query(document, variables, { requestPolicy: "network-only" })
        .toPromise();
    }
    if (result.error) throw result.error;
    return result.data;
  }

  // Follows a conversation until stop(); survives token expiry and dropped sockets without gaps
  // or repeats. onEvent(event); onReconnect({ code, refreshed }) is for logging and tests;
  // onReload() answers CURSOR_EXPIRED: it reloads what the screen shows (liveCursor first, then
  // the messages) and resolves with that liveCursor, from which listening goes on. onError(error)
  // ends listening on an answer retrying cannot change (NOT_FOUND, BAD_USER_INPUT for an unknown
  // cursor, CURSOR_EXPIRED when there is no onReload).
  function listen(
    document,
    conversationId,
    { onEvent, onReconnect = () => {}, onError = () => {}, onReload = null, after = null },
  ) {
    let lastCursor = after;
    let current = null;
    let stopped = false;
    let retryDelay = 250;
    const start = () => {
      current = client
        .subscription(document, { id: conversationId, after: lastCursor })
        .subscribe(async (result) => {
          if (result.error) {
            current?.unsubscribe();
            if (stopped) return;
            if (onReload && isCursorExpired(result.error)) {
              try {
                lastCursor = await onReload();
              } catch (error) {
                stopped = true;
                onError(error);
                return;
              }
              if (!stopped) start();
              return;
            }
            if (result.error.graphQLErrors?.length && !isExpired(result.error)) {
              stopped = true;
              onError(result.error);
              return;
            }
            const refreshed = isExpired(result.error);
            if (refreshed) await refresh();
            else await new Promise((r) => setTimeout(r, retryDelay));
            retryDelay = refreshed ? 250 : Math.min(retryDelay * 2, 10_000);
            onReconnect({ code: result.error.networkError?.code ?? null, refreshed });
            if (!stopped) start();
            return;
          }
          retryDelay = 250;
          const event = result.data.conversationEvents;
          lastCursor = event.cursor;
          onEvent(event);
        });
    };
    start();
    return {
      stop() {
        stopped = true;
        current?.unsubscribe();
      },
    };
  }

  return { client, ws, mutate, query, refresh, liveCursor, listen, dispose: () => ws.dispose() };
}
