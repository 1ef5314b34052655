// What the client scripts share: the documents a companion app sends, and the summary they print.
// Each script takes the server's HTTP GraphQL URL as its only argument and prints one JSON line.

export const httpUrl = process.argv[2];
export const wsUrl = httpUrl?.replace(/^http/, "ws");

// The same selection tests/realtime/helpers.py EVENTS uses, so every client reads every member.
export const EVENTS = `
subscription Events($id: ID!, $after: String) {
  conversationEvents(conversationId: $id, after: $after) {
    __typename
    ... on EventBase { cursor conversationId messageId at }
    ... on MessagePosted { message { id text role } }
    ... on MessageDelta { seq text }
    ... on AudioChunk { seq url mimeType startMs durationMs text }
    ... on VisemeFrames { audioSeq frames { viseme startMs endMs weight } }
    ... on EmotionChanged { emotion intensity atMs }
    ... on ReplyCompleted { message { id text status } }
    ... on ReplyInterrupted { heardText message { id text status } }
    ... on ReplyFailed { code detail }
  }
}`;

export const REGISTER = `
mutation Register($email: String!) {
  register(email: $email, password: "correct horse", displayName: "Ada") { accessToken }
}`;
export const LOGIN = `
mutation Login($email: String!) {
  login(email: $email, password: "correct horse") { accessToken refreshToken }
}`;
export const CREATE_COMPANION = `
mutation CreateCompanion {
  createCompanion(input: {name: "Mira", persona: "A cheerful astronomer"}) { id }
}`;
export const START_CONVERSATION = `
mutation Start($companion: ID!) { startConversation(companionId: $companion) { id } }`;
export const SEND_MESSAGE = `
mutation Send($conversation: ID!, $text: String!) {
  sendMessage(conversationId: $conversation, text: $text) { id text role }
}`;

export const TERMINAL = new Set(["ReplyCompleted", "ReplyInterrupted", "ReplyFailed"]);

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const uniqueEmail = (client) => `${client}-${process.pid}-${Date.now()}@example.com`;

// How long to wait after the socket's connection_ack before sending: the server registers the
// subscription on its hub asynchronously, as the Python realtime tests also allow for.
export const SUBSCRIBE_SETTLE_MS = 500;

// Fails the script (non-zero exit) instead of hanging when a stream stalls.
export function deadline(ms, what) {
  const timer = setTimeout(() => {
    console.error(`timed out after ${ms} ms: ${what}`);
    process.exit(2);
  }, ms);
  timer.unref();
  return timer;
}

// The one JSON line the pytest side reads: typenames in order, the reply text, the chunks.
export function summarize(events) {
  const last = events[events.length - 1];
  return {
    events: events.map((e) => e.__typename),
    cursors: events.map((e) => e.cursor),
    deltas: events.filter((e) => e.__typename === "MessageDelta").map((e) => e.text),
    text: last?.message?.text ?? null,
    posted: events[0]?.message?.text ?? null,
    chunks: events
      .filter((e) => e.__typename === "AudioChunk")
      .map((e) => ({ seq: e.seq, url: e.url, durationMs: e.durationMs })),
    // Parallel to `events`: a delta's or chunk's seq, the audioSeq of VisemeFrames, else null.
    seqs: events.map((e) => e.audioSeq ?? e.seq ?? null),
  };
}
