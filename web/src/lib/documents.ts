// The app's documents as the server knows them: src/gql/persisted-documents.json, the manifest
// codegen emits ({sha256: document}). Requests name their document by hash (APQ's
// extensions.persistedQuery) and, when they carry its text too, carry the manifest's text, so
// the hash always matches: a server in trusted mode runs these documents and no others; an open
// one (development) learns a hash it does not know from the one retry that sends the text.
import { type DocumentNode, type OperationDefinitionNode, print } from "graphql";
import type { Client, SubscribePayload } from "graphql-ws";

import manifest from "@/gql/persisted-documents.json";

const TEXT: Record<string, string> = manifest;
// By operation name too: Apollo hands links a transformed copy of a document, which may have
// lost the hash codegen put on it (`__meta__`).
const HASH_BY_NAME = new Map(
  Object.entries(TEXT).flatMap(([hash, text]) => {
    const name = /\b(?:query|mutation|subscription)\s+(\w+)/.exec(text)?.[1];
    return name ? [[name, hash] as const] : [];
  }),
);

export function documentHash(document: DocumentNode): string | undefined {
  const meta = (document as { __meta__?: { hash?: string } }).__meta__;
  if (meta?.hash) return meta.hash;
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === "OperationDefinition",
  );
  return operation?.name ? HASH_BY_NAME.get(operation.name.value) : undefined;
}

/** The text to send for `document`: the manifest's, else (a document of no manifest) printed. */
export function documentText(document: DocumentNode): string {
  const hash = documentHash(document);
  return (hash && TEXT[hash]) || print(document);
}

/** For Apollo's PersistedQueryLink: the manifest's hash, else the sha256 of the printed text. */
export async function generateHash(document: DocumentNode): Promise<string> {
  const hash = documentHash(document);
  if (hash) return hash;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(print(document)));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `client`, its operations sent with the manifest's text of their hash (GraphQLWsLink prints
 * the document itself, which would not hash to the manifest's). */
export function withManifestText(client: Client): Client {
  const textOf = (payload: SubscribePayload) => {
    const persisted = payload.extensions?.persistedQuery as { sha256Hash?: string } | undefined;
    return (persisted?.sha256Hash && TEXT[persisted.sha256Hash]) || payload.query;
  };
  return {
    ...client,
    subscribe: (payload, sink) => client.subscribe({ ...payload, query: textOf(payload) }, sink),
  };
}
