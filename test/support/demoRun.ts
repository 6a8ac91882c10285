// The demo tenant audited the way `npm start` does it, into a fresh folder, for tests that look at its output.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCliDetailed, type CliOptions } from "../../src/cli/runCli.js";
import { DEMO_TENANT_PATH } from "./simulatedAzure.js";

/** Runs the demo (a dry run on a fixed day unless `options` say otherwise) and returns its --out folder. */
export async function runDemo(options: Partial<CliOptions> = {}): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), "bca-demo-"));
  const sink = { write: () => true };
  const demo = await runCliDetailed(
    { simulate: fileURLToPath(DEMO_TENANT_PATH), out, now: "2026-11-26", sendMode: "dry-run", allowIncomplete: true, ...options },
    { env: {}, stdout: sink, stderr: sink },
  );
  if (demo.exitCode !== 0) throw new Error(`the demo run failed (exit ${demo.exitCode})`);
  return out;
}
