// Module scopes, read structurally: every `module` call in infra/ deploys at the scope its callee declares
// (targetScope, default resourceGroup). Bicep rejects a mismatch at compile time (BCP035 when `scope:` is missing,
// BCP134 when the scope given is not the callee's), but no Bicep compiler runs here, so test/support/bicepReader.ts
// reads the declarations.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { moduleScopeProblems, objectProperties, readBicep, type DeploymentScope } from "../support/bicepReader.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

function bicepFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? bicepFiles(`${dir}/${entry.name}`) : entry.name.endsWith(".bicep") ? [`${dir}/${entry.name}`] : [],
  );
}

/**
 * The registry modules infra/ uses, with their targetScope. Azure Verified Modules under avm/res/ are resource
 * modules: their main.bicep declares no targetScope (so resourceGroup) and defaults `location` to
 * resourceGroup().location (Azure/bicep-registry-modules, avm/res/<provider>/<type>/main.bicep). A reference not
 * listed here fails the test until its scope has been read and added.
 */
const REGISTRY_SCOPES: Record<string, DeploymentScope> = {
  "br/public:avm/res/managed-identity/user-assigned-identity": "resourceGroup",
  "br/public:avm/res/storage/storage-account": "resourceGroup",
  "br/public:avm/res/operational-insights/workspace": "resourceGroup",
  "br/public:avm/res/insights/component": "resourceGroup",
  "br/public:avm/res/web/serverfarm": "resourceGroup",
  "br/public:avm/res/web/site": "resourceGroup",
};

function calleeScopeFrom(callerFile: string) {
  return (reference: string): DeploymentScope | undefined => {
    if (reference.startsWith("br/") || reference.startsWith("br:")) return REGISTRY_SCOPES[reference.replace(/:[^:/]+$/, "")];
    const target = join(root, dirname(callerFile), reference);
    return existsSync(target) ? readBicep(readFileSync(target, "utf8")).targetScope : undefined;
  };
}

describe("the Bicep reader", () => {
  it("ignores braces, quotes and keywords in strings and comments, and reads if/for module bodies", () => {
    const file = readBicep(
      [
        "targetScope = 'subscription' // not 'tenant'",
        "/* module fake './x.bicep' = { } */",
        "var text = 'a { b } ${concat('}', '{')} \\' c'",
        "var multi = '''",
        "module nope './nope.bicep' = {",
        "'''",
        "resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {",
        "  name: 'rg-{x}'",
        "  location: 'westeurope'",
        "}",
        "module a './a.bicep' = if (deploy) {",
        "  name: 'a-${text}'",
        "  scope: rg // the group above",
        "  params: {",
        "    nested: { scope: 'not this one' }",
        "  }",
        "}",
        "module b './b.bicep' = [",
        "  for id in ['1', '2']: {",
        "    name: 'b-${id}'",
        "    scope: subscription(id)",
        "  }",
        "]",
        "param p string = '{'",
        "param q int",
      ].join("\n"),
    );
    expect(file.targetScope).toBe("subscription");
    expect(file.modules.map((m) => [m.symbol, m.reference, m.form, m.properties.get("scope")])).toEqual([
      ["a", "./a.bicep", "if", "rg"],
      ["b", "./b.bicep", "for", "subscription(id)"],
    ]);
    expect(objectProperties(file.modules[0]?.body ?? "").get("params")).toMatch(/^\{\s*nested: \{ scope: 'not this one' \}\s*\}$/);
    expect(file.resources.get("rg")).toBe("Microsoft.Resources/resourceGroups");
    expect(file.params.get("p")).toEqual({ type: "string", hasDefault: true, defaultValue: "'{'" });
    expect(file.params.get("q")).toEqual({ type: "int", hasDefault: false });
  });

  it("defaults targetScope to resourceGroup", () => {
    expect(readBicep("param x string\n").targetScope).toBe("resourceGroup");
  });

  it("finds a subscription file calling a resourceGroup module without scope, and a scope of the wrong kind", () => {
    const caller = readBicep(
      [
        "targetScope = 'subscription'",
        "resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = { name: 'x', location: 'y' }",
        "module missing './rgModule.bicep' = if (grant) {",
        "  name: 'm'",
        "}",
        "module wrong './rgModule.bicep' = {",
        "  name: 'w'",
        "  scope: subscription()",
        "}",
        "module right './rgModule.bicep' = {",
        "  name: 'r'",
        "  scope: rg",
        "}",
        "module alsoRight './rgModule.bicep' = {",
        "  name: 'r2'",
        "  scope: resourceGroup('other')",
        "}",
        "module sub './subModule.bicep' = {",
        "  name: 's'",
        "}",
        "module mg './mgModule.bicep' = {",
        "  name: 'g'",
        "  scope: managementGroup('contoso')",
        "}",
      ].join("\n"),
    );
    const scopes: Record<string, DeploymentScope> = {
      "./rgModule.bicep": "resourceGroup",
      "./subModule.bicep": "subscription",
      "./mgModule.bicep": "managementGroup",
    };
    const problems = moduleScopeProblems(caller, (reference) => scopes[reference]);
    expect(problems.map((p) => p.module)).toEqual(["missing", "wrong", "mg"]);
    expect(problems[0]?.message).toMatch(/needs scope/);
  });
});

describe("infra/ module scopes", () => {
  const files = bicepFiles("infra");

  it("reads every Bicep file and finds the module calls", () => {
    const modules = files.flatMap((file) => readBicep(readFileSync(join(root, file), "utf8")).modules);
    expect(modules.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files)("%s: every module deploys at its callee's targetScope", (file) => {
    const problems = moduleScopeProblems(readBicep(readFileSync(join(root, file), "utf8")), calleeScopeFrom(file));
    expect(problems.map((p) => `${file}:${p.line} module ${p.module}: ${p.message}`)).toEqual([]);
  });
});
