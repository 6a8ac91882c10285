import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCliDetailed } from "../../src/cli/runCli.js";
import { DEMO_TENANT_PATH } from "../support/simulatedAzure.js";

const sink = { write: () => true };

async function demoRun(options: { allowIncomplete?: boolean; format?: string }) {
  const out = mkdtempSync(join(tmpdir(), "bca-cli-"));
  return runCliDetailed(
    { simulate: fileURLToPath(DEMO_TENANT_PATH), out, now: "2026-11-26", sendMode: "dry-run", ...options },
    { env: {}, stdout: sink, stderr: sink },
  );
}

describe("the CLI's exit code", () => {
  it("is 2 when a scope could not be read, and 0 for the demo with --allow-incomplete, which still reports the gap", async () => {
    const strict = await demoRun({ format: "json" });
    expect(strict.exitCode).toBe(2);
    const demo = await demoRun({ allowIncomplete: true, format: "json" });
    expect(demo.exitCode).toBe(0);
    expect(demo.report?.coverage.complete).toBe(false);
  });

  it("is 1 with a clear message for an option it does not know how to read", async () => {
    const result = await demoRun({ format: "pdf" });
    expect(result.exitCode).toBe(1);
    expect(result.files).toEqual([]);
  });
});
