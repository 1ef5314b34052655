import { createHash } from "node:crypto";

import type { CodegenConfig } from "@graphql-codegen/cli";

// Bare hex, as the APQ wire format's sha256Hash (the preset's "sha256" writes "sha256:<hex>").
const sha256 = (document: string) => createHash("sha256").update(document).digest("hex");

// The web app's operations (written once, in ../web/src/lib) typed from the same exported schema
// with the web app's settings: src/gql/graphql.ts exports each as a typed document
// (`LoginDocument`, `ConversationEventsDocument`...), which src/lib/operations.ts names for the
// screens. A schema change that breaks either app fails its type check.
// src/gql/persisted-documents.json is {sha256: document} of each of them: the manifest a server
// runs in trusted mode (HOLOMATE_TRUSTED_DOCUMENTS); the app sends hashes only (lib/documents.ts).
// The server image runs this file too (Dockerfile, web-build stage), with the web app's codegen.
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["../web/src/lib/operations.ts", "../web/src/lib/account.ts"],
  ignoreNoDocuments: false,
  generates: {
    "./src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: sha256 } },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", JSON: "unknown", Upload: "File" },
      },
    },
  },
};

export default config;
