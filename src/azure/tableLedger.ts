// ReminderLedger over Azure Table Storage (@azure/data-tables). One table, partitions by record type and mode:
//   history-<mode>  one entity per (owner, finding): when they were last told, which milestone
//   outbox-<mode>   one entity per message: intent before sending, outcome after
//   finding-<0..f>  one entity per finding: first seen, last seen, resolved (spread over 16, FINDING_PARTITIONS)
//   finding         the states of builds before the spread, as they were when moved into the sixteen
//   meta            one entity: that they were moved
//   run             one entity per day: counts, for trends
//   status-reads    one entity per batch of status reads (a recovery), for the hourly read limit across runs
// Keys are hashes: Table keys may not hold '/', '#', '?' or control characters, and resource ids do.
import { createHash } from "node:crypto";
import { isRestError, RestError } from "@azure/core-rest-pipeline";
import type { TableClient, TableEntityResult } from "@azure/data-tables";
import { AuditError, ensureError } from "../core/errors.js";
import type { TagNaming } from "../core/model.js";
import { DELIVERY_REPORT_STATUSES, type DeliveryReport, type FindingState, type OutboxEntry, type ReminderLedger, type RunRecord } from "../core/ports.js";
import { isRecorded, recordReminder, type ReminderHistory } from "../core/schedule.js";
import { historyKey } from "../core/digestPlan.js";

type Entity = Record<string, unknown>;
/** Not per mode: the live and redirect ledgers share the mail service, and so its status-read limit. */
const STATUS_READS = "status-reads";
/**
 * A Table string property holds at most 64 KiB of UTF-16, 32K characters (Microsoft Learn, "Understanding the Table
 * service data model", property types: "String: A UTF-16-encoded value. String values can be up to 64 KiB in size";
 * Azurite refuses more with PropertyValueTooLarge). Longer JSON is split over several; longer text is cut (fitText).
 */
const CHUNK = 30_000;
/** Independent writes of one call in flight at once (finding-state batches, a message's item histories). */
const WRITES_IN_FLIGHT = 8;
/**
 * Finding states are spread over 16 partitions, `finding-0` to `finding-f`, by the first digit of their row key (a
 * sha256 of the finding id, so evenly). Azure's target for one table partition is up to 2,000 entities a second, and
 * past what a partition handles it answers 503 Server Busy; the target for the whole account is 20,000 transactions a
 * second (Microsoft Learn, "Scalability and performance targets for Table storage"). In one partition, the 45,000
 * states of a 100,000-account tenant took at least 22 s to read and as long to write, twice a run, growing with the
 * tenant; over sixteen (16 x 2,000 > 20,000) the account's target comes first, and the sixteen are read at once.
 */
const FINDING_PARTITIONS = [..."0123456789abcdef"].map((digit) => `finding-${digit}`);
/**
 * Where builds before FINDING_PARTITIONS kept every state. The first save copies them into the sixteen and then
 * records the move (FINDINGS_MOVED); the rows stay, as they were that day, for such a build should it be rolled back to.
 */
const LEGACY_FINDINGS = "finding";
const FINDINGS_MOVED = { partitionKey: "meta", rowKey: "finding-partitions" } as const;

export class TableLedger implements ReminderLedger {
  private ready: Promise<void> | undefined;
  private moved = false;

  constructor(
    private readonly table: TableClient,
    private readonly mode: "live" | "redirect" = "live",
  ) {}

  async histories(): Promise<Map<string, ReminderHistory>> {
    const map = new Map<string, ReminderHistory>();
    for (const e of await this.list(`history-${this.mode}`)) map.set(historyKey(String(e.owner), String(e.findingId)), fromHistoryEntity(e));
    return map;
  }

  /** One (owner, finding) history by its keys; undefined when there is none yet. */
  private async history(owner: string, findingId: string): Promise<ReminderHistory | undefined> {
    await this.ensureTable();
    try {
      return fromHistoryEntity(await this.table.getEntity<Entity>(`history-${this.mode}`, hashKey(historyKey(owner, findingId))));
    } catch (error) {
      if (isRestError(error) && error.statusCode === 404) return undefined;
      throw unavailable("read", error);
    }
  }

  async outbox(filter: { status?: OutboxEntry["status"] } = {}): Promise<OutboxEntry[]> {
    const extra = filter.status ? ` and status eq '${filter.status}'` : "";
    return (await this.list(`outbox-${this.mode}`, extra)).map(fromOutboxEntity);
  }

  async recordIntent(entry: OutboxEntry): Promise<"recorded" | "exists"> {
    const partitionKey = `outbox-${this.mode}`;
    try {
      await this.write(() => this.table.createEntity({ partitionKey, rowKey: entry.operationId, ...toOutboxEntity(entry) }));
      return "recorded";
    } catch (error) {
      if (!(error instanceof AuditError && error.statusCode === 409)) throw error;
    }
    let existing: TableEntityResult<Entity>;
    try {
      existing = await this.table.getEntity<Entity>(partitionKey, entry.operationId);
    } catch (error) {
      throw unavailable("read", error);
    }
    if (existing.status !== "abandoned") return "exists";
    // The etag makes this a compare-and-swap: of two runs reviving the same abandoned entry, one wins.
    try {
      await this.write(() =>
        this.table.updateEntity({ partitionKey, rowKey: entry.operationId, ...toOutboxEntity(entry) }, "Replace", { etag: existing.etag }),
      );
      return "recorded";
    } catch (error) {
      if (error instanceof AuditError && error.statusCode === 412) return "exists";
      throw error;
    }
  }

  async recordOutcome(entry: OutboxEntry, outcome: { status: "sent" | "failed" | "abandoned"; error?: string }, at: string): Promise<void> {
    if (outcome.status === "sent") {
      // Histories first: if the process dies between the two writes, the entry stays pending, the next run looks
      // the operation up again and re-applies these updates, which are idempotent.
      // Each item's history is its own row: a few at once (a digest can carry hundreds of items); one after the
      // other should a finding be listed twice, so the second sees the first's write.
      const distinct = new Set(entry.items.map((i) => i.findingId)).size === entry.items.length;
      await eachConcurrently(entry.items, distinct ? WRITES_IN_FLIGHT : 1, async (item) => {
        const before = await this.history(entry.owner, item.findingId);
        if (isRecorded(before, item.milestone, entry.asOf)) return;
        const { sent, ...after } = recordReminder(before, item, entry.asOf);
        await this.write(() =>
          this.table.upsertEntity(
            {
              partitionKey: `history-${this.mode}`,
              rowKey: hashKey(historyKey(entry.owner, item.findingId)),
              owner: entry.owner.toLowerCase(),
              findingId: item.findingId,
              ...after,
              sent: JSON.stringify(sent ?? []),
            },
            "Replace",
          ),
        );
      });
    }
    // Merge: a delivery report that arrived between the 202 and this write (the Event Grid trigger runs on its own)
    // is kept.
    const { delivery: _kept, ...rest } = entry;
    await this.write(() =>
      this.table.upsertEntity(
        {
          partitionKey: `outbox-${this.mode}`,
          rowKey: entry.operationId,
          ...toOutboxEntity({ ...rest, status: outcome.status, ...(outcome.error ? { error: outcome.error } : {}), updatedAt: at }),
        },
        "Merge",
      ),
    );
  }

  async recordDelivery(report: DeliveryReport): Promise<"recorded" | "unchanged" | "unknown"> {
    const partitionKey = `outbox-${this.mode}`;
    await this.ensureTable();
    let existing: TableEntityResult<Entity>;
    try {
      existing = await this.table.getEntity<Entity>(partitionKey, report.messageId.toLowerCase());
    } catch (error) {
      if (isRestError(error) && error.statusCode === 404) return "unknown";
      throw unavailable("read", error);
    }
    // The first final status stands: a duplicate, late or out-of-order report changes nothing (beyond settling an
    // intent a crash left pending after its report was written).
    if (typeof existing.deliveryStatus === "string" && existing.deliveryStatus !== "") {
      await this.settle(existing, report.at);
      return "unchanged";
    }
    try {
      // The etag makes this a compare-and-swap: of two reports landing at once, one is kept.
      await this.write(() =>
        this.table.updateEntity(
          { partitionKey, rowKey: report.messageId.toLowerCase(), deliveryStatus: report.status, deliveryAt: report.at, deliveryDetails: fitText(report.details ?? "") },
          "Merge",
          { etag: existing.etag },
        ),
      );
    } catch (error) {
      if (error instanceof AuditError && error.statusCode === 412) return "unchanged";
      throw error;
    }
    await this.settle(existing, report.at);
    return "recorded";
  }

  /**
   * A delivery report proves the service accepted the message: an intent still pending (its 202 was lost) or
   * abandoned (the status API answered 404 past the grace) is settled as sent, moving the histories on, so it is
   * never sent again. Idempotent, like recordOutcome; a crash before it leaves the report on a pending intent, which
   * the next run's recovery settles without a status read.
   */
  private async settle(existing: Entity, at: string): Promise<void> {
    if (existing.status !== "pending" && existing.status !== "abandoned") return;
    const { error: _notFound, delivery: _kept, ...entry } = fromOutboxEntity(existing);
    await this.recordOutcome(entry, { status: "sent" }, at);
  }

  /** Of every mode: the live and redirect ledgers send through one mail resource, and its limits are the resource's. */
  async acceptedSince(isoTime: string): Promise<string[]> {
    const since = ` and status eq 'sent' and updatedAt ge '${isoTime.replace(/'/g, "")}'`;
    const rows = [...(await this.list("outbox-live", since)), ...(await this.list("outbox-redirect", since))];
    return rows.map((e) => String(e.updatedAt)).sort();
  }

  async statusReadsSince(isoTime: string): Promise<number> {
    const rows = await this.list(STATUS_READS, ` and lastAt gt '${isoTime.replace(/'/g, "")}'`);
    return rows.reduce((n, e) => n + Number(e.count ?? 0), 0);
  }

  async recordStatusReads(batch: string, count: number, at: string): Promise<void> {
    await this.write(() => this.table.upsertEntity({ partitionKey: STATUS_READS, rowKey: hashKey(batch), batch, count, lastAt: at }, "Replace"));
  }

  /**
   * Every finding state, from the sixteen partitions at once, and from the one partition of earlier builds until
   * their states were moved. A state in both (a move that stopped before it was recorded) is the newer one, the
   * sixteen's: nothing writes the old one.
   */
  async findingStates(): Promise<FindingState[]> {
    const legacy = (await this.findingsMoved()) ? [] : await this.list(LEGACY_FINDINGS);
    const rows = (await Promise.all(FINDING_PARTITIONS.map((partition) => this.list(partition)))).flat();
    if (legacy.length > 0) {
      const moved = new Set(rows.map((e) => String(e.rowKey)));
      rows.push(...legacy.filter((e) => !moved.has(String(e.rowKey))));
      rows.sort((a, b) => String(a.rowKey).localeCompare(String(b.rowKey)));
    }
    return rows.map(fromFindingEntity);
  }

  async saveFindingStates(given: FindingState[]): Promise<void> {
    // A batch may not name one row twice (the service refuses the whole batch), so a finding given twice is written
    // once, as last given.
    await this.writeFindings([...new Map(given.map((s) => [hashKey(s.findingId), s])).values()]);
    if (!(await this.findingsMoved())) await this.moveLegacyFindings();
  }

  /**
   * Batches of 100 in one partition (a batch may span only one, Learn "Performing entity group transactions") are
   * atomic and far fewer round trips than one call per finding; a few go at once (each names other rows, so their
   * order does not matter): at 45,000 findings, 450 batches one after the other spent about 10 s waiting on round trips.
   */
  private async writeFindings(states: readonly FindingState[]): Promise<void> {
    const byPartition = new Map<string, FindingState[]>();
    for (const s of states) {
      const partition = findingPartition(hashKey(s.findingId));
      const list = byPartition.get(partition);
      if (list) list.push(s);
      else byPartition.set(partition, [s]);
    }
    const batches = [...byPartition.values()].flatMap((list) => Array.from({ length: Math.ceil(list.length / 100) }, (_, i) => list.slice(i * 100, i * 100 + 100)));
    await eachConcurrently(batches, WRITES_IN_FLIGHT, async (batch) => {
      await this.write(() => this.table.submitTransaction(batch.map((s) => ["upsert", toFindingEntity(s), "Replace"])));
    });
  }

  /**
   * States an earlier build kept in its one partition are copied into the sixteen, unless a newer one is there
   * already, and the move is recorded only then: a stop anywhere loses nothing (findingStates reads both until it is
   * recorded). Called on saves only, which a run makes holding the run lock.
   */
  private async moveLegacyFindings(): Promise<void> {
    const legacy = await this.list(LEGACY_FINDINGS);
    if (legacy.length > 0) {
      const present = new Set((await Promise.all(FINDING_PARTITIONS.map((partition) => this.list(partition, "", ["RowKey"])))).flat().map((e) => String(e.rowKey)));
      await this.writeFindings(legacy.filter((e) => !present.has(String(e.rowKey))).map(fromFindingEntity));
    }
    await this.write(() => this.table.upsertEntity({ ...FINDINGS_MOVED, rows: legacy.length }, "Replace"));
    this.moved = true;
  }

  /** Whether the states of builds before FINDING_PARTITIONS were moved (read once per ledger, as it does not go back). */
  private async findingsMoved(): Promise<boolean> {
    if (this.moved) return true;
    await this.ensureTable();
    try {
      await this.table.getEntity(FINDINGS_MOVED.partitionKey, FINDINGS_MOVED.rowKey);
      this.moved = true;
    } catch (error) {
      if (!(isRestError(error) && error.statusCode === 404)) throw unavailable("read", error);
    }
    return this.moved;
  }

  async recordRun(run: RunRecord): Promise<void> {
    await this.write(() => this.table.upsertEntity({ partitionKey: "run", rowKey: run.date, ...run }, "Replace"));
  }

  async runHistory(): Promise<RunRecord[]> {
    return (await this.list("run"))
      .map((e) => ({
        date: String(e.date),
        runId: String(e.runId),
        open: Number(e.open),
        critical: Number(e.critical),
        warning: Number(e.warning),
        resolved: Number(e.resolved),
        complete: Boolean(e.complete),
        completedAt: String(e.completedAt),
        ...(e.migrated === undefined || e.migrated === null ? {} : { migrated: Number(e.migrated) }),
      }))
      .sort((a, b) => a.date.localeCompare(b.date));
  }

  private async list(partition: string, extraFilter = "", select?: string[]): Promise<Entity[]> {
    await this.ensureTable();
    const rows: Entity[] = [];
    try {
      const iterator = this.table.listEntities<Entity>({ queryOptions: { filter: `PartitionKey eq '${partition}'${extraFilter}`, ...(select ? { select } : {}) } });
      for await (const e of iterator) rows.push(e as TableEntityResult<Entity>);
    } catch (error) {
      throw unavailable("read", error);
    }
    return rows;
  }

  private async write(op: () => Promise<unknown>): Promise<void> {
    await this.ensureTable();
    try {
      await op();
    } catch (error) {
      throw unavailable("write", error);
    }
  }

  private ensureTable(): Promise<void> {
    this.ready ??= this.table.createTable().then(
      () => undefined,
      (error: unknown) => {
        this.ready = undefined;
        throw unavailable("create", error);
      },
    );
    return this.ready;
  }
}

function unavailable(what: string, error: unknown): AuditError {
  const status = error instanceof RestError ? error.statusCode : undefined;
  return new AuditError("LEDGER.UNAVAILABLE", `The reminder ledger could not ${what} (${ensureError(error).message})`, {
    retryable: status === undefined || status >= 500,
    ...(status === undefined ? {} : { statusCode: status }),
    cause: error,
  });
}

export function hashKey(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 48);
}

function toOutboxEntity(entry: OutboxEntry): Entity {
  const items = JSON.stringify(entry.items);
  const chunks: Entity = {};
  for (let i = 0; i * CHUNK < items.length; i++) chunks[`items${i}`] = items.slice(i * CHUNK, (i + 1) * CHUNK);
  return {
    kind: entry.kind,
    recipient: entry.recipient,
    owner: entry.owner,
    asOf: entry.asOf,
    runId: entry.runId,
    status: entry.status,
    error: fitText(entry.error ?? ""),
    updatedAt: entry.updatedAt,
    itemChunks: Object.keys(chunks).length,
    ...chunks,
    // At most MAX_NAMINGS_PER_MESSAGE pairs of 16-digit fingerprints: well within one string property.
    ...(entry.namedBy?.length ? { namedBy: JSON.stringify(entry.namedBy) } : {}),
  };
}

/**
 * Text as one Table string property takes it: a longer delivery report's statusMessage (its size is not documented)
 * or error is cut, saying how long it was, rather than failing the write (and every redelivery of the event after it).
 * Never between the two halves of a surrogate pair.
 */
export function fitText(text: string): string {
  if (text.length <= CHUNK) return text;
  const note = `… (${text.length} characters, cut)`;
  let end = CHUNK - note.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}${note}`;
}

function findingPartition(rowKey: string): string {
  return `finding-${rowKey[0]}`;
}

function toFindingEntity(s: FindingState): Entity & { partitionKey: string; rowKey: string } {
  const rowKey = hashKey(s.findingId);
  return { partitionKey: findingPartition(rowKey), rowKey, ...s, owners: JSON.stringify(s.owners), resolvedOn: s.resolvedOn ?? "" };
}

function fromFindingEntity(e: Entity): FindingState {
  return {
    findingId: String(e.findingId),
    kind: String(e.kind),
    resourceId: String(e.resourceId),
    accountId: String(e.accountId),
    accountName: String(e.accountName),
    subscriptionId: String(e.subscriptionId),
    severity: String(e.severity),
    owners: JSON.parse(String(e.owners ?? "[]")) as string[],
    firstSeen: String(e.firstSeen),
    lastSeen: String(e.lastSeen),
    ...(e.resolvedOn ? { resolvedOn: String(e.resolvedOn) } : {}),
  };
}

function fromHistoryEntity(e: Entity): ReminderHistory {
  return {
    ...(e.firstNotifiedOn ? { firstNotifiedOn: String(e.firstNotifiedOn) } : {}),
    ...(e.lastNotifiedOn ? { lastNotifiedOn: String(e.lastNotifiedOn) } : {}),
    ...(e.lastMilestone ? { lastMilestone: String(e.lastMilestone) } : {}),
    overdueRemindersSent: Number(e.overdueRemindersSent ?? 0),
    ...(typeof e.sent === "string" && e.sent !== "" ? { sent: parseSent(e.sent) } : {}),
  };
}

function parseSent(json: string): { on: string; milestone: string }[] {
  const value = JSON.parse(json) as unknown;
  if (!Array.isArray(value)) return [];
  return value.filter((s): s is { on: string; milestone: string } => typeof s?.on === "string" && typeof s?.milestone === "string");
}

function fromOutboxEntity(e: Entity): OutboxEntry {
  let items = "";
  for (let i = 0; i < Number(e.itemChunks ?? 0); i++) items += String(e[`items${i}`] ?? "");
  return {
    operationId: String(e.rowKey),
    kind: String(e.kind) as OutboxEntry["kind"],
    recipient: String(e.recipient),
    owner: String(e.owner),
    asOf: String(e.asOf),
    runId: String(e.runId),
    items: items ? (JSON.parse(items) as OutboxEntry["items"]) : [],
    status: String(e.status) as OutboxEntry["status"],
    ...(e.error ? { error: String(e.error) } : {}),
    updatedAt: String(e.updatedAt),
    ...(typeof e.namedBy === "string" && e.namedBy !== "" ? { namedBy: parseNamings(e.namedBy) } : {}),
    ...(isDeliveryStatus(e.deliveryStatus)
      ? { delivery: { status: e.deliveryStatus, at: String(e.deliveryAt ?? ""), ...(e.deliveryDetails ? { details: String(e.deliveryDetails) } : {}) } }
      : {}),
  };
}

/** Rows written before namings were recorded have none: their marks hold wherever the address appears, as before. */
function parseNamings(json: string): TagNaming[] {
  const value = JSON.parse(json) as unknown;
  if (!Array.isArray(value)) return [];
  return value.filter((n): n is TagNaming => typeof n?.tag === "string" && typeof n?.value === "string");
}

function isDeliveryStatus(value: unknown): value is NonNullable<OutboxEntry["delivery"]>["status"] {
  return typeof value === "string" && (DELIVERY_REPORT_STATUSES as readonly string[]).includes(value);
}

/**
 * Runs `work` for every item, at most `limit` at once. Once one fails no further item is started; the first failure
 * is thrown when those already started have settled.
 */
async function eachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (rejected) throw rejected.reason;
}
