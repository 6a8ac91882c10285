// Builds the app, the simulated Azure and the tools (`npm run build:local:steps`) only when something they are built
// from changed since the last build: `npm start`, `npm run audit`, `npm run bench`, `npm run dashboard` and the
// `batch-cert-auditor` bin run this first, so a second call with nothing changed starts at once instead of re-running
// four TypeScript compilations (13-33 s before this, even for --help).
//
//   node scripts/buildIfStale.js            build when stale, else nothing
//   node scripts/buildIfStale.js --always   build (what `npm run build:local` is)
//
// "Changed" is any file's path, size or modification time among the build's inputs (src/, bench/, the package's src/,
// the tsconfigs, package.json and the lockfiles, scripts/copyAssets.js), or a missing output: a fingerprint of those
// is written to dist/.build-stamp.json after a successful build. A stamp from an interrupted or failed build is
// never written, so the next call builds again. The build's own output goes to stderr, so stdout stays the CLI's.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import console from "node:console";
import process from "node:process";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const STAMP = "dist/.build-stamp.json";
const INPUT_DIRS = ["src", "bench", "packages/simulated-azure/src"];
const INPUT_FILES = [
  "package.json",
  "package-lock.json",
  "tsconfig.base.json",
  "tsconfig.build.json",
  "tsconfig.browser.json",
  "tsconfig.tools.json",
  "scripts/copyAssets.js",
  "packages/simulated-azure/package.json",
  "packages/simulated-azure/package-lock.json",
  "packages/simulated-azure/tsconfig.json",
];
/** What the build makes that the commands run; any of them missing means build. */
const OUTPUTS = ["dist/src/cli/main.js", "dist/src/render/report/report.css", "dist/bench/run.js", "packages/simulated-azure/dist"];

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile()) out.push(path);
  }
}

/** A fingerprint of the build's inputs as they are now (paths, sizes, modification times). */
export function inputFingerprint(root = ROOT) {
  const files = [];
  for (const dir of INPUT_DIRS) walk(join(root, dir), files);
  for (const file of INPUT_FILES) if (existsSync(join(root, file))) files.push(join(root, file));
  const hash = createHash("sha256");
  for (const file of files.sort()) {
    const s = statSync(file);
    hash.update(`${relative(root, file)}\t${s.size}\t${s.mtimeMs}\n`);
  }
  return hash.digest("hex");
}

/** Why a build is needed, or undefined when the last build is up to date. */
export function staleReason(root = ROOT, fingerprint = inputFingerprint(root)) {
  const missing = OUTPUTS.find((o) => !existsSync(join(root, o)));
  if (missing) return `${missing} is missing`;
  // The simulated Azure's link (scripts/devPackages.js) is gone after an `npm install <name>` at the root.
  if (existsSync(join(root, "packages/simulated-azure/package.json")) && !existsSync(join(root, "node_modules/@batch-cert-auditor/simulated-azure/package.json"))) {
    return "the simulated Azure package is not linked";
  }
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, STAMP), "utf8"));
  } catch {
    return "no record of a previous build";
  }
  return stamp.inputs === fingerprint ? undefined : "sources changed since the last build";
}

/** Builds when stale (or always); returns the build's exit status (0 when nothing was needed). */
export function ensureBuilt({ root = ROOT, always = false, quiet = false } = {}) {
  const fingerprint = inputFingerprint(root);
  const reason = always ? "asked to" : staleReason(root, fingerprint);
  if (reason === undefined) return 0;
  if (!quiet && !always) console.error(`batch-cert-auditor: building first (${reason})…`);
  // Under npm, npm_execpath is npm's own CLI script: run that one with this node.
  const npmCli = process.env.npm_execpath;
  const args = ["run", "build:local:steps", "--silent"];
  const result = npmCli && npmCli.endsWith(".js")
    ? spawnSync(process.execPath, [npmCli, ...args], { cwd: root, stdio: ["ignore", 2, 2] })
    : spawnSync("npm", args, { cwd: root, stdio: ["ignore", 2, 2], shell: process.platform === "win32" });
  if (result.status !== 0) {
    console.error(`batch-cert-auditor: the build failed (${result.error?.message ?? `exit ${result.status}`})`);
    return result.status ?? 1;
  }
  writeFileSync(join(root, STAMP), `${JSON.stringify({ inputs: fingerprint, builtAt: new Date().toISOString() })}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = ensureBuilt({ always: process.argv.includes("--always") });
}
