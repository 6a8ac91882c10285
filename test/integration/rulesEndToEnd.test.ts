// Every retirement rule through the whole job: the demo tenant on the simulated Azure, the CLI, a dry run on
// 2026-12-04. The certificate findings are overdue; the lab account's retiring pools count down to their own deadlines.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCliDetailed } from "../../src/cli/runCli.js";
import { DEMO_TENANT_PATH } from "../support/simulatedAzure.js";


async function demo(options: { rules?: string } = {}) {
  const out = mkdtempSync(join(tmpdir(), "bca-rules-"));
  let stdout = "";
  let stderr = "";
  const result = await runCliDetailed(
    { simulate: fileURLToPath(DEMO_TENANT_PATH), out, now: "2026-12-04", sendMode: "dry-run", allowIncomplete: true, format: "json,csv", ...options },
    { env: {}, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } },
  );
  return { result, out, stdout, stderr };
}

describe("retirement rules end to end (demo tenant, CLI, 2026-12-04)", () => {
  it("reports several rules with their deadlines and days left, and mails the lab account's owner one digest with one item per rule per pool", async () => {
    const { result, out, stdout } = await demo();
    expect(result.exitCode).toBe(0);
    const report = result.report!;
    const render = report.findings.filter((f) => f.accountName === "labbatch" && f.kind === "pool");
    expect(render.map((f) => [f.poolName, f.rule, f.deadline, f.daysLeft, f.deadlineSource]).sort()).toEqual(
      [
        ["centos7-legacy", "centos-7", "2024-07-01", -886, "catalogue"],
        ["centos7-legacy", "eol-node-agents", "2024-12-31", -703, "catalogue"],
        ["ubuntu2204-etl", "ubuntu-22.04-node-agent", "2027-06-30", 208, "catalogue"],
        ["win2016-render", "d-ds-dv2-dsv2-ls", "2028-05-01", 514, "azure"],
        ["win2016-render", "low-priority-nodes", "2025-09-30", -430, "catalogue"],
        ["win2016-render", "windows-server-2016-image", "2027-01-12", 39, "catalogue"],
      ].sort(),
    );
    // The certificate findings are still there, overdue, beside them.
    expect(report.findings.filter((f) => f.rule === "account-certificate").every((f) => f.daysLeft === -1009)).toBe(true);
    expect(report.summary.byRule).toMatchObject({ "windows-server-2016-image": 1, "ubuntu-22.04-node-agent": 1, "centos-7": 1, "low-priority-nodes": 1, ncv3: 0 });
    expect(report.summary.byRule?.["pool-certificate-reference"]).toBeGreaterThan(0);
    expect(report.rules?.map((r) => r.id)).toContain("hbv2-hc-np");

    // One digest for the lab account's owner (who also owns certificate findings), however many rules and pools.
    const owners = [...new Set(render.flatMap((f) => (f.owners ?? []).map((o) => o.address)))];
    expect(owners.length).toBeGreaterThan(0);
    const messages = result.job && "reminders" in result.job ? result.job.reminders.messages : [];
    // Each owner of the account: exactly one message, its digest.
    for (const owner of owners) expect(messages.filter((m) => m.recipient === owner).map((m) => m.kind), owner).toEqual(["digest"]);
    const toRender = messages.filter((m) => m.recipient === owners[0]);
    expect(toRender[0]?.subject).toMatch(/^Action needed: \d+ Azure Batch retirement items, 1,009 days overdue$/);
    const html = readFileSync(join(out, "emails-dry-run", `${toRender[0]!.operationId}.html`), "utf8");
    for (const note of [
      "Windows Server 2016 Marketplace images: 39 days left (2027-01-12)",
      "Low-priority nodes in Batch-managed accounts: 430 days overdue (2025-09-30)",
      "D, Ds, Dv2, Dsv2 and Ls-series VM sizes: 514 days left (2028-05-01)",
      "Ubuntu 22.04 node agent: 208 days left (2027-06-30)",
    ]) {
      expect(html.split(note).length - 1, note).toBe(1);
    }
    // Each rule's steps once, soonest deadline first.
    const headlines = [...html.matchAll(/<b>([^<]+: \d+ [A-Z][a-z]+ \d{4}, [^<]+)<\/b>/g)].map((m) => m[1]?.split(":")[0]);
    expect(headlines).toEqual(["CentOS 7 pools", "End-of-life node agents (CentOS, Debian, old Ubuntu)", "Low-priority nodes in Batch-managed accounts", "Windows Server 2016 Marketplace images", "Ubuntu 22.04 node agent", "D, Ds, Dv2, Dsv2 and Ls-series VM sizes"]);

    expect(stdout).toMatch(/windows-server-2016-image: 1 — Windows Server 2016 Marketplace images, 2027-01-12 \(39 days left\)/);
    expect(readFileSync(join(out, "report.csv"), "utf8")).toMatch(/,windows-server-2016-image,2027-01-12,39,/);
  });

  it("audits only the rules asked for with --rules, and refuses an unknown one with the list of rules", async () => {
    const only = await demo({ rules: "ubuntu-22.04-node-agent" });
    expect(only.result.report?.findings.map((f) => [f.rule, f.poolName])).toEqual([["ubuntu-22.04-node-agent", "ubuntu2204-etl"]]);
    const bad = await demo({ rules: "windows-2016" });
    expect(bad.result.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/Unknown rule "windows-2016"; the rules are: account-certificate, pool-certificate-reference, cloudservice-pool, windows-server-2016-image/);
  });
});
