// Apollo Client 4 in Node, wired as a web or React app would be: an HttpLink for queries and
// mutations, a GraphQLWsLink (graphql-ws) for subscriptions, split by operation type, and a
// SetContextLink that adds the bearer token. Registers, logs in, subscribes, sends a message and
// prints the whole reply as one JSON line (see live.mjs summarize).
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { createClient } from "graphql-ws";
import { OperationTypeNode } from "graphql";
import WebSocket from "ws";
import {
  CREATE_COMPANION,
  EVENTS,
  LOGIN,
  REGISTER,
  SEND_MESSAGE,
  START_CONVERSATION,
  SUBSCRIBE_SETTLE_MS,
  TERMINAL,
  deadline,
  httpUrl,
  sleep,
  summarize,
  uniqueEmail,
  wsUrl,
} from "./live.mjs";

const EVENT_TYPES = [
  "MessagePosted",
  "ReplyStarted",
  "MessageDelta",
  "AudioChunk",
  "VisemeFrames",
  "EmotionChanged",
  "ReplyCompleted",
  "ReplyInterrupted",
  "ReplyFailed",
];

let accessToken = null;
let connected = null;
const socketReady = new Promise((resolve) => {
  connected = resolve;
});

const auth = new SetContextLink((prevContext) => ({
  headers: {
    ...prevContext.headers,
    ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
  },
}));
const http = new HttpLink({ uri: httpUrl });
const ws = new GraphQLWsLink(
  createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: () => ({ authorization: `Bearer ${accessToken}` }),
    on: { connected: () => connected() },
  }),
);

const client = new ApolloClient({
  link: ApolloLink.split(
    (operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION,
    ws,
    ApolloLink.from([auth, http]),
  ),
  // The cache must know the union and the interface to match the `... on` fragments.
  cache: new InMemoryCache({
    possibleTypes: { ConversationEvent: EVENT_TYPES, EventBase: EVENT_TYPES },
  }),
});

async function mutate(document, variables) {
  const { data } = await client.mutate({ mutation: gql(document), variables }); // throws on errors
  return data;
}

deadline(60_000, "Apollo reply");
const email = uniqueEmail("apollo");
await mutate(REGISTER, { email });
accessToken = (await mutate(LOGIN, { email })).login.accessToken;
const companion = (await mutate(CREATE_COMPANION, {})).createCompanion.id;
const conversation = (await mutate(START_CONVERSATION, { companion })).startConversation.id;

const events = [];
const finished = new Promise((resolve, reject) => {
  const subscription = client
    .subscribe({ query: gql(EVENTS), variables: { id: conversation } })
    .subscribe({
      next(result) {
        if (result.error) {
          reject(result.error);
          return;
        }
        const event = result.data.conversationEvents;
        events.push(event);
        if (TERMINAL.has(event.__typename)) {
          subscription.unsubscribe();
          resolve();
        }
      },
      error: reject,
    });
});
await socketReady;
await sleep(SUBSCRIBE_SETTLE_MS);
await mutate(SEND_MESSAGE, { conversation, text: "Hello Mira! What is a star?" });
await finished;
await ws.client.dispose();
client.stop();
console.log(JSON.stringify(summarize(events)));
