// The ledger's reads at scale, in Azurite: finding states and reminder histories over sixteen Table partitions each
// (where they land, and how the rows an earlier build kept in one partition are read and moved without losing or
// turning back any of them), and the outbox read by day.
import type { TableClient } from "@azure/data-tables";
import { describe, expect, it } from "vitest";
import { connectStorage } from "../../src/azure/storage.js";
import { hashKey, TableLedger } from "../../src/azure/tableLedger.js";
import { historyKey } from "../../src/core/digestPlan.js";
import type { FindingState, OutboxEntry } from "../../src/core/ports.js";
import { isolatedStorage, sharedAzurite } from "../support/auditRuns.js";

const azurite = sharedAzurite();

function ledgerTable(): TableClient {
  const env = isolatedStorage(azurite.connectionString);
  return connectStorage({ connectionString: env.AzureWebJobsStorage as string }).table(env.LEDGER_TABLE as string);
}

const state = (i: number, seen: Partial<FindingState> = {}): FindingState => ({
  findingId: `pool-certificate-reference:/subscriptions/s/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/a${i % 7}/pools/p${i}`,
  kind: "pool-certificate-reference",
  resourceId: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/a${i % 7}/pools/p${i}`,
  accountId: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/a${i % 7}`,
  accountName: `a${i % 7}`,
  subscriptionId: "s",
  severity: "critical",
  owners: [`owner${i % 3}@contoso.com`],
  firstSeen: "2026-10-01",
  lastSeen: "2026-12-01",
  ...seen,
});

/** Rows as builds before the spread wrote them: every one in the one partition of its kind ("finding", "history-live"). */
async function writeAsEarlierBuild(table: TableClient, partitionKey: string, rows: readonly (Record<string, unknown> & { rowKey: string })[]): Promise<void> {
  await table.createTable();
  for (let i = 0; i < rows.length; i += 100) await table.submitTransaction(rows.slice(i, i + 100).map((row) => ["upsert", { ...row, partitionKey }, "Replace"]));
}

const asEarlierBuildKept = (table: TableClient, states: readonly FindingState[]) =>
  writeAsEarlierBuild(
    table,
    "finding",
    states.map((s) => ({ rowKey: hashKey(s.findingId), ...s, owners: JSON.stringify(s.owners), resolvedOn: s.resolvedOn ?? "" })),
  );

async function rowsByPartition(table: TableClient): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const row of table.listEntities()) counts.set(row.partitionKey as string, (counts.get(row.partitionKey as string) ?? 0) + 1);
  return counts;
}

/** The table, recording the filter of each query the ledger makes, and the name of each other call. */
function spyingOnQueries(table: TableClient, scans: string[], calls: string[] = []): TableClient {
  return new Proxy(table, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === "listEntities") {
        return (options?: { queryOptions?: { filter?: string } }) => {
          scans.push(options?.queryOptions?.filter ?? "");
          return target.listEntities(options);
        };
      }
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

const byId = (states: readonly FindingState[]) => [...states].sort((a, b) => a.findingId.localeCompare(b.findingId));

describe("finding states over sixteen partitions", () => {
  it("are written to finding-0 to finding-f, none to the one partition, and read back whole", async () => {
    const table = ledgerTable();
    const ledger = new TableLedger(table);
    const states = Array.from({ length: 450 }, (_, i) => state(i, i % 5 === 0 ? { resolvedOn: "2026-12-01" } : {}));

    await ledger.saveFindingStates(states);

    const partitions = await rowsByPartition(table);
    // And the one row that says no earlier build's states are left to move.
    expect([...partitions.keys()].sort()).toEqual([...[..."0123456789abcdef"].map((d) => `finding-${d}`), "meta"]);
    expect([...partitions].filter(([p]) => p.startsWith("finding-")).reduce((n, [, rows]) => n + rows, 0)).toBe(450);
    expect(byId(await ledger.findingStates())).toEqual(byId(states));
  });

  it("are read with the last tracking's day as the last-seen day of the open states it did not write; one not seen since keeps its own, and a day that is not one is not used", async () => {
    const table = ledgerTable();
    const ledger = new TableLedger(table);
    const notSeen = state(1, { lastSeen: "2026-11-28", notSeenSince: "2026-11-29" });
    const resolved = state(2, { resolvedOn: "2026-12-02" });
    await ledger.saveFindingStates([state(0), notSeen, resolved], "2026-12-01");
    // A later tracking that wrote nothing: only its day.
    const calls: string[] = [];
    await new TableLedger(spyingOnQueries(table, [], calls)).saveFindingStates([], "2026-12-05");
    expect(calls).not.toContain("submitTransaction");
    expect(calls.filter((c) => c === "upsertEntity")).toHaveLength(1);

    const expected = [{ ...state(0), lastSeen: "2026-12-05" }, notSeen, resolved];
    // Read by another process, as the next run would.
    expect(byId(await new TableLedger(table).findingStates())).toEqual(byId(expected));
    // As stored: the open state's row still says the day it was written.
    const stored = await table.getEntity<Record<string, unknown>>(`finding-${hashKey(state(0).findingId)[0]}`, hashKey(state(0).findingId));
    expect(stored.lastSeen).toBe("2026-12-01");

    await table.upsertEntity({ partitionKey: "meta", rowKey: "finding-tracked", day: "soon" }, "Replace");
    expect(byId(await new TableLedger(table).findingStates())).toEqual(byId([state(0), notSeen, resolved]));

    // Seen again: written without `notSeenSince`, which is gone from the row, not left from before.
    const seenAgain = state(1, { lastSeen: "2026-12-06" });
    await ledger.saveFindingStates([seenAgain], "2026-12-06");
    expect(byId(await new TableLedger(table).findingStates())).toEqual(byId([{ ...state(0), lastSeen: "2026-12-06" }, seenAgain, resolved]));
  });

  it("a stop after the states are written and before the day: a later process reads those not written as seen on the tracking before", async () => {
    const table = ledgerTable();
    await new TableLedger(table).saveFindingStates([state(0), state(1)], "2026-12-01");
    // The process stops at the day's write: everything before it landed.
    const stopping = new Proxy(table, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (key === "upsertEntity") return () => Promise.reject(new Error("killed"));
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const notSeen = { ...state(1), notSeenSince: "2026-12-02" };
    await expect(new TableLedger(stopping).saveFindingStates([notSeen], "2026-12-02")).rejects.toThrow(/killed/);
    // state(0) was seen on the second day, not written, and reads as the first: one tracking early, never later.
    expect(byId(await new TableLedger(table).findingStates())).toEqual(byId([state(0), notSeen]));
  });

  /**
   * The same client, with each partition's listing counted from its first page asked for to its last one read;
   * `finding-0` answers last (its first page waits), and `failing` partitions fail as the service would.
   */
  function countedListings(table: TableClient, failing: readonly string[] = []) {
    const seen = { listing: 0, most: 0, partitions: [] as string[] };
    const client = new Proxy(table, {
      get(target, key) {
        if (key !== "listEntities") {
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === "function" ? value.bind(target) : value;
        }
        return (...args: Parameters<TableClient["listEntities"]>) => {
          const partition = /PartitionKey eq '([^']+)'/.exec(args[0]?.queryOptions?.filter ?? "")?.[1] ?? "";
          const rows = target.listEntities(...args);
          return (async function* () {
            seen.listing++;
            seen.most = Math.max(seen.most, seen.listing);
            seen.partitions.push(partition);
            try {
              if (partition === "finding-0") await new Promise((resolve) => setTimeout(resolve, 200));
              if (failing.includes(partition)) throw Object.assign(new Error("The server is busy"), { name: "RestError", statusCode: 503 });
              yield* rows;
            } finally {
              seen.listing--;
            }
          })();
        };
      },
    });
    return { client, seen };
  }

  it("are read four partitions at a time, every row once, in partition order", async () => {
    const table = ledgerTable();
    await new TableLedger(table).saveFindingStates(Array.from({ length: 450 }, (_, i) => state(i)));
    const { client, seen } = countedListings(table);

    const read = await new TableLedger(client).findingStates();

    expect(read).toHaveLength(450);
    expect(new Set(read.map((s) => s.findingId)).size).toBe(450);
    expect(seen.partitions.filter((p) => p.startsWith("finding-"))).toHaveLength(16);
    expect(seen.most).toBe(4);
    // Each partition's rows in its order (finding-0 first, though it answered last).
    const partitionOfRow = read.map((s) => `finding-${hashKey(s.findingId).slice(0, 1)}`);
    expect(partitionOfRow[0]).toBe("finding-0");
    expect(partitionOfRow).toEqual([...partitionOfRow].sort());
  });

  it("a partition that cannot be read fails the whole read as the ledger being unavailable, and starts no further partition", async () => {
    const table = ledgerTable();
    await new TableLedger(table).saveFindingStates(Array.from({ length: 100 }, (_, i) => state(i)));
    const { client, seen } = countedListings(table, ["finding-1"]);

    await expect(new TableLedger(client).findingStates()).rejects.toMatchObject({ code: "LEDGER.UNAVAILABLE" });
    // The four first partitions were started; after the failure, no more.
    expect(seen.partitions.filter((p) => p.startsWith("finding-")).length).toBeLessThan(16);
    expect(seen.listing).toBe(0);
  });

  it("an earlier build's states are read as they are, and the next save moves them all: none is lost, and the earlier build's rows stay as they were", async () => {
    const table = ledgerTable();
    await table.createTable();
    const earlier = Array.from({ length: 230 }, (_, i) => state(i, i % 4 === 0 ? { resolvedOn: "2026-11-15" } : {}));
    await asEarlierBuildKept(table, earlier);
    const ledger = new TableLedger(table);

    expect(byId(await ledger.findingStates())).toEqual(byId(earlier));

    // This run saw the first ten again; the rest it did not touch (resolved long ago, or in a scope it could not read).
    const seenAgain = earlier.slice(0, 10).map((s) => ({ ...s, lastSeen: "2026-12-05" }));
    await ledger.saveFindingStates(seenAgain);

    const partitions = await rowsByPartition(table);
    expect(partitions.get("finding")).toBe(230);
    expect([...partitions].filter(([p]) => p.startsWith("finding-")).reduce((n, [, rows]) => n + rows, 0)).toBe(230);
    const now = byId([...seenAgain, ...earlier.slice(10)]);
    expect(byId(await ledger.findingStates())).toEqual(now);
    // A ledger of a later run reads the sixteen only: the move is recorded, and the old rows are not read again.
    const scans: string[] = [];
    const later = new TableLedger(spyingOnQueries(table, scans));
    expect(byId(await later.findingStates())).toEqual(now);
    expect(scans.some((filter) => filter.includes("'finding'"))).toBe(false);
    // A build from before, rolled back to, reads the states as they were on the day of the move: none looks new.
    const asEarlierBuildReadsThem = [];
    for await (const e of table.listEntities({ queryOptions: { filter: "PartitionKey eq 'finding'" } })) asEarlierBuildReadsThem.push(e.findingId);
    expect(asEarlierBuildReadsThem.sort()).toEqual(earlier.map((s) => s.findingId).sort());
  });

  it("a move stopped before it was recorded: the newer copy is what is read, and the next save does not turn it back", async () => {
    const table = ledgerTable();
    await table.createTable();
    const old = state(1, { lastSeen: "2026-11-20" });
    const other = state(2);
    await asEarlierBuildKept(table, [old, other]);
    const ledger = new TableLedger(table);
    // As a save that wrote the newer state to its partition and stopped before moving the earlier build's rows.
    const newer = { ...old, lastSeen: "2026-12-04", resolvedOn: "2026-12-04" };
    await table.createEntity({ partitionKey: `finding-${hashKey(old.findingId)[0]}`, rowKey: hashKey(old.findingId), ...newer, owners: JSON.stringify(newer.owners) });

    expect(byId(await ledger.findingStates())).toEqual(byId([newer, other]));

    await ledger.saveFindingStates([{ ...other, lastSeen: "2026-12-05" }]);

    expect(byId(await ledger.findingStates())).toEqual(byId([newer, { ...other, lastSeen: "2026-12-05" }]));
    expect(byId(await new TableLedger(table).findingStates())).toEqual(byId([newer, { ...other, lastSeen: "2026-12-05" }]));
  });
});

const told = (findingId: string, asOf: string, milestone = "overdue-1"): OutboxEntry => ({
  operationId: `op-${findingId}-${asOf}`,
  kind: "digest",
  recipient: "alice@contoso.com",
  owner: "alice@contoso.com",
  asOf,
  runId: `run-${asOf}`,
  items: [{ findingId, milestone }],
  status: "pending",
  updatedAt: `${asOf}T07:00:00Z`,
});

/** `count` histories of alice@contoso.com, each told once (overdue-1 on 2026-11-26), as builds before the spread kept them. */
const historiesAsEarlierBuild = (table: TableClient, count: number) =>
  writeAsEarlierBuild(
    table,
    "history-live",
    Array.from({ length: count }, (_, i) => ({
      rowKey: hashKey(historyKey("alice@contoso.com", `f${i}`)),
      owner: "alice@contoso.com",
      findingId: `f${i}`,
      firstNotifiedOn: "2026-11-26",
      lastNotifiedOn: "2026-11-26",
      lastMilestone: "overdue-1",
      overdueRemindersSent: 1,
      sent: JSON.stringify([{ on: "2026-11-26", milestone: "overdue-1" }]),
    })),
  );

describe("reminder histories over sixteen partitions", () => {
  it("an earlier build's histories are read, moved on the first send, and a reminder they record is not counted twice", async () => {
    const table = ledgerTable();
    await historiesAsEarlierBuild(table, 150);
    const ledger = new TableLedger(table, "live");
    const before = await ledger.histories();
    expect(before.size).toBe(150);

    // The same reminder again (a re-run of that day): recorded once. Then the next one, a week on.
    await ledger.recordOutcome(told("f7", "2026-11-26"), { status: "sent" }, "2026-11-26T07:01:00Z");
    await ledger.recordOutcome(told("f8", "2026-12-03", "overdue-2"), { status: "sent" }, "2026-12-03T07:01:00Z");

    const after = await new TableLedger(table, "live").histories();
    expect(after.size).toBe(150);
    expect(after.get("alice@contoso.com|f7")).toEqual(before.get("alice@contoso.com|f7"));
    expect(after.get("alice@contoso.com|f8")).toMatchObject({ lastNotifiedOn: "2026-12-03", lastMilestone: "overdue-2", overdueRemindersSent: 2 });
    expect(after.get("alice@contoso.com|f9")).toEqual(before.get("alice@contoso.com|f9"));
    const partitions = await rowsByPartition(table);
    expect([...partitions].filter(([p]) => p.startsWith("history-live-")).reduce((n, [, rows]) => n + rows, 0)).toBe(150);
    expect(partitions.get("history-live")).toBe(150);
  });

  it("two processes moving at once (a run and the delivery-report trigger): a history one of them records after its move is not turned back by the other's", async () => {
    const table = ledgerTable();
    await historiesAsEarlierBuild(table, 450);
    const run = new TableLedger(table, "live");
    const trigger = new TableLedger(table, "live");

    await Promise.all([
      run.recordOutcome(told("f400", "2026-12-03", "overdue-2"), { status: "sent" }, "2026-12-03T07:01:00Z"),
      trigger.recordOutcome(told("f3", "2026-12-03", "overdue-2"), { status: "sent" }, "2026-12-03T07:01:00Z"),
    ]);
    // The worst order, made certain: a third process found no move recorded, and copies only after the two wrote.
    await table.deleteEntity("meta", "history-live");
    const calls: string[] = [];
    await new TableLedger(spyingOnQueries(table, [], calls), "live").recordOutcome(told("f9", "2026-12-03", "overdue-2"), { status: "sent" }, "2026-12-03T07:01:00Z");
    // It creates nothing: every row was there. (One history written, the move recorded.)
    expect(calls.filter((c) => c === "createEntity" || c === "submitTransaction")).toEqual([]);

    const after = await new TableLedger(table, "live").histories();
    expect(after.size).toBe(450);
    for (const f of ["f3", "f9", "f400"]) expect(after.get(`alice@contoso.com|${f}`)).toMatchObject({ lastMilestone: "overdue-2", overdueRemindersSent: 2 });
    expect(after.get("alice@contoso.com|f5")).toMatchObject({ lastMilestone: "overdue-1", overdueRemindersSent: 1 });
  });
});

describe("the outbox read by day", () => {
  it("hands back the messages of that day and later only, with a status too, and refuses what is not a day", async () => {
    const ledger = new TableLedger(ledgerTable(), "live");
    for (const [asOf, sent] of [["2026-10-01", true], ["2026-11-25", true], ["2026-11-26", false], ["2026-11-27", true]] as const) {
      const entry = { ...told(`f-${asOf}`, asOf), operationId: `op-${asOf}` };
      await ledger.recordIntent(entry);
      if (sent) await ledger.recordOutcome(entry, { status: "sent" }, `${asOf}T07:01:00Z`);
    }

    expect((await ledger.outbox({ since: "2026-11-26" })).map((e) => e.asOf).sort()).toEqual(["2026-11-26", "2026-11-27"]);
    expect((await ledger.outbox({ status: "sent", since: "2026-11-25" })).map((e) => e.asOf).sort()).toEqual(["2026-11-25", "2026-11-27"]);
    expect(await ledger.outbox({ status: "pending" })).toHaveLength(1);
    expect(await ledger.outbox()).toHaveLength(4);
    await expect(ledger.outbox({ since: "2026-11-26' or PartitionKey ne '" })).rejects.toMatchObject({ code: "LEDGER.UNAVAILABLE" });
  });

  it("hands back, as statuses, the same messages and of each only its status columns, never its items", async () => {
    const table = ledgerTable();
    const selects: unknown[] = [];
    const spied = new Proxy(table, {
      get(target, property, receiver) {
        if (property !== "listEntities") return Reflect.get(target, property, receiver) as unknown;
        return (options?: { queryOptions?: { select?: string[] } }) => {
          selects.push(options?.queryOptions?.select);
          return target.listEntities(options);
        };
      },
    });
    const ledger = new TableLedger(spied, "live");
    const naming = { tag: "0123456789abcdef", value: "fedcba9876543210" };
    for (const [i, asOf] of ["2026-11-20", "2026-11-26", "2026-11-27"].entries()) {
      // Items enough to take several chunks of a row, and namings.
      const items = Array.from({ length: 400 }, (_, k) => ({ findingId: `pool:/subscriptions/${i}/resourcegroups/rg/providers/microsoft.batch/batchaccounts/a${k}/pools/p`, milestone: "overdue-1" }));
      const entry = { ...told(`f${i}`, asOf), operationId: `op-${asOf}`, items, namedBy: [naming] };
      await ledger.recordIntent(entry);
      if (i > 0) await ledger.recordOutcome(entry, { status: "sent" }, `${asOf}T07:01:00Z`);
    }
    expect(await ledger.recordDelivery({ messageId: "op-2026-11-27", recipient: "alice@contoso.com", status: "Bounced", details: "no such mailbox", at: "2026-11-27T08:00:00Z" })).toBe("recorded");

    const statusOf = ({ operationId, kind, recipient, owner, asOf, status, delivery }: OutboxEntry) => ({ operationId, kind, recipient, owner, asOf, status, ...(delivery ? { delivery } : {}) });
    for (const filter of [{}, { status: "sent" as const, since: "2026-11-26" }, { since: "2026-11-27", orPending: true }]) {
      selects.length = 0;
      const statuses = await ledger.outboxStatuses(filter);
      expect(selects.every((s) => Array.isArray(s) && !s.some((c: string) => c.startsWith("items") || c === "namedBy"))).toBe(true);
      expect(byOperation(statuses)).toEqual(byOperation((await ledger.outbox(filter)).map(statusOf)));
    }
    expect((await ledger.outboxStatuses({ status: "sent" })).find((s) => s.operationId === "op-2026-11-27")?.delivery).toEqual({ status: "Bounced", at: "2026-11-27T08:00:00Z", details: "no such mailbox" });
    expect(await ledger.outboxStatuses({ since: "2026-11-27", orPending: true })).toHaveLength(2);
    await expect(ledger.outboxStatuses({ since: "2026-11-26' or PartitionKey ne '" })).rejects.toMatchObject({ code: "LEDGER.UNAVAILABLE" });
  });
});

const byOperation = <T extends { operationId: string }>(entries: readonly T[]) => [...entries].sort((a, b) => a.operationId.localeCompare(b.operationId));

describe("finding states forgotten (resolved long ago)", () => {
  it("are deleted from the sixteen partitions, the rest left; rows already gone (another process, a batch retried after it was applied) are no error", async () => {
    const table = ledgerTable();
    const ledger = new TableLedger(table);
    const states = Array.from({ length: 450 }, (_, i) => state(i, i % 3 === 0 ? { resolvedOn: "2026-06-01" } : {}));
    await ledger.saveFindingStates(states);
    const old = states.filter((s) => s.resolvedOn !== undefined);

    // Fifty deleted first, as by another process; then all of them, across every partition's batches.
    await ledger.forgetFindingStates(old.slice(0, 50).map((s) => s.findingId));
    await ledger.forgetFindingStates(old.map((s) => s.findingId));

    expect(byId(await ledger.findingStates())).toEqual(byId(states.filter((s) => s.resolvedOn === undefined)));
    expect([...(await rowsByPartition(table))].filter(([p]) => p.startsWith("finding-")).reduce((n, [, rows]) => n + rows, 0)).toBe(300);
  });

  it("are not read back from an earlier build's partition: it is moved first, and its rows stay as they were", async () => {
    const table = ledgerTable();
    await table.createTable();
    const earlier = Array.from({ length: 120 }, (_, i) => state(i, i % 2 === 0 ? { resolvedOn: "2026-06-01" } : {}));
    await asEarlierBuildKept(table, earlier);
    const ledger = new TableLedger(table);

    await ledger.forgetFindingStates(earlier.filter((s) => s.resolvedOn !== undefined).map((s) => s.findingId));

    expect(byId(await new TableLedger(table).findingStates())).toEqual(byId(earlier.filter((s) => s.resolvedOn === undefined)));
    expect((await rowsByPartition(table)).get("finding")).toBe(120);
  });

  it("histories too: an earlier build's are moved first and stay as they were; the rest of the ledger's are left", async () => {
    const table = ledgerTable();
    await historiesAsEarlierBuild(table, 150);
    const ledger = new TableLedger(table, "live");
    const keys = Array.from({ length: 60 }, (_, i) => historyKey("Alice@contoso.com", `f${i}`));

    await ledger.forgetHistories(keys.slice(0, 10));
    await ledger.forgetHistories(keys);

    const after = await new TableLedger(table, "live").histories();
    expect([...after.keys()].sort()).toEqual(Array.from({ length: 90 }, (_, i) => `alice@contoso.com|f${i + 60}`).sort());
    expect((await rowsByPartition(table)).get("history-live")).toBe(150);
    // The redirect ledger's histories are its own: the same keys there delete nothing of the live ones.
    await new TableLedger(table, "redirect").forgetHistories([...after.keys()]);
    expect((await new TableLedger(table, "live").histories()).size).toBe(90);
  });
});

