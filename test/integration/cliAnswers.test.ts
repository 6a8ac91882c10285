// What the CLI says to a new user: one line with --quiet, no stale report left beside a new one, where a snapshot's
// JSON is broken.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCliDetailed, type CliOptions } from "../../src/cli/runCli.js";
import { DEMO_TENANT_PATH } from "../support/simulatedAzure.js";

async function run(options: Partial<CliOptions>) {
  let stdout = "";
  let stderr = "";
  const result = await runCliDetailed(
    { simulate: fileURLToPath(DEMO_TENANT_PATH), out: mkdtempSync(join(tmpdir(), "bca-cli-")), now: "2026-11-26", sendMode: "dry-run", allowIncomplete: true, ...options },
    { env: {}, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } },
  );
  return { ...result, stdout, stderr };
}

describe("the CLI's answers", () => {
  it("prints exactly one line with --quiet, as --help says: counts, coverage and mail", async () => {
    const { exitCode, stdout } = await run({ quiet: true, format: "json" });
    expect(exitCode).toBe(0);
    expect(stdout.endsWith("\n")).toBe(true);
    expect(stdout.trimEnd().split("\n")).toHaveLength(1);
    expect(stdout).toMatch(/^\d+ findings \(\d+ critical, \d+ warning\); coverage INCOMPLETE \(0 subscriptions and 1 account not read\); Dry run: \d+ message\(s\) would be sent/);
  }, 120_000);

  it("removes the previous run's reports of formats this run does not write, and says so in one line", async () => {
    const out = mkdtempSync(join(tmpdir(), "bca-cli-"));
    expect((await run({ out, format: "json,html" })).exitCode).toBe(0);
    const csv = await run({ out, format: "csv" });
    expect(csv.exitCode, csv.stderr).toBe(0);
    expect(existsSync(join(out, "report.csv"))).toBe(true);
    expect(existsSync(join(out, "report.json"))).toBe(false);
    expect(existsSync(join(out, "report.html"))).toBe(false);
    const said = csv.stdout.split("\n").filter((l) => l.startsWith("Removed the previous run's"));
    expect(said).toEqual([`Removed the previous run's ${join(out, "report.json")}, ${join(out, "report.html")} (not in this run's --format), so every report here is from this run.`]);
  }, 120_000);

  it("names the line and column where a snapshot's JSON is broken", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bca-cli-"));
    const snapshot = join(dir, "broken.json");
    writeFileSync(snapshot, '{\n  "tenantId": "t",\n  "subscriptions" []\n}\n');
    const { exitCode, stderr } = await run({ simulate: snapshot, out: join(dir, "out") });
    expect(exitCode).toBe(1);
    expect(stderr).toContain(`${snapshot} is not JSON at line 3, column 19:`);
  });
});
