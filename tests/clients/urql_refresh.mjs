// rn_client.mjs against a server whose access tokens live a few seconds. The app starts with a
// stale stored token (HTTP answers UNAUTHENTICATED, connection_init is refused with 4403), then
// its socket is closed with 4401 when the fresh token expires; each time the client refreshes
// and resumes with `after`, and two whole replies arrive without a gap or a repeat.
// Prints one JSON line: { replies: [summary, summary] (live.mjs summarize), reconnects,
// refreshes, refused (the code for a bad cursor), secondReplay (cursors of the second reply,
// replayed from the log) }.
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { createHoloClient } from "./rn_client.mjs";
import {
  CREATE_COMPANION,
  EVENTS,
  REGISTER,
  SEND_MESSAGE,
  START_CONVERSATION,
  SUBSCRIBE_SETTLE_MS,
  deadline,
  httpUrl,
  sleep,
  summarize,
  uniqueEmail,
  wsUrl,
} from "./live.mjs";

const REGISTER_WITH_REFRESH = REGISTER.replace("{ accessToken }", "{ accessToken refreshToken }");

async function until(condition, what, ms = 20_000) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

deadline(90_000, "refresh and resume");
const anonymous = await fetch(httpUrl, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ query: REGISTER_WITH_REFRESH, variables: { email: uniqueEmail("rn") } }),
});
const tokens = { ...(await anonymous.json()).data.register };
let refreshes = 0;
const holo = createHoloClient({
  httpUrl,
  wsUrl,
  webSocketImpl: WebSocket,
  tokens,
  onTokens: () => {
    refreshes += 1;
  },
});
// As an app that wakes up with a stored access token that has expired: HTTP first, then WS.
const STALE = "expired-while-the-app-slept";
tokens.accessToken = STALE;
const companion = (await holo.mutate(CREATE_COMPANION, {})).createCompanion.id;
const conversation = (await holo.mutate(START_CONVERSATION, { companion })).startConversation.id;
tokens.accessToken = STALE;

const events = [];
const reconnects = [];
const completed = () => events.filter((e) => e.__typename === "ReplyCompleted").length;
const connected = new Promise((resolve) => holo.ws.on("connected", resolve));
const listener = holo.listen(EVENTS, conversation, {
  onEvent: (event) => events.push(event),
  onReconnect: (info) => reconnects.push(info),
});
await connected;
await sleep(SUBSCRIBE_SETTLE_MS);
await holo.mutate(SEND_MESSAGE, { conversation, text: "Hello Mira! What is a star?" });
await until(() => completed() === 1, "the first reply");
await until(() => reconnects.some((r) => r.code === 4401), "the token to expire and be refreshed");
await holo.mutate(SEND_MESSAGE, { conversation, text: "Tell me about Mars." });
await until(() => completed() === 2, "the second reply");
listener.stop();

// An answer retrying cannot change ends listening instead of looping.
const refused = await new Promise((resolve) => {
  holo.listen(EVENTS, conversation, {
    after: "not-a-cursor",
    onEvent: () => resolve("an event"),
    onError: (error) => resolve(error.graphQLErrors[0].extensions.code),
  });
});
await holo.dispose();

// The log's copy of the second reply, read by a separate bare client with the current token.
await holo.refresh(); // a token with its whole lifetime ahead for the check
const firstEnd = events.find((e) => e.__typename === "ReplyCompleted").cursor;
const check = createClient({
  url: wsUrl,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${tokens.accessToken}` },
});
const secondReplay = [];
for await (const result of check.iterate({
  query: EVENTS,
  variables: { id: conversation, after: firstEnd },
})) {
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  const event = result.data.conversationEvents;
  secondReplay.push(event.cursor);
  if (event.__typename === "ReplyCompleted") break;
}
await check.dispose();

const split = events.findIndex((e) => e.__typename === "ReplyCompleted") + 1;
console.log(
  JSON.stringify({
    replies: [summarize(events.slice(0, split)), summarize(events.slice(split))],
    reconnects,
    refreshes,
    refused,
    secondReplay,
  }),
);
