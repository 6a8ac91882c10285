// The Functions package holds the app and its production dependencies only: the simulated Azure (the package in
// packages/simulated-azure) and what it needs (Azurite, the Kusto language service) are development equipment. The
// deployment file list is what .funcignore leaves of the repository (azd zips the project folder and Azure builds it
// remotely); .funcignore follows .gitignore syntax, read here by the same matcher eslint uses (`ignore`).
// What the remote build runs (Oryx, which Flex Consumption's remote build uses for Node): `npm install` without flags
// (its install scripts run, devDependencies are installed), then `npm run build`
// (https://github.com/microsoft/Oryx/blob/main/doc/runtimes/nodejs.md#build). So the deployed package.json and
// package-lock.json must not name the simulated Azure or its dependencies at all, not even as development ones.
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ignoreModule from "ignore";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
// `ignore` is CommonJS with an `export =` typing; under NodeNext its default import is the factory.
const ignore = ignoreModule as unknown as () => { add(patterns: string): { ignores(path: string): boolean } };
const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const DEV_ONLY = ["@batch-cert-auditor/simulated-azure", "azurite", "@kusto/language-service-next"];

/**
 * What azd zips: every file of the project folder that .funcignore does not leave out (.gitignore plays no part, so a
 * local dist/ or out/ would ship unless .funcignore says otherwise). Ignored folders are not walked into.
 */
async function deploymentFiles(): Promise<string[]> {
  const funcignore = ignore().add(readFileSync(join(ROOT, ".funcignore"), "utf8"));
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.name === ".git") continue;
      if (entry.isDirectory()) {
        if (!funcignore.ignores(`${path}/`)) walk(path);
      } else if (!funcignore.ignores(path)) files.push(path);
    }
  };
  walk("");
  return files;
}

async function copyDeploymentFiles(into: string): Promise<void> {
  for (const f of await deploymentFiles()) {
    mkdirSync(dirname(join(into, f)), { recursive: true });
    copyFileSync(join(ROOT, f), join(into, f));
  }
}

interface LsNode {
  dependencies?: Record<string, LsNode>;
}
function names(node: LsNode, into = new Set<string>()): Set<string> {
  for (const [name, child] of Object.entries(node.dependencies ?? {})) {
    into.add(name);
    names(child, into);
  }
  return into;
}

describe("the deployment package", () => {
  it("contains no simulated Azure: nothing under packages/, and no app source imports it by name", async () => {
    const files = await deploymentFiles();
    expect(files).toContain("package.json");
    expect(files).toContain("src/functions/dailyAudit.ts");
    expect(files.filter((f) => f.startsWith("packages/") || f.startsWith("dist/") || /simulat/i.test(f.split("/").pop() ?? ""))).toEqual([]);
    const importing = files.filter((f) => f.endsWith(".ts") && /from\s+["']@batch-cert-auditor\/simulated-azure["']/.test(readFileSync(join(ROOT, f), "utf8")));
    expect(importing).toEqual([]);
  });

  it("has a lockfile whose whole tree (production and development, what `npm install` installs) has no simulated Azure, Azurite or Kusto language service", async () => {
    const deployed = mkdtempSync(join(tmpdir(), "deploy-"));
    try {
      for (const f of ["package.json", "package-lock.json"]) copyFileSync(join(ROOT, f), join(deployed, f));
      const { stdout } = await run("npm", ["ls", "--all", "--package-lock-only", "--json"], { cwd: deployed });
      const everything = names(JSON.parse(stdout) as LsNode);
      expect(everything.has("@azure/functions")).toBe(true);
      expect(everything.has("typescript")).toBe(true);
      expect(DEV_ONLY.filter((name) => everything.has(name))).toEqual([]);
    } finally {
      rmSync(deployed, { recursive: true, force: true });
    }
  });

  it("installs from the deployment file list, as the remote build does, a production tree without the simulated Azure, Azurite or the Kusto language service", async () => {
    // The remote build's install, production half (the development half is the lockfile test above), with the
    // install scripts on as Oryx runs them: the app's postinstall must do nothing where packages/ is absent. From the
    // local npm cache where it can (npm ci at the root has filled it).
    const deployed = mkdtempSync(join(tmpdir(), "deploy-install-"));
    try {
      await copyDeploymentFiles(deployed);
      await run("npm", ["install", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: deployed });
      const { stdout } = await run("npm", ["ls", "--omit=dev", "--all", "--json"], { cwd: deployed });
      const production = names(JSON.parse(stdout) as LsNode);
      expect(production.has("@azure/functions")).toBe(true);
      expect(DEV_ONLY.filter((name) => production.has(name))).toEqual([]);
      // Nothing installed or linked under those names either (npm ls lists only what the lockfile knows).
      for (const name of DEV_ONLY) expect(existsSync(join(deployed, "node_modules", name)), name).toBe(false);
    } finally {
      rmSync(deployed, { recursive: true, force: true });
    }
  }, 300_000);

  it("keeps the simulated Azure out of the app's manifest: no workspace, no dependency; the package has its own lockfile with its needs", () => {
    const app = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, unknown>;
    expect(app.workspaces).toBeUndefined();
    for (const field of ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"]) {
      expect(Object.keys((app[field] ?? {}) as Record<string, string>).filter((d) => DEV_ONLY.includes(d)), field).toEqual([]);
    }
    const simulator = JSON.parse(readFileSync(join(ROOT, "packages/simulated-azure/package.json"), "utf8")) as Record<string, Record<string, string>>;
    expect(Object.keys(simulator.dependencies ?? {})).toEqual(expect.arrayContaining(["azurite", "@kusto/language-service-next"]));
    const lock = JSON.parse(readFileSync(join(ROOT, "packages/simulated-azure/package-lock.json"), "utf8")) as { packages: Record<string, unknown> };
    expect(Object.keys(lock.packages)).toEqual(expect.arrayContaining(["node_modules/azurite", "node_modules/@kusto/language-service-next"]));
  });

  it("builds from the deployment file list alone, as Azure's remote build does (npm run build, without packages/)", async () => {
    const deployed = mkdtempSync(join(tmpdir(), "deploy-build-"));
    try {
      await copyDeploymentFiles(deployed);
      // The installed dependencies stand in for the remote `npm install`; nothing in src/ may reach the workspace.
      symlinkSync(join(ROOT, "node_modules"), join(deployed, "node_modules"), "dir");
      await run("npm", ["run", "build", "--silent"], { cwd: deployed });
      expect(existsSync(join(deployed, "dist/src/functions/dailyAudit.js"))).toBe(true);
      expect(existsSync(join(deployed, "packages"))).toBe(false);
    } finally {
      rmSync(deployed, { recursive: true, force: true });
    }
  }, 120_000);
});
