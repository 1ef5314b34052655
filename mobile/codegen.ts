import type { CodegenConfig } from "@graphql-codegen/cli";

// The web app's codegen settings (../web/codegen.ts) on the same exported schema: both apps'
// operations are typed from one contract, and a schema change that breaks a screen fails here.
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
  },
};

export default config;
