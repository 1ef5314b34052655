import type { CodegenConfig } from "@graphql-codegen/cli";

// Types for every operation in src/, checked against the server's exported schema: a schema
// change that breaks a page fails `npm run build` here, before Next compiles anything.
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**/*"],
  ignoreNoDocuments: false,
  generates: {
    "./src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
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
