// ESLint for the JS clients the test suite drives (tests/clients/, tests/api/*.mjs), run from
// their folder with `-c` so these packages resolve from web/node_modules, where ./dev installs
// them: recommended rules, Node and browser globals (they also hand functions to pages).
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import globals from "globals";

export default [
  { ignores: ["node_modules/**"] },
  js.configs.recommended,
  { languageOptions: { globals: { ...globals.node, ...globals.browser } } },
  prettier,
];
