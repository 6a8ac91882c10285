// A digest's length cap: the most urgent accounts in full, the rest one line per account, every item as CSV, and
// the HTML under Gmail's 102 KB clip whatever the digest holds.
import { describe, expect, it } from "vitest";
import type { DigestPlan } from "../../../src/core/digestPlan.js";
import { splitDigest, SUMMARY_ACCOUNTS } from "../../../src/render/digestCap.js";
import { DIGEST_CSV_COLUMNS, digestCsv } from "../../../src/render/digestCsv.js";
import { DIGEST_HTML_BUDGET_BYTES, MAX_DIGEST_CSV_BASE64, renderDigest } from "../../../src/render/digestEmail.js";
import { planDigests } from "../../../src/core/digestPlan.js";
import { RETIREMENT_DATE, type Finding } from "../../../src/core/model.js";
import { defaultReminderPolicy } from "../../../src/core/schedule.js";
import { DIGEST_AS_OF, DIGEST_CTX, DIGEST_OWNER, manyAccountsPlan, ownerDigestFindings, ownerDigestPlan } from "../../support/ownerDigest.js";

/** One account holding `count` pools that reference certificates (copies of the owner digest's first pool finding). */
async function oneAccountPlan(count: number, detail?: string): Promise<DigestPlan> {
  const pool = (await ownerDigestFindings()).find((f) => f.kind === "pool-certificate-reference" && f.owners?.some((o) => o.address === DIGEST_OWNER))!;
  const findings: Finding[] = Array.from({ length: count }, (_, i) => {
    const name = `${pool.poolName}-${String(i).padStart(4, "0")}`;
    const resourceId = pool.resourceId.replace(/[^/]+$/, name);
    return { ...pool, id: `pool-certificate-reference:${resourceId.toLowerCase()}`, resourceId, poolName: name, ...(detail ? { detail } : {}) };
  });
  const plan = planDigests(findings, new Map(), DIGEST_AS_OF, defaultReminderPolicy(RETIREMENT_DATE), []).find((p) => p.recipient === DIGEST_OWNER);
  if (!plan) throw new Error("expected a digest");
  return plan;
}

/** Gmail clips HTML over 102 KB. */
const GMAIL_CLIP_BYTES = 102 * 1024;

const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
const accountsOf = (plan: DigestPlan) => [...new Set(plan.items.map((i) => i.finding.accountId.toLowerCase()))];

describe("splitDigest", () => {
  it("shows a digest within the cap whole", async () => {
    const plan = await ownerDigestPlan();
    const split = splitDigest(plan, 20);
    expect(split.shown).toHaveLength(plan.items.length);
    expect(split.hiddenItems).toBe(0);
    expect(split.summarised).toEqual([]);
    expect(split.groups).toBe(plan.groups);
  });

  it("shows whole accounts, most urgent first, and stops at the first that does not fit", async () => {
    const plan = await manyAccountsPlan(10);
    const order = accountsOf(plan);
    const split = splitDigest(plan, 7);
    const shownAccounts = [...new Set(split.shown.map((i) => i.finding.accountId.toLowerCase()))];
    // Each shown account is whole, and they are the most urgent ones, in order.
    expect(shownAccounts).toEqual(order.slice(0, shownAccounts.length));
    for (const a of shownAccounts) {
      expect(split.shown.filter((i) => i.finding.accountId.toLowerCase() === a)).toHaveLength(plan.items.filter((i) => i.finding.accountId.toLowerCase() === a).length);
    }
    expect(split.shown.length).toBeLessThanOrEqual(7);
    expect(split.shown.length + split.hiddenItems).toBe(plan.items.length);
    // The next account in urgency order is the first summarised one, and the counts add up.
    expect(split.summarised[0]?.accountId.toLowerCase()).toBe(order[shownAccounts.length]);
    const summarisedItems = split.summarised.reduce((n, a) => n + a.critical + a.warning, 0);
    expect(summarisedItems).toBe(split.hiddenItems);
    expect(split.moreAccounts).toBe(0);
    // Groups hold exactly the shown items.
    expect(split.groups.flatMap((g) => g.accounts.flatMap((a) => a.items))).toHaveLength(split.shown.length);
  });

  it("cuts the most urgent account when it alone is over the cap, and says how much is left of it", async () => {
    const plan = await manyAccountsPlan(3);
    const first = plan.items[0]!.finding.accountId.toLowerCase();
    const inFirst = plan.items.filter((i) => i.finding.accountId.toLowerCase() === first).length;
    expect(inFirst).toBeGreaterThan(1);
    const split = splitDigest(plan, 1);
    expect(split.shown).toHaveLength(1);
    expect(split.shown[0]).toBe(plan.items[0]);
    expect(split.cutAccount).toEqual({ accountName: plan.items[0]!.finding.accountName, hidden: inFirst - 1 });
    expect(split.summarised.map((a) => a.accountId.toLowerCase())).not.toContain(first);
  });

  it("names at most SUMMARY_ACCOUNTS accounts and counts the rest", async () => {
    const plan = await manyAccountsPlan(20);
    const split = splitDigest(plan, 2);
    const accounts = accountsOf(plan).length;
    const shownAccounts = new Set(split.shown.map((i) => i.finding.accountId.toLowerCase())).size;
    expect(split.summarised).toHaveLength(SUMMARY_ACCOUNTS);
    expect(split.moreAccounts).toBe(accounts - shownAccounts - SUMMARY_ACCOUNTS);
  });
});

describe("a long digest", () => {
  it("stays under Gmail's clip, shows the most urgent in full, summarises the rest and attaches every item as CSV", async () => {
    const plan = await manyAccountsPlan(32);
    expect(plan.items).toHaveLength(160);
    const email = await renderDigest(plan, DIGEST_CTX);
    expect(Buffer.byteLength(email.html, "utf8")).toBeLessThan(GMAIL_CLIP_BYTES);
    expect(email.subject).toContain("160 Azure Batch certificate items");
    expect(email.html).toContain("The rest:");
    expect(email.text).toContain("== The rest:");
    // The footer (how to stop the reminders) is inside the unclipped part.
    expect(email.html).toContain("How to stop it:");

    const csv = email.attachments?.find((a) => a.name === `batch-certificate-items-${DIGEST_CTX.asOf}.csv`);
    expect(csv?.contentType).toBe("text/csv");
    const lines = decode(csv!.contentInBase64).trimEnd().split("\n");
    expect(lines[0]).toBe(DIGEST_CSV_COLUMNS.join(","));
    expect(lines).toHaveLength(1 + plan.items.length);
    for (const item of plan.items) expect(lines.some((l) => l.includes(item.finding.resourceId))).toBe(true);

    // Kits only for the pools shown in full: the others are in the report.
    const kitFiles = email.attachments!.filter((a) => a.name.endsWith(".json"));
    const shownPools = plan.items.filter((i) => i.finding.migration?.replacementPool && email.html.includes(i.finding.migration.fileName));
    expect(kitFiles.length).toBe(shownPools.length);
    expect(kitFiles.length).toBeGreaterThan(0);
    expect(kitFiles.length).toBeLessThan(plan.items.filter((i) => i.finding.migration?.replacementPool).length);
  });

  it("keeps the HTML within budget even when the item cap would allow everything", async () => {
    const plan = await manyAccountsPlan(32);
    const email = await renderDigest(plan, { ...DIGEST_CTX, itemsInFull: 500 });
    expect(Buffer.byteLength(email.html, "utf8")).toBeLessThanOrEqual(DIGEST_HTML_BUDGET_BYTES);
    expect(email.html).toContain("The rest:");
  });

  it("cuts one account with hundreds of items to what fits, says how many are left, and lists them all in the CSV", async () => {
    const plan = await oneAccountPlan(300);
    const email = await renderDigest(plan, { ...DIGEST_CTX, itemsInFull: 500 });
    expect(Buffer.byteLength(email.html, "utf8")).toBeLessThanOrEqual(DIGEST_HTML_BUDGET_BYTES);
    const left = /has (\d+) more items than the (\d+) items above/.exec(email.text);
    expect(left).not.toBeNull();
    expect(Number(left![1]) + Number(left![2])).toBe(300);
    const csv = email.attachments?.find((a) => a.name.endsWith(".csv"));
    expect(decode(csv!.contentInBase64).trimEnd().split("\n")).toHaveLength(301);
  });

  it("leaves a list too long to attach to the full report, and says so", async () => {
    const plan = await oneAccountPlan(2_000, "x".repeat(2_000));
    const email = await renderDigest(plan, DIGEST_CTX);
    expect(email.attachments?.some((a) => a.name.endsWith(".csv"))).toBe(false);
    expect(email.text).toContain("every item is in the full audit report (too many for an attachment)");
    const total = (email.attachments ?? []).reduce((n, a) => n + a.contentInBase64.length, 0) + Buffer.byteLength(email.html) + Buffer.byteLength(email.text);
    // Without the CSV the request stays far under the service's 10 MB; with it, it would have carried more than the cap.
    expect(total).toBeLessThan(2 * 1024 * 1024);
    expect(Buffer.byteLength(plan.items.map((i) => i.finding.detail).join(""))).toBeGreaterThan((MAX_DIGEST_CSV_BASE64 * 3) / 4);
  });

  it("leaves a short digest as it was: no summary, no CSV", async () => {
    const email = await renderDigest(await ownerDigestPlan(), DIGEST_CTX);
    expect(email.html).not.toContain("The rest:");
    expect(email.attachments?.some((a) => a.name.endsWith(".csv"))).toBe(false);
    expect(email.attachments?.length).toBeGreaterThan(0);
  });

  it("defuses spreadsheet formulas in the CSV", async () => {
    const plan = await manyAccountsPlan(1);
    const item = plan.items[0]!;
    const hostile = { ...item, finding: { ...item.finding, subscriptionName: '=HYPERLINK("https://evil.example","x")' } };
    const text = digestCsv([hostile]);
    expect(text).toContain(`"'=HYPERLINK(""https://evil.example"",""x"")"`);
  });
});
