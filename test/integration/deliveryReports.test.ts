// Delivery reports recorded in the Table ledger (Azurite): the event as Event Grid delivers it, duplicates and
// out-of-order events, and a report racing the send's own outcome write.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type LocalStorage } from "@batch-cert-auditor/simulated-azure";
import { connectStorage } from "../../src/azure/storage.js";
import { TableLedger } from "../../src/azure/tableLedger.js";
import { deliveryReportFromEvent, recordDeliveryReports, undeliverableMarks } from "../../src/core/deliveryReports.js";
import { tagNaming } from "../../src/core/owners.js";
import type { DeliveryReport, OutboxEntry } from "../../src/core/ports.js";
import { deterministicUuid } from "../../src/app/ids.js";
import { defaultReminderPolicy } from "../../src/core/schedule.js";
import { sendReminders, type ReminderRequest } from "../../src/core/sendReminders.js";
import { ScriptedMailService } from "../support/memoryPorts.js";
import { takeDeliveryReports } from "../../src/app/runAuditJob.js";
import { createLogger } from "../../src/app/logger.js";
import { minimalReport } from "../support/minimalReport.js";

let azurite: LocalStorage;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite.stop();
});

const OPERATION = "3f2d1c0b-aaaa-4bbb-8ccc-0123456789ab";

function ledger(mode: "live" | "redirect" = "live"): TableLedger {
  return new TableLedger(connectStorage({ connectionString: azurite.connectionString }).table(`ledger${randomBytes(5).toString("hex")}`), mode);
}

function entry(): OutboxEntry {
  return {
    operationId: OPERATION,
    kind: "digest",
    recipient: "ann@contoso.com",
    owner: "ann@contoso.com",
    asOf: "2026-11-26",
    runId: "run-1",
    items: [{ findingId: "f1", milestone: "overdue-1" }],
    status: "pending",
    updatedAt: "2026-11-26T07:00:00.000Z",
  };
}

/** Shaped as Microsoft Learn's sample ("Azure Communication Services - Email events"), Event Grid schema. */
function event(status: string, at: string, statusMessage = "No error.") {
  return {
    id: randomBytes(8).toString("hex"),
    topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs",
    subject: `sender/DoNotReply@contoso.test/message/${OPERATION}`,
    eventType: "Microsoft.Communication.EmailDeliveryReportReceived",
    eventTime: at,
    dataVersion: "1.0",
    data: {
      sender: "DoNotReply@contoso.test",
      recipient: "ann@contoso.com",
      messageId: OPERATION.toUpperCase(),
      status,
      deliveryStatusDetails: { statusMessage },
      deliveryAttemptTimeStamp: at,
    },
  };
}

/** The final report an event carries (the test fails if it carries none). */
function reportOf(e: unknown): DeliveryReport {
  const report = deliveryReportFromEvent(e);
  if (!report || "notFinal" in report) throw new Error("not a final delivery report");
  return report;
}

describe("delivery reports in the Table ledger", () => {
  it("records the first final report against the message; a duplicate or an out-of-order later event changes nothing", async () => {
    const l = ledger();
    await l.recordIntent(entry());
    await l.recordOutcome(entry(), { status: "sent" }, "2026-11-26T07:00:01.000Z");

    const bounced = reportOf(event("Bounced", "2026-11-26T07:05:00Z", "550 5.1.1 mailbox unavailable"));
    const delivered = reportOf(event("Delivered", "2026-11-26T07:01:00Z"));
    expect(await recordDeliveryReports([l], [bounced])).toEqual({ recorded: 1, unchanged: 0, unknown: 0 });
    // The same event again, and one dated earlier arriving late: nothing changes.
    expect(await recordDeliveryReports([l], [bounced, delivered])).toEqual({ recorded: 0, unchanged: 2, unknown: 0 });

    const [stored] = await l.outbox();
    expect(stored).toMatchObject({ status: "sent", delivery: { status: "Bounced", at: "2026-11-26T07:05:00.000Z", details: "550 5.1.1 mailbox unavailable" } });
  });

  it("keeps a report that arrived before the send's outcome was written", async () => {
    const l = ledger();
    await l.recordIntent(entry());
    const report = reportOf(event("Delivered", "2026-11-26T07:00:00Z"));
    await recordDeliveryReports([l], [report]);
    await l.recordOutcome(entry(), { status: "sent" }, "2026-11-26T07:00:05.000Z");
    const [stored] = await l.outbox();
    expect(stored).toMatchObject({ status: "sent", delivery: { status: "Delivered" } });
  });

  it("keeps the owner tags that named the message's owner for the marks, and reads an older row without them as having none", async () => {
    const named = ledger();
    const naming = tagNaming("/subscriptions/c0ffee00-1234-4abc-9def-0123456789ab", "OwnerContact", "ann@contoso.com");
    await named.recordIntent({ ...entry(), namedBy: [naming] });
    await named.recordOutcome({ ...entry(), namedBy: [naming] }, { status: "sent" }, "2026-11-26T07:00:01.000Z");
    const older = ledger();
    await older.recordIntent(entry());
    await older.recordOutcome(entry(), { status: "sent" }, "2026-11-26T07:00:01.000Z");
    const bounced = reportOf(event("Bounced", "2026-11-26T07:05:00Z", "550 5.1.1 mailbox unavailable"));
    await recordDeliveryReports([named], [bounced]);
    await recordDeliveryReports([older], [bounced]);

    const [stored] = await named.outbox({ status: "sent" });
    expect(stored?.namedBy).toEqual([naming]);
    expect(undeliverableMarks(await named.outbox({ status: "sent" }), "2026-11-27", 30).get("ann@contoso.com")).toMatchObject({ namedBy: [naming], sentOn: "2026-11-26" });
    const [old] = await older.outbox({ status: "sent" });
    expect(old).not.toHaveProperty("namedBy");
    const oldMark = undeliverableMarks(await older.outbox({ status: "sent" }), "2026-11-27", 30).get("ann@contoso.com");
    expect(oldMark).toMatchObject({ status: "Bounced" });
    expect(oldMark).not.toHaveProperty("namedBy");
  });

  it("records a report whose statusMessage is larger than a Table string property, cut to fit; its redelivery is unchanged, not an error", async () => {
    const l = ledger();
    await l.recordIntent(entry());
    await l.recordOutcome(entry(), { status: "sent" }, "2026-11-26T07:00:01.000Z");
    // 40,000 UTF-16 units (80 KB): over a Table string property's 64 KiB. Emoji take two units each, and are never cut in half.
    const long = `550 5.1.1 ${"mailbox full ".repeat(2000)}${"📫".repeat(7000)}`;
    const report = reportOf(event("Bounced", "2026-11-26T07:05:00Z", long));
    expect(await recordDeliveryReports([l], [report])).toEqual({ recorded: 1, unchanged: 0, unknown: 0 });
    expect(await recordDeliveryReports([l], [report])).toEqual({ recorded: 0, unchanged: 1, unknown: 0 });

    const [stored] = await l.outbox();
    const details = stored?.delivery?.details ?? "";
    expect(stored?.delivery?.status).toBe("Bounced");
    expect(details.startsWith("550 5.1.1 mailbox full")).toBe(true);
    expect(details.length).toBeLessThanOrEqual(32_000);
    expect(details.endsWith(`… (${long.length} characters, cut)`)).toBe(true);
    // No lone half of a surrogate pair (encodeURIComponent throws on one).
    expect(() => encodeURIComponent(details)).not.toThrow();
  });

  it("finds the message in the redirect ledger, and counts a report for mail that is not ours as unknown", async () => {
    const live = ledger("live");
    const redirect = new TableLedger(connectStorage({ connectionString: azurite.connectionString }).table(`ledger${randomBytes(5).toString("hex")}`), "redirect");
    await redirect.recordIntent(entry());
    const report = reportOf(event("Suppressed", "2026-11-26T07:00:00Z"));
    expect(await recordDeliveryReports([live, redirect], [report, { ...report, messageId: "00000000-0000-4000-8000-000000000000" }])).toEqual({ recorded: 1, unchanged: 0, unknown: 1 });
  });
});

describe("status reads in the Table ledger", () => {
  it("counts the batches whose last read was within the hour, in the live and the redirect ledger alike, and a batch recorded again once", async () => {
    const table = connectStorage({ connectionString: azurite.connectionString }).table(`ledger${randomBytes(5).toString("hex")}`);
    const live = new TableLedger(table, "live");
    const redirect = new TableLedger(table, "redirect");
    expect(await live.statusReadsSince("2026-11-26T06:00:00.000Z")).toBe(0);
    await live.recordStatusReads("run-a|2026-11-26T05:00:00.000Z", 20, "2026-11-26T05:01:00.000Z");
    await live.recordStatusReads("run-b|2026-11-26T06:30:00.000Z", 3, "2026-11-26T06:30:10.000Z");
    await live.recordStatusReads("run-b|2026-11-26T06:30:00.000Z", 4, "2026-11-26T06:30:20.000Z");
    await redirect.recordStatusReads("run-c|2026-11-26T06:40:00.000Z", 2, "2026-11-26T06:40:00.000Z");
    expect(await live.statusReadsSince("2026-11-26T06:00:00.000Z")).toBe(6);
    expect(await redirect.statusReadsSince("2026-11-26T06:00:00.000Z")).toBe(6);
    expect(await live.statusReadsSince("2026-11-26T04:00:00.000Z")).toBe(26);
  });
});

describe("reading the Event Grid event", () => {
  it("ignores other event types and refuses a delivery report without a status", () => {
    expect(deliveryReportFromEvent({ eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived", data: {} })).toBeUndefined();
    expect(() => deliveryReportFromEvent({ ...event("Delivered", "2026-11-26T07:00:00Z"), data: { ...event("x", "2026-11-26T07:00:00Z").data, status: undefined } })).toThrow(
      /data\.status is missing/,
    );
  });

  it("compares statuses without regard to case, as Learn's examples send them (\"delivered\")", () => {
    expect(reportOf(event("delivered", "2026-11-26T07:00:00Z")).status).toBe("Delivered");
    expect(reportOf(event("BOUNCED", "2026-11-26T07:00:00Z")).status).toBe("Bounced");
    expect(reportOf(event("filteredspam", "2026-11-26T07:00:00Z")).status).toBe("FilteredSpam");
  });

  it("takes Expanded and a status it does not know as not final: nothing recorded, with the reason, never an unusable event", async () => {
    expect(deliveryReportFromEvent(event("Expanded", "2026-11-26T07:00:00Z"))).toEqual({
      messageId: OPERATION,
      status: "Expanded",
      notFinal: expect.stringMatching(/^status "Expanded" is not final \(the message went to a distribution list and was expanded to its members; final: Delivered, .*\); not recorded$/),
    });
    expect(deliveryReportFromEvent(event("Lost", "2026-11-26T07:00:00Z"))).toMatchObject({ status: "Lost", notFinal: expect.stringContaining("not a final status this build knows") });
    // Through the same code the CLI and dashboard use: the message keeps waiting for its final report.
    const l = ledger();
    await l.recordIntent(entry());
    await l.recordOutcome(entry(), { status: "sent" }, "2026-11-26T07:00:01.000Z");
    const logged: string[] = [];
    const log = createLogger((_level, message) => void logged.push(message));
    const queue = { pending: async () => [event("expanded", "2026-11-26T07:01:00Z"), event("Delivered", "2026-11-26T07:02:00Z")], acknowledge: async () => undefined };
    await takeDeliveryReports({ ledgerFor: (mode) => (mode === "live" ? l : ledger("redirect")) }, queue, log);
    expect(logged).toContain("delivery report not final; ignored");
    expect(logged).not.toContain("delivery report not usable");
    expect((await l.outbox())[0]?.delivery).toMatchObject({ status: "Delivered", at: "2026-11-26T07:02:00.000Z" });
  });

  it("reads the CloudEvents schema and the SDK's spelling of the timestamp too", () => {
    const e = event("FilteredSpam", "2026-11-26T07:00:00Z");
    const { deliveryAttemptTimeStamp, ...data } = e.data;
    const cloud = { id: e.id, type: e.eventType, time: e.eventTime, data: { ...data, deliveryAttemptTimestamp: deliveryAttemptTimeStamp } };
    expect(deliveryReportFromEvent(cloud)).toEqual({ messageId: OPERATION, recipient: "ann@contoso.com", status: "FilteredSpam", at: "2026-11-26T07:00:00.000Z", details: "No error." });
  });
});

const OWNER = "ann@contoso.com";
const finding = (owner = OWNER) => ({
  id: `account-certificate:/subscriptions/s/resourcegroups/rg/providers/microsoft.batch/batchaccounts/a/certificates/sha1-${owner}`,
  kind: "account-certificate" as const,
  severity: "critical" as const,
  resourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/a/certificates/sha1-abc",
  subscriptionId: "s",
  resourceGroup: "rg",
  accountName: "a",
  accountId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/a",
  detail: "",
  owners: [{ address: owner, source: 'account tag "owner"' }],
});

const email = async () => ({ subject: "s", html: "h", text: "t" });
const renderer = { digest: email, allClear: email, adminSummary: email };

function remind(l: TableLedger, mail: ScriptedMailService, at: string, extra: Partial<ReminderRequest> = {}) {
  const asOf = at.slice(0, 10);
  // The run's waits move its clock on.
  let clock = Date.parse(at);
  return sendReminders(
    { ledger: l, sender: mail, renderer, hash: deterministicUuid, now: () => new Date(clock), sleep: async (ms) => void (clock += ms) },
    {
      report: minimalReport(asOf, [finding()], { accountCertificates: 1, poolsWithCertificates: 0 }),
      findingStates: [],
      runId: `run-${at}`,
      policy: defaultReminderPolicy("2024-02-29"),
      escalationContacts: [],
      adminSummaryTo: [],
      mode: "live",
      limits: { perMinute: 100, perHour: 1000 },
      allowedRecipientDomains: [],
      notFoundGraceHours: 24,
      ...extra,
    },
  );
}

describe("a delivery report on a pending intent", () => {
  /** The service takes the digest and the 202 is lost: the intent stays pending. */
  async function lostAnswer(l: TableLedger): Promise<OutboxEntry> {
    const first = await remind(l, new ScriptedMailService().then("no-answer"), "2026-11-26T07:00:00Z");
    expect(first).toMatchObject({ sent: 0, unconfirmed: 1 });
    const [pending] = await l.outbox({ status: "pending" });
    if (!pending) throw new Error("expected a pending intent");
    return pending;
  }

  /** A status API that has lost track of the message (Azure/azure-sdk-for-python#35849). */
  function forgetful(): ScriptedMailService {
    const mail = new ScriptedMailService();
    mail.lookup = async () => ({ status: "NotFound" });
    return mail;
  }

  it("settles it as sent with its outcome: the histories move on, and after EMAIL_NOT_FOUND_GRACE_HOURS the digest is not sent again", async () => {
    const l = ledger();
    const pending = await lostAnswer(l);
    expect(await recordDeliveryReports([l], [{ messageId: pending.operationId, recipient: OWNER, status: "Delivered", at: "2026-11-26T07:01:00.000Z" }])).toMatchObject({ recorded: 1 });

    const [settled] = await l.outbox();
    expect(settled).toMatchObject({ status: "sent", delivery: { status: "Delivered" } });
    expect(settled).not.toHaveProperty("error");
    expect([...(await l.histories()).values()]).toEqual([expect.objectContaining({ firstNotifiedOn: "2026-11-26" })]);

    const mail = forgetful();
    const later = await remind(l, mail, "2026-11-28T07:00:00Z");
    expect(mail.accepted).toHaveLength(0);
    expect(mail.lookups).toBe(0);
    expect(later).toMatchObject({ sent: 0, recovered: { sent: 0, failed: 0, abandoned: 0, unknown: 0 } });
  });

  it("marks the address undeliverable when the report on the pending intent says Bounced, and nothing more goes to it", async () => {
    const l = ledger();
    const pending = await lostAnswer(l);
    await recordDeliveryReports([l], [{ messageId: pending.operationId, recipient: OWNER, status: "Bounced", at: "2026-11-26T07:01:00.000Z", details: "550 5.1.1" }]);

    const marks = undeliverableMarks(await l.outbox({ status: "sent" }), "2026-11-28", 30);
    expect(marks.get(OWNER)).toMatchObject({ status: "Bounced", details: "550 5.1.1", sentOn: "2026-11-26" });
    const mail = forgetful();
    await remind(l, mail, "2026-12-03T07:00:00Z", { undeliverable: marks });
    expect(mail.accepted).toHaveLength(0);
  });
});

describe("one send budget across modes", () => {
  it("counts the sends of the redirect and the live ledger alike against EMAIL_PER_MINUTE and EMAIL_PER_HOUR", async () => {
    const table = connectStorage({ connectionString: azurite.connectionString }).table(`ledger${randomBytes(5).toString("hex")}`);
    const live = new TableLedger(table, "live");
    const redirect = new TableLedger(table, "redirect");
    const owners = ["a@contoso.com", "b@contoso.com", "c@contoso.com"];
    const report = minimalReport("2026-11-26", owners.map(finding), { accountCertificates: owners.length, poolsWithCertificates: 0 });
    const limits = { perMinute: 2, perHour: 3 };
    const mail = new ScriptedMailService();
    const redirected = await remind(redirect, mail, "2026-11-26T07:00:00Z", { report, limits, mode: "redirect", redirectAddress: "qa@contoso.com" });
    expect(redirected.sent).toBe(3);
    expect(await live.acceptedSince("2026-11-26T06:00:00.000Z")).toHaveLength(3);
    // A live run right after: the resource has taken the hour's 3 already.
    const first = await remind(live, mail, "2026-11-26T07:05:00Z", { report, limits });
    expect(first).toMatchObject({ sent: 0, deferred: 3 });
    expect(mail.accepted).toHaveLength(3);
  });
});
