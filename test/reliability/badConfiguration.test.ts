// Scenario 10: bad configuration is refused before any work, every bad setting named in one message, exit code 1.
import { access } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { removeDir, runCliAt, tempDir } from "../support/auditRuns.js";
import { DEMO_TENANT_PATH } from "../support/simulatedAzure.js";

let out: string | undefined;
afterEach(async () => {
  if (out) await removeDir(out);
});

const exists = (path: string) => access(path).then(() => true, () => false);

describe("bad configuration", () => {
  it("10. refuses a negative OVERDUE_EVERY_DAYS, a MIGRATION_DEADLINE that is not a date and a non-domain in ALLOWED_RECIPIENT_DOMAINS in one message, exit 1, nothing sent", async () => {
    out = await tempDir("bad-config");
    const result = await runCliAt({
      snapshot: DEMO_TENANT_PATH.pathname,
      out,
      now: "2026-11-26",
      env: { OVERDUE_EVERY_DAYS: "-7", MIGRATION_DEADLINE: "next spring", ALLOWED_RECIPIENT_DOMAINS: "contoso.com, *.fabrikam" },
    });

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^batch-cert-auditor: Configuration is not valid \(3 problems\):/);
    expect(result.stderr).toMatch(/OVERDUE_EVERY_DAYS: must be a whole number from 1 to 365 \(got "-7"\)/);
    expect(result.stderr).toMatch(/MIGRATION_DEADLINE: must be a date as YYYY-MM-DD/);
    expect(result.stderr).toMatch(/ALLOWED_RECIPIENT_DOMAINS: .*not domains: "\*\.fabrikam"/);
    expect(result.stdout).toBe("");
    // Refused before any work: no simulated service started (so no mail store), no storage, no report.
    expect(await exists(join(out, "emails"))).toBe(false);
    expect(await exists(join(out, ".state"))).toBe(false);
    expect(await exists(join(out, "report.json"))).toBe(false);
  });
});
