// rn_client.mjs against a server whose replay log keeps one event per conversation: the app
// listens from a liveCursor read before it sent a message, so by the time it subscribes the log
// can no longer vouch for that cursor and answers CURSOR_EXPIRED. onReload reloads the history
// (liveCursor first) and listening goes on from there until the reply completes.
// Prints one JSON line: { reloads, history (messages after the reload), completed (the text of
// ReplyCompleted, or of the stored reply when it had already completed), stored }.
import WebSocket from "ws";
import { createHoloClient } from "./rn_client.mjs";
import {
  CREATE_COMPANION,
  EVENTS,
  REGISTER,
  SEND_MESSAGE,
  START_CONVERSATION,
  deadline,
  httpUrl,
  sleep,
  uniqueEmail,
  wsUrl,
} from "./live.mjs";

const MESSAGES = `query($id: ID!) {
  conversation(id: $id) { messages(last: 10) { nodes { role status text } } }
}`;

deadline(60_000, "reload on CURSOR_EXPIRED");
const registered = await fetch(httpUrl, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    query: REGISTER.replace("{ accessToken }", "{ accessToken refreshToken }"),
    variables: { email: uniqueEmail("rn-expired") },
  }),
});
const tokens = { ...(await registered.json()).data.register };
const holo = createHoloClient({ httpUrl, wsUrl, webSocketImpl: WebSocket, tokens });
const companion = (await holo.mutate(CREATE_COMPANION, {})).createCompanion.id;
const conversation = (await holo.mutate(START_CONVERSATION, { companion })).startConversation.id;

const stale = await holo.liveCursor(conversation);
await holo.mutate(SEND_MESSAGE, { conversation, text: "Hello Mira! What is a comet?" });

let reloads = 0;
let history = [];
const events = [];
const done = new Promise((resolve, reject) => {
  const listener = holo.listen(EVENTS, conversation, {
    after: stale,
    onEvent: (event) => {
      events.push(event);
      if (event.__typename === "ReplyCompleted") {
        listener.stop();
        resolve(event.message.text);
      }
    },
    onReload: async () => {
      reloads += 1;
      const cursor = await holo.liveCursor(conversation);
      history = (await holo.query(MESSAGES, { id: conversation })).conversation.messages.nodes;
      const reply = history.at(-1);
      if (reply.role === "COMPANION" && reply.status === "COMPLETE") resolve(reply.text);
      return cursor;
    },
    onError: reject,
  });
});
const completed = await done;
await sleep(100);
const stored = (await holo.query(MESSAGES, { id: conversation })).conversation.messages.nodes.at(
  -1,
);
await holo.dispose();
console.log(JSON.stringify({ reloads, history, completed, stored }));
