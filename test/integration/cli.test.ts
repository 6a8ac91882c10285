import { mkdtempSync, readdirSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
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

describe("the CLI's --send-only", () => {
  it("refuses --now, --subscriptions and --management-groups: a sending run sends for the latest audit's day and scope", async () => {
    let stderr = "";
    const out = mkdtempSync(join(tmpdir(), "bca-cli-"));
    const result = await runCliDetailed(
      { simulate: fileURLToPath(DEMO_TENANT_PATH), out, sendOnly: true, now: "2026-11-26", subscriptions: "11111111-1111-4111-8111-111111111111" },
      { env: {}, stdout: sink, stderr: { write: (s: string) => (stderr += s) } },
    );
    expect(result.exitCode).toBe(1);
    expect(stderr).toMatch(/--now cannot go with --send-only/);
    expect(stderr).toMatch(/--subscriptions cannot go with --send-only/);
  });

  it("sends what the audit could not fit, once, says when the rest goes, and exits 1 with nothing planned before any audit", async () => {
    const out = mkdtempSync(join(tmpdir(), "bca-cli-"));
    const env = { EMAIL_PER_MINUTE: "3", EMAIL_PER_HOUR: "3" };
    const run = async (options: { sendOnly?: boolean; now?: string }) => {
      let stdout = "";
      let stderr = "";
      const result = await runCliDetailed(
        { simulate: fileURLToPath(DEMO_TENANT_PATH), out, format: "json", allowIncomplete: true, ...options },
        { env, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } },
      );
      return { ...result, stdout, stderr };
    };
    const before = await run({ sendOnly: true });
    expect(before.exitCode).toBe(1);
    expect(before.stderr).toMatch(/no audit has stored a report/);

    const audit = await run({ now: "2026-11-26" });
    expect(audit.job?.state === "succeeded" && audit.job.reminders.sent).toBe(3);
    expect(audit.stdout).toMatch(/Outbox: 5 messages for 5 owners \(5 never told\) wait to be sent; at 3 a minute and 3 an hour, every owner will have been told by \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);

    // Within the same hour: the audit's 3 still count, so nothing more goes, and the backlog is the same.
    const drain = await run({ sendOnly: true });
    expect(drain.exitCode).toBe(0);
    expect(drain.sendOnly?.state === "succeeded" && drain.sendOnly.reminders).toMatchObject({ sent: 0, deferred: 5, backlog: { messages: 5, neverTold: 5 } });
    expect(drain.stdout).toMatch(/^Sending what the audit of 2026-11-26 planned/);
    expect(drain.stdout).toMatch(/5 message\(s\) did not fit the sending limits/);
  }, 120_000);
});

describe("the CLI without a sign-in", () => {
  it("exits 1 with a short reason and how to fix it, writes no report and sends nothing, when no credential can get a token", async () => {
    // Only the environment credential, with nothing set, and the managed identity pointed at a closed loopback port,
    // are tried: nothing leaves the machine, whatever the machine's own sign-ins.
    const closed = await closedPort();
    vi.stubEnv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential");
    for (const name of ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "AZURE_PASSWORD"]) {
      vi.stubEnv(name, "");
    }
    vi.stubEnv("IDENTITY_ENDPOINT", `http://127.0.0.1:${closed}/msi/token`);
    vi.stubEnv("MSI_ENDPOINT", `http://127.0.0.1:${closed}/msi/token`);
    try {
      const out = mkdtempSync(join(tmpdir(), "bca-cli-"));
      let stdout = "";
      let stderr = "";
      const result = await runCliDetailed(
        { out, now: "2026-11-26", subscriptions: "11111111-1111-4111-8111-111111111111" },
        { env: {}, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } },
      );
      expect(result.exitCode).toBe(1);
      expect(result.files).toEqual([]);
      expect(stdout).toBe("");
      const lines = stderr.trim().split("\n");
      expect(lines.length).toBeLessThanOrEqual(3);
      expect(lines[0]).toMatch(/^batch-cert-auditor: Could not sign in to Azure: /);
      expect(stderr).toMatch(/az login/);
      expect(stderr.match(/Could not sign in/g)).toHaveLength(1);
      expect(readdirSync(out).filter((f) => f.startsWith("report."))).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
    }
  }, 60_000);
});

/** A loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
