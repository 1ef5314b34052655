// The app's connection to the server: tests/clients/rn_client.mjs (proven in Node against the
// real server, see tests/clients/REACT_NATIVE.md), typed with the generated documents.
// @urql/core over HTTP for queries and mutations, graphql-ws for subscriptions, the access token
// in connection_init, and one rule for every dropped socket (token expiry included): refresh if
// the server refused the token (4401, 4403), then subscribe again with `after` = the last
// cursor seen; on CURSOR_EXPIRED, reload and go on from a new liveCursor. Every operation, on
// either transport, names its document by hash alone (lib/documents.ts).
import {
  Client,
  type CombinedError,
  type OperationContext,
  type TypedDocumentNode,
  fetchExchange,
  subscriptionExchange,
} from "@urql/core";
import { createClient } from "graphql-ws";

import { byHash, hashOnlyExchange, withoutEmptyQuery } from "./documents";
import { LIVE_CURSOR, REFRESH } from "./operations";

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

// 4401: the access token expired while the socket was open. 4403: connection_init was refused,
// e.g. the app woke up with a stored token that has expired since. Both mean: refresh, reconnect.
const TOKEN_CLOSE_CODES = new Set([4401, 4403]);

const codes = (error: CombinedError | undefined): string[] =>
  (error?.graphQLErrors ?? []).map((e) => String(e.extensions?.code ?? ""));

const closeCode = (error: CombinedError): number | null => {
  const code = (error.networkError as { code?: unknown } | undefined)?.code;
  return typeof code === "number" ? code : null;
};

const isExpired = (error: CombinedError | undefined): boolean =>
  (error !== undefined && TOKEN_CLOSE_CODES.has(closeCode(error) ?? 0)) ||
  codes(error).includes("UNAUTHENTICATED");

type Variables = Record<string, unknown>;

export interface ListenOptions<E> {
  /** Resume from this cursor (null: from now) and after every drop from the last event's;
   * leave out for a subscription without `after` (it is subscribed again from now). */
  after?: string | null;
  onEvent: (event: E) => void;
  /** CURSOR_EXPIRED: reload what the screen shows; resolve with the liveCursor read first. */
  onReload?: () => Promise<string | null>;
  /** An answer retrying cannot change (NOT_FOUND, unknown cursor): listening has ended. */
  onError?: (error: Error) => void;
  /** The socket is subscribed (true) or dropped and coming back (false). */
  onLive?: (live: boolean) => void;
}

export interface HoloClientOptions {
  httpUrl: string;
  wsUrl: string;
  tokens: Tokens;
  /** Persist fresh tokens (SecureStore); called after every refresh. */
  onTokens?: (tokens: Tokens) => void;
  /** Omit in React Native (it has a global WebSocket); Node and Jest pass `ws`. */
  webSocketImpl?: unknown;
}

export type HoloClient = ReturnType<typeof createHoloClient>;

export function createHoloClient({
  httpUrl,
  wsUrl,
  tokens,
  onTokens = () => {},
  webSocketImpl,
}: HoloClientOptions) {
  const ws = createClient({
    url: wsUrl,
    webSocketImpl,
    // Read at every connect, so a new socket always carries the newest token.
    connectionParams: () => ({ authorization: `Bearer ${tokens.accessToken}` }),
    // graphql-ws would re-subscribe by itself with the *original* variables; resuming needs the
    // newest `after`, so every close reaches the subscription and listen() re-subscribes.
    retryAttempts: 0,
    jsonMessageReplacer: withoutEmptyQuery,
  });
  // Whether the socket is up: a subscription on an open socket is live before its first event.
  let connected = false;
  const socketListeners = new Set<(up: boolean) => void>();
  const socketState = (up: boolean) => () => {
    connected = up;
    for (const listener of socketListeners) listener(up);
  };
  ws.on("connected", socketState(true));
  ws.on("closed", socketState(false));

  const client = new Client({
    url: httpUrl,
    exchanges: [
      hashOnlyExchange(),
      fetchExchange,
      subscriptionExchange({
        // Subscriptions, and operations asked to (`{ viaSocket: true }`: voice chunks, every
        // 100 ms, cost no HTTP request), go over the socket the conversation's stream holds.
        isSubscriptionOperation: (op) =>
          op.kind === "subscription" || op.context.viaSocket === true,
        forwardSubscription(request) {
          // By hash: no text, an empty `query` the socket's message leaves out (withoutEmptyQuery).
          const input = { ...request, query: request.query ?? "" };
          return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
        },
      }),
    ],
    preferGetMethod: false,
    requestPolicy: "network-only",
    fetchOptions: () => ({ headers: { authorization: `Bearer ${tokens.accessToken}` } }),
  });

  let refreshing: Promise<void> | null = null;
  // One refresh at a time: the refresh token is single use, so concurrent callers share it.
  function refresh(): Promise<void> {
    refreshing ??= (async () => {
      const result = await client
        .mutation(REFRESH, { refreshToken: tokens.refreshToken })
        .toPromise();
      const fresh = result.data?.refreshToken;
      if (!fresh) throw new Error(`refresh failed, sign in again: ${result.error?.message}`);
      tokens.accessToken = fresh.accessToken;
      tokens.refreshToken = fresh.refreshToken;
      onTokens({ accessToken: fresh.accessToken, refreshToken: fresh.refreshToken });
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  /** Runs an operation, refreshing once and retrying when the access token has expired. */
  async function request<D, V extends Variables>(
    kind: "query" | "mutation",
    document: TypedDocumentNode<D, V>,
    variables: V,
    context?: Partial<OperationContext>,
  ): Promise<D> {
    const send = () => client[kind](document, variables, context).toPromise();
    let result = await send();
    if (isExpired(result.error)) {
      await refresh();
      result = await send();
    }
    if (result.error || !result.data) throw result.error ?? new Error("no data");
    return result.data;
  }
  const query = <D, V extends Variables>(document: TypedDocumentNode<D, V>, variables: V) =>
    request("query", document, variables);
  /** `{ viaSocket: true }` sends it over the WebSocket (see the exchanges). */
  const mutate = <D, V extends Variables>(
    document: TypedDocumentNode<D, V>,
    variables: V,
    context?: Partial<OperationContext>,
  ) => request("mutation", document, variables, context);

  /** Where a race-free listen() starts: read it before the history the screen shows. */
  async function liveCursor(conversationId: string): Promise<string | null> {
    const data = await query(LIVE_CURSOR, { id: conversationId });
    return data.conversation?.liveCursor ?? null;
  }

  /**
   * Follows a subscription until stop(), surviving token expiry and dropped sockets (with
   * `after`: without gaps or repeats): `pick` takes the event (with its cursor) out of a result.
   */
  function listen<D, V extends Variables, E extends object>(
    document: TypedDocumentNode<D, V>,
    variables: Omit<V, "after">,
    pick: (data: D) => E,
    { after, onEvent, onReload, onError = () => {}, onLive = () => {} }: ListenOptions<E>,
  ) {
    const resumable = after !== undefined;
    let lastCursor = after ?? null;
    let current: { unsubscribe: () => void } | null = null;
    let stopped = false;
    let retryDelay = 250;
    let live = false;
    // Told on changes only: a screen may reload what it shows when it is live again.
    const setLive = (up: boolean) => {
      if (up !== live) onLive((live = up));
    };

    const onSocket = (up: boolean) => {
      if (up && current && !stopped) setLive(true);
    };
    socketListeners.add(onSocket);

    const fail = (error: Error) => {
      stopped = true;
      socketListeners.delete(onSocket);
      setLive(false);
      onError(error);
    };

    const dropped = async (error: CombinedError) => {
      current?.unsubscribe();
      setLive(false);
      if (stopped) return;
      if (onReload && codes(error).includes("CURSOR_EXPIRED")) {
        try {
          lastCursor = await onReload();
        } catch (reloadError) {
          fail(reloadError as Error);
          return;
        }
      } else if (error.graphQLErrors.length && !isExpired(error)) {
        fail(error);
        return;
      } else if (isExpired(error)) {
        try {
          await refresh();
        } catch (refreshError) {
          fail(refreshError as Error);
          return;
        }
        retryDelay = 250;
      } else {
        await new Promise((resolve) => setTimeout(resolve, retryDelay));
        retryDelay = Math.min(retryDelay * 2, 10_000);
      }
      if (!stopped) start();
    };

    const start = () => {
      const vars = (resumable ? { ...variables, after: lastCursor } : variables) as V;
      current = client.subscription(document, vars).subscribe((result) => {
        if (result.error) {
          void dropped(result.error);
          return;
        }
        if (!result.data) return;
        retryDelay = 250;
        setLive(true);
        const event = pick(result.data);
        const cursor = (event as { cursor?: string }).cursor;
        if (resumable && cursor) lastCursor = cursor;
        onEvent(event);
      });
      if (connected) setLive(true);
    };
    start();
    return {
      stop() {
        stopped = true;
        socketListeners.delete(onSocket);
        current?.unsubscribe();
      },
    };
  }

  /**
   * A mutation with one file, as a GraphQL multipart request (urql's fetchExchange sends JSON
   * only). In React Native a file is `{ uri, name, type }`, which its FormData streams from disk.
   */
  async function upload<D, V extends Variables, F extends keyof V & string>(
    document: TypedDocumentNode<D, V>,
    variables: Omit<V, F>,
    field: F,
    file: { uri: string; name: string; type: string } | Blob,
  ): Promise<D> {
    const send = async () => {
      const body = new FormData();
      const operations = {
        variables: { ...variables, [field]: null },
        extensions: byHash(document),
      };
      body.append("operations", JSON.stringify(operations));
      body.append("map", JSON.stringify({ "0": [`variables.${field}`] }));
      body.append("0", file as Blob);
      const response = await fetch(httpUrl, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.accessToken}` },
        body,
      });
      return (await response.json()) as {
        data?: D;
        errors?: { message: string; extensions?: { code?: string } }[];
      };
    };
    let result = await send();
    if (result.errors?.some((e) => e.extensions?.code === "UNAUTHENTICATED")) {
      await refresh();
      result = await send();
    }
    if (result.errors?.length || !result.data) {
      throw new Error(result.errors?.map((e) => e.message).join("; ") ?? "no data");
    }
    return result.data;
  }

  return {
    client,
    tokens,
    mutate,
    query,
    refresh,
    liveCursor,
    listen,
    upload,
    dispose: () => void ws.dispose(),
  };
}
