import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Tests run the simulated Azure from its sources; the built package (dist) is for `npm start` and the tools.
    alias: { "@batch-cert-auditor/simulated-azure": fileURLToPath(new URL("./packages/simulated-azure/src/index.ts", import.meta.url)) },
  },
  test: {
    include: ["test/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
