// Delivery reports: what Communication Services says became of each accepted message, one Event Grid event per
// recipient (`Microsoft.Communication.EmailDeliveryReportReceived`). The same code records them whether they come
// through the Event Grid trigger in Azure or from the simulated service locally.
//
// The event's `data` (Microsoft Learn, "Azure Communication Services - Email events"; the type
// `AcsEmailDeliveryReportReceivedEventData` of @azure/eventgrid-system-events):
//   { sender, recipient, messageId, status, deliveryStatusDetails: { statusMessage }, deliveryAttemptTimeStamp }
// `messageId` is the send's operation id; "any value other than Delivered is considered failed".
import { addDays, dayNumber } from "./dates.js";
import { AuditError } from "./errors.js";
import type { UndeliverableMark } from "./owners.js";
import type { TagNaming } from "./model.js";
import { DELIVERY_REPORT_STATUSES, type DeliveryReport, type OutboxEntry, type ReminderLedger } from "./ports.js";

export const DELIVERY_REPORT_EVENT_TYPE = "Microsoft.Communication.EmailDeliveryReportReceived";

/** A delivery status that ends the owner's usefulness as a recipient (see UNDELIVERABLE_RETRY_DAYS). */
export function isUndeliverableStatus(status: string): boolean {
  return status === "Bounced" || status === "Suppressed" || status === "Failed";
}

/**
 * How many days (the day of the report and the next) a `Failed` report marks its address, whatever
 * UNDELIVERABLE_RETRY_DAYS says. Bounced and Suppressed say the address does not take mail; Failed says this message
 * was not delivered, possibly for a reason of the service's own that passes. Marked for two days, the findings still
 * go to the next owner level on the day's runs and the next day's audit (nothing is missed), and the address is an owner
 * again for its next reminder instead of losing a month.
 */
export const FAILED_MARK_DAYS = 2;

/** A delivery report event that is not final: nothing is recorded, and why. */
export interface NotFinalReport {
  notFinal: string;
  messageId: string;
  status: string;
}

/**
 * The delivery report an event carries; undefined for another event type (a subscription may deliver more than it
 * was filtered to). Statuses are compared without regard to case (Learn's event examples send "delivered"). A status
 * that is not one of the final ones (`Expanded`, which Learn lists for a distribution list, or one this build does not
 * know) is not final: answered as `notFinal` with the reason, and nothing is recorded. Throws
 * EMAIL.BAD_DELIVERY_REPORT when the event is of the type but its data is not usable.
 */
export function deliveryReportFromEvent(event: unknown): DeliveryReport | NotFinalReport | undefined {
  if (!isObject(event)) throw bad("the event is not an object");
  // Event Grid schema `eventType`, CloudEvents schema `type`.
  const type = typeof event.eventType === "string" ? event.eventType : event.type;
  if (type !== DELIVERY_REPORT_EVENT_TYPE) return undefined;
  const data = event.data;
  if (!isObject(data)) throw bad("the event has no data");
  const messageId = data.messageId;
  const recipient = data.recipient;
  const status = data.status;
  if (typeof messageId !== "string" || messageId === "") throw bad("data.messageId is missing");
  if (typeof recipient !== "string" || recipient === "") throw bad("data.recipient is missing");
  if (typeof status !== "string" || status === "") throw bad("data.status is missing");
  const final = DELIVERY_REPORT_STATUSES.find((s) => s.toLowerCase() === status.toLowerCase());
  if (!final) {
    const why = status.toLowerCase() === "expanded" ? "the message went to a distribution list and was expanded to its members" : "not a final status this build knows";
    return { messageId: messageId.toLowerCase(), status, notFinal: `status "${status}" is not final (${why}; final: ${DELIVERY_REPORT_STATUSES.join(", ")}); not recorded` };
  }
  // The wire name is deliveryAttemptTimeStamp (Learn's sample); the SDK type spells it deliveryAttemptTimestamp.
  const stamp = data.deliveryAttemptTimeStamp ?? data.deliveryAttemptTimestamp ?? event.eventTime ?? event.time;
  const at = typeof stamp === "string" && !Number.isNaN(Date.parse(stamp)) ? new Date(Date.parse(stamp)).toISOString() : undefined;
  if (!at) throw bad("data.deliveryAttemptTimeStamp is missing or not a date");
  const details = isObject(data.deliveryStatusDetails) && typeof data.deliveryStatusDetails.statusMessage === "string" ? data.deliveryStatusDetails.statusMessage : undefined;
  return { messageId: messageId.toLowerCase(), recipient, status: final, at, ...(details ? { details } : {}) };
}

/**
 * Days a delivery report may come after its message's day (`asOf`). The service gives a final status within minutes
 * to hours of the send, and a sending run sends a day's messages over the hours after its audit; a week is room for
 * a late report or a backlog. (Messages of an audit's day sent later than that, while no audit succeeds for weeks,
 * would be left out: their marks would not hold.)
 */
const REPORT_LAG_DAYS = 7;

/**
 * The first day of the sent messages undeliverableMarks needs (`outbox({ status: "sent", since })`): a report older
 * than `retryDays` marks nothing (a Failed one holds fewer days still), and a message more than REPORT_LAG_DAYS
 * older than its report is not expected.
 */
export function undeliverableSince(asOf: string, retryDays: number): string {
  return addDays(asOf, -(retryDays + REPORT_LAG_DAYS));
}

/**
 * Addresses whose latest delivery report ended Bounced or Suppressed less than `retryDays` before `asOf`
 * (UNDELIVERABLE_RETRY_DAYS), or Failed less than FAILED_MARK_DAYS before it. A mark falls on the address the message went to: the owner's own in live mode, the
 * redirect address in redirect mode (a bounce there says nothing of the owner). Give it the outboxes of every mode, so
 * no mode sends to an address another mode saw bounce. A later Delivered message to the address clears its mark.
 *
 * Each mark carries the owner tags that named the address on the messages that bounced (those of the bounced
 * message's day), and which of those tags a message of a later day recorded with another value: the tag changed in
 * between, so the mark no longer holds there even if the old value is back (see markHolds).
 */
export function undeliverableMarks(outbox: readonly OutboxEntry[], asOf: string, retryDays: number): Map<string, UndeliverableMark> {
  const latest = new Map<string, OutboxEntry & { delivery: NonNullable<OutboxEntry["delivery"]> }>();
  for (const e of outbox) {
    if (!e.delivery) continue;
    const key = e.recipient.toLowerCase();
    const before = latest.get(key);
    if (!before || before.delivery.at < e.delivery.at) latest.set(key, { ...e, delivery: e.delivery });
  }
  const marks = new Map<string, UndeliverableMark>();
  for (const [address, last] of latest) {
    const d = last.delivery;
    if (!isUndeliverableStatus(d.status)) continue;
    const age = dayNumber(asOf) - dayNumber(d.at.slice(0, 10));
    if (age >= (d.status === "Failed" ? Math.min(retryDays, FAILED_MARK_DAYS) : retryDays)) continue;
    const namedBy = namingsWhenBounced(outbox, address, last.asOf);
    const changedTags = namedBy.length > 0 ? tagsChangedAfter(outbox, namedBy, last.asOf) : [];
    marks.set(address, {
      status: d.status,
      at: d.at,
      ...(d.details ? { details: d.details } : {}),
      sentOn: last.asOf,
      ...(namedBy.length > 0 ? { namedBy } : {}),
      ...(changedTags.length > 0 ? { changedTags } : {}),
    });
  }
  return marks;
}

/** The tag namings recorded on the owner's own undeliverable messages of that day (a day's run sees one tag value). */
function namingsWhenBounced(outbox: readonly OutboxEntry[], address: string, day: string): TagNaming[] {
  const namings = new Map<string, TagNaming>();
  for (const e of outbox) {
    if (e.asOf !== day || e.recipient.toLowerCase() !== address || e.owner.toLowerCase() !== address) continue;
    if (!e.delivery || !isUndeliverableStatus(e.delivery.status)) continue;
    for (const n of e.namedBy ?? []) namings.set(`${n.tag}|${n.value}`, n);
  }
  return [...namings.values()];
}

/** Tags of `namings` that any message of a later day (to anyone) recorded with a value not among them. */
function tagsChangedAfter(outbox: readonly OutboxEntry[], namings: readonly TagNaming[], day: string): string[] {
  const values = new Map<string, Set<string>>();
  for (const n of namings) values.set(n.tag, (values.get(n.tag) ?? new Set()).add(n.value));
  const changed = new Set<string>();
  for (const e of outbox) {
    if (dayNumber(e.asOf) <= dayNumber(day)) continue;
    for (const n of e.namedBy ?? []) {
      const then = values.get(n.tag);
      if (then && !then.has(n.value)) changed.add(n.tag);
    }
  }
  return [...changed];
}

export interface DeliveryReportOutcome {
  recorded: number;
  /** Duplicates, and reports for a message whose final status was already known. */
  unchanged: number;
  /** Not one of ours (another app on the same Communication Services resource). */
  unknown: number;
}

/**
 * Records reports in whichever ledger (live or redirect) holds the message. Idempotent: replaying any set of reports,
 * in any order, leaves the ledger as the first final report of each message made it.
 */
export async function recordDeliveryReports(ledgers: readonly ReminderLedger[], reports: readonly DeliveryReport[]): Promise<DeliveryReportOutcome> {
  const outcome: DeliveryReportOutcome = { recorded: 0, unchanged: 0, unknown: 0 };
  for (const report of reports) {
    let result: "recorded" | "unchanged" | "unknown" = "unknown";
    for (const ledger of ledgers) {
      result = await ledger.recordDelivery(report);
      if (result !== "unknown") break;
    }
    outcome[result]++;
  }
  return outcome;
}

function bad(reason: string): AuditError {
  return new AuditError("EMAIL.BAD_DELIVERY_REPORT", `A ${DELIVERY_REPORT_EVENT_TYPE} event was not usable: ${reason}.`, { retryable: false });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
