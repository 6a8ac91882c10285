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
);
