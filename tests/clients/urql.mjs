// The React Native setup, run in Node: an @urql/core Client whose mutations go over HTTP
// (fetchExchange) and whose subscriptions ride a graphql-ws client (subscriptionExchange).
// Registers, creates a companion, starts a conversation, listens, sends a message, and prints
// the whole reply as one JSON line (see live.mjs summarize).
import { Client, fetchExchange, subscriptionExchange } from "@urql/core";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import {
  CREATE_COMPANION,
  EVENTS,
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

let accessToken = null;
let connected = null;
const socketReady = new Promise((resolve) => {
  connected = resolve;
});

const ws = createClient({
  url: wsUrl,
  webSocketImpl: WebSocket, // React Native has a global WebSocket; Node 20 does not
  lazy: true,
  // A function, so every (re)connect sends the token current at that moment.
  connectionParams: () => ({ authorization: `Bearer ${accessToken}` }),
  on: { connected: () => connected() },
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
  fetchOptions: () => ({ headers: accessToken ? { authorization: `Bearer ${accessToken}` } : {} }),
});

async function mutate(document, variables) {
  const result = await client.mutation(document, variables).toPromise();
  if (result.error) throw new Error(`${document.trim().split("\n")[0]}: ${result.error.message}`);
  return result.data;
}

deadline(60_000, "urql reply");
accessToken = (await mutate(REGISTER, { email: uniqueEmail("urql") })).register.accessToken;
const companion = (await mutate(CREATE_COMPANION, {})).createCompanion.id;
const conversation = (await mutate(START_CONVERSATION, { companion })).startConversation.id;

const events = [];
const finished = new Promise((resolve, reject) => {
  const subscription = client.subscription(EVENTS, { id: conversation }).subscribe((result) => {
    if (result.error) {
      reject(new Error(`subscription: ${result.error.message}`));
      return;
    }
    const event = result.data.conversationEvents;
    events.push(event);
    if (TERMINAL.has(event.__typename)) {
      subscription.unsubscribe();
      resolve();
    }
  });
});
await socketReady;
await sleep(SUBSCRIBE_SETTLE_MS);
await mutate(SEND_MESSAGE, { conversation, text: "Hello Mira! What is a star?" });
await finished;
await ws.dispose();
console.log(JSON.stringify(summarize(events)));
