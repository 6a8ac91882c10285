// Settings survive `azd provision`. The Function App's settings are written by the AVM site module as a whole on
// every provision (appSettingsKeyValuePairs), so a setting changed by hand is put back to the template's value. So
// every setting the app reads that a deployment may change is an azd environment value: main.parameters.json maps
// `${SETTING}` (or `${SETTING=default}`) to a main.bicep parameter, main.bicep passes it to the api module, and
// api.bicep writes it under the same name. azd substitutes `${VAR}` / `${VAR=default}` from the environment and
// turns strings into the parameter's bool/int type; an empty string for a string parameter whose template default is
// not empty is passed as "" (azure-dev, cli/azd/pkg/infra/provisioning/bicep/bicep_provider.go,
// armParameterFileValue), which is why a mapping repeats a non-empty default.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfig, SETTINGS } from "../../src/config.js";
import { objectProperties, readBicep, type BicepFile } from "../support/bicepReader.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");

/** Settings the deployment sets itself (identity, storage, telemetry, email endpoint) or that are local only. */
const SET_BY_INFRA = new Set([
  "FUNCTIONS_WORKER_RUNTIME",
  "AzureWebJobsStorage",
  "AzureWebJobsStorage__accountName",
  "AZURE_CLIENT_ID",
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
  "SENDER_ADDRESS",
  "COMMUNICATION_SERVICES_ENDPOINT",
  "COMMUNICATION_SERVICES_CONNECTION_STRING",
]);

const documented = Object.keys((JSON.parse(read("local.settings.example.json")) as { Values: Record<string, string> }).Values);
const deployable = Object.keys(SETTINGS).filter((key) => documented.includes(key) && !SET_BY_INFRA.has(key));

const mainSource = read("infra/main.bicep");
const main = readBicep(mainSource);
const api = readBicep(read("infra/app/api.bicep"));
const appSettings = objectProperties((api.vars.get("appSettings") ?? "{}").slice(1, -1));
const apiCall = main.modules.find((m) => m.reference === "./app/api.bicep");
const apiArguments = objectProperties((apiCall?.properties.get("params") ?? "{}").slice(1, -1));
const parameters = (JSON.parse(read("infra/main.parameters.json")) as { parameters: Record<string, { value: unknown }> }).parameters;

/** The identifiers an expression names (property accesses and strings left out). */
function identifiers(expression: string): string[] {
  const code = expression.replace(/'(?:[^'\\]|\\.)*'/g, "''");
  return [...code.matchAll(/(?<![.\w])([A-Za-z_]\w*)\b(?!\s*\()/g)].map((m) => m[1] ?? "");
}

/** The parameters of `file` an expression depends on, through its vars. */
function parametersOf(expression: string, file: BicepFile, seen = new Set<string>()): string[] {
  return identifiers(expression).flatMap((name) => {
    if (file.params.has(name)) return [name];
    const value = file.vars.get(name);
    if (value === undefined || seen.has(name)) return [];
    seen.add(name);
    return parametersOf(value, file, seen);
  });
}

/** A Bicep literal default as azd would read it from the environment (strings unquoted), or undefined if not a literal. */
function literal(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const string = /^'((?:[^'\\$]|\\.)*)'$/.exec(value);
  if (string) return (string[1] ?? "").replace(/\\'/g, "'");
  return /^(-?\d+|true|false)$/.test(value) ? value : undefined;
}

describe("every deployable setting comes from the azd environment (so a provision never reverts it)", () => {
  it("covers the settings the app reads", () => {
    expect(deployable.length).toBeGreaterThanOrEqual(40);
    expect(deployable).toEqual(expect.arrayContaining(["OWNER_SOURCES", "EMAIL_PER_MINUTE", "SEND_MODE", "RULES_DISABLED"]));
  });

  it.each(deployable)("%s: api.bicep <- main.bicep <- main.parameters.json", (key) => {
    const setting = appSettings.get(key);
    expect(setting, `api.bicep appSettings.${key}`).toBeDefined();
    const apiParams = parametersOf(setting ?? "", api);
    expect(apiParams, `api.bicep ${key} from one parameter`).toHaveLength(1);
    const argument = apiArguments.get(apiParams[0] ?? "");
    expect(argument, `main.bicep passes ${apiParams[0]} to the api module`).toBeDefined();
    const mainParams = [...new Set(parametersOf(argument ?? "", main))];
    const mapped = mainParams.filter((name) => new RegExp(`^\\$\\{${key}(=|\\})`).test(String(parameters[name]?.value ?? "")));
    expect(mapped, `main.parameters.json maps \${${key}} to one of ${mainParams.join(", ")}`).toHaveLength(1);
    const name = mapped[0] ?? "";
    const value = String(parameters[name]?.value);
    const declared = main.params.get(name);
    const templateDefault = literal(declared?.defaultValue);
    expect(declared?.defaultValue === undefined || templateDefault !== undefined, `main.bicep ${name} has a literal default`).toBe(true);
    // Unset in the environment, the template's default holds: `${KEY=<same default>}`, or `${KEY}` for ''.
    const envDefault = /^\$\{\w+=(.*)\}$/.exec(value)?.[1] ?? "";
    expect(envDefault, `${name}: \${${key}=...} repeats main.bicep's default`).toBe(templateDefault ?? "");
  });

  it("takes every value main.bicep's @minValue/@maxValue let through, and main.bicep lets through no value the app refuses", () => {
    // A value azd provisions but the app refuses would fail every invocation with CONFIG.INVALID.
    const bounded = [...mainSource.matchAll(/((?:^@\w+\(.*\)\n)+)param\s+(\w+)\s+int\b/gm)].flatMap((m) => {
      const decorators = m[1] ?? "";
      const min = /@minValue\((-?\d+)\)/.exec(decorators)?.[1];
      const max = /@maxValue\((-?\d+)\)/.exec(decorators)?.[1];
      const key = /^\$\{(\w+)/.exec(String(parameters[m[2] ?? ""]?.value ?? ""))?.[1];
      return min !== undefined && max !== undefined && key !== undefined ? [{ key, min: Number(min), max: Number(max) }] : [];
    });
    expect(bounded.map((b) => b.key)).toEqual(expect.arrayContaining(["BATCH_CONCURRENCY", "RUN_BUDGET_MINUTES", "HEAP_GROWING_PERCENT"]));
    for (const { key, min, max } of bounded) {
      for (const value of [min, max]) expect(() => loadConfig({ [key]: String(value) }), `${key}=${value}`).not.toThrow();
      for (const value of [min - 1, max + 1]) expect(() => loadConfig({ [key]: String(value) }), `${key}=${value}`).toThrow(key);
    }
  });

  it("docs/deploy.md changes settings through azd, never by setting app settings by hand", () => {
    const deploy = read("docs/deploy.md");
    // No command that sets an app setting by hand (the prose may warn against it).
    expect(deploy).not.toMatch(/^\s*(?:[A-Z_]+=\S*\s+)*az functionapp config appsettings set/m);
    expect(deploy).toMatch(/azd env set OWNER_SOURCES/);
  });
});
