import { createHash } from "node:crypto";

import type { CodegenConfig } from "@graphql-codegen/cli";
import { addTypenameSelectionDocumentTransform } from "@graphql-codegen/client-preset";

// Bare hex, as the APQ wire format's sha256Hash (the preset's "sha256" writes "sha256:<hex>").
const sha256 = (document: string) => createHash("sha256").update(document).digest("hex");

// Types for every operation in src/, checked against the server's exported schema: a schema
// change that breaks a page fails `npm run build` here, before Next compiles anything.
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**/*"],
  ignoreNoDocuments: false,
  generates: {
    "./src/gql/": {
      preset: "client",
      // src/gql/persisted-documents.json: {sha256: document} of every operation, the manifest a
      // server runs in trusted mode (HOLOMATE_TRUSTED_DOCUMENTS); the app sends hashes. Each
      // document has its __typename fields, as Apollo's cache reads what the server answers.
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: sha256 } },
      documentTransforms: [addTypenameSelectionDocumentTransform],
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", JSON: "unknown", Upload: "File" },
      },
    },
    // Interfaces and unions for Apollo's cache: without them `... on EventBase` matches nothing.
    "./src/gql/possible-types.ts": {
      plugins: ["fragment-matcher"],
      config: { apolloClientVersion: 3, useExplicitTyping: true },
    },
  },
};

export default config;
