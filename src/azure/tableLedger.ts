// ReminderLedger over Azure Table Storage (@azure/data-tables). One table, partitions by record type and mode:
//   history-<mode>-<0..f>  one entity per (owner, finding): when they were last told, which milestone (SPREAD)
//   outbox-<mode>   one entity per message: intent before sending, outcome after
//   finding-<0..f>  one entity per finding: first seen, last seen, not seen since, resolved (SPREAD)
//   history-<mode>, finding   the same, as builds before the spread kept them, left as they were when moved
//   meta            one entity per spread record type: that the earlier build's rows were moved; and the day of the
//                   last tracking of the finding states (TRACKED_ROW)
//   run             one entity per day: counts, for trends
//   status-reads    one entity per batch of status reads (a recovery), for the hourly read limit across runs
// Keys are hashes: Table keys may not hold '/', '#', '?' or control characters, and resource ids do.
import { createHash } from "node:crypto";
import { isRestError, RestError } from "@azure/core-rest-pipeline";
import type { TableClient, TableEntityResult } from "@azure/data-tables";
import { AuditError, ensureError } from "../core/errors.js";
import type { TagNaming } from "../core/model.js";
import { isIsoDay } from "../core/dates.js";
import { groupBy } from "../core/findings.js";
import { DELIVERY_REPORT_STATUSES, type DeliveryReport, type FindingState, type OutboxEntry, type OutboxFilter, type OutboxStatus, type ReminderLedger, type RunRecord } from "../core/ports.js";
import { isRecorded, recordReminder, type ReminderHistory } from "../core/schedule.js";
import { historyKey } from "../core/digestPlan.js";
import { asTracked } from "../core/trackFindings.js";

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
/** Partitions listed at once by a read of all of them (the histories, the finding states). */
const READS_IN_FLIGHT = 4;
/**
 * A record type read whole every run, spread over sixteen partitions, `<base>-0` to `<base>-f`, by the first digit of
 * its row key (a sha256, so evenly). Azure's target for one table partition is up to 2,000 entities a second, and past
 * what a partition handles it answers 503 Server Busy; the target for the whole account is 20,000 transactions a second
 * (Microsoft Learn, "Scalability and performance targets for Table storage"). In one partition, the 45,000 finding
 * states of a 100,000-account tenant took at least 22 s to read and as long to write, twice a run, and its reminder
 * histories as many once every owner was told: growing with the tenant. Over sixteen (16 x 2,000 > 20,000) the
 * account's target comes first, and the sixteen are read at once.
 *
 * `<base>` alone is where builds before the spread kept every row. It is read as well until its rows are moved
 * (moveOnce: copied where the sixteen have none, then recorded in `meta`), and left as it was that day, for such a
 * build should it be rolled back to.
 */
interface Spread {
  base: string;
  partitions: string[];
}

function spread(base: string): Spread {
  return { base, partitions: [..."0123456789abcdef"].map((digit) => `${base}-${digit}`) };
}

function partitionOf(records: Spread, rowKey: string): string {
  return `${records.base}-${rowKey[0]}`;
}

const FINDINGS = spread("finding");
const MOVED_PARTITION = "meta";
/** In `meta`: the day the last tracking recorded (`saveFindingStates`), which open states not written since were seen. */
const TRACKED_ROW = "finding-tracked";

export class TableLedger implements ReminderLedger {
  private ready: Promise<void> | undefined;
  /** Per spread record type: its earlier build's rows moved (true), or being moved. */
  private readonly moves = new Map<string, true | Promise<void>>();
  private readonly historyRows: Spread;

  constructor(
    private readonly table: TableClient,
    private readonly mode: "live" | "redirect" = "live",
  ) {
    this.historyRows = spread(`history-${mode}`);
  }

  async histories(): Promise<Map<string, ReminderHistory>> {
    return new Map(await this.listSpread(this.historyRows, (e) => [historyKey(String(e.owner), String(e.findingId)), fromHistoryEntity(e)] as const));
  }

  /** One (owner, finding) history by its keys; undefined when there is none yet. Only once the histories were moved. */
  private async history(owner: string, findingId: string): Promise<ReminderHistory | undefined> {
    await this.ensureTable();
    const rowKey = hashKey(historyKey(owner, findingId));
    try {
      return fromHistoryEntity(await this.table.getEntity<Entity>(partitionOf(this.historyRows, rowKey), rowKey));
    } catch (error) {
      if (isRestError(error) && error.statusCode === 404) return undefined;
      throw unavailable("read", error);
    }
  }

  /**
   * With `since`, Azure still scans the partition (asOf is not a key), but only the days asked for are sent back and
   * held: the memory of a run does not grow with the outbox's age.
   */
  async outbox(filter: OutboxFilter = {}): Promise<OutboxEntry[]> {
    return this.list(`outbox-${this.mode}`, outboxQuery(filter), undefined, fromOutboxEntity);
  }

  /** Only the columns of an OutboxStatus are asked for (Table `$select`): not the items' chunks, nor the namings. */
  async outboxStatuses(filter: OutboxFilter = {}): Promise<OutboxStatus[]> {
    return this.list(`outbox-${this.mode}`, outboxQuery(filter), OUTBOX_STATUS_COLUMNS, fromOutboxStatusEntity);
  }

  async recordIntent(entry: OutboxEntry): Promise<"recorded" | "exists"> {
    // The histories an earlier build kept are moved before a run's first send, not between a send and its outcome
    // (recordOutcome moves them too, for the delivery-report trigger): a crash in there would leave the send pending.
    await this.moveOnce(this.historyRows);
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
      // Histories an earlier build kept in one partition are moved before any is read or written by its keys.
      await this.moveOnce(this.historyRows);
      // Histories first: if the process dies between the two writes, the entry stays pending, the next run looks
      // the operation up again and re-applies these updates, which are idempotent.
      // Each item's history is its own row: a few at once (a digest can carry hundreds of items); one after the
      // other should a finding be listed twice, so the second sees the first's write.
      const distinct = new Set(entry.items.map((i) => i.findingId)).size === entry.items.length;
      await eachConcurrently(entry.items, distinct ? WRITES_IN_FLIGHT : 1, async (item) => {
        const before = await this.history(entry.owner, item.findingId);
        if (isRecorded(before, item.milestone, entry.asOf)) return;
        const { sent, ...after } = recordReminder(before, item, entry.asOf);
        const rowKey = hashKey(historyKey(entry.owner, item.findingId));
        await this.write(() =>
          this.table.upsertEntity(
            {
              partitionKey: partitionOf(this.historyRows, rowKey),
              rowKey,
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

  async findingStates(): Promise<FindingState[]> {
    const trackedOn = await this.trackedOn();
    return this.listSpread(FINDINGS, (e) => asTracked(fromFindingEntity(e), trackedOn));
  }

  /** The day the last tracking recorded; none before the first (or from a build before it was recorded). */
  private async trackedOn(): Promise<string | undefined> {
    await this.ensureTable();
    try {
      const day = (await this.table.getEntity<Entity>(MOVED_PARTITION, TRACKED_ROW)).day;
      // Not a day (written by hand?): the states' own days, which can only understate when they were last seen.
      return typeof day === "string" && isIsoDay(day) ? day : undefined;
    } catch (error) {
      if (isRestError(error) && error.statusCode === 404) return undefined;
      throw unavailable("read", error);
    }
  }

  /**
   * Batches of 100 in one partition (a batch may span only one, Learn "Performing entity group transactions") are
   * atomic and far fewer round trips than one call per finding; a few go at once (each names other rows, so their
   * order does not matter): at 45,000 findings, 450 batches one after the other spent about 10 s waiting on round trips.
   */
  async saveFindingStates(given: FindingState[], trackedOn?: string): Promise<void> {
    await this.moveOnce(FINDINGS);
    // A batch may not name one row twice (the service refuses the whole batch), so a finding given twice is written
    // once, as last given.
    // Each batch's entities are made as it goes (at 45,000 states, made all at once they were about 20 MB more).
    const states = new Map(given.map((s) => [hashKey(s.findingId), s]));
    await eachConcurrently(batchesByPartition([...states.keys()], (rowKey) => partitionOf(FINDINGS, rowKey)), WRITES_IN_FLIGHT, async (batch) => {
      await this.write(() => this.table.submitTransaction(batch.map((rowKey) => ["upsert", toFindingEntity(states.get(rowKey) as FindingState), "Replace"])));
    });
    // Only once every state is written: a stop before leaves the day before, which understates, never overstates.
    if (trackedOn !== undefined) await this.write(() => this.table.upsertEntity({ partitionKey: MOVED_PARTITION, rowKey: TRACKED_ROW, day: trackedOn }, "Replace"));
  }

  async forgetFindingStates(findingIds: readonly string[]): Promise<void> {
    await this.forget(FINDINGS, findingIds);
  }

  async forgetHistories(keys: readonly string[]): Promise<void> {
    await this.forget(this.historyRows, keys);
  }

  /**
   * Deletes the rows of a spread record type by their unhashed keys, batched per partition like the saves. The earlier
   * build's rows are moved first: until then they are read as well, and its copy of a deleted row would be read again.
   * They stay as they are, like the rest of that partition.
   */
  private async forget(records: Spread, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.moveOnce(records);
    const rowKeys = [...new Set(keys.map(hashKey))];
    await eachConcurrently(batchesByPartition(rowKeys, (rowKey) => partitionOf(records, rowKey)), WRITES_IN_FLIGHT, (batch) => this.deleteWhereAny(records, batch));
  }

  /**
   * Deletes the rows of one partition that exist: as one batch, or (one is gone: a batch the SDK retried after the
   * service had applied it, or another process's delete; the service refuses the whole batch, Learn "Performing entity
   * group transactions") one by one, where a 404 is no error and any other refusal is the call's own.
   */
  private async deleteWhereAny(records: Spread, rowKeys: readonly string[]): Promise<void> {
    const keyOf = (rowKey: string) => ({ partitionKey: partitionOf(records, rowKey), rowKey });
    try {
      await this.write(() => this.table.submitTransaction(rowKeys.map((rowKey) => ["delete", keyOf(rowKey)])));
      return;
    } catch (error) {
      if (!(error instanceof AuditError && error.statusCode !== undefined && error.statusCode < 500)) throw error;
    }
    for (const rowKey of rowKeys) {
      try {
        await this.write(() => this.table.deleteEntity(keyOf(rowKey).partitionKey, rowKey));
      } catch (error) {
        if (!(error instanceof AuditError && error.statusCode === 404)) throw error;
      }
    }
  }

  /**
   * Every row of a spread record type, from its sixteen partitions (`eachPartition`), and from the one partition of earlier
   * builds until its rows were moved. A row in both (a move that stopped before it was recorded) is the newer one, the
   * sixteen's: nothing of this build writes the old one.
   */
  private async listSpread<T>(records: Spread, map: (e: Entity) => T): Promise<T[]> {
    const legacy = (await this.moved(records)) ? [] : await this.list(records.base);
    // Each row becomes what it is read as when it arrives, not once the last has. A week on, at 100,000 accounts, the
    // heap rose by up to 70 MB while the 45,000 histories were read, with every row the service sent held until then.
    if (legacy.length === 0) return this.eachPartition(records, (partition) => this.list(partition, "", undefined, map));
    const rows = await this.eachPartition(records, (partition) => this.list(partition));
    const moved = new Set(rows.map((e) => String(e.rowKey)));
    rows.push(...legacy.filter((e) => !moved.has(String(e.rowKey))));
    return rows.sort((a, b) => String(a.rowKey).localeCompare(String(b.rowKey))).map(map);
  }

  /**
   * The partitions' rows in partition order, `READS_IN_FLIGHT` partitions read at once: each holds a page of up to
   * 1,000 rows while it is read, and all sixteen at once took the heap up by up to 88 MB while the 45,000 histories of
   * a 100,000-account tenant were read, a week on (docs/benchmarks.md, eighteenth pass).
   */
  private async eachPartition<T>(records: Spread, read: (partition: string) => Promise<T[]>): Promise<T[]> {
    const rows: T[][] = [];
    await eachConcurrently(records.partitions.map((partition, index) => ({ partition, index })), READS_IN_FLIGHT, async ({ partition, index }) => {
      rows[index] = await read(partition);
    });
    return rows.flat();
  }

  /**
   * Moves the rows an earlier build kept in the one partition into the sixteen, once per ledger: each is created where
   * none is (never over a row of this build, which is newer, even one another process writes meanwhile: the Event
   * Grid trigger records histories outside the run lock), and the move is recorded only then. A stop anywhere loses
   * nothing: until it is recorded, both are read, and the next move creates what is still missing.
   */
  private moveOnce(records: Spread): Promise<void> {
    const known = this.moves.get(records.base);
    if (known === true) return Promise.resolve();
    if (known) return known;
    const move = (async () => {
      if (await this.moved(records)) return;
      const legacy = await this.list(records.base);
      if (legacy.length > 0) {
        // What an earlier move that stopped short (or another process) already created is left out, so that a move
        // run again costs what is still missing, not a refused batch and a hundred single creates per batch.
        const present = new Set((await this.eachPartition(records, (partition) => this.list(partition, "", ["RowKey"]))).map((e) => String(e.rowKey)));
        const copies = legacy
          .filter((e) => !present.has(String(e.rowKey)))
          .map(({ etag: _etag, timestamp: _timestamp, partitionKey: _partition, ...row }) => ({ ...row, partitionKey: partitionOf(records, String(row.rowKey)), rowKey: String(row.rowKey) }));
        await eachConcurrently(batchesByPartition(copies, (row) => row.partitionKey), WRITES_IN_FLIGHT, (batch) => this.createWhereNone(batch));
      }
      await this.write(() => this.table.upsertEntity({ partitionKey: MOVED_PARTITION, rowKey: records.base, rows: legacy.length }, "Replace"));
    })();
    this.moves.set(records.base, move);
    return move.then(
      () => void this.moves.set(records.base, true),
      (error: unknown) => {
        this.moves.delete(records.base);
        throw error;
      },
    );
  }

  /** Creates the rows of one partition that do not exist: as one batch, or (some exist: the batch is refused) one by one. */
  private async createWhereNone(rows: readonly KeyedEntity[]): Promise<void> {
    try {
      await this.write(() => this.table.submitTransaction(rows.map((row) => ["create", row])));
      return;
    } catch (error) {
      if (!(error instanceof AuditError && error.statusCode !== undefined && error.statusCode < 500)) throw error;
    }
    for (const row of rows) {
      try {
        await this.write(() => this.table.createEntity(row));
      } catch (error) {
        if (!(error instanceof AuditError && error.statusCode === 409)) throw error;
      }
    }
  }

  /** Whether a spread record type's earlier rows were moved (read until it says so: it does not go back). */
  private async moved(records: Spread): Promise<boolean> {
    if (this.moves.get(records.base) === true) return true;
    await this.ensureTable();
    try {
      await this.table.getEntity(MOVED_PARTITION, records.base);
    } catch (error) {
      if (isRestError(error) && error.statusCode === 404) return false;
      throw unavailable("read", error);
    }
    this.moves.set(records.base, true);
    return true;
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

  /**
   * The partition's rows (those `extraFilter` keeps, only the `select` columns), each as `map` makes it when it arrives.
   * An error of `map` (a row that is not what it should be) is thrown as it is: reading again would not mend it.
   */
  private async list<T = Entity>(partition: string, extraFilter = "", select?: string[], map: (e: Entity) => T = (e) => e as T): Promise<T[]> {
    await this.ensureTable();
    const rows: T[] = [];
    let unreadable: { error: unknown } | undefined;
    try {
      const iterator = this.table.listEntities<Entity>({ queryOptions: { filter: `PartitionKey eq '${partition}'${extraFilter}`, ...(select ? { select } : {}) } });
      for await (const e of iterator) {
        try {
          rows.push(map(e as TableEntityResult<Entity>));
        } catch (error) {
          unreadable = { error };
          throw error;
        }
      }
    } catch (error) {
      throw unreadable ? unreadable.error : unavailable("read", error);
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

type KeyedEntity = Entity & { partitionKey: string; rowKey: string };

/** Rows in batches of at most 100, each of one partition (what an entity group transaction may hold). */
function batchesByPartition<T>(rows: readonly T[], partitionOfRow: (row: T) => string): T[][] {
  return [...groupBy(rows, partitionOfRow).values()].flatMap((list) => Array.from({ length: Math.ceil(list.length / 100) }, (_, i) => list.slice(i * 100, i * 100 + 100)));
}

function toFindingEntity(s: FindingState): KeyedEntity {
  const rowKey = hashKey(s.findingId);
  return { partitionKey: partitionOf(FINDINGS, rowKey), rowKey, ...s, owners: JSON.stringify(s.owners), notSeenSince: s.notSeenSince ?? "", resolvedOn: s.resolvedOn ?? "" };
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
    ...(e.notSeenSince ? { notSeenSince: String(e.notSeenSince) } : {}),
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

/** The filter of an outbox read (only `since` is text, and it must be a day). */
function outboxQuery(filter: OutboxFilter): string {
  if (filter.since !== undefined && !isIsoDay(filter.since)) throw new AuditError("LEDGER.UNAVAILABLE", `Not a day: ${JSON.stringify(filter.since)}`);
  const since = filter.since ? (filter.orPending ? ` and (asOf ge '${filter.since}' or status eq 'pending')` : ` and asOf ge '${filter.since}'`) : "";
  return (filter.status ? ` and status eq '${filter.status}'` : "") + since;
}

/** The columns fromOutboxStatusEntity reads. */
const OUTBOX_STATUS_COLUMNS = ["RowKey", "kind", "recipient", "owner", "asOf", "status", "deliveryStatus", "deliveryAt", "deliveryDetails"];

function fromOutboxStatusEntity(e: Entity): OutboxStatus {
  return {
    operationId: String(e.rowKey),
    kind: String(e.kind) as OutboxEntry["kind"],
    recipient: String(e.recipient),
    owner: String(e.owner),
    asOf: String(e.asOf),
    status: String(e.status) as OutboxEntry["status"],
    ...(isDeliveryStatus(e.deliveryStatus)
      ? { delivery: { status: e.deliveryStatus, at: String(e.deliveryAt ?? ""), ...(e.deliveryDetails ? { details: String(e.deliveryDetails) } : {}) } }
      : {}),
  };
}

function fromOutboxEntity(e: Entity): OutboxEntry {
  let items = "";
  for (let i = 0; i < Number(e.itemChunks ?? 0); i++) items += String(e[`items${i}`] ?? "");
  return {
    ...fromOutboxStatusEntity(e),
    runId: String(e.runId),
    items: items ? (JSON.parse(items) as OutboxEntry["items"]) : [],
    ...(e.error ? { error: String(e.error) } : {}),
    updatedAt: String(e.updatedAt),
    ...(typeof e.namedBy === "string" && e.namedBy !== "" ? { namedBy: parseNamings(e.namedBy) } : {}),
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
