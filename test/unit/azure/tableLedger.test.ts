import { RestError } from "@azure/core-rest-pipeline";
import type { TableClient } from "@azure/data-tables";
import { describe, expect, it } from "vitest";
import { TableLedger } from "../../../src/azure/tableLedger.js";
import type { OutboxEntry } from "../../../src/core/ports.js";

type Row = Record<string, unknown> & { partitionKey: string; rowKey: string };

/** Just the TableClient calls the ledger makes, in memory, counting partition scans. */
class MemoryTable {
  readonly rows = new Map<string, Row>();
  scans: string[] = [];
  async createTable(): Promise<void> {}
  async getEntity(partitionKey: string, rowKey: string): Promise<Row> {
    const row = this.rows.get(`${partitionKey}|${rowKey}`);
    if (!row) throw new RestError("The specified resource does not exist.", { statusCode: 404 });
    return { ...row, etag: "*" };
  }
  async upsertEntity(row: Row): Promise<void> {
    this.rows.set(`${row.partitionKey}|${row.rowKey}`, { ...row });
  }
  async *listEntities(options: { queryOptions: { filter: string } }): AsyncIterable<Row> {
    this.scans.push(options.queryOptions.filter);
    const partition = /PartitionKey eq '([^']+)'/.exec(options.queryOptions.filter)?.[1];
    for (const row of this.rows.values()) if (row.partitionKey === partition) yield { ...row };
  }
}

const entry = (items: OutboxEntry["items"], asOf = "2026-11-26"): OutboxEntry => ({
  operationId: `op-${asOf}`,
  kind: "digest",
  recipient: "alice@contoso.com",
  owner: "Alice@contoso.com",
  asOf,
  runId: "run-1",
  items,
  status: "pending",
  updatedAt: `${asOf}T07:00:00Z`,
});

describe("TableLedger.recordOutcome", () => {
  it("reads each item's history by its keys, never a whole history partition but the earlier builds' one once (to move it), and stays idempotent", async () => {
    const table = new MemoryTable();
    const ledger = new TableLedger(table as unknown as TableClient, "live");
    const first = entry([
      { findingId: "f1", milestone: "overdue-1" },
      { findingId: "f2", milestone: "overdue-1" },
    ]);
    await ledger.recordOutcome(first, { status: "sent" }, "2026-11-26T07:01:00Z");
    // Re-applied after a crash between the two writes: nothing counts twice.
    await ledger.recordOutcome(first, { status: "sent" }, "2026-11-26T07:02:00Z");
    await ledger.recordOutcome(entry([{ findingId: "f1", milestone: "overdue-2" }], "2026-12-03"), { status: "sent" }, "2026-12-03T07:01:00Z");
    expect(table.scans).toEqual(["PartitionKey eq 'history-live'"]);

    const histories = await ledger.histories();
    expect(histories.get("alice@contoso.com|f1")).toEqual({
      firstNotifiedOn: "2026-11-26",
      lastNotifiedOn: "2026-12-03",
      lastMilestone: "overdue-2",
      overdueRemindersSent: 2,
      sent: [
        { on: "2026-11-26", milestone: "overdue-1" },
        { on: "2026-12-03", milestone: "overdue-2" },
      ],
    });
    expect(histories.get("alice@contoso.com|f2")).toEqual({
      firstNotifiedOn: "2026-11-26",
      lastNotifiedOn: "2026-11-26",
      lastMilestone: "overdue-1",
      overdueRemindersSent: 1,
      sent: [{ on: "2026-11-26", milestone: "overdue-1" }],
    });
  });
});

/** A MemoryTable whose writes take a turn of the event loop, counting how many are in flight at once. */
class SlowTable extends MemoryTable {
  inFlight = 0;
  mostInFlight = 0;
  transactions = 0;
  failTransaction?: number;
  private async turn<T>(work: () => T): Promise<T> {
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return work();
    } finally {
      this.inFlight--;
    }
  }
  override async upsertEntity(row: Row): Promise<void> {
    await this.turn(() => super.upsertEntity(row));
  }
  /** As Azure: one partition per batch, 100 entities at most (Learn, "Performing entity group transactions"). */
  async submitTransaction(actions: [string, Row, string?][]): Promise<void> {
    const n = ++this.transactions;
    if (actions.length > 100 || new Set(actions.map(([, row]) => row.partitionKey)).size !== 1) throw new RestError("Bad batch", { statusCode: 400 });
    await this.turn(() => {
      if (n === this.failTransaction) throw new RestError("Server busy", { statusCode: 503 });
      for (const [action, row] of actions) {
        if (action === "delete") this.rows.delete(`${row.partitionKey}|${row.rowKey}`);
        else this.rows.set(`${row.partitionKey}|${row.rowKey}`, { ...row });
      }
    });
  }
}

const findingState = (i: number) => ({
  findingId: `pool-certificate-reference:/subscriptions/s/pools/p${i}`,
  kind: "pool-certificate-reference",
  resourceId: `/subscriptions/s/pools/p${i}`,
  accountId: "/subscriptions/s/a",
  accountName: "a",
  subscriptionId: "s",
  severity: "critical",
  owners: ["alice@contoso.com"],
  firstSeen: "2026-11-26",
  lastSeen: "2026-11-26",
});

describe("TableLedger writes", () => {
  it("saves finding states in batches of 100 over sixteen partitions, several at once but never more than 8, and every state arrives", async () => {
    const table = new SlowTable();
    const ledger = new TableLedger(table as unknown as TableClient, "live");
    await ledger.saveFindingStates(Array.from({ length: 2_050 }, (_, i) => findingState(i)));
    const perPartition = new Map<string, number>();
    for (const row of table.rows.values()) if (row.partitionKey.startsWith("finding")) perPartition.set(row.partitionKey, (perPartition.get(row.partitionKey) ?? 0) + 1);
    expect([...perPartition.keys()].sort()).toEqual([..."0123456789abcdef"].map((d) => `finding-${d}`));
    // About 128 each (the row key is a hash): none holds more than a fifth more than its share.
    expect(Math.max(...perPartition.values())).toBeLessThan((2_050 / 16) * 1.2);
    // The fewest batches the partitions allow: each full but its last.
    expect(table.transactions).toBe([...perPartition.values()].reduce((n, rows) => n + Math.ceil(rows / 100), 0));
    expect(table.mostInFlight).toBeGreaterThan(1);
    expect(table.mostInFlight).toBeLessThanOrEqual(8);
    const states = await ledger.findingStates();
    expect(states).toHaveLength(2_050);
    expect(new Set(states.map((s) => s.findingId)).size).toBe(2_050);
  });

  it("stops starting batches once one fails, and throws that failure", async () => {
    const table = new SlowTable();
    table.failTransaction = 3;
    const ledger = new TableLedger(table as unknown as TableClient, "live");
    await expect(ledger.saveFindingStates(Array.from({ length: 5_000 }, (_, i) => findingState(i)))).rejects.toMatchObject({ code: "LEDGER.UNAVAILABLE" });
    // The batches already started when the third failed may finish; no further one starts (50 were to go).
    expect(table.transactions).toBeLessThanOrEqual(3 + 8);
  });

  it("writes a sent message's item histories several at once", async () => {
    const table = new SlowTable();
    const ledger = new TableLedger(table as unknown as TableClient, "live");
    const items = Array.from({ length: 30 }, (_, i) => ({ findingId: `f${i}`, milestone: "overdue-1" }));
    await ledger.recordOutcome(entry(items), { status: "sent" }, "2026-11-26T07:01:00Z");
    expect(table.mostInFlight).toBeGreaterThan(1);
    expect((await ledger.histories()).size).toBe(30);
  });
});
