// The migration kit end to end on the demo tenant: report.json, <out>/migrations, the report page's links and the
// owners' digests (attachments as the simulated Communication Services Email received them).
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type LocalStorage } from "@batch-cert-auditor/simulated-azure";
import { heldList } from "../../src/core/deflatedJson.js";
import type { AuditReport, Finding } from "../../src/core/model.js";
import { isolatedStorage, mailbox, removeDir, runCliAt, tempDir, type CliRun } from "../support/auditRuns.js";
import { poolSchemaErrors } from "../support/poolSchema.js";
import { DEMO_TENANT_PATH } from "../support/simulatedAzure.js";

let azurite: LocalStorage;
let out: string;
let run: CliRun;
let report: AuditReport;

beforeAll(async () => {
  azurite = await startAzurite();
  out = await tempDir("migration-kit");
  run = await runCliAt({ snapshot: DEMO_TENANT_PATH.pathname, out, now: "2026-11-26", env: { ...isolatedStorage(azurite.connectionString), SEND_MODE: "live" } });
  if (!run.report) throw new Error(`no report (exit ${run.exitCode}): ${run.stderr}`);
  report = run.report;
}, 120_000);
afterAll(async () => {
  await azurite.stop();
  await removeDir(out);
});

const poolFindings = () => report.findings.filter((f) => f.kind === "pool-certificate-reference");

function keyVaultExtensions(body: Record<string, unknown>): { type: string; settings: { secretsManagementSettings: { observedCertificates: { url: string }[] } } }[] {
  const vmc = (body.properties as { deploymentConfiguration: { virtualMachineConfiguration: { extensions: { publisher: string }[] } } }).deploymentConfiguration.virtualMachineConfiguration;
  return vmc.extensions.filter((e) => e.publisher === "Microsoft.Azure.KeyVault") as never;
}

/** The certificates the account holds among the pool's references: a dangling one is not observed. */
function distinctCertificates(f: Finding): string[] {
  return [...new Set((f.references ?? []).filter((r) => r.resolves !== false).map((r) => (r.certificateName ?? r.id).toLowerCase()))].sort();
}

describe("the migration kit on the demo tenant", () => {
  it("gives every pool finding read from the Batch API a replacement that validates against 2024-07-01, has no certificates, a user-assigned identity, one Key Vault extension for exactly its certificates, and its vmSize and image", () => {
    const withBody = poolFindings().filter((f) => f.sources?.includes("batch-api"));
    expect(withBody.length).toBeGreaterThan(0);
    for (const f of withBody) {
      const kit = f.migration;
      expect(kit?.replacementPool, f.poolName).toBeDefined();
      const body = kit!.replacementPool!;
      expect(poolSchemaErrors(body), f.poolName).toEqual([]);
      const properties = body.properties as Record<string, unknown>;
      expect(properties.certificates).toBeUndefined();
      expect(body.identity).toMatchObject({ type: "UserAssigned" });
      const extensions = keyVaultExtensions(body);
      expect(extensions, f.poolName).toHaveLength(1);
      expect(extensions[0]!.type).toBe(kit!.os === "windows" ? "KeyVaultForWindows" : "KeyVaultForLinux");
      const observed = extensions[0]!.settings.secretsManagementSettings.observedCertificates.map((o) => o.url.split("/secrets/")[1]).sort();
      expect(observed, f.poolName).toEqual(distinctCertificates(f));
      expect(properties.vmSize).toBeTruthy();
      expect(properties.scaleSettings).toBeTruthy();
      expect((properties.deploymentConfiguration as { virtualMachineConfiguration: { imageReference: unknown } }).virtualMachineConfiguration.imageReference).toBeTruthy();
    }
  });

  it("names no replacement after a pool the account already has: render-pool's is not render-pool-kv, which exists, and every create is conditional", () => {
    const render = poolFindings().find((f) => f.poolName === "render-pool");
    expect(render?.migration?.replacementPoolName).toBeDefined();
    expect(render!.migration!.replacementPoolName.toLowerCase()).not.toBe("render-pool-kv");
    expect(render!.migration!.replacementPoolName).toBe("render-pool-kv2");
    for (const f of poolFindings()) {
      const creates = f.migration!.commands.filter((c) => /az rest --method put/.test(c));
      for (const c of creates) expect(c, f.poolName).toContain("--headers 'If-None-Match=*'");
    }
  });

  it("records the pools already migrated in the summary and in the day's trend point", () => {
    // imagingbatch's render-pool-kv: the Key Vault extension, no certificates.
    expect(report.summary.poolsMigrated).toBe(1);
    expect(report.run?.history.at(-1)).toMatchObject({ date: "2026-11-26", migrated: 1 });
    expect(report.findings.some((f) => f.poolName === "render-pool-kv")).toBe(false);
  });

  it("says, for a pool known only from Resource Graph, that there is no body rather than guessing one", () => {
    for (const f of poolFindings().filter((p) => !p.sources?.includes("batch-api"))) {
      expect(f.migration?.replacementPool).toBeUndefined();
      expect(f.migration?.unavailable).toMatch(/Resource Graph/);
    }
  });

  it("writes each pool's body and steps under <out>/migrations, the body being exactly report.json's replacementPool", async () => {
    const files = await readdir(join(out, "migrations"));
    for (const f of poolFindings()) {
      const kit = f.migration!;
      expect(files).toContain(kit.fileName.replace(/\.json$/, ".sh"));
      if (!kit.replacementPool) continue;
      expect(JSON.parse(await readFile(join(out, "migrations", kit.fileName), "utf8"))).toEqual(kit.replacementPool);
    }
    expect(run.stdout).toContain(`${join(out, "migrations")}`);
  });

  it("holds the findings it hands back deflated from its audit's end, and wrote report.json with every one, kits included", async () => {
    // The run's own report: its writers read the findings a page at a time; read through the key, they are all there.
    expect(heldList(report, "findings")?.length).toBe(report.summary.findings);
    expect(report.findings).toHaveLength(report.summary.findings);
    expect(poolFindings().some((f) => f.migration?.replacementPool)).toBe(true);
    const written = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as AuditReport;
    expect(written.findings).toStrictEqual(JSON.parse(JSON.stringify(report.findings)));
  });

  it("links each replacement body from the report page as a download", async () => {
    const html = await readFile(join(out, "report.html"), "utf8");
    for (const f of poolFindings().filter((p) => p.migration?.replacementPool)) {
      const match = new RegExp(`href="data:application/json;base64,([A-Za-z0-9+/=]+)" download="${f.migration!.fileName.replace(/[.]/g, "\\.")}"`).exec(html);
      expect(match, f.poolName).not.toBeNull();
      expect(JSON.parse(Buffer.from(match![1]!, "base64").toString("utf8"))).toEqual(f.migration!.replacementPool);
    }
  });

  it("attaches each pool's kit to its owners' digests, well under the email size limit", async () => {
    const mail = await mailbox(out);
    let attached = 0;
    for (const f of poolFindings().filter((p) => p.migration?.replacementPool && p.owners?.length && !p.snoozedUntil)) {
      const owner = f.owners![0]!.address;
      const [digest] = mail.sentTo(owner);
      expect(digest, owner).toBeDefined();
      const sent = JSON.parse(await readFile(join(out, "emails", `${digest!.id}.json`), "utf8")) as { attachments?: { name: string; contentType: string; contentInBase64: string }[] };
      const body = sent.attachments?.find((a) => a.name === f.migration!.fileName);
      expect(body, `${owner}: ${f.poolName}`).toBeDefined();
      expect(body!.contentType).toBe("application/json");
      // The script travels as text: Communication Services takes no .sh attachment.
      const script = sent.attachments?.find((a) => a.name === f.migration!.fileName.replace(/\.json$/, ".sh.txt"));
      expect(script?.contentType, `${owner}: ${f.poolName}`).toBe("text/plain");
      expect(sent.attachments?.some((a) => a.name.endsWith(".sh"))).toBe(false);
      expect(JSON.parse(Buffer.from(body!.contentInBase64, "base64").toString("utf8"))).toEqual(f.migration!.replacementPool);
      expect(JSON.stringify(sent).length).toBeLessThan(1_500_000);
      attached++;
    }
    expect(attached).toBeGreaterThan(0);
  });
});
