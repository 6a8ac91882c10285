// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "packages/*/dist/**", "node_modules/**", "out/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // The domain stays pure: no Azure SDK, no I/O, no environment.
    files: ["src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["@azure/*"], message: "src/core must not import Azure SDKs; add a port and an adapter in src/azure." },
            { group: ["node:fs", "node:fs/*", "fs", "node:http", "node:https", "node:net", "node:child_process"], message: "src/core does no I/O." },
            { group: ["../azure/*", "../functions/*", "../cli/*", "../simulator/*", "../config*"], message: "Dependencies point into core, never out of it." },
          ],
        },
      ],
      "no-restricted-globals": ["error", { name: "process", message: "src/core does not read the environment." }, { name: "fetch", message: "src/core does no I/O." }],
    },
  },
  {
    // The report page's script runs in the browser, inlined as the text of one function (src/render/report/inlineAssets.ts):
    // browser globals only, and nothing imported but types, since an import would not survive the inlining.
    files: ["src/render/report/browser/**/*.ts"],
    languageOptions: { globals: { window: "readonly", document: "readonly" } },
    rules: {
      "no-restricted-imports": "off",
      "@typescript-eslint/no-restricted-imports": ["error", { patterns: [{ group: ["*"], allowTypeImports: true, message: "The browser script is inlined as one function's text: import types only." }] }],
      "no-restricted-globals": ["error", { name: "process", message: "This runs in the browser." }, { name: "require", message: "This runs in the browser." }],
    },
  },
);
