import type { CodegenConfig } from "@graphql-codegen/cli";

// The web app's operations (written once, in ../web/src/lib) typed from the same exported schema
// with the web app's settings: src/gql/graphql.ts exports each as a typed document
// (`LoginDocument`, `ConversationEventsDocument`...), which src/lib/operations.ts names for the
// screens. A schema change that breaks either app fails its type check.
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["../web/src/lib/operations.ts", "../web/src/lib/account.ts"],
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
  },
};

export default config;
