// What a year of resolved findings costs a run, against what KEPT_DAYS leaves: the real TableLedger
// and trackFindings over a local Azurite. The daily bench starts from an empty ledger and cannot show it.
//
//   node --expose-gc dist/bench/ledgerAge.js [open findings, default 45000] [findings resolved a day, default 450]
//
// For each ledger (the states a run finds after 90 days of resolutions, then after 365 of them) it prints the rows a
// run reads, the time of one read, the heap the read states hold, and the tracking of a run that finds every open
// finding again. The ledger of a year is tracked until nothing is left to delete (FORGOTTEN_PER_RUN a run). Azurite
// does not model Azure's throughput (20,000 entities a second for an account, Learn "Scalability and performance
// targets for Table storage"), so the time Azure would need to read is printed from that target.
import { startAzurite } from "@batch-cert-auditor/simulated-azure";
import { connectStorage } from "../src/azure/storage.js";
import { TableLedger } from "../src/azure/tableLedger.js";
import { addDays } from "../src/core/dates.js";
import type { AuditReport, Finding } from "../src/core/model.js";
import type { FindingState } from "../src/core/ports.js";
import { FORGOTTEN_PER_RUN, KEPT_DAYS } from "../src/core/retention.js";
import { trackFindings } from "../src/core/trackFindings.js";

const AS_OF = "2026-11-26";
const ACCOUNT_TARGET_PER_SECOND = 20_000;
const open = Number(process.argv[2] ?? 45_000);
const perDay = Number(process.argv[3] ?? 450);
if (!Number.isInteger(open) || open < 1 || !Number.isInteger(perDay) || perDay < 0) {
  console.error("usage: node dist/bench/ledgerAge.js [open findings] [findings resolved a day]");
  process.exit(2);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error("run with --expose-gc (the heap the states hold is measured after a full collection)");
  process.exit(2);
}

const accountOf = (i: number) => `/subscriptions/s${i % 2000}/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/a${i % 10_000}`;
const poolOf = (i: number, tag: string) => `${accountOf(i)}/pools/${tag}${i}`;
const state = (i: number, tag: string, resolvedOn?: string): FindingState => ({
  findingId: `pool-certificate-reference:${poolOf(i, tag).toLowerCase()}`,
  kind: "pool-certificate-reference",
  resourceId: poolOf(i, tag),
  accountId: accountOf(i),
  accountName: `a${i % 10_000}`,
  subscriptionId: `s${i % 2000}`,
  severity: "critical",
  owners: [`owner${i % 20_000}@contoso.com`],
  firstSeen: "2025-06-01",
  lastSeen: resolvedOn ? addDays(resolvedOn, -1) : addDays(AS_OF, -1),
  ...(resolvedOn ? { resolvedOn } : {}),
});
const finding = (s: FindingState): Finding => ({
  id: s.findingId,
  kind: "pool-certificate-reference",
  rule: "pool-certificate-reference",
  severity: "critical",
  resourceId: s.resourceId,
  subscriptionId: s.subscriptionId,
  resourceGroup: "rg",
  accountName: s.accountName,
  accountId: s.accountId,
  detail: "references an account certificate",
  owners: s.owners.map((address) => ({ address, source: "tag" })),
});

/** A report that finds every open state again, with every account and subscription read. */
function reportFinding(openStates: readonly FindingState[]): AuditReport {
  const accounts = [...new Map(openStates.map((s) => [s.accountId, s])).values()];
  const findings = openStates.map(finding);
  return {
    schemaVersion: "1.3",
    generatedAt: `${AS_OF}T07:00:00Z`,
    asOf: AS_OF,
    retirementDate: "2024-02-29",
    deadline: "2024-02-29",
    daysSinceDeadline: 1000,
    daysSinceRetirement: 1000,
    coverage: {
      complete: true,
      subscriptions: [...new Set(accounts.map((a) => a.subscriptionId))].map((id) => ({ id, status: "audited" as const })),
      accounts: accounts.map((a) => ({ id: a.accountId, name: a.accountName, subscriptionId: a.subscriptionId, status: "audited" as const, certificates: 1, pools: "batch-api" as const })),
      problems: [],
    },
    summary: { findings: findings.length, critical: findings.length, warning: 0, accountCertificates: 0, poolsWithCertificates: findings.length, accountsAudited: accounts.length, accountsFailed: 0, subscriptionsAudited: 1, subscriptionsFailed: 0 },
    findings,
  };
}

const heapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 1048576;
};
const seconds = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const result = await work();
  return [result, (performance.now() - started) / 1000];
};

interface Measure {
  rows: number;
  readSeconds: number;
  heldMb: number;
  trackSeconds: number;
  forgotten: number;
}

async function measure(table: ReturnType<ReturnType<typeof connectStorage>["table"]>, report: AuditReport): Promise<Measure> {
  const ledger = new TableLedger(table);
  const before = heapMb();
  const [states, readSeconds] = await seconds(() => ledger.findingStates());
  const heldMb = heapMb() - before;
  const rows = states.length;
  states.length = 0;
  const [progress, trackSeconds] = await seconds(() => trackFindings(new TableLedger(table), report));
  return { rows, readSeconds, heldMb, trackSeconds, forgotten: progress.forgotten };
}

const storage = await startAzurite({});
try {
  const openStates = Array.from({ length: open }, (_, i) => state(i, "p"));
  const report = reportFinding(openStates);
  const ledgerOf = async (days: number) => {
    const table = connectStorage({ connectionString: storage.connectionString }).table(`age${days}`);
    const resolved = Array.from({ length: days * perDay }, (_, i) => state(i, `gone${Math.floor(i / perDay)}-`, addDays(AS_OF, -1 - Math.floor(i / perDay))));
    await new TableLedger(table).saveFindingStates([...openStates, ...resolved]);
    return table;
  };
  console.log(`ledger age: ${open.toLocaleString("en-US")} open findings, ${perDay} resolved a day, resolved states kept ${KEPT_DAYS} days, at most ${FORGOTTEN_PER_RUN.toLocaleString("en-US")} deleted a run (Node ${process.version})`);
  const line = (label: string, m: Measure) =>
    console.log(
      `  ${label.padEnd(40)} rows ${String(m.rows).padStart(7)}  read ${m.readSeconds.toFixed(2).padStart(6)} s (Azure at its account target: ${(m.rows / ACCOUNT_TARGET_PER_SECOND).toFixed(1)} s)  held ${m.heldMb.toFixed(1).padStart(6)} MB  tracking ${m.trackSeconds.toFixed(2).padStart(6)} s  deleted ${m.forgotten}`,
    );
  const kept = await measure(await ledgerOf(KEPT_DAYS), report);
  line(`${KEPT_DAYS} days of resolutions (what is kept)`, kept);
  const yearTable = await ledgerOf(365);
  const year: Measure[] = [];
  do {
    year.push(await measure(yearTable, report));
    line(`365 days of resolutions, run ${year.length}`, year[year.length - 1] as Measure);
  } while ((year[year.length - 1] as Measure).forgotten > 0);
  const [first] = year as [Measure];
  const last = year[year.length - 1] as Measure;
  const ratio = (a: number, b: number) => (b === 0 ? "n/a" : `${(a / b).toFixed(2)}x`);
  console.log(`  a year kept whole (run 1) against ${KEPT_DAYS} days: rows ${ratio(first.rows, kept.rows)}, read ${ratio(first.readSeconds, kept.readSeconds)}, held ${ratio(first.heldMb, kept.heldMb)}; once deleted (run ${year.length}): rows ${ratio(last.rows, kept.rows)}, held ${ratio(last.heldMb, kept.heldMb)}`);
  console.log(`BENCH_LEDGER_AGE ${JSON.stringify({ open, perDay, keptDays: KEPT_DAYS, forgottenPerRun: FORGOTTEN_PER_RUN, kept, year })}`);
} finally {
  await storage.stop();
}
