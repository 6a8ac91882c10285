// npm run bench: the three scale cases against the simulated Azure with realistic limits and 50 ms per request.
// Each measured run gets a fresh simulator in its own process and runs itself in a fresh process, so peak RSS is the
// auditor's alone. Prints a table and one `BENCH {...}` line per case, then the targets; exits 1 if one is missed.
import { cpus, totalmem } from "node:os";
import { CASES, CERTIFICATE_SHARE, JOB_CASES, REALISTIC } from "./cases.js";
import { benchLine, humanTable, targets } from "./report.js";
import { runCase, runJobCase } from "./runCase.js";

// `npm run bench -- 2 --certificate-share=0.25`: only case 2, with a quarter of the accounts holding certificates.
const args = process.argv.slice(2);
const shareArg = args.find((a) => a.startsWith("--certificate-share="));
const share = shareArg === undefined ? CERTIFICATE_SHARE : Number(shareArg.split("=")[1]);
if (!(share >= 0 && share <= 1)) {
  console.error(`--certificate-share must be a number from 0 to 1, not "${shareArg}"`);
  process.exit(1);
}
const only = args.filter((a) => !a.startsWith("--")).map(Number).filter((n) => Number.isInteger(n) && n >= 1);
const cases = (only.length > 0 ? CASES.filter((_, i) => only.includes(i + 1)) : CASES).map((c) => ({ ...c, shape: { ...c.shape, certificateShare: share } }));

console.log(`batch-cert-auditor bench — Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GB`);
console.log(
  `simulated Azure: ${REALISTIC.latencyMs} ms per request, Resource Graph ${REALISTIC.resourceGraphQuota.queries} queries / ${REALISTIC.resourceGraphQuota.windowMs / 1000} s per user, ` +
    `tenant scope capped at ${REALISTIC.tenantSubscriptionLimit} subscriptions, ARM reads ${REALISTIC.armReads.capacity} + ${REALISTIC.armReads.refillPerSecond}/s per subscription, ` +
    `Resource Graph pools at api-version ${REALISTIC.resourceGraphBatchPoolApiVersion ?? "(with certificates)"}, ${Math.round(share * 100)}% of accounts with certificates\n`,
);

let missed = 0;
for (const benchCase of cases) {
  const result = await runCase(benchCase, REALISTIC, { isolate: true });
  const line = benchLine(result, REALISTIC);
  console.log(`== ${benchCase.name}`);
  console.log(humanTable(result, line));
  for (const check of targets(result, line)) {
    console.log(`  [${check.met ? "met" : "MISSED"}] ${check.target}`);
    if (!check.met) missed++;
  }
  console.log(`BENCH ${JSON.stringify(line)}\n`);
}
// The whole daily job (cases numbered after the audit cases).
const jobs = (only.length > 0 ? JOB_CASES.filter((_, i) => only.includes(CASES.length + i + 1)) : JOB_CASES).map((c) => ({ ...c, shape: { ...c.shape, certificateShare: share } }));
for (const jobCase of jobs) {
  const { measure, simulator } = await runJobCase(jobCase, REALISTIC);
  const quota = REALISTIC.resourceGraphQuota;
  // Resource Graph's quota alone: the first window's queries are free, every further `quota.queries` cost a window.
  const lowerBoundSeconds = Math.max(0, Math.ceil((measure.resourceGraphQueries - quota.queries) / quota.queries)) * (quota.windowMs / 1000);
  const line = {
    accounts: jobCase.shape.accounts,
    subscriptions: jobCase.shape.subscriptions,
    jobWallSeconds: round(measure.jobWallSeconds),
    auditWallSeconds: round(measure.auditWallSeconds),
    peakRssMb: measure.peakRssMb,
    cpuSeconds: round(measure.cpuSeconds),
    findings: measure.findings,
    owners: measure.owners,
    rendered: measure.rendered,
    sent: measure.sent,
    deferred: measure.deferred,
    sendingWaitSeconds: round(measure.sendingWaitSeconds),
    lowerBoundSeconds,
    callsPerAccount: round(simulator.batchCalls / jobCase.shape.accounts, 3),
    failedScopes: measure.failedScopes,
  };
  console.log(`== ${jobCase.name}`);
  for (const [k, v] of Object.entries(line)) console.log(`  ${k.padEnd(22)} ${v}`);
  const checks = [
    { target: `audit <= 15 s (${line.auditWallSeconds} s)`, met: line.auditWallSeconds <= 15 },
    { target: `whole job <= 45 s, sending waits excluded (${line.jobWallSeconds} s)`, met: line.jobWallSeconds <= 45 },
    { target: `peak RSS <= 300 MB, no heap flag (${line.peakRssMb} MB)`, met: line.peakRssMb <= 300 },
    { target: "no failed scope", met: line.failedScopes === 0 },
  ];
  for (const check of checks) {
    console.log(`  [${check.met ? "met" : "MISSED"}] ${check.target}`);
    if (!check.met) missed++;
  }
  console.log(`BENCH_JOB ${JSON.stringify(line)}\n`);
}

if (missed > 0) {
  console.log(`${missed} target(s) missed`);
  process.exitCode = 1;
}

function round(n: number, digits = 2): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}
