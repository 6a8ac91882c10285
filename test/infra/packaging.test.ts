// The Functions package holds the app and its production dependencies only: the simulated Azure (the workspace
// package packages/simulated-azure) and what it needs (Azurite, the Kusto language service) are development
// equipment. The deployment file list is what .funcignore leaves of the repository (azd zips the project folder and
// builds it remotely from package.json and package-lock.json); .funcignore follows .gitignore syntax, read here by
// the same matcher eslint uses (`ignore`).
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

  it("has a production dependency tree without the simulated Azure, Azurite or the Kusto language service", async () => {
    // What the remote build installs for production: the lockfile of the deployed package.json, with no packages/.
    const deployed = mkdtempSync(join(tmpdir(), "deploy-"));
    try {
      for (const f of ["package.json", "package-lock.json"]) copyFileSync(join(ROOT, f), join(deployed, f));
      const { stdout } = await run("npm", ["ls", "--omit=dev", "--all", "--package-lock-only", "--json"], { cwd: deployed });
      const production = names(JSON.parse(stdout) as LsNode);
      expect(production.has("@azure/functions")).toBe(true);
      expect(DEV_ONLY.filter((name) => production.has(name))).toEqual([]);
    } finally {
      rmSync(deployed, { recursive: true, force: true });
    }
  });

  it("keeps the simulated Azure a development dependency of the app and its needs the package's own", () => {
    const app = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, Record<string, string>>;
    const simulator = JSON.parse(readFileSync(join(ROOT, "packages/simulated-azure/package.json"), "utf8")) as Record<string, Record<string, string>>;
    expect(Object.keys(app.dependencies ?? {}).filter((d) => DEV_ONLY.includes(d))).toEqual([]);
    // A file: spec, so no install ever asks a registry for the name (the scope is not ours on npm).
    expect(app.devDependencies?.["@batch-cert-auditor/simulated-azure"]).toBe("file:packages/simulated-azure");
    expect(Object.keys(simulator.dependencies ?? {})).toEqual(expect.arrayContaining(["azurite", "@kusto/language-service-next"]));
  });

  it("builds from the deployment file list alone, as Azure's remote build does (npm run build, without packages/)", async () => {
    const deployed = mkdtempSync(join(tmpdir(), "deploy-build-"));
    try {
      for (const f of await deploymentFiles()) {
        mkdirSync(dirname(join(deployed, f)), { recursive: true });
        copyFileSync(join(ROOT, f), join(deployed, f));
      }
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
