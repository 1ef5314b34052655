// What goes over the wire in a test file: every GraphQL request (fetch's JSON bodies, the
// socket's subscribe messages) is recorded, so a test can check none carried document text.
import { createHash } from "node:crypto";

import WebSocket from "ws";

import documents from "./other-client-documents.json";

export interface Sent {
  byHash: number;
  withText: string[];
  /** Each voice chunk's `playing` by its `seq` (null: nothing was playing as it was recorded);
   * chunks may leave out of order (the server orders them by `seq`). */
  playing: ({ messageId: string; heardUntilMs: number } | null)[];
}

export const sent: Sent = { byHash: 0, withText: [], playing: [] };

function record(payload: unknown): void {
  if (typeof payload !== "object" || payload === null) return;
  const { query, extensions, variables } = payload as {
    query?: unknown;
    extensions?: unknown;
    variables?: { audio?: unknown; seq?: unknown; playing?: Sent["playing"][number] };
  };
  if (typeof variables?.audio === "string" && typeof variables.seq === "number") {
    sent.playing[variables.seq] = variables.playing ?? null;
  }
  if (query !== undefined) sent.withText.push(String(query).slice(0, 80));
  else if ((extensions as { persistedQuery?: unknown } | undefined)?.persistedQuery) sent.byHash++;
}

/** Node's fetch, recording GraphQL bodies (JSON, or a multipart upload's `operations`). */
export function recordingFetch(nodeFetch: typeof fetch): typeof fetch {
  return (input, init) => {
    const body = init?.body;
    if (typeof body === "string" && body.startsWith("{")) record(JSON.parse(body));
    else if (typeof (body as FormData | undefined)?.get === "function") {
      record(JSON.parse(String((body as FormData).get("operations"))));
    }
    return nodeFetch(input, init);
  };
}

/** Node's `ws`, recording each `subscribe` message the app's graphql-ws client sends. */
export class RecordingWebSocket extends WebSocket {
  send(data: unknown, ...rest: unknown[]): void {
    const message = JSON.parse(String(data)) as { type?: string; payload?: unknown };
    if (message.type === "subscribe") record(message.payload);
    (super.send as (...args: unknown[]) => void)(data, ...rest);
  }
}

/** Another client's request (the test as a hologram device, or reading what the server stored):
 * by hash too, of a document in test/other-client-documents.json, the manifest the test's
 * server trusts beside the app's (tests/clients/test_mobile_app.py). */
export function otherClient(name: keyof typeof documents) {
  const sha256Hash = createHash("sha256").update(documents[name]).digest("hex");
  return { extensions: { persistedQuery: { version: 1, sha256Hash } } };
}
