// The bare graphql-ws client (graphql-transport-ws), as a device without a GraphQL framework
// would use it: register over HTTP, then everything else on one socket authorized in
// connection_init. Receives one whole reply; then closes the socket part-way through a second
// reply and resumes on a new socket with `after`. Prints one JSON line:
//   { full: summary, resume: { seen, resumed, replay: cursors..., seenTypes, resumedTypes } }
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

async function overHttp(query, variables) {
  const response = await fetch(httpUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

function connect(token) {
  let connected = null;
  const ready = new Promise((resolve) => {
    connected = resolve;
  });
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    lazy: false, // one socket for the session, open between operations too
    connectionParams: { authorization: `Bearer ${token}` },
    on: { connected: () => connected() },
  });
  return { client, ready };
}

// graphql-transport-ws carries queries and mutations too: one result, then complete.
async function once(client, query, variables) {
  for await (const result of client.iterate({ query, variables })) {
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data;
  }
  throw new Error("completed without a result");
}

// Read events until `stop(event, events)` says so; returns what was read.
async function listen(client, variables, stop) {
  const events = [];
  const stream = client.iterate({ query: EVENTS, variables });
  for await (const result of stream) {
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    events.push(result.data.conversationEvents);
    if (stop(events[events.length - 1], events)) break; // break sends `complete` to the server
  }
  return events;
}

const untilTerminal = (event) => TERMINAL.has(event.__typename);

deadline(90_000, "graphql-ws reply and resume");
const { accessToken } = (await overHttp(REGISTER, { email: uniqueEmail("graphql-ws") })).register;
const first = connect(accessToken);
const companion = (await once(first.client, CREATE_COMPANION, {})).createCompanion.id;
const conversation = (await once(first.client, START_CONVERSATION, { companion })).startConversation
  .id;

// 1. A whole reply on a live socket.
const fullDone = listen(first.client, { id: conversation }, untilTerminal);
await first.ready;
await sleep(SUBSCRIBE_SETTLE_MS);
await once(first.client, SEND_MESSAGE, { conversation, text: "Hello Mira! What is a star?" });
const full = await fullDone;

// 2. The next reply: drop the socket at its first audio chunk, as a phone losing signal would.
const partDone = listen(first.client, { id: conversation }, (e) => e.__typename === "AudioChunk");
await sleep(SUBSCRIBE_SETTLE_MS);
await once(first.client, SEND_MESSAGE, { conversation, text: "Tell me about Mars." });
const seen = await partDone;
await first.client.dispose(); // closes the WebSocket mid-reply
const closedAt = new Date().toISOString();

// 3. A new socket resumes from the last cursor it saw.
const second = connect(accessToken);
const resumed = await listen(
  second.client,
  { id: conversation, after: seen[seen.length - 1].cursor },
  untilTerminal,
);

// 4. The ground truth: the whole second reply, replayed from the end of the first one.
const replay = await listen(
  second.client,
  { id: conversation, after: full[full.length - 1].cursor },
  untilTerminal,
);
await second.client.dispose();

console.log(
  JSON.stringify({
    full: summarize(full),
    resume: {
      seen: seen.map((e) => e.cursor),
      resumed: resumed.map((e) => e.cursor),
      replay: replay.map((e) => e.cursor),
      seenTypes: seen.map((e) => e.__typename),
      resumedTypes: resumed.map((e) => e.__typename),
      // Same machine, same clock: the socket closed before the server finished the reply.
      closedAt,
      completedAt: resumed[resumed.length - 1].at,
      text: resumed[resumed.length - 1].message?.text ?? null,
      deltas: [...seen, ...resumed]
        .filter((e) => e.__typename === "MessageDelta")
        .map((e) => e.text),
    },
  }),
);
