// The azd postdeploy hook that subscribes emailDeliveryReport to the delivery reports, run as azd runs it (node, the
// azd environment's values in the environment) against a stub `az` first on PATH. The stub answers `az rest` as ARM
// would (404 for what does not exist, the resource's JSON otherwise), keeps what was PUT, and records every call.
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const HOOK = join(root, "infra/hooks/subscribeDeliveryReports.js");

const SUB = "00000000-0000-4000-8000-000000000001";
const FUNCTION_ID = `/subscriptions/${SUB}/resourceGroups/rg-audit/providers/Microsoft.Web/sites/func-bca-x/functions/emailDeliveryReport`;
const SUBSCRIPTION_PATH = `/subscriptions/${SUB}/resourceGroups/rg-audit/providers/Microsoft.EventGrid/systemTopics/evgt-x/eventSubscriptions/email-delivery-reports`;

// The stub: `az rest --method get|put --url <url> [--body @file]`. State: { functionMissingFor: n, resources: {path: body} }.
const STUB = `#!/usr/bin/env node
const fs = require("node:fs");
const args = process.argv.slice(2);
fs.appendFileSync(process.env.STUB_AZ_LOG, JSON.stringify(args) + "\\n");
const state = JSON.parse(fs.readFileSync(process.env.STUB_AZ_STATE, "utf8"));
const opt = (name) => args[args.indexOf(name) + 1];
const save = () => fs.writeFileSync(process.env.STUB_AZ_STATE, JSON.stringify(state));
if (args[0] !== "rest") { process.stderr.write("ERROR: unexpected command"); process.exit(2); }
const path = opt("--url").split("?")[0];
const missing = () => { process.stderr.write('ERROR: Not Found({"error":{"code":"ResourceNotFound","message":"not found"}})'); process.exit(3); };
if (opt("--method") === "get") {
  if (path.endsWith("/functions/emailDeliveryReport")) {
    if (state.functionMissingFor > 0) { state.functionMissingFor--; save(); missing(); }
    process.stdout.write(JSON.stringify({ id: path, name: "func-bca-x/emailDeliveryReport" }));
    process.exit(0);
  }
  const found = state.resources[path];
  if (!found) missing();
  process.stdout.write(JSON.stringify({ id: path, ...found }));
  process.exit(0);
}
if (opt("--method") === "put") {
  state.resources[path] = JSON.parse(fs.readFileSync(opt("--body").slice(1), "utf8"));
  save();
  process.stdout.write(JSON.stringify({ id: path, ...state.resources[path] }));
  process.exit(0);
}
process.exit(2);
`;

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function stubAz(state: { functionMissingFor?: number; resources?: Record<string, unknown> } = {}) {
  dir = mkdtempSync(join(tmpdir(), "az-stub-"));
  const bin = join(dir, "bin");
  const azPath = join(bin, "az");
  writeFileSync(join(dir, "state.json"), JSON.stringify({ functionMissingFor: 0, resources: {}, ...state }));
  writeFileSync(join(dir, "calls.log"), "");
  mkdirSync(bin);
  writeFileSync(azPath, STUB);
  chmodSync(azPath, 0o755);
  const folder = dir;
  return {
    env: (extra: Record<string, string> = {}) => ({
      PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`,
      STUB_AZ_LOG: join(folder, "calls.log"),
      STUB_AZ_STATE: join(folder, "state.json"),
      AZURE_SUBSCRIPTION_ID: SUB,
      RESOURCE_GROUP: "rg-audit",
      AZURE_FUNCTION_APP_NAME: "func-bca-x",
      EVENT_GRID_SYSTEM_TOPIC_NAME: "evgt-x",
      DELIVERY_REPORTS_WAIT_SECONDS: "30",
      ...extra,
    }),
    calls: () =>
      readFileSync(join(folder, "calls.log"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[]),
    resources: () => (JSON.parse(readFileSync(join(folder, "state.json"), "utf8")) as { resources: Record<string, unknown> }).resources,
  };
}

const methodOf = (call: string[]) => `${call[call.indexOf("--method") + 1]} ${(call[call.indexOf("--url") + 1] ?? "").split("?")[0]}`;

describe("the postdeploy hook for delivery reports", () => {
  it("creates the Event Grid subscription once the function exists, and a second run changes nothing", async () => {
    const az = stubAz({ functionMissingFor: 1 });
    const first = await run(process.execPath, [HOOK], { env: az.env({ DELIVERY_REPORTS_WAIT_SECONDS: "15", DELIVERY_REPORTS_POLL_SECONDS: "0.1" }) });
    expect(first.stdout).toMatch(/now delivers Microsoft\.Communication\.EmailDeliveryReportReceived to emailDeliveryReport/);
    expect(az.resources()[SUBSCRIPTION_PATH]).toEqual({
      properties: {
        destination: { endpointType: "AzureFunction", properties: { resourceId: FUNCTION_ID, maxEventsPerBatch: 1, preferredBatchSizeInKilobytes: 64 } },
        filter: { includedEventTypes: ["Microsoft.Communication.EmailDeliveryReportReceived"] },
        eventDeliverySchema: "EventGridSchema",
        retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 },
      },
    });

    const second = await run(process.execPath, [HOOK], { env: az.env() });
    expect(second.stdout).toMatch(/already delivers to emailDeliveryReport/);
    const calls = az.calls().map(methodOf);
    expect(calls.filter((c) => c.startsWith("put "))).toEqual([`put ${SUBSCRIPTION_PATH}`]);
    // First run: the function (missing, then there), the subscription (missing), the PUT; second: function, subscription.
    expect(calls).toEqual([
      `get ${FUNCTION_ID}`,
      `get ${FUNCTION_ID}`,
      `get ${SUBSCRIPTION_PATH}`,
      `put ${SUBSCRIPTION_PATH}`,
      `get ${FUNCTION_ID}`,
      `get ${SUBSCRIPTION_PATH}`,
    ]);
  }, 60_000);

  it("rewrites a subscription that delivers elsewhere", async () => {
    const az = stubAz({ resources: { [SUBSCRIPTION_PATH]: { properties: { destination: { endpointType: "WebHook", properties: {} }, filter: { includedEventTypes: [] } } } } });
    await run(process.execPath, [HOOK], { env: az.env() });
    expect(az.calls().map(methodOf).filter((c) => c.startsWith("put "))).toHaveLength(1);
  });

  it("fails with the reason, creating nothing, when the function never appears", async () => {
    const az = stubAz({ functionMissingFor: 1000 });
    const failed = await run(process.execPath, [HOOK], { env: az.env({ DELIVERY_REPORTS_WAIT_SECONDS: "0" }) }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/function emailDeliveryReport was not found on func-bca-x within 0 s; run `azd deploy` again/);
    expect(az.calls().map(methodOf).filter((c) => c.startsWith("put "))).toEqual([]);
  });

  it("does nothing with SUBSCRIBE_DELIVERY_REPORTS=false, and refuses values that are not names", async () => {
    const az = stubAz();
    await run(process.execPath, [HOOK], { env: az.env({ SUBSCRIBE_DELIVERY_REPORTS: "false" }) });
    expect(az.calls()).toEqual([]);
    const bad = await run(process.execPath, [HOOK], { env: az.env({ RESOURCE_GROUP: "rg & calc" }) }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(bad?.stderr).toMatch(/RESOURCE_GROUP \("rg & calc"\) is not a valid name/);
    expect(az.calls()).toEqual([]);
  });

  it("is wired in azure.yaml as a postdeploy hook for both shells, and the Bicep no longer subscribes at provision time", () => {
    const azureYaml = readFileSync(join(root, "azure.yaml"), "utf8");
    const hooks = azureYaml.slice(azureYaml.search(/^hooks:\s*$/m));
    expect(hooks).toMatch(/^ {2}postdeploy:\s*$/m);
    for (const [shell, name] of [["posix", "sh"], ["windows", "pwsh"]] as const) {
      const block = new RegExp(`^ {4}${shell}:\\s*\\n {6}shell: ${name}\\s*\\n {6}run: node \\./infra/hooks/subscribeDeliveryReports\\.js\\s*$`, "m");
      expect(hooks, shell).toMatch(block);
    }
    const bicep = readFileSync(join(root, "infra/app/deliveryReports.bicep"), "utf8");
    expect(bicep).not.toMatch(/^resource\s+\w+\s+'Microsoft\.EventGrid\/systemTopics\/eventSubscriptions@/m);
  });
});
