// Loads the compiled app as the Functions Node worker does and checks what it registers. The app is compiled into a
// temporary directory (so a concurrent build of dist/ cannot interfere) with the compiler options of
// tsconfig.build.json, file by file (transpile-only: a full tsc build costs ~15 s here, and type errors are
// `npm run typecheck`'s job); then a plain Node process expands the
// package.json "main" glob, provides "@azure/functions-core" the way the worker does (src/dashboard/functionsCore.ts
// answers require() of that name), and imports every matched file. @azure/functions turns each app.timer/app.http
// call into the metadata the worker would send to the host; that metadata is checked here.
// Not proven here: that the real host accepts it, resolves %AUDIT_SCHEDULE%, or enforces function keys.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SETTINGS } from "../../src/config.js";

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

interface Loaded {
  files: string[];
  programmingModel?: { name: string; version: string };
  registrations: { metadata: { name: string; bindings: Record<string, Record<string, unknown>>; retryOptions?: Record<string, unknown> }; handlerExport?: string; file: string }[];
  exportedOptions: Record<string, Record<string, unknown>>;
  dashboardLoads: boolean;
}

// Runs in a plain Node process with the temporary app as its working directory.
const LOADER = `
import { readdirSync, readFileSync } from "node:fs";
import { dirname, basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
const { installFunctionsCore } = await import(pathToFileURL(resolve("dist/src/dashboard/functionsCore.js")).href);
const core = installFunctionsCore();
const main = JSON.parse(readFileSync("package.json", "utf8")).main;
// The worker globs "main"; this app's is one directory and a *.js pattern.
const dir = dirname(main), pattern = basename(main);
if (!/^\\*\\.js$/.test(pattern) || dir.includes("*")) throw new Error("unexpected main glob " + main);
const files = readdirSync(dir).filter((f) => f.endsWith(".js")).sort().map((f) => join(dir, f));
const out = { files, registrations: [], exportedOptions: {} };
for (const file of files) {
  const before = core.registrations.length;
  const mod = await import(pathToFileURL(resolve(file)).href);
  for (const r of core.registrations.slice(before)) {
    const handlerExport = Object.keys(mod).find((k) => mod[k] === r.callback);
    out.registrations.push({ metadata: r.metadata, handlerExport, file });
  }
  for (const [k, v] of Object.entries(mod)) if (k.endsWith("Options")) out.exportedOptions[k] = { ...v, handler: typeof v.handler === "function" ? v.handler.name || "function" : v.handler };
}
out.programmingModel = core.programmingModel && { name: core.programmingModel.name, version: core.programmingModel.version };
// The compiled dashboard must load under plain Node too (named exports of @azure/functions differ there).
await import(pathToFileURL(resolve("dist/src/dashboard/server.js")).href);
out.dashboardLoads = true;
process.stdout.write(JSON.stringify(out));
`;

let app = "";
let loaded: Loaded;

/**
 * What `npm run build` emits, one file at a time: dist/<path>.js for every source file of tsconfig.build.json and
 * of tsconfig.browser.json (the report page's script), plus the stylesheets scripts/copyAssets.js copies.
 */
function compileInto(outDir: string): void {
  for (const config of ["tsconfig.build.json", "tsconfig.browser.json"]) {
    const configPath = join(ROOT, config);
    const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, ROOT, {}, configPath);
    expect(parsed.errors).toEqual([]);
    // NodeNext emits ESM for this "type": "module" package; a lone file cannot tell transpileModule that, so say it.
    for (const file of parsed.fileNames.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))) {
      const output = ts.transpileModule(readFileSync(file, "utf8"), { compilerOptions: { ...parsed.options, sourceMap: false, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler }, fileName: file, reportDiagnostics: true });
      expect(output.diagnostics ?? [], file).toEqual([]);
      const target = join(outDir, relative(ROOT, file)).replace(/\.ts$/, ".js");
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, output.outputText);
    }
  }
  for (const file of readdirSync(join(ROOT, "src"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".css"))) {
    cpSync(join(ROOT, "src", file), join(outDir, "src", file));
  }
}

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), "functions-app-"));
  cpSync(join(ROOT, "package.json"), join(app, "package.json"));
  symlinkSync(join(ROOT, "node_modules"), join(app, "node_modules"), "dir");
  compileInto(join(app, "dist"));
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", LOADER], { cwd: app, env: { ...process.env, NODE_OPTIONS: "" } });
  loaded = JSON.parse(stdout) as Loaded;
}, 120_000);
afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

const fn = (name: string) => {
  const found = loaded.registrations.find((r) => r.metadata.name === name);
  if (!found) throw new Error(`${name} is not registered`);
  return found;
};
const trigger = (name: string) => Object.values(fn(name).metadata.bindings).find((b) => b.direction === "in");

describe("the compiled Functions app, loaded as the worker loads it", () => {
  it("matches exactly the six function files with package.json main, and registers one function from each", () => {
    expect(loaded.files).toEqual(["dailyAudit.js", "emailDeliveryReport.js", "getAuditReport.js", "getAuditRun.js", "sendOutbox.js", "startAuditRun.js"].map((f) => join("dist/src/functions", f)));
    expect(loaded.registrations.map((r) => [r.file, r.metadata.name])).toEqual([
      ["dist/src/functions/dailyAudit.js", "dailyAudit"],
      ["dist/src/functions/emailDeliveryReport.js", "emailDeliveryReport"],
      ["dist/src/functions/getAuditReport.js", "getAuditReport"],
      ["dist/src/functions/getAuditRun.js", "getAuditRun"],
      ["dist/src/functions/sendOutbox.js", "sendOutbox"],
      ["dist/src/functions/startAuditRun.js", "startAuditRun"],
    ]);
    expect(loaded.programmingModel?.name).toBe("@azure/functions");
    expect(loaded.dashboardLoads).toBe(true);
  });

  it("registers the timer on %AUDIT_SCHEDULE%, not on startup, with an exponential retry, calling the exported handler", () => {
    expect(trigger("dailyAudit")).toMatchObject({ type: "timerTrigger", direction: "in", schedule: "%AUDIT_SCHEDULE%", runOnStartup: false });
    expect(fn("dailyAudit").metadata.retryOptions).toMatchObject({
      retryStrategy: "exponentialBackoff",
      maxRetryCount: 3,
      minimumInterval: { seconds: 60 },
      maximumInterval: { seconds: 900 },
    });
    expect(fn("dailyAudit").handlerExport).toBe("dailyAudit");
    // The setting the schedule names has a default and is in the example settings, so it resolves locally too.
    expect(SETTINGS.AUDIT_SCHEDULE).toBe("0 0 7 * * *");
    expect(JSON.parse(readFileSync(join(ROOT, "local.settings.example.json"), "utf8")).Values.AUDIT_SCHEDULE).toBe("0 0 7 * * *");
  });

  it("registers the sending timer on %SEND_SCHEDULE%, not on startup, without a retry (the next firing sends), off the audit's minute", () => {
    expect(trigger("sendOutbox")).toMatchObject({ type: "timerTrigger", direction: "in", schedule: "%SEND_SCHEDULE%", runOnStartup: false });
    expect(fn("sendOutbox").metadata.retryOptions).toBeUndefined();
    expect(fn("sendOutbox").handlerExport).toBe("sendOutbox");
    expect(loaded.exportedOptions.sendOutboxOptions).toMatchObject({ schedule: "%SEND_SCHEDULE%", runOnStartup: false, handler: "sendOutbox" });
    expect(SETTINGS.SEND_SCHEDULE).toBe("0 30 * * * *");
    expect(JSON.parse(readFileSync(join(ROOT, "local.settings.example.json"), "utf8")).Values.SEND_SCHEDULE).toBe("0 30 * * * *");
  });

  it("registers emailDeliveryReport as an Event Grid trigger calling the exported handler", () => {
    expect(trigger("emailDeliveryReport")).toMatchObject({ type: "eventGridTrigger", direction: "in" });
    expect(fn("emailDeliveryReport").handlerExport).toBe("emailDeliveryReport");
    expect(loaded.exportedOptions.emailDeliveryReportOptions).toMatchObject({ handler: "emailDeliveryReport" });
  });

  it.each([
    ["startAuditRun", "audit/runs", ["POST"]],
    ["getAuditRun", "audit/runs/{id}", ["GET"]],
    ["getAuditReport", "audit/report", ["GET"]],
  ])("registers %s on %s (%s), with a function key, calling the exported handler", (name, route, methods) => {
    expect(trigger(name)).toMatchObject({ type: "httpTrigger", direction: "in", route, methods, authLevel: "function" });
    expect(Object.values(fn(name).metadata.bindings).find((b) => b.direction === "out")).toMatchObject({ type: "http" });
    expect(fn(name).handlerExport).toBe(name);
  });

  it("exports the same options objects it registers", () => {
    expect(loaded.exportedOptions.dailyAuditOptions).toMatchObject({ schedule: "%AUDIT_SCHEDULE%", runOnStartup: false, retry: { strategy: "exponentialBackoff", maxRetryCount: 3 }, handler: "dailyAudit" });
    expect(loaded.exportedOptions.startAuditRunOptions).toMatchObject({ route: "audit/runs", methods: ["POST"], authLevel: "function" });
    expect(loaded.exportedOptions.getAuditRunOptions).toMatchObject({ route: "audit/runs/{id}", methods: ["GET"], authLevel: "function" });
    expect(loaded.exportedOptions.getAuditReportOptions).toMatchObject({ route: "audit/report", methods: ["GET"], authLevel: "function" });
    expect(JSON.stringify(loaded.registrations)).not.toContain("anonymous");
  });

  it("ships a host.json for the v4 extension bundle, a 30-minute timeout and request telemetry unsampled", () => {
    const host = JSON.parse(readFileSync(join(ROOT, "host.json"), "utf8"));
    expect(host).toMatchObject({
      version: "2.0",
      functionTimeout: "00:30:00",
      extensionBundle: { id: "Microsoft.Azure.Functions.ExtensionBundle", version: "[4.*, 5.0.0)" },
      logging: { applicationInsights: { samplingSettings: { isEnabled: true, excludedTypes: "Request" } } },
    });
    const ignored = readFileSync(join(ROOT, ".funcignore"), "utf8").split("\n").map((l) => l.trim());
    // dist/ is built remotely (azure.yaml remoteBuild): a local one, with the bench in it, must not ship.
    for (const path of ["test/", "out/", "docs/", ".ci/", "local.settings.json", "dist/"]) expect(ignored).toContain(path);
    // The remote build (npm run build) needs the browser tsconfig and the asset copy script too.
    for (const path of ["src/", "host.json", "package.json", "scripts/", "tsconfig.browser.json"]) expect(ignored).not.toContain(path);
  });
});
