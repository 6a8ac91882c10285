// The daily job holds its report's findings deflated from the audit's end (holdArrayDeflated); the planning of the mail
// reads them once, a page at a time, and each planned digest holds its findings by position, read back when it is
// rendered. Every digest must be rendered from exactly the plan the findings as objects give, kits the same objects.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { heldList, holdArrayDeflated } from "../../../src/core/deflatedJson.js";
import type { DigestPlan } from "../../../src/core/digestPlan.js";
import type { AuditReport, Finding, MigrationKit } from "../../../src/core/model.js";
import type { UndeliverableMark } from "../../../src/core/owners.js";
import type { FindingState } from "../../../src/core/ports.js";
import { defaultReminderPolicy } from "../../../src/core/schedule.js";
import { sendReminders, type AdminSummary, type MessageRenderer } from "../../../src/core/sendReminders.js";
import { MemoryLedger, ScriptedMailService } from "../../support/memoryPorts.js";
import { minimalReport } from "../../support/minimalReport.js";

const SUB = "11111111-1111-4111-8111-111111111111";

/** `count` findings over 60 owners in four subscriptions, every fifth of two owners, every third with a kit. */
function findings(count: number): Finding[] {
  return Array.from({ length: count }, (_, i) => {
    const account = `/subscriptions/${SUB.slice(0, -1)}${i % 4}/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct${i % 23}`;
    return {
      id: `pool-certificate-reference:${account}/pools/p${i}`.toLowerCase(),
      kind: "pool-certificate-reference",
      severity: i % 2 === 0 ? "critical" : "warning",
      resourceId: `${account}/pools/p${i}`,
      subscriptionId: `${SUB.slice(0, -1)}${i % 4}`,
      resourceGroup: "rg",
      accountName: `acct${i % 23}`,
      accountId: account,
      poolName: `p${i}`,
      references: [],
      detail: `pool p${i}`,
      owners: [{ address: `owner${i % 60}@contoso.com`, source: 'account tag "owner"' }, ...(i % 5 === 0 ? [{ address: `team${i % 7}@contoso.com`, source: "fallback" }] : [])],
      ...(i % 3 === 0 ? { migration: { poolName: `p${i}`, fileName: `p${i}-kv.json` } as MigrationKit } : {}),
    };
  });
}

/**
 * A dry run (every digest rendered), each plan the renderer was given kept by kind, recipient and owner; `rendering`
 * before each. With `escalateTo`, every digest is escalated (the deadline is long past) and copied to those contacts.
 */
async function plansOf(report: AuditReport, rendering?: () => Promise<void>, escalateTo: string[] = []): Promise<Map<string, DigestPlan>> {
  const plans = new Map<string, DigestPlan>();
  const renderer: MessageRenderer = {
    digest: async (plan) => {
      await rendering?.();
      plans.set(plan.kind === "owner" ? plan.recipient : `${plan.recipient} about ${plan.ownerAddress}`, plan);
      return { subject: `digest ${plan.recipient}`, html: "<p>d</p>", text: "d" };
    },
    allClear: async () => ({ subject: "all clear", html: "<p>c</p>", text: "c" }),
    adminSummary: async () => ({ subject: "summary", html: "<p>s</p>", text: "s" }),
  };
  await sendReminders(
    { ledger: new MemoryLedger(), renderer, hash: (s) => s, now: () => new Date("2026-12-03T07:00:00Z"), sleep: async () => undefined },
    {
      report,
      findingStates: [],
      runId: "run-1",
      policy: { ...defaultReminderPolicy("2024-02-29"), escalateAfterReminders: 0 },
      escalationContacts: escalateTo,
      adminSummaryTo: ["admin@contoso.com"],
      mode: "dry-run",
      limits: { perMinute: 100, perHour: 1000 },
      allowedRecipientDomains: [],
    },
  );
  return plans;
}

describe("digests planned from findings held deflated", () => {
  it("render from the plans the findings as objects give, escalation copies too, kits the same objects, the findings never read whole", async () => {
    const made = findings(1_700);
    const leads = ["lead@contoso.com", "cto@contoso.com"];
    const plain = await plansOf(minimalReport("2026-12-03", made), undefined, leads);
    const report = minimalReport("2026-12-03", [...made]);
    holdArrayDeflated(report, "findings", [], { byReference: ["migration"] });
    const accessor = Object.getOwnPropertyDescriptor(report, "findings");
    const reads = { count: 0 };
    Object.defineProperty(report, "findings", { ...accessor, get: () => (reads.count++, accessor?.get?.call(report)) });
    const held = await plansOf(report, undefined, leads);

    // 60 owners and 7 teams, each told once, and each digest copied to both contacts.
    expect(held.size).toBe(67 * 3);
    expect(held.get("lead@contoso.com about owner7@contoso.com")?.kind).toBe("escalation");
    expect([...held.keys()].sort()).toStrictEqual([...plain.keys()].sort());
    for (const [recipient, plan] of held) {
      const expected = plain.get(recipient);
      expect(JSON.stringify(plan), recipient).toBe(JSON.stringify(expected));
      plan.items.forEach((item, i) => expect(item.finding.migration).toBe(expected?.items[i]?.finding.migration));
    }
    // Each digest rendered from its findings read back when it was rendered, not from the objects the planning read: a
    // finding of two owners is one object in both plans from the array, and two read back in the held report's.
    const shared = (plans: Map<string, DigestPlan>) => {
      const team = plans.get("team0@contoso.com")?.items[0]?.finding;
      const owner = plans.get(team?.owners?.[0]?.address ?? "")?.items.find((i) => i.finding.id === team?.id)?.finding;
      expect(owner?.id).toBe(team?.id);
      return owner === team;
    };
    expect(shared(plain)).toBe(true);
    expect(shared(held)).toBe(false);
    // The planning read the held list a page at a time, never the key (which inflates every finding at once).
    expect(reads.count).toBe(0);
  });

  it("hold none of the findings the planning read while they are sent: those objects can be collected", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const report = minimalReport("2026-12-03", findings(600));
    holdArrayDeflated(report, "findings", [], { byReference: ["migration"], pageSize: 64 });
    // Every fiftieth finding the planning reads from the held list's pages (a digest rendered reads its own by position).
    const list = heldList<Finding>(report, "findings");
    if (!list) throw new Error("not held");
    const pages = list.pages.bind(list);
    const read: WeakRef<Finding>[] = [];
    let at = 0;
    list.pages = function* () {
      for (const page of pages()) {
        for (const f of page) if (at++ % 50 === 0) read.push(new WeakRef(f));
        yield page;
      }
    };
    const alive: number[] = [];
    await plansOf(report, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      alive.push(read.filter((r) => r.deref() !== undefined).length);
    });
    expect(read).toHaveLength(12);
    expect(alive).toHaveLength(67);
    // From the second message on, none (the first sometimes sees some: a weak reference keeps its object until Node ends
    // the job that made it, not always by the next task here).
    expect(alive.slice(1)).toStrictEqual(alive.slice(1).map(() => 0));
  });

  it("render a report's own findings as they are when the report holds them as an array (a sending run's)", async () => {
    const made = findings(40);
    const plans = await plansOf(minimalReport("2026-12-03", made));
    const first = plans.get("owner0@contoso.com");
    expect(first?.items.map((i) => i.finding)).toStrictEqual(made.filter((f) => f.owners?.some((o) => o.address === "owner0@contoso.com")));
    expect(first?.items[0]?.finding).toBe(made[0]);
  });
});

describe("a live run over findings held deflated", () => {
  /** Two runs 120 days apart, on a ledger of their own: the second over `hold`'s report. */
  async function twoRuns(hold: boolean) {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService();
    const summaries: AdminSummary[] = [];
    const renderer: MessageRenderer = {
      digest: async (plan) => ({ subject: `digest ${plan.recipient} ${plan.items.map((i) => i.finding.id).join(" ")}`, html: "<p>d</p>", text: "d" }),
      allClear: async (plan) => ({ subject: `all clear ${plan.recipient} ${plan.resolved.map((f) => f.id).join(" ")}`, html: "<p>c</p>", text: "c" }),
      adminSummary: async (summary) => (summaries.push(summary), { subject: "summary", html: "<p>s</p>", text: "s" }),
    };
    // owner9@ named by its account's owner tag.
    const made = findings(400).map((f) => ({ ...f, owners: (f.owners ?? []).map((o) => (o.address === "owner9@contoso.com" ? { ...o, namedBy: { tag: "owner", value: o.address } } : o)) }));
    // Owned only by leaver@ (resolved on the second day: an all-clear) or by owner0@ (gone with no state: its history
    // is forgotten after KEPT_DAYS).
    const leaver: Finding = { ...(made[1] as Finding), id: "pool-certificate-reference:leaver", resourceId: "/leaver", owners: [{ address: "leaver@contoso.com", source: "fallback" }] };
    const vanished: Finding = { ...(made[2] as Finding), id: "pool-certificate-reference:vanished", resourceId: "/vanished", owners: [{ address: "owner0@contoso.com", source: "fallback" }] };
    const unowned = made.slice(0, 30).map((f, i) => ({ ...f, id: `${f.id}-unowned${i}`, owners: [], ownerProblems: [`no owner tag on ${f.accountName}`] }));
    const send = (report: AuditReport, findingStates: FindingState[], undeliverable?: ReadonlyMap<string, UndeliverableMark>) =>
      sendReminders(
        { ledger, sender: mail, renderer, hash: (s) => s, now: () => new Date(`${report.asOf}T07:00:00Z`), sleep: async () => undefined },
        {
          report,
          findingStates,
          runId: `run-${report.asOf}`,
          policy: { ...defaultReminderPolicy("2024-02-29"), escalateAfterReminders: 0 },
          escalationContacts: ["lead@contoso.com"],
          adminSummaryTo: ["admin@contoso.com"],
          mode: "live",
          limits: { perMinute: 10_000, perHour: 100_000 },
          allowedRecipientDomains: [],
          ...(undeliverable ? { undeliverable } : {}),
        },
      );
    const state = (f: Finding, resolvedOn?: string): FindingState => ({
      findingId: f.id, kind: f.kind, resourceId: f.resourceId, accountId: f.accountId, accountName: f.accountName, subscriptionId: f.subscriptionId,
      severity: f.severity, owners: (f.owners ?? []).map((o) => o.address), firstSeen: "2026-08-01", lastSeen: "2026-08-01", ...(resolvedOn ? { resolvedOn } : {}),
    });
    await send(minimalReport("2026-08-01", [...made, leaver, vanished]), []);
    const later = minimalReport("2026-11-29", [...made, ...unowned]);
    if (hold) holdArrayDeflated(later, "findings", [], { byReference: ["migration"], pageSize: 64 });
    // owner7@'s bounce holds (no tag named it); owner9@'s was named by a tag that names it no more: cleared.
    const marks = new Map<string, UndeliverableMark>([
      ["owner7@contoso.com", { status: "Failed", at: "2026-08-01T08:00:00Z", sentOn: "2026-08-01" }],
      ["owner9@contoso.com", { status: "Failed", at: "2026-08-01T08:00:00Z", sentOn: "2026-08-01", namedBy: [{ tag: "owner", value: "someone-else@contoso.com" }] }],
    ]);
    const result = await send(later, [...made.map((f) => state(f)), state(leaver, "2026-11-29")], marks);
    return { result, summaries, ledger, mail };
  }

  it("sends, refuses, forgets and records what the run over the findings as objects does", async () => {
    const plain = await twoRuns(false);
    const held = await twoRuns(true);
    expect(held.result.messages.map((m) => m.kind)).toContain("all-clear");
    expect(held.result.forgottenHistories).toBeGreaterThan(0);
    expect(held.result.refused.length).toBeGreaterThan(0);
    expect(held.summaries[1]?.unownedCount).toBe(30);
    expect(JSON.stringify(held.result)).toBe(JSON.stringify(plain.result));
    expect(JSON.stringify(held.summaries)).toBe(JSON.stringify(plain.summaries));
    expect(JSON.stringify([...held.ledger.entries.values()])).toBe(JSON.stringify([...plain.ledger.entries.values()]));
    expect(JSON.stringify(await held.ledger.histories())).toBe(JSON.stringify(await plain.ledger.histories()));
    expect(held.mail.accepted.map((a) => a.email.subject)).toStrictEqual(plain.mail.accepted.map((a) => a.email.subject));
  });
});
