// npm run bench:cli: how long `batch-cert-auditor --help` takes to answer through `npm run audit` with a warm build
// (scripts/buildIfStale.js finds nothing changed), against the old way in the same run (every call rebuilt: the four
// TypeScript compilations of `npm run build:local:steps`, then the CLI). Prints one `BENCH {...}` line with both
// medians and their ratio; timings, not assertions (a loaded machine moves both, the ratio less).
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const RUNS = Number(process.argv[2] ?? 3);

function timed(command: string, args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.error?.message ?? `exit ${result.status}`})`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

// Warm the build once, so the first measured call is not the one that builds.
timed("node", ["scripts/buildIfStale.js"]);
const warm: number[] = [];
const old: number[] = [];
for (let i = 0; i < RUNS; i++) {
  // In turn, so drift in the machine's load falls on both.
  warm.push(timed("npm", ["run", "audit", "--silent", "--", "--help"]));
  old.push(timed("sh", ["-c", "npm run build:local:steps --silent && node dist/src/cli/main.js --help"]));
}
const line = { bench: "cli-start", command: "npm run audit -- --help", runs: RUNS, warmSeconds: +median(warm).toFixed(2), oldWaySeconds: +median(old).toFixed(2), ratio: +(median(warm) / median(old)).toFixed(3) };
console.log(`CLI start for --help: ${line.warmSeconds} s with a warm build, ${line.oldWaySeconds} s the old way (rebuild every call): ${line.ratio}x (medians of ${RUNS})`);
console.log(`BENCH ${JSON.stringify(line)}`);
