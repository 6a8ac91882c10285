#!/usr/bin/env node
// batch-cert-auditor CLI: audits a tenant (real Azure, or a simulated one from a snapshot) and writes the report.
// Exit codes: 0 complete coverage, 2 finished with scopes it could not read, 1 could not run.
// Only node: modules and the option table are loaded before the options are read, so --help and a mistyped option
// answer at once; the auditor itself (the Azure SDKs, the renderers) is imported after.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { unknownOptionHint } from "./optionHint.js";

const USAGE = `Usage: batch-cert-auditor [options]

  --simulate <snapshot.json>   audit a simulated tenant served on loopback instead of Azure
  --subscriptions <ids>        comma-separated subscription ids (default: every readable subscription)
  --management-groups <names>  comma-separated management groups
  --now <YYYY-MM-DD>           audit as of that day (default: today, UTC)
  --out <dir>                  where reports go (default: out)
  --format <list>              report formats: json,csv,html (default: all)
  --send-mode <mode>           dry-run | redirect | live (default: SEND_MODE; live against --simulate)
  --send-only                  audit nothing: send what the latest audit planned and did not fit the email
                               limits, oldest-untold owners first (what the SEND_SCHEDULE timer does), and
                               say when the rest will have gone; same lock and ledger, so nothing goes twice
  --rules <ids>                audit and remind about only these retirement rules (comma-separated ids;
                               README "Retirement rules"); findings of the other rules stay as they are
  --allow-incomplete           exit 0 even when some scopes could not be read (they are still reported)
  --wait-for-lock <seconds>    if another run holds the lock (on this storage, or on this --out), wait up to
                               that long for it instead of exiting 1 (default: 0, do not wait)
  --quiet                      print one line: counts, coverage and mail
  --verbose                    structured logs (JSON lines) on stderr
  -h, --help                   show this help
`;

const OPTIONS = {
  simulate: { type: "string" },
  subscriptions: { type: "string" },
  "management-groups": { type: "string" },
  now: { type: "string" },
  out: { type: "string", default: "out" },
  format: { type: "string", default: "json,csv,html" },
  "send-mode": { type: "string" },
  "send-only": { type: "boolean", default: false },
  "allow-incomplete": { type: "boolean", default: false },
  "wait-for-lock": { type: "string" },
  rules: { type: "string" },
  quiet: { type: "boolean", default: false },
  verbose: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsConfig["options"];

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    const hint = unknownOptionHint(error, Object.keys(OPTIONS));
    process.stderr.write(`${(error as Error).message}${hint ? `\n${hint}` : ""}\n\n${USAGE}`);
    return 1;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { runCli } = await import("./runCli.js");
  return runCli({
    simulate: values.simulate,
    subscriptions: values.subscriptions,
    managementGroups: values["management-groups"],
    now: values.now,
    out: values.out,
    format: values.format,
    sendMode: values["send-mode"],
    sendOnly: values["send-only"],
    allowIncomplete: values["allow-incomplete"],
    waitForLock: values["wait-for-lock"],
    rules: values.rules,
    quiet: values.quiet,
    verbose: values.verbose,
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`batch-cert-auditor: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
