// Delivery reports through the whole app: the simulated Communication Services reports a bounce, the next run marks
// the address undeliverable on its findings, tells the next level of the owner chain, and never mails it again while
// the mark stands.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addDays } from "../../src/core/dates.js";
import { DEMO_OWNERS, demo, isolatedStorage, mailbox, removeDir, runCliAt, sharedAzurite, tempDir, writeSnapshot, type CliRun } from "../support/auditRuns.js";

const azurite = sharedAzurite();
let out: string;
beforeEach(async () => {
  out = await tempDir("undeliverable");
});
afterEach(async () => {
  await removeDir(out);
});

const DAY1 = "2026-11-26";
const SUBSCRIPTION_OWNER = "sandbox-admins@contoso.com";
const FALLBACK = "cloud-platform@contoso.com";

const reminders = (run: CliRun) => {
  if (run.job?.state !== "succeeded") throw new Error(`run did not succeed: ${run.stderr}`);
  return run.job.reminders;
};

/**
 * The demo tenant where sandboxbatch1 loses its own owner tag, so its findings go to the subscription's OwnerContact,
 * whose mail bounces; the other demo owners but dana (whose only account is sandboxbatch1's) are mailed as usual.
 */
async function bouncingSubscriptionOwner() {
  const env = { ...isolatedStorage(azurite.connectionString), FALLBACK_CONTACTS: FALLBACK };
  const tenant = demo();
  const sandbox = tenant.resources.find((r) => r.name === "sandboxbatch1");
  if (sandbox) sandbox.tags = {};
  tenant.emailDelivery = { [SUBSCRIPTION_OWNER]: "Bounced" };
  const snapshot = await writeSnapshot(out, tenant);
  const owners = [...DEMO_OWNERS.filter((o) => o !== "dana@contoso.com"), SUBSCRIPTION_OWNER];
  return { env, tenant, snapshot, owners };
}

describe("an owner whose mail bounces", () => {
  it("is marked undeliverable on its findings the next day, FALLBACK_CONTACTS gets those findings, and the address gets nothing more", async () => {
    const { env, snapshot, owners } = await bouncingSubscriptionOwner();

    const day1 = await runCliAt({ snapshot, out, now: DAY1, env });
    expect(reminders(day1).failed).toEqual([]);
    const afterDay1 = await mailbox(out);
    expect(afterDay1.perRecipient()).toEqual(new Map(owners.map((o) => [o, 1])));

    const day2 = await runCliAt({ snapshot, out, now: addDays(DAY1, 1), env, cli: { format: "json,html,csv" } });
    const sandboxFindings = day2.report?.findings.filter((f) => f.accountName === "sandboxbatch1") ?? [];
    expect(sandboxFindings.length).toBeGreaterThan(0);
    for (const f of sandboxFindings) {
      expect(f.owners?.map((o) => o.address)).toEqual([FALLBACK]);
      expect(f.ownerProblems?.join("\n")).toMatch(new RegExp(`'${SUBSCRIPTION_OWNER}' undeliverable: Bounced on \\d{4}-\\d{2}-\\d{2}: 550 5\\.1\\.1`));
    }
    expect(day2.report?.run?.reminders.delivery).toMatchObject({ failed: 1, undelivered: [{ recipient: SUBSCRIPTION_OWNER, status: "Bounced" }] });
    const fallbackMail = (await mailbox(out)).sentTo(FALLBACK);
    expect(fallbackMail).toHaveLength(1);
    const html = await (await mailbox(out)).html(fallbackMail[0]!);
    expect(html).toContain("sandboxbatch1");
    // The terminal summary, the CSV and the HTML page name the problem too.
    expect(day2.stdout).toMatch(/undelivered: sandbox-admins@contoso\.com: Bounced/);
    const csv = await readFile(join(out, "report.csv"), "utf8");
    expect(csv.split("\n")[0]).toContain("ownerProblems");
    expect(csv).toMatch(/'sandbox-admins@contoso\.com' undeliverable: Bounced on /);
    const page = await readFile(join(out, "report.html"), "utf8");
    expect(page).toMatch(/\d+ accepted \(no delivery report yet\) &middot; \d+ delivered &middot; 1 failed/);
    expect(page).toContain("undeliverable: Bounced on ");

    for (let day = 2; day <= 5; day++) await runCliAt({ snapshot, out, now: addDays(DAY1, day), env });
    const mail = await mailbox(out);
    expect(mail.sentTo(SUBSCRIPTION_OWNER)).toHaveLength(1);
    expect(mail.perRecipient()).toEqual(new Map([...owners.map((o) => [o, 1] as const), [FALLBACK, 1]]));
  }, 120_000);

  it("is mailed again on the run after the owner edits the tag that named it, and not while the tag keeps its value", async () => {
    const { env, tenant, snapshot, owners } = await bouncingSubscriptionOwner();
    const sandboxOwners = (run: CliRun) => [...new Set(run.report?.findings.filter((f) => f.accountName === "sandboxbatch1").flatMap((f) => f.owners?.map((o) => o.address) ?? []))];

    await runCliAt({ snapshot, out, now: DAY1, env });
    const day2 = await runCliAt({ snapshot, out, now: addDays(DAY1, 1), env });
    expect(sandboxOwners(day2)).toEqual([FALLBACK]);
    // The tag keeps its value: the mark stands.
    const day3 = await runCliAt({ snapshot, out, now: addDays(DAY1, 2), env });
    expect(sandboxOwners(day3)).toEqual([FALLBACK]);
    expect((await mailbox(out)).sentTo(SUBSCRIPTION_OWNER)).toHaveLength(1);

    // The owner has the mailbox fixed and edits the subscription's OwnerContact (the same address, and the on-call).
    const subscription = tenant.subscriptions.find((s) => s.tags?.OwnerContact === SUBSCRIPTION_OWNER);
    if (!subscription) throw new Error("the demo tenant's sandbox subscription has no OwnerContact tag");
    subscription.tags = { OwnerContact: `${SUBSCRIPTION_OWNER}; sandbox-oncall@contoso.com` };
    tenant.emailDelivery = {};
    await writeSnapshot(out, tenant);

    const day4 = await runCliAt({ snapshot, out, now: addDays(DAY1, 3), env });
    expect(sandboxOwners(day4)).toEqual([SUBSCRIPTION_OWNER, "sandbox-oncall@contoso.com"]);
    for (const f of day4.report?.findings.filter((x) => x.accountName === "sandboxbatch1") ?? []) expect(f.ownerProblems ?? []).toEqual([]);
    const mail = await mailbox(out);
    expect(mail.sentTo(SUBSCRIPTION_OWNER)).toHaveLength(2);
    expect(await mail.html(mail.sentTo(SUBSCRIPTION_OWNER)[1]!)).toContain("sandboxbatch1");

    // Delivered this time: the next run sends nobody anything more (the cadence goes on from day 4).
    await runCliAt({ snapshot, out, now: addDays(DAY1, 4), env });
    expect((await mailbox(out)).perRecipient()).toEqual(
      new Map([...owners.map((o) => [o, o === SUBSCRIPTION_OWNER ? 2 : 1] as const), [FALLBACK, 1], ["sandbox-oncall@contoso.com", 1]]),
    );
  }, 120_000);
});
