// Installs the simulated Azure (packages/simulated-azure) for development, outside the app's dependency tree.
//
// The package and what it needs (Azurite, the Kusto language service) are test and demo equipment. They are not a
// workspace or a dependency of the app, so the app's package-lock.json does not name them and nothing that installs
// the app from it installs them: Azure's remote build (Oryx runs `npm install`, devDependencies included, then
// `npm run build`: https://github.com/microsoft/Oryx/blob/main/doc/runtimes/nodejs.md#build) gets the files
// .funcignore keeps, which have no packages/ folder. The package has its own package-lock.json instead.
//
//   node scripts/devPackages.js install   (the app's postinstall: every `npm ci` / `npm install` at the root)
//       `npm ci` in packages/simulated-azure, then link it as node_modules/@batch-cert-auditor/simulated-azure.
//   node scripts/devPackages.js ensure    (npm run build:local, before npm start / bench / dashboard)
//       the same, but installs only when the package has no node_modules yet (an `npm install <name>` at the root
//       removes the link, which npm does not know about; this puts it back).
//
// Without packages/simulated-azure (the deployed package) both do nothing.
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import console from "node:console";
import process from "node:process";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const packageDir = join(root, "packages", "simulated-azure");
const link = join(root, "node_modules", "@batch-cert-auditor", "simulated-azure");
const mode = process.argv[2];

if (mode !== "install" && mode !== "ensure") {
  console.error("usage: node scripts/devPackages.js install|ensure");
  process.exit(2);
}

if (existsSync(join(packageDir, "package.json"))) {
  if (mode === "install" || !existsSync(join(packageDir, "node_modules"))) npmCi();
  linkPackage();
}

function npmCi() {
  // Under npm (postinstall, npm run) npm_execpath is npm's own CLI script: run that one with this node.
  const npmCli = process.env.npm_execpath;
  const args = ["ci", "--prefix", packageDir, "--no-audit", "--no-fund"];
  // The root install's own settings (for example --omit, --global, --prefix) are not the package's.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_(omit|include|global|prefix|local_prefix|workspaces?|only|production)$/i.test(key)));
  const result = npmCli
    ? spawnSync(process.execPath, [npmCli, ...args], { cwd: packageDir, env, stdio: "inherit" })
    : spawnSync("npm", args, { cwd: packageDir, env, stdio: "inherit", shell: process.platform === "win32" });
  if (result.status !== 0) {
    console.error(`npm ci in ${packageDir} failed (${result.error?.message ?? `exit ${result.status}`})`);
    process.exit(1);
  }
}

function linkPackage() {
  let present = false;
  try {
    present = lstatSync(link).isSymbolicLink() && existsSync(join(link, "package.json"));
  } catch {
    present = false;
  }
  if (present) return;
  rmSync(link, { recursive: true, force: true });
  mkdirSync(dirname(link), { recursive: true });
  // A relative symlink on POSIX (the clone may move); a junction (absolute, no rights needed) on Windows.
  if (process.platform === "win32") symlinkSync(packageDir, link, "junction");
  else symlinkSync(join("..", "..", "packages", "simulated-azure"), link, "dir");
}
