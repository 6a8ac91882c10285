// The reminder use case: after an audit, tell each owner once per milestone, at least once and never twice.
//
// The ledger makes delivery idempotent. For every message:
//   1. its intent is recorded (with a deterministic operation id) before anything is sent;
//   2. it is sent with that operation id; the service's 202 means accepted (nothing polls: status reads are limited
//      far below sends);
//   3. the acceptance is recorded, moving the owner's reminder histories on. What became of the message (Delivered,
//      Bounced, ...) arrives later as a delivery report (recordDeliveryReports).
// A crash between 1 and 3 leaves a pending intent. The next run looks pending operations up, within the status-read
// budget: known ones are recorded as sent (never sent again); one the service does not know is "unknown" while the
// intent is younger than the not-found grace (a delivered message has been reported not found), and abandoned and
// planned afresh after it.
import type { AuditReport, DeliverySummary, Finding, OutboxBacklog, ScopeCoverage, TagNaming } from "./model.js";
import { eachOf, entriesAt, pagesOf } from "./deflatedJson.js";
import {
  allClearOperationId,
  digestOperationId,
  digestPlanOf,
  findingOfHistoryKey,
  outlineDigests,
  planAllClear,
  type AllClearPlan,
  type DigestItem,
  type DigestOutline,
  type DigestPlan,
  type ItemOf,
  type PlannedFinding,
  type ResolvedFinding,
} from "./digestPlan.js";
import { addDays, daysBetween, dayNumber } from "./dates.js";
import { AuditError, ensureError, isAuditError } from "./errors.js";
import { ruleOfFindingId } from "./findings.js";
import type { EmailAttachment, EmailSender, FindingState, OutboxEntry, OutboxStatus, ReminderLedger } from "./ports.js";
import { checkAddress, describeUndeliverable, isDomainAllowed, markHolds, normaliseAllowedDomains, type UndeliverableMark } from "./owners.js";
import { estimateDrain, SendPacer } from "./outboxDrain.js";
import { historyAsOf, remindersAfter, type ReminderHistory, type ReminderPolicy } from "./schedule.js";
import { ALL_CLEAR_WINDOW_DAYS, KEPT_DAYS, oldestToForget } from "./retention.js";

export type SendMode = "dry-run" | "redirect" | "live";

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  attachments?: EmailAttachment[];
}

export interface AdminSummary {
  totals: { findings: number; critical: number; warning: number; owners?: number; digestsPlanned?: number; escalations?: number; allClear?: number };
  /** Open findings per rule (the report's summary.byRule). */
  byRule?: Record<string, number>;
  /** The first ADMIN_LIST_LIMIT of the findings nobody owns (a summary lists no more), and how many there are. */
  unownedFindings: Finding[];
  unownedCount: number;
  ownerProblems: string[];
  failedScopes: (ScopeCoverage & { name?: string; displayName?: string })[];
  /** What waits to be sent as this run starts, and when, at the current limits, the last of it goes out. */
  backlog?: OutboxBacklog;
}

export interface MessageRenderer {
  digest(plan: DigestPlan): Promise<RenderedEmail>;
  allClear(plan: AllClearPlan): Promise<RenderedEmail>;
  adminSummary(summary: AdminSummary): Promise<RenderedEmail>;
}

export interface ReminderDependencies {
  ledger: ReminderLedger;
  /** Absent in dry-run mode. */
  sender?: EmailSender;
  renderer: MessageRenderer;
  hash: (value: string) => string;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** False once the run has lost its lock: nothing more is sent. */
  stillHeld?: () => boolean;
  /** True once the run's time budget is spent: nothing more is sent, the rest waits for the next run. */
  outOfTime?: () => boolean;
  /** Every message planned, with its rendering, e.g. to write previews. */
  onMessage?: (message: PlannedMessage, email: RenderedEmail, outcome: MessageOutcome) => void | Promise<void>;
}

export interface ReminderRequest {
  report: AuditReport;
  /**
   * The ledger's finding states after this run's tracking: the all-clear is planned from them, and the histories of
   * their findings are kept. A caller may leave out only what statesForReminders does (resolved long before the run's
   * day): a state left out lets its finding's histories go.
   */
  findingStates: FindingState[];
  runId: string;
  policy: ReminderPolicy;
  escalationContacts: string[];
  adminSummaryTo: string[];
  mode: SendMode;
  redirectAddress?: string;
  limits: { perMinute: number; perHour: number };
  /** Status reads allowed (EMAIL_STATUS_READS_PER_MINUTE / _PER_HOUR); defaults: the Azure-managed domain's 10 and 20. */
  statusReads?: { perMinute: number; perHour: number };
  /** How long a pending intent the service answers 404 for is "unknown, look again" (EMAIL_NOT_FOUND_GRACE_HOURS, default 24). */
  notFoundGraceHours?: number;
  /**
   * Today's ALLOWED_RECIPIENT_DOMAINS (empty: any domain). Every message is held to it when it is sent, whatever
   * the addresses were checked against when they were stored (an all-clear goes to owners kept in the ledger).
   */
  allowedRecipientDomains: readonly string[];
  /**
   * Addresses marked undeliverable (see undeliverableMarks): nothing is sent to them, an all-clear included, unless
   * this run's owner resolution accepted the address as an owner (a changed tag cleared the mark there: markHolds).
   */
  undeliverable?: ReadonlyMap<string, UndeliverableMark>;
  /** The sending timer (SEND_SCHEDULE) and how long a run may send, for the backlog's ETA; without it, no ETA. */
  drain?: { nextRun: (after: Date) => Date | undefined; runMinutes: number };
}

export interface PlannedMessage {
  kind: OutboxEntry["kind"];
  /** The owner (or contact) the message is for. */
  owner: string;
  /** Where it goes: the owner, or the redirect address. */
  recipient: string;
  operationId: string;
  items: OutboxEntry["items"];
  /** The owner tags that named the owner on the message's findings (a digest), recorded with the message. */
  namedBy?: TagNaming[];
  /** The owner the message is about (for an escalation copy, the owner who ignored the reminders). */
  about: string;
  /** The owner has never been told anything: such owners go before repeat reminders. */
  neverTold: boolean;
  /** The day the owner has waited since: last told, or (never told) the first day its due findings were seen. */
  waitingSince: string;
  /** Among owners who waited as long, lower goes first: escalations and critical overdue digests. */
  urgency: number;
  render: () => Promise<RenderedEmail>;
}

/** `pending`: an earlier message to the same recipient is still in flight (no final status yet), so this one waits. */
export type MessageOutcome = "sent" | "failed" | "already-sent" | "deferred" | "dry-run" | "pending" | "refused";

export interface ReminderResult {
  mode: SendMode;
  planned: number;
  sent: number;
  alreadySent: number;
  failed: { recipient: string; error: string }[];
  /** Did not fit the hourly budget or was throttled: waits for the next run. */
  deferred: number;
  /** Why the run stopped sending when the service throttled it (a 429 with a long or no Retry-After). */
  throttled?: string;
  /** Sends whose fate the service did not tell (no answer, 5xx): the next run looks them up. Counted in deferred. */
  unconfirmed: number;
  /** Not tried because an answer was unclear and the run stopped sending until it is cleared up. Counted in deferred. */
  heldBack: number;
  /** Not sent because an earlier message to the same recipient has no final status yet. */
  awaiting: number;
  /** Not sent: the recipient does not pass today's recipient rules (ALLOWED_RECIPIENT_DOMAINS). */
  refused: { recipient: string; reason: string }[];
  /** Reminders in the ledger dated after this run's day (a run with a later --now, a wrong clock): not counted as sent. */
  futureDated: number;
  /** Histories this run deleted once it had sent (none in a dry run): see staleHistories. */
  forgottenHistories: number;
  /** Why they could not be deleted (they stay, for the next run): the run goes on. */
  forgetProblem?: string;
  /**
   * Pending intents from an earlier, interrupted run and what became of them; `unknown`: not found within the grace,
   * or not read this run (status-read budget or throttling): still pending, looked up again next run.
   */
  recovered: { sent: number; failed: number; abandoned: number; unknown: number };
  /** Pending intents whose status could not be read this run: they stay pending (never sent again unread). */
  lookupFailed: { recipient: string; operationId: string; error: string }[];
  /** Messages rendered this run: only those about to be sent (or previewed in a dry run). */
  rendered: number;
  messages: { kind: OutboxEntry["kind"]; recipient: string; owner: string; subject: string; operationId: string; outcome: MessageOutcome }[];
  /** Accepted messages of the last DELIVERY_WINDOW_DAYS by what their delivery reports said. */
  delivery: DeliverySummary;
  /** Not in a dry run: what this run left to send, and when the sending timer will have sent it. */
  backlog?: OutboxBacklog;
}

export async function sendReminders(deps: ReminderDependencies, request: ReminderRequest): Promise<ReminderResult> {
  const result: ReminderResult = {
    mode: request.mode,
    planned: 0,
    sent: 0,
    alreadySent: 0,
    failed: [],
    deferred: 0,
    unconfirmed: 0,
    heldBack: 0,
    awaiting: 0,
    refused: [],
    futureDated: 0,
    forgottenHistories: 0,
    recovered: { sent: 0, failed: 0, abandoned: 0, unknown: 0 },
    lookupFailed: [],
    rendered: 0,
    messages: [],
    delivery: { accepted: 0, delivered: 0, failed: 0, undelivered: [] },
  };
  const sender = request.mode === "dry-run" ? undefined : deps.sender;
  if (request.mode !== "dry-run" && !sender) throw new AuditError("EMAIL.SEND_FAILED", `SEND_MODE is ${request.mode} but no mail sender is configured`);
  if (sender) await recoverPending(deps, sender, request, result);

  const { messages, summary, stale, cleared } = await planMessages(deps, request, result);
  result.planned = messages.length;
  // The messages a planned one could be (its id names its run's day, or for an all-clear its resolutions' days, which
  // are at most ALL_CLEAR_WINDOW_DAYS before this run's), and every one still pending, whatever its day. Missing one
  // would not send it twice (its intent is refused as existing) but would fail the run.
  // Only their statuses are held through the sending (the entries, a week after a first day that sent to every owner,
  // were tens of MB).
  const known = new Map<string, OutboxEntry["status"]>();
  // A message with no final status yet (still Running, or its lookup failed) may yet arrive: nothing more of its kind
  // goes to that recipient until it is known, or the owner could get two.
  const inFlight = new Set<string>();
  for (const e of await deps.ledger.outboxStatuses({ since: addDays(request.report.asOf, -ALL_CLEAR_WINDOW_DAYS), orPending: true })) {
    known.set(e.operationId, e.status);
    if (e.status === "pending") inFlight.add(flightKey(e));
  }
  const allowed = normaliseAllowedDomains(request.allowedRecipientDomains);
  // The one check every message passes before it is sent (digest, escalation copy, all-clear, admin summary; live or
  // redirect; the audit's run or a sending run): a marked recipient gets nothing unless its mark cleared (clearedMark).
  const refusalOf = (m: PlannedMessage): string | undefined => {
    const key = m.recipient.toLowerCase();
    const mark = cleared.has(key) ? undefined : request.undeliverable?.get(key);
    return mark ? describeUndeliverable(mark) : recipientRefusal(m.recipient, allowed);
  };
  let rendered = 0;
  // The hourly limit holds across runs: what earlier runs had accepted within the hour counts, from the ledger.
  const pacer = new SendPacer(request.limits, sender ? await deps.ledger.acceptedSince(new Date(deps.now().getTime() - 3_600_000).toISOString()) : [], deps.now, deps.sleep);
  // The admin summary goes first and says what waits as the run starts (it is rendered only when it is sent).
  if (summary) {
    const waiting = messages.filter((m) => m.kind !== "admin-summary" && known.get(m.operationId) !== "sent" && !refusalOf(m));
    summary.backlog = backlogOf(waiting, request, { now: deps.now(), recentSends: pacer.recent(), sendingNow: true });
  }
  // Set once the service throttles or stops answering clearly: the rest waits for the next run.
  let stopSending: "throttled" | "unclear" | undefined;
  // Set once the next slot within the limits is too far away: the rest waits for the next run.
  let limitsReached = false;
  const left: PlannedMessage[] = [];

  // Up to SEND_CONCURRENCY sends are out at once. Each message is still decided in plan order, one at a time (the
  // checks, the pacer's slot, its rendering), only when a send slot is free, so a throttle or an unclear answer stops
  // every later message, and the pacer counts a send as it goes. What goes out concurrently is each message's own
  // intent record, send and outcome record: nothing is sent that the ledger has not recorded. A failure that ends the
  // run (the lock lost, storage failing) lets the sends already out finish and record, starts no more, then ends it.
  // The messages are reported (and handed to onMessage) in plan order.
  const sending = new Set<Promise<void>>();
  const done: Array<{ message: PlannedMessage; email: RenderedEmail | undefined; outcome: MessageOutcome } | undefined> = [];
  let reported = 0;
  let fatal: { error: unknown } | undefined;
  const report = async () => {
    while (reported < done.length) {
      const entry = done[reported];
      if (entry === undefined) return;
      done[reported++] = undefined;
      const { message, email, outcome } = entry;
      result.messages.push({ kind: message.kind, recipient: message.recipient, owner: message.owner, subject: email?.subject ?? "", operationId: message.operationId, outcome });
      if (outcome === "deferred" || outcome === "pending") left.push(message);
      // Once the run is ending, what is left is reported in the result only.
      if (email && !fatal) await deps.onMessage?.(message, email, outcome);
    }
  };
  // One report at a time, in plan order, however the sends finish; a failing onMessage ends the run like any other.
  let reporting = Promise.resolve();
  const settle = (index: number, message: PlannedMessage, email: RenderedEmail | undefined, outcome: MessageOutcome) => {
    done[index] = { message, email, outcome };
    reporting = reporting.then(report).catch((error: unknown) => {
      fatal ??= { error };
    });
    return reporting;
  };

  for (const [index, planned] of messages.entries()) {
    while (sending.size >= SEND_CONCURRENCY && !fatal) await Promise.race(sending);
    if (fatal) break;
    // The mail service keeps a Failed operation under its id, so a retry needs an id of its own (derived, so a
    // crash during the retry is recognised the same way).
    let operationId = planned.operationId;
    for (let attempt = 2; known.get(operationId) === "failed"; attempt++) operationId = deps.hash(`${planned.operationId}|attempt-${attempt}`);
    const message = { ...planned, operationId };
    const refusal = refusalOf(message);
    if (refusal) {
      result.refused.push({ recipient: message.recipient, reason: refusal });
      await settle(index, message, undefined, "refused");
      continue;
    }
    // Rendered only when it is about to be sent (or previewed in a dry run): at scale most planned messages wait for
    // a later run, and rendering (MJML) is the costliest step of the job.
    let email: RenderedEmail | undefined;
    const render = async () => {
      rendered++;
      try {
        return (email ??= await message.render());
      } catch (error) {
        throw new RenderFailure(ensureError(error));
      }
    };
    let decided: MessageOutcome | Send;
    try {
      decided = await decide(message, render);
    } catch (error) {
      // A message that cannot be rendered is reported and skipped (nothing was recorded for it): one bad message
      // must not stop every later one, nor the report, day after day.
      if (!(error instanceof RenderFailure)) {
        fatal ??= { error };
        break;
      }
      result.failed.push({ recipient: message.recipient, error: `could not be rendered: ${error.cause.message}` });
      decided = "failed";
    }
    if (typeof decided === "string") {
      await settle(index, message, email, decided);
      continue;
    }
    const send = decided;
    const task = (async () => {
      try {
        await settle(index, message, email, await send());
      } catch (error) {
        fatal ??= { error };
      }
    })().finally(() => sending.delete(task));
    sending.add(task);
  }
  await Promise.all(sending);
  await reporting;
  if (fatal) throw fatal.error;
  result.rendered = rendered;
  if (sender) result.backlog = backlogOf(left, request, { now: deps.now(), recentSends: pacer.recent(), sendingNow: false });
  if (sender) result.delivery = summariseDelivery(await deps.ledger.outboxStatuses({ status: "sent", since: addDays(request.report.asOf, -DELIVERY_WINDOW_DAYS) }), request.report.asOf);
  // Housekeeping, once the mail is out (about a second for FORGOTTEN_PER_RUN: it fits the time a run keeps for its
  // report, so a run out of time does it too): not by a dry run (it shares the live ledger and changes nothing of it),
  // nor by a run that lost its lock. A delete that fails loses nothing (the next run deletes them): the run goes on.
  if (stale.length > 0 && request.mode !== "dry-run" && deps.stillHeld?.() !== false) {
    try {
      await deps.ledger.forgetHistories(stale);
      result.forgottenHistories = stale.length;
    } catch (error) {
      result.forgetProblem = ensureError(error).message;
    }
  }
  return result;

  /** Whether no more sends start: a throttle or an unclear answer, the limits reached, the run ending, its time spent. */
  function sendingStopped(): boolean {
    return stopSending !== undefined || limitsReached || fatal !== undefined || deps.outOfTime?.() === true;
  }

  function deferStopped(): "deferred" {
    result.deferred++;
    if (stopSending === "unclear") result.heldBack++;
    return "deferred";
  }

  /**
   * What becomes of a message, decided in plan order: an outcome now (a dry run's preview, already sent, waiting for
   * an earlier one, deferred), or, once the pacer has a slot for it and it is rendered, its send.
   */
  async function decide(message: PlannedMessage, render: () => Promise<RenderedEmail>): Promise<MessageOutcome | Send> {
    if (!sender) {
      await render();
      return "dry-run";
    }
    const before = known.get(message.operationId);
    if (before === "sent") {
      result.alreadySent++;
      return "already-sent";
    }
    if (before === "pending" || inFlight.has(flightKey(message))) {
      if (before === "pending" && result.lookupFailed.some((f) => f.operationId === message.operationId)) {
        // Its status could not be read at recovery: it may have been delivered, so it is not sent again until known.
        result.deferred++;
        result.unconfirmed++;
        return "deferred";
      }
      result.awaiting++;
      return "pending";
    }
    if (sendingStopped()) return deferStopped();
    // Waits for a slot within the per-minute and per-hour limits when one frees soon; otherwise the rest is deferred.
    if (!(await pacer.admit()) || deps.outOfTime?.()) {
      limitsReached = true;
      result.deferred++;
      return "deferred";
    }
    const email = await render();
    // The wait for a slot may be long (up to MAX_SLOT_WAIT_MS): a send out meanwhile may have been throttled or
    // answered unclearly, or the run may be ending. Then this one is not sent either.
    if (sendingStopped()) return deferStopped();
    // The slot is taken as the send is decided, so the next message's slot counts it.
    pacer.record();
    return () => deliver(message, email, sender);
  }

  async function deliver(message: PlannedMessage, email: RenderedEmail, sender: EmailSender): Promise<MessageOutcome> {
    const entry: OutboxEntry = {
      operationId: message.operationId,
      kind: message.kind,
      recipient: message.recipient,
      owner: message.owner,
      asOf: request.report.asOf,
      runId: request.runId,
      items: message.items,
      ...(message.namedBy?.length ? { namedBy: message.namedBy } : {}),
      status: "pending",
      updatedAt: deps.now().toISOString(),
    };
    if (deps.stillHeld && !deps.stillHeld()) {
      throw new AuditError("LOCK.HELD", "The run lost its lock (storage did not renew the lease); it stops before sending more", { retryable: true });
    }
    // Nothing is sent that the ledger has not recorded: a storage failure here ends the run before the send.
    if ((await deps.ledger.recordIntent(entry)) === "exists") {
      // Only reachable if another process recorded it between our read and write; the run lock prevents that.
      throw new AuditError("LOCK.HELD", `Message ${message.operationId} is being sent by another run`);
    }
    try {
      const delivery = await sender.send({
        operationId: message.operationId,
        to: message.recipient,
        subject: email.subject,
        html: email.html,
        text: email.text,
        ...(email.attachments?.length ? { attachments: email.attachments } : {}),
      });
      if (delivery.status === "Failed") {
        await deps.ledger.recordOutcome(entry, { status: "failed", error: delivery.error ?? "Failed" }, deps.now().toISOString());
        result.failed.push({ recipient: message.recipient, error: delivery.error ?? "Failed" });
        return "failed";
      }
      // Accepted (202): the service owns the message. Its delivery report comes later, through Event Grid.
      await deps.ledger.recordOutcome(entry, { status: "sent" }, deps.now().toISOString());
      result.sent++;
      return "sent";
    } catch (error) {
      if (isAuditError(error) && error.code === "EMAIL.SEND_FAILED" && !definitelyNotAccepted(error.statusCode)) {
        // No answer, a timeout or a server error: the service may have accepted the message. The intent stays
        // pending so the next run looks the operation up instead of sending it again; this run stops sending.
        stopSending = "unclear";
        result.deferred++;
        result.unconfirmed++;
        return "deferred";
      }
      if (isAuditError(error) && error.code === "EMAIL.SEND_FAILED") {
        // Refused by the service: the intent is abandoned so the reminder is planned again next run.
        await deps.ledger.recordOutcome(entry, { status: "abandoned", error: error.message }, deps.now().toISOString());
        if (error.retryable) {
          // A 429 the sender would not wait out (a long or no Retry-After): the rest of the run's messages wait for
          // the next run, recorded as deferred, never dropped.
          if (!stopSending) result.throttled = error.message;
          stopSending ??= "throttled";
          result.deferred++;
          return "deferred";
        }
        result.failed.push({ recipient: message.recipient, error: error.message });
        return "failed";
      }
      throw error;
    }
  }
}

/** The Azure-managed domain's Get Email Status limits (Microsoft Learn, "Service limits for Azure Communication Services"). */
export const DEFAULT_STATUS_READS = { perMinute: 10, perHour: 20 } as const;
export const DEFAULT_NOT_FOUND_GRACE_HOURS = 24;

/**
 * Reads the status of intents an interrupted run left pending, oldest first, within the status-read budget: at most
 * `perMinute` in any minute, and `perHour` in the last hour counting the reads earlier runs recorded in the ledger
 * (the service's limit is per hour, whatever our runs are). What is not read stays pending (nothing more goes to that
 * recipient) and is read on a later run.
 */
async function recoverPending(deps: ReminderDependencies, sender: EmailSender, request: ReminderRequest, result: ReminderResult): Promise<void> {
  const pending = (await deps.ledger.outbox({ status: "pending" })).sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
  if (pending.length === 0) return;
  const limits = request.statusReads ?? DEFAULT_STATUS_READS;
  const graceMs = (request.notFoundGraceHours ?? DEFAULT_NOT_FOUND_GRACE_HOURS) * 3_600_000;
  // The hourly read limit counts what earlier runs recorded (below); the pacer spaces this run's reads within the minute.
  const pacer = new SendPacer(limits, [], deps.now, deps.sleep);
  const readsThisHour = await deps.ledger.statusReadsSince(new Date(deps.now().getTime() - 3_600_000).toISOString());
  const batch = `${request.runId}|${deps.now().toISOString()}`;
  let reads = 0;
  let stopped = false;
  for (const entry of pending) {
    if (entry.delivery) {
      // A delivery report proves the service accepted it (the ledger settles such an intent as the report is recorded;
      // this one's settling was cut short): sent, without a status read.
      await deps.ledger.recordOutcome(entry, { status: "sent" }, deps.now().toISOString());
      result.recovered.sent++;
      continue;
    }
    if (stopped || readsThisHour + reads >= limits.perHour || deps.outOfTime?.()) {
      result.recovered.unknown++;
      continue;
    }
    await pacer.admit();
    pacer.record();
    reads++;
    // Recorded before the read: a crash after it must not let the next run read as if it had not happened.
    await deps.ledger.recordStatusReads(batch, reads, deps.now().toISOString());
    let found: Awaited<ReturnType<EmailSender["lookup"]>>;
    try {
      found = await sender.lookup(entry.operationId);
    } catch (error) {
      // One status the service cannot give now must not block every run: the message stays pending (reported), is
      // not sent again while its fate is unknown, and the next run asks again. Throttled: no more reads this run.
      if (isAuditError(error) && error.statusCode === 429) stopped = true;
      result.lookupFailed.push({ recipient: entry.recipient, operationId: entry.operationId, error: ensureError(error).message });
      continue;
    }
    const at = deps.now().toISOString();
    if (found.status === "NotFound") {
      // The status API has answered 404 for mail it delivered (Azure/azure-sdk-for-python#35849): within the grace
      // that is "unknown, look again"; only an intent older than the grace is taken as never sent.
      // Its age: since the intent, on the clock or by the runs' days (a run with a later --now is that much later).
      const age = Math.max(deps.now().getTime() - Date.parse(entry.updatedAt), (dayNumber(request.report.asOf) - dayNumber(entry.asOf)) * 86_400_000);
      if (age < graceMs) {
        result.recovered.unknown++;
        continue;
      }
      await deps.ledger.recordOutcome(entry, { status: "abandoned", error: "not found by the mail service after the grace period; planned again" }, at);
      result.recovered.abandoned++;
    } else if (found.status === "Failed") {
      const error = "error" in found && found.error ? found.error : "Failed";
      await deps.ledger.recordOutcome(entry, { status: "failed", error }, at);
      result.recovered.failed++;
      result.failed.push({ recipient: entry.recipient, error });
    } else {
      // Known to the service (Running or Succeeded): accepted before the crash. Record it, never send it again.
      await deps.ledger.recordOutcome(entry, { status: "sent" }, at);
      result.recovered.sent++;
    }
  }
}

/** How far back the report's delivery counts look. */
const DELIVERY_WINDOW_DAYS = 30;

function summariseDelivery(sent: readonly OutboxStatus[], asOf: string): DeliverySummary {
  const summary: DeliverySummary = { accepted: 0, delivered: 0, failed: 0, undelivered: [] };
  for (const e of sent) {
    if (daysBetween(e.asOf, asOf) > DELIVERY_WINDOW_DAYS || dayNumber(e.asOf) > dayNumber(asOf)) continue;
    if (!e.delivery) summary.accepted++;
    else if (e.delivery.status === "Delivered") summary.delivered++;
    else {
      summary.failed++;
      summary.undelivered.push({ recipient: e.recipient, status: e.delivery.status, at: e.delivery.at, ...(e.delivery.details ? { details: e.delivery.details } : {}) });
    }
  }
  summary.undelivered.sort((a, b) => a.at.localeCompare(b.at));
  return summary;
}

/**
 * How many sends are out at once. Each is an intent record, the service call and an outcome record (three round
 * trips, about 100 ms in all); one at a time, a run's hundred sends spent ten seconds waiting on them. The per-minute
 * and per-hour limits are the pacer's either way. Four keeps a 429 or an unclear answer from finding many sends out.
 */
export const SEND_CONCURRENCY = 4;

type Send = () => Promise<MessageOutcome>;

class RenderFailure extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

function flightKey(m: { kind: string; recipient: string; owner: string }): string {
  return [m.kind, m.recipient.toLowerCase(), m.owner.toLowerCase()].join("|");
}

function recipientRefusal(recipient: string, allowed: readonly string[]): string | undefined {
  const check = checkAddress(recipient);
  if (!check.ok) return "not a valid email address";
  const domain = check.address.slice(check.address.lastIndexOf("@") + 1);
  return isDomainAllowed(domain, allowed) ? undefined : "outside ALLOWED_RECIPIENT_DOMAINS";
}

async function planMessages(
  deps: ReminderDependencies,
  request: ReminderRequest,
  result: ReminderResult,
): Promise<{ messages: PlannedMessage[]; summary: AdminSummary | undefined; stale: string[]; cleared: Map<string, UndeliverableMark> }> {
  const { report, mode } = request;
  const asOf = report.asOf;
  const route = (address: string) => (mode === "redirect" && request.redirectAddress ? request.redirectAddress : address);
  const histories = await deps.ledger.histories();
  // The findings, read once, a page at a time where the run holds them deflated: what the planning needs of each is
  // taken as it goes (the plans keep a stand-in per finding, with its position in the report, read back when a digest
  // is rendered: heldDigest).
  const read = readForPlanning(report, request);
  const stale = staleHistories(histories, request, read.ids);
  read.ids.clear();
  for (const history of histories.values()) result.futureDated += remindersAfter(history, asOf);
  const messages: PlannedMessage[] = [];
  // The day each owner was last told anything, as of this run's day (reminders dated later do not count).
  const lastTold = new Map<string, string>();
  for (const [key, stored] of histories) {
    const history = historyAsOf(stored, asOf);
    const day = history?.lastNotifiedOn ?? history?.firstNotifiedOn;
    const owner = key.split("|")[0] ?? "";
    if (day !== undefined && day > (lastTold.get(owner) ?? "")) lastTold.set(owner, day);
  }
  const waiting = (owner: string, since: readonly string[]) => {
    const told = lastTold.get(owner.toLowerCase());
    return { about: owner, neverTold: told === undefined, waitingSince: told ?? ([...since].sort()[0] ?? asOf) };
  };

  const openSince = new Map(request.findingStates.filter((st) => st.resolvedOn === undefined).map((st) => [st.findingId, st.firstSeen]));
  const cleared = read.cleared;
  const digests = outlineDigests(read.planned, untold(histories, cleared), asOf, request.policy, request.escalationContacts, openSince);
  read.planned.length = 0;
  const held = new Map<readonly ItemOf<Stand>[], HeldItem[]>();
  for (const plan of digests) {
    const critical = plan.items.filter((i) => i.finding.severity === "critical").length;
    messages.push({
      kind: plan.kind === "escalation" ? "escalation" : "digest",
      owner: plan.kind === "escalation" ? plan.recipient : plan.ownerAddress,
      recipient: route(plan.recipient),
      operationId: operationId(deps, digestOperationId(plan), mode),
      // Escalation copies carry no items: only the owner's own digest moves the owner's histories on.
      items: plan.kind === "escalation" ? [] : plan.dueItems.map((i) => ({ findingId: i.finding.id, milestone: i.decision.milestone })),
      ...(plan.kind === "escalation" ? {} : { namedBy: namingsOf(plan) }),
      ...waiting(plan.ownerAddress, plan.dueItems.map((i) => openSince.get(i.finding.id) ?? asOf)),
      urgency: (plan.escalate ? 0 : 1_000_000) - critical * 1000 - plan.overdueRemindersSent,
      render: heldDigest(deps, report, plan, itemsByPosition(plan.items, held)),
    });
  }

  // Planned from the ledger, not from this run alone: an all-clear that was deferred, failed, or fell on a dry
  // run goes out later (its id does not change). Owners of findings the ledger still holds open (including ones in
  // a scope this run could not read) are not clear.
  const recent = (st: FindingState) => st.resolvedOn !== undefined && inAllClearWindow(st.resolvedOn, asOf);
  const resolvedFindings: ResolvedFinding[] = request.findingStates.filter(recent).map((st) => ({ ...stateToFinding(st), resolvedOn: st.resolvedOn ?? asOf }));
  const told = new Set([...histories.keys()].map((k) => k.split("|")[0]));
  for (const plan of planAllClear(resolvedFindings, stillOpenOwners(read.owners, request.findingStates), asOf)) {
    // Only owners who were told about something get an all-clear.
    if (!told.has(plan.recipient.toLowerCase())) continue;
    messages.push({
      kind: "all-clear",
      owner: plan.recipient,
      recipient: route(plan.recipient),
      operationId: operationId(deps, allClearOperationId(plan), mode),
      items: [],
      ...waiting(plan.recipient, plan.resolved.map((f) => f.resolvedOn ?? asOf)),
      urgency: 2_000_000,
      render: () => deps.renderer.allClear(plan),
    });
  }

  let summary: AdminSummary | undefined;
  if (request.adminSummaryTo.length > 0) {
    const admin = adminSummary(report, read, digests.length);
    summary = admin;
    for (const to of request.adminSummaryTo) {
      messages.push({
        kind: "admin-summary",
        owner: to,
        recipient: route(to),
        // One per day per address: the id is the day, so a second run that day finds it already sent.
        operationId: operationId(deps, ["admin-summary", "v1", asOf, to.toLowerCase()].join("|"), mode),
        items: [],
        about: to,
        neverTold: false,
        waitingSince: asOf,
        urgency: 0,
        render: () => deps.renderer.adminSummary(admin),
      });
    }
  }
  return { messages: messages.sort(sendOrder), summary, stale, cleared };
}

/** What the planning reads of a finding, and where it is in the report's findings. */
type Stand = PlannedFinding & { at: number };

/** What the planning needs of the report's findings, taken in one read of them (a page at a time where they are held). */
interface ReadForPlanning {
  /** Every finding's id (for the histories no run reads again). */
  ids: Set<string>;
  /** A stand-in per finding with an owner. */
  planned: Stand[];
  /** The findings' owner addresses, lower-cased. */
  owners: Set<string>;
  /** The marked addresses whose mark no longer holds (clearedMark). */
  cleared: Map<string, UndeliverableMark>;
  /** What the admin summary lists of the findings. */
  unowned: Pick<AdminSummary, "unownedFindings" | "unownedCount">;
  ownerProblems: Set<string>;
}

function readForPlanning(report: AuditReport, request: ReminderRequest): ReadForPlanning {
  const read: ReadForPlanning = { ids: new Set(), planned: [], owners: new Set(), cleared: new Map(), unowned: { unownedFindings: [], unownedCount: 0 }, ownerProblems: new Set() };
  let at = 0;
  for (const f of eachOf(pagesOf(report, "findings"))) {
    read.ids.add(f.id);
    const owners = f.owners ?? [];
    for (const o of owners) read.owners.add(o.address.toLowerCase());
    for (const problem of f.ownerProblems ?? []) read.ownerProblems.add(problem);
    clearedMark(request, f, read.cleared);
    if (owners.length > 0) {
      const { id, severity, resourceId, deadline, snoozedUntil } = f;
      read.planned.push({ id, severity, resourceId, owners, at, ...(deadline === undefined ? {} : { deadline }), ...(snoozedUntil === undefined ? {} : { snoozedUntil }) });
    } else {
      // The first ADMIN_LIST_LIMIT findings nobody owns and their count: the summary is held through the sending, and
      // where no tag names an owner the unowned are a large share of the findings.
      read.unowned.unownedCount++;
      if (read.unowned.unownedFindings.length < ADMIN_LIST_LIMIT) read.unowned.unownedFindings.push(f);
    }
    at++;
  }
  return read;
}

/** A digest item as a planned message holds it: its finding by position in the report's findings. */
interface HeldItem {
  at: number;
  decision: DigestItem["decision"];
  owner: DigestItem["owner"];
}

/**
 * A digest's rendering, its findings held by position in the report's findings, read back when it is rendered: only a
 * few of the planned messages are rendered on a run (most wait for the sending runs after it), while the plans'
 * findings, held as objects through the sending, were every open finding of an owner with something due (at 100,000
 * accounts, about 45,000 findings and 50 MB of the heap). The closure holds the plan's own fields and its items'
 * positions, decisions and owners: it is made here, apart from the planning's stand-ins, as a closure holds every
 * variable of its function that any closure made there reads.
 */
function heldDigest(deps: ReminderDependencies, report: AuditReport, plan: DigestOutline<Stand>, byPosition: readonly HeldItem[]): () => Promise<RenderedEmail> {
  const { items: _items, dueItems: _due, ...head } = plan;
  return () => {
    const found = entriesAt(report, "findings", byPosition.map((i) => i.at));
    return deps.renderer.digest(digestPlanOf(head, byPosition.map(({ decision, owner }, k) => ({ finding: found[k] as Finding, decision, owner }))));
  };
}

/** A plan's items by position (`held`: an owner's digest and its escalation copies share their items, and these). */
function itemsByPosition(items: readonly ItemOf<Stand>[], held: Map<readonly ItemOf<Stand>[], HeldItem[]>): HeldItem[] {
  let kept = held.get(items);
  if (kept === undefined) {
    kept = items.map(({ finding, decision, owner }) => ({ at: finding.at, decision, owner }));
    held.set(items, kept);
  }
  return kept;
}

const KIND_ORDER: Record<PlannedMessage["kind"], number> = { "admin-summary": 0, digest: 1, escalation: 1, "all-clear": 2 };

/**
 * The order the outbox drains in when not everything fits the limits: the admin summary (it carries the backlog),
 * then reminders, owners never told before repeat reminders, then the longest-waiting first (ties: escalations and
 * critical first, then by address, an owner's digest just before its escalation copies), then all-clear notes.
 * Stable across the runs of a day, so each hourly run takes up where the last one stopped.
 */
export function sendOrder(a: PlannedMessage, b: PlannedMessage): number {
  return (
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
    Number(b.neverTold) - Number(a.neverTold) ||
    a.waitingSince.localeCompare(b.waitingSince) ||
    a.urgency - b.urgency ||
    a.about.toLowerCase().localeCompare(b.about.toLowerCase()) ||
    Number(a.kind === "escalation") - Number(b.kind === "escalation") ||
    a.recipient.toLowerCase().localeCompare(b.recipient.toLowerCase())
  );
}

function backlogOf(left: readonly PlannedMessage[], request: ReminderRequest, at: { now: Date; recentSends: number[]; sendingNow: boolean }): OutboxBacklog {
  const owners = new Set<string>();
  const neverTold = new Set<string>();
  for (const m of left) {
    if (m.kind === "admin-summary") continue;
    owners.add(m.about.toLowerCase());
    if (m.neverTold) neverTold.add(m.about.toLowerCase());
  }
  const backlog: OutboxBacklog = { messages: left.length, owners: owners.size, neverTold: neverTold.size, limits: { ...request.limits } };
  if (request.drain && left.length > 0) {
    const estimate = estimateDrain({ messages: left.length, limits: request.limits, ...request.drain, ...at });
    if (estimate.eta) backlog.eta = estimate.eta;
    backlog.runs = estimate.runs;
  }
  return backlog;
}

/** A digest names at most this many owner tags (one per account at most, usually one): it keeps the Table entity small. */
export const MAX_NAMINGS_PER_MESSAGE = 200;

/**
 * The owner tags that named the owner on a digest's findings, deduplicated. Past the cap the rest is not recorded:
 * a mark holds at a tag the bounced message did not record (markHolds), so leaving some out only keeps marks longer.
 */
function namingsOf(plan: Pick<DigestOutline<PlannedFinding>, "items">): TagNaming[] {
  const namings = new Map<string, TagNaming>();
  for (const item of plan.items) {
    const n = item.owner.namedBy;
    if (n && namings.size < MAX_NAMINGS_PER_MESSAGE) namings.set(`${n.tag}|${n.value}`, n);
  }
  return [...namings.values()];
}

/**
 * Marked addresses the report names as owners where the mark does not hold: the tag that named them changed since the
 * bounce (markHolds). Decided here, from the mark and the tag, not from "owner resolution accepted it": a sending run
 * (--send-only) re-plans a report resolved before the bounce was known, where every bounced owner is still an owner.
 * Noted in `cleared` finding by finding.
 */
function clearedMark(request: ReminderRequest, f: Finding, cleared: Map<string, UndeliverableMark>): void {
  if (!request.undeliverable?.size) return;
  for (const o of f.owners ?? []) {
    const key = o.address.toLowerCase();
    const mark = request.undeliverable.get(key);
    if (mark && o.namedBy && !markHolds(mark, o.namedBy)) cleared.set(key, mark);
  }
}

/**
 * The histories without those of owners whose mark cleared, as far as they predate the bounce: the mail that moved
 * them on never reached the owner, so the owner is told on this run rather than at the next step of the cadence.
 */
function untold(histories: Map<string, ReminderHistory>, cleared: ReadonlyMap<string, UndeliverableMark>): Map<string, ReminderHistory> {
  if (cleared.size === 0) return histories;
  const kept = new Map<string, ReminderHistory>();
  for (const [key, history] of histories) {
    const mark = cleared.get(key.split("|")[0] ?? "");
    const last = history.lastNotifiedOn ?? history.firstNotifiedOn;
    if (mark && last !== undefined && dayNumber(last) <= dayNumber(mark.sentOn ?? mark.at.slice(0, 10))) continue;
    kept.set(key, history);
  }
  return kept;
}

function operationId(deps: ReminderDependencies, key: string, mode: SendMode): string {
  return deps.hash(`${mode}|${key}`);
}

/** How many items of a list an admin summary shows (the rest is counted). */
export const ADMIN_LIST_LIMIT = 200;

function adminSummary(report: AuditReport, read: ReadForPlanning, digests: number): AdminSummary {
  return {
    totals: { findings: report.summary.findings, critical: report.summary.critical, warning: report.summary.warning, owners: read.owners.size, digestsPlanned: digests },
    ...(report.summary.byRule ? { byRule: report.summary.byRule } : {}),
    ...read.unowned,
    ownerProblems: [...read.ownerProblems],
    failedScopes: [
      ...report.coverage.subscriptions.filter((s) => s.status === "failed"),
      ...report.coverage.accounts.filter((a) => a.status === "failed"),
    ],
  };
}

/** The owners of the report's findings (lower-cased) and of the open states (at 100,000 accounts, 45,000 of them: no finding is made for one). */
function* stillOpenOwners(owners: ReadonlySet<string>, states: readonly FindingState[]): Generator<string> {
  yield* owners;
  for (const st of states) if (st.resolvedOn === undefined) yield* st.owners;
}

function stateToFinding(s: FindingState): Finding {
  return {
    id: s.findingId,
    kind: s.kind as Finding["kind"],
    rule: ruleOfFindingId(s.findingId),
    severity: s.severity as Finding["severity"],
    resourceId: s.resourceId,
    subscriptionId: s.subscriptionId,
    resourceGroup: "",
    accountName: s.accountName,
    accountId: s.accountId,
    detail: "Resolved",
    owners: s.owners.map((address) => ({ address, source: "ledger" })),
  };
}

/**
 * The histories no run reads again, taken out of `histories` (this run plans as the next will) and answered, to be
 * deleted once the mail is out: those of a finding neither in the report nor among the states given (statesForReminders)
 * that last moved more than KEPT_DAYS before the run's day, the oldest first, FORGOTTEN_PER_RUN at most. Every run reads
 * every history, so kept for ever they would grow with the months like the states (trackFindings). A finding back after
 * that is told as news, as it would be with its history, but its overdue reminders are counted again from one.
 * `findingIds`: the report's findings' ids; the states' are added to it (the caller lets it go after).
 */
function staleHistories(histories: Map<string, ReminderHistory>, request: ReminderRequest, findingIds: Set<string>): string[] {
  const asOf = request.report.asOf;
  // The findings' ids, and the states' added to them.
  const current = findingIds;
  for (const st of request.findingStates) current.add(st.findingId);
  const stale: { key: string; last: string }[] = [];
  for (const [key, history] of histories) {
    const last = history.lastNotifiedOn ?? history.firstNotifiedOn;
    if (last !== undefined && daysBetween(last, asOf) > KEPT_DAYS && !current.has(findingOfHistoryKey(key))) stale.push({ key, last });
  }
  const keys = oldestToForget(stale, (h) => h.last).map((h) => h.key);
  for (const key of keys) histories.delete(key);
  return keys;
}

/** A resolution dated after the run's day (a run with a later --now) is not one yet. */
function inAllClearWindow(resolvedOn: string, asOf: string): boolean {
  return dayNumber(resolvedOn) <= dayNumber(asOf) && daysBetween(resolvedOn, asOf) <= ALL_CLEAR_WINDOW_DAYS;
}

/**
 * The finding states sendReminders is given (`findingStates`): those it reads (the open ones and those in the
 * all-clear's window) and those resolved after the run's day (a run replayed for an earlier day, or a sending run whose
 * report is older than the last tracking), whose findings' histories it keeps. A run holds them through its sending;
 * the ledger keeps resolved ones three times as long (KEPT_DAYS).
 */
export function statesForReminders(states: readonly FindingState[], asOf: string): FindingState[] {
  return states.filter((st) => st.resolvedOn === undefined || daysBetween(st.resolvedOn, asOf) <= ALL_CLEAR_WINDOW_DAYS);
}

/** A 4xx (other than a timeout) means the service refused the message; anything else leaves its fate unknown. */
function definitelyNotAccepted(statusCode: number | undefined): boolean {
  return statusCode !== undefined && statusCode >= 400 && statusCode < 500 && statusCode !== 408;
}
