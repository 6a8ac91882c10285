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
  it("reads each item's history by its keys, never the whole history partition, and stays idempotent", async () => {
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
    expect(table.scans).toEqual([]);

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
