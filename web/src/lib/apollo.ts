// Apollo Client: queries and mutations over HTTP, subscriptions over graphql-ws (the
// graphql-transport-ws protocol), one access token for both, refreshed once when it expires.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { ErrorLink } from "@apollo/client/link/error";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { type DocumentNode, OperationTypeNode } from "graphql";
import { type Client, createClient } from "graphql-ws";
import { from, switchMap, throwError } from "rxjs";

import possibleTypes from "@/gql/possible-types";
import { documentText, generateHash, withManifestText } from "@/lib/documents";
import { type Session, isTokenExpired } from "@/lib/session";

export type SocketState = "connecting" | "connected" | "closed";

export interface Connection {
  client: ApolloClient;
  socket: Client;
  socketState: () => SocketState;
  onSocketState: (listener: (state: SocketState) => void) => () => void;
}

export function websocketUrl(graphqlUrl: string): string {
  const url = new URL(graphqlUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

export function makeConnection(graphqlUrl: string, session: Session): Connection {
  let state: SocketState = "closed";
  const listeners = new Set<(state: SocketState) => void>();
  const setState = (next: SocketState) => {
    state = next;
    for (const listener of listeners) listener(next);
  };

  const socket = createClient({
    url: websocketUrl(graphqlUrl),
    lazy: true,
    // Reconnects are the page's job: it resumes its stream from the last cursor it saw.
    retryAttempts: 0,
    connectionParams: async () => {
      const token = await session.validToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    on: {
      connecting: () => setState("connecting"),
      connected: () => setState("connected"),
      closed: () => setState("closed"),
    },
  });

  // The header is added per request so a refreshed token is used at once.
  const auth = new ApolloLink((operation, forward) =>
    from(session.validToken()).pipe(
      switchMap((token) => {
        operation.setContext(({ headers = {} }: { headers?: Record<string, string> }) => ({
          headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers,
          token,
        }));
        return forward(operation);
      }),
    ),
  );

  // TOKEN_EXPIRED (the clock ran out between our check and the server's): refresh once, retry once.
  const retryExpired = new ErrorLink(({ error, operation, forward }) => {
    if (!CombinedGraphQLErrors.is(error) || !error.errors.some(isTokenExpired)) return;
    if (operation.getContext().retried) return;
    const failed = (operation.getContext().token as string | null) ?? "";
    return from(session.renew(failed)).pipe(
      switchMap((token) => {
        if (!token) return throwError(() => error);
        operation.setContext({ retried: true });
        return forward(operation);
      }),
    );
  });

  // Every operation goes by hash (the manifest's: lib/documents.ts), its text only when the
  // server asks for it (PERSISTED_QUERY_NOT_FOUND: an open server that has not seen it yet).
  const persisted = new PersistedQueryLink({ generateHash });
  const http = new HttpLink({ uri: graphqlUrl, print: (ast) => documentText(ast as DocumentNode) });
  // Subscriptions, and operations asked to (`context: { viaSocket: true }`: voice chunks), go over
  // the WebSocket; the rest over HTTP.
  const ws = new GraphQLWsLink(withManifestText(socket));
  const transport = ApolloLink.split(
    (operation) => {
      const definition = getMainDefinition(operation.query);
      return (
        (definition.kind === "OperationDefinition" &&
          definition.operation === OperationTypeNode.SUBSCRIPTION) ||
        operation.getContext().viaSocket === true
      );
    },
    ws,
    http,
  );

  const client = new ApolloClient({
    link: ApolloLink.from([retryExpired, auth, persisted, transport]),
    cache: new InMemoryCache({ possibleTypes: possibleTypes.possibleTypes }),
    defaultOptions: { watchQuery: { fetchPolicy: "cache-and-network" } },
  });

  // A new person signs in or out: drop what the previous one saw, reconnect with the new token.
  let lastUser = session.current?.user.id ?? null;
  session.subscribe((tokens) => {
    const user = tokens?.user.id ?? null;
    if (user === lastUser) return;
    lastUser = user;
    socket.terminate();
    void client.clearStore();
  });

  return {
    client,
    socket,
    socketState: () => state,
    onSocketState: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
