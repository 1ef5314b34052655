// The app's documents by hash: codegen puts each one's sha256 on it (`__meta__.hash`, the key of
// src/gql/persisted-documents.json), and every request names its document by that hash alone
// (APQ's extensions.persistedQuery), never its text: a server in trusted mode, production's
// default, runs the documents of the manifests it was given and no others.
import { persistedExchange } from "@urql/exchange-persisted";
import type { DocumentNode } from "graphql";

export interface PersistedQuery {
  version: 1;
  sha256Hash: string;
}

/** The manifest's hash of `document`; throws for a document codegen did not make. */
export function documentHash(document: DocumentNode): string {
  const hash = (document as { __meta__?: { hash?: string } }).__meta__?.hash;
  if (!hash) throw new Error("Not a generated document (src/gql): it has no manifest hash");
  return hash;
}

/** A request's `extensions` naming `document` by hash. */
export const byHash = (document: DocumentNode): { persistedQuery: PersistedQuery } => ({
  persistedQuery: { version: 1, sha256Hash: documentHash(document) },
});

/** For urql: the manifest's hash in extensions.persistedQuery, so urql leaves `query` out of the
 * body (and out of the socket's subscribe payload); enforced: it never falls back to the text. */
export const hashOnlyExchange = () =>
  persistedExchange({
    generateHash: async (_text, document) => documentHash(document),
    enforcePersistedQueries: true,
    enableForMutation: true,
    enableForSubscriptions: true,
    preferGetForPersistedQueries: false,
  });

/**
 * For graphql-ws's `jsonMessageReplacer`: its client refuses to send a subscribe payload without
 * a string `query`, so a request by hash goes out with `query: ""` and this leaves it out of the
 * message (only there: beside `extensions.persistedQuery`, not in variables).
 */
export function withoutEmptyQuery(this: unknown, key: string, value: unknown): unknown {
  const persisted = (this as { extensions?: { persistedQuery?: unknown } } | null)?.extensions;
  return key === "query" && value === "" && persisted?.persistedQuery ? undefined : value;
}
