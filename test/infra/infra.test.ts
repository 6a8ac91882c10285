// Static checks of the azd / Bicep templates. The Bicep CLI is not available in CI, so these
// tests read infra/ with test/support/bicepReader.ts (declarations, module calls and object properties read
// structurally, strings and comments masked) and assert what a reviewer would look for: every app setting is
// wired, no keys anywhere, the roles are there and named, AVM modules are pinned.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SETTINGS } from "../../src/config.js";
import { closing, mask, objectProperties, readBicep } from "../support/bicepReader.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

function read(relativePath: string): string {
  return readFileSync(join(root, relativePath), "utf8");
}

function listFiles(relativeDir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, relativeDir), { withFileTypes: true })) {
    const rel = `${relativeDir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listFiles(rel));
    else out.push(rel);
  }
  return out;
}

/** Bicep source without comments (strings kept), as the Bicep reader masks it. */
function stripComments(source: string): string {
  return mask(source, false);
}

/** The text between the `{` at or after `from` (outside strings and comments) and its matching `}`. */
function braceBlock(source: string, from: number): string {
  const masked = mask(source);
  const open = masked.indexOf("{", from);
  if (open === -1) throw new Error("no block found");
  return source.slice(open + 1, closing(masked, open));
}

/** The `param` declarations of a Bicep file, and whether each has a default. */
function bicepParams(source: string): Map<string, { hasDefault: boolean }> {
  return readBicep(source).params;
}

/** The top-level properties of `var <name> = { ... }` in a Bicep file. */
function varObject(source: string, name: string): Map<string, string> {
  const value = readBicep(source).vars.get(name) ?? "";
  expect(value.startsWith("{"), `var ${name} should be an object literal`).toBe(true);
  return objectProperties(value.slice(1, -1));
}

const localSettings = JSON.parse(read("local.settings.example.json")) as { Values: Record<string, string> };
const NOT_APP_SETTINGS = new Set(["FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage"]);
const expectedSettings = Object.keys(localSettings.Values).filter((key) => !NOT_APP_SETTINGS.has(key));

const infraFiles = listFiles("infra");
const bicepFiles = infraFiles.filter((file) => file.endsWith(".bicep"));
const mainBicep = read("infra/main.bicep");
const apiBicep = read("infra/app/api.bicep");
const rbacBicep = read("infra/app/rbac.bicep");
const readerBicep = read("infra/app/reader.bicep");
const emailBicep = read("infra/app/email.bicep");
const appSettings = varObject(apiBicep, "appSettings");
const appSettingKeys = [...appSettings.keys()];

function settingValue(key: string): string {
  const value = appSettings.get(key);
  expect(value, `app setting ${key}`).toBeDefined();
  return value ?? "";
}

describe("azure.yaml", () => {
  const azureYaml = read("azure.yaml");

  it("declares the api service as a TypeScript function app at the repo root", () => {
    const services = azureYaml.slice(azureYaml.indexOf("services:"));
    expect(services).toMatch(/^\s{2}api:\s*$/m);
    expect(services).toMatch(/^\s{4}project:\s*\.\s*$/m);
    expect(services).toMatch(/^\s{4}language:\s*ts\s*$/m);
    expect(services).toMatch(/^\s{4}host:\s*function\s*$/m);
  });
});

describe("main.bicep", () => {
  it("deploys at subscription scope and creates the resource group", () => {
    expect(mainBicep).toMatch(/^targetScope\s*=\s*'subscription'/m);
    expect(mainBicep).toMatch(/resource\s+rg\s+'Microsoft\.Resources\/resourceGroups@[\d-]+'/);
  });

  it("derives the resource token from subscription, environment and location", () => {
    expect(mainBicep).toMatch(/uniqueString\(subscription\(\)\.id,\s*environmentName,\s*location\)/);
  });

  it("uses a Flex Consumption FC1 plan", () => {
    expect(mainBicep).toMatch(/sku:\s*\{\s*name:\s*'FC1'\s*tier:\s*'FlexConsumption'\s*\}/);
  });

  it("keeps storage keyless", () => {
    expect(mainBicep).toMatch(/^\s*allowSharedKeyAccess:\s*false\s*$/m);
    for (const file of bicepFiles) {
      expect(read(file), file).not.toMatch(/allowSharedKeyAccess:\s*true/);
    }
  });

  it("exposes the audit scope and contacts as parameters", () => {
    const params = bicepParams(mainBicep);
    for (const name of [
      "auditManagementGroups",
      "auditSubscriptions",
      "fallbackContacts",
      "allowedRecipientDomains",
      "adminSummaryTo",
    ]) {
      expect(params.has(name), `param ${name}`).toBe(true);
    }
    expect(mainBicep).toMatch(/^param\s+auditManagementGroups\s+string\s*=\s*''\s*$/m);
    expect(mainBicep).toMatch(/^param\s+auditSubscriptions\s+string\s*=\s*''\s*$/m);
  });

  it("starts in dry-run", () => {
    expect(mainBicep).toMatch(/^param\s+sendMode\s+string\s*=\s*'dry-run'\s*$/m);
    expect(mainBicep).toMatch(/^\s*sendMode:\s*sendMode\s*$/m);
    const parameters = JSON.parse(read("infra/main.parameters.json")) as {
      parameters: Record<string, { value: unknown }>;
    };
    expect(parameters.parameters.sendMode?.value).toBe("${SEND_MODE=dry-run}");
  });

  it("outputs the values azd and the docs use, in UPPER_SNAKE", () => {
    const outputs = [...mainBicep.matchAll(/^output\s+(\w+)\s/gm)].map((m) => m[1]);
    for (const name of [
      "AZURE_LOCATION",
      "AZURE_TENANT_ID",
      "RESOURCE_GROUP",
      "AZURE_FUNCTION_APP_NAME",
      "SERVICE_API_NAME",
      "AZURE_MANAGED_IDENTITY_PRINCIPAL_ID",
      "SENDER_ADDRESS",
      "COMMUNICATION_SERVICES_ENDPOINT",
    ]) {
      expect(outputs, name).toContain(name);
    }
    for (const name of outputs) expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });
});

describe("main.parameters.json", () => {
  const parameters = JSON.parse(read("infra/main.parameters.json")) as {
    parameters: Record<string, { value: unknown }>;
  };
  const declared = bicepParams(mainBicep);

  it("maps the azd environment", () => {
    expect(parameters.parameters.environmentName?.value).toBe("${AZURE_ENV_NAME}");
    expect(parameters.parameters.location?.value).toBe("${AZURE_LOCATION}");
  });

  it("sets only parameters that main.bicep declares", () => {
    for (const name of Object.keys(parameters.parameters)) {
      expect(declared.has(name), `main.bicep param ${name}`).toBe(true);
    }
  });

  it("leaves no required main.bicep parameter unset", () => {
    for (const [name, { hasDefault }] of declared) {
      if (!hasDefault) expect(Object.keys(parameters.parameters), name).toContain(name);
    }
  });
});

describe("Function App module (infra/app/api.bicep)", () => {
  it.each(expectedSettings)("sets %s", (key) => {
    expect(appSettingKeys).toContain(key);
  });

  it("does not set FUNCTIONS_WORKER_RUNTIME or a keyed AzureWebJobsStorage", () => {
    expect(appSettingKeys).not.toContain("FUNCTIONS_WORKER_RUNTIME");
    expect(appSettingKeys).not.toContain("AzureWebJobsStorage");
  });

  it("uses identity-based host storage", () => {
    expect(settingValue("AzureWebJobsStorage__accountName")).toMatch(/storageAccount\.name|storageAccountName/);
    expect(settingValue("AzureWebJobsStorage__credential")).toBe("'managedidentity'");
    expect(settingValue("AzureWebJobsStorage__clientId")).toBe("identityClientId");
  });

  it("wires the identity, email and monitoring settings", () => {
    expect(settingValue("AZURE_CLIENT_ID")).toBe("identityClientId");
    expect(settingValue("SEND_MODE")).toBe("sendMode");
    expect(apiBicep).toMatch(/^param\s+sendMode\s+string\s*=\s*'dry-run'\s*$/m);
    expect(settingValue("COMMUNICATION_SERVICES_CONNECTION_STRING")).toBe("''");
    expect(settingValue("COMMUNICATION_SERVICES_ENDPOINT")).toBe("communicationServicesEndpoint");
    expect(settingValue("SENDER_ADDRESS")).toBe("senderAddress");
    expect(settingValue("APPLICATIONINSIGHTS_CONNECTION_STRING")).toBe("appInsights.properties.ConnectionString");
    expect(settingValue("APPLICATIONINSIGHTS_AUTHENTICATION_STRING")).toBe(
      "'ClientId=${identityClientId};Authorization=AAD'",
    );
  });

  it("schedules both timers from parameters whose defaults are the app's: the audit daily, the sending timer off its minute", () => {
    expect(settingValue("AUDIT_SCHEDULE")).toBe("auditSchedule");
    expect(settingValue("SEND_SCHEDULE")).toBe("sendSchedule");
    expect(mainBicep).toMatch(/^\s*sendSchedule:\s*sendSchedule\s*$/m);
    expect(/^param\s+sendSchedule\s+string\s*=\s*'([^']*)'/m.exec(mainBicep)?.[1]).toBe(SETTINGS.SEND_SCHEDULE);
    expect(/^param\s+auditSchedule\s+string\s*=\s*'([^']*)'/m.exec(mainBicep)?.[1]).toBe(SETTINGS.AUDIT_SCHEDULE);
  });

  it("passes the settings to the site", () => {
    expect(apiBicep).toMatch(/^\s*appSettingsKeyValuePairs:\s*appSettings\s*$/m);
  });

  it("runs Node 22 on Flex Consumption with an identity-authenticated deployment container", () => {
    const config = braceBlock(apiBicep, apiBicep.indexOf("functionAppConfig:"));
    expect(config).toMatch(/runtime:\s*\{\s*name:\s*'node'\s*version:\s*'22'\s*\}/);
    expect(config).toMatch(/type:\s*'blobContainer'/);
    expect(config).toMatch(/type:\s*'UserAssignedIdentity'/);
    expect(apiBicep).toMatch(/kind:\s*'functionapp,linux'/);
    expect(apiBicep).toMatch(/'azd-service-name':\s*'api'/);
  });
});

describe("email (infra/app/email.bicep)", () => {
  it("creates an Azure-managed domain, the DoNotReply sender and the link", () => {
    expect(emailBicep).toMatch(/Microsoft\.Communication\/emailServices@/);
    expect(emailBicep).toMatch(/Microsoft\.Communication\/communicationServices@/);
    expect(emailBicep).toMatch(/name:\s*'AzureManagedDomain'/);
    expect(emailBicep).toMatch(/domainManagement:\s*'AzureManaged'/);
    expect(emailBicep).toMatch(/senderUsername\s*=\s*'DoNotReply'/);
    expect(emailBicep).toMatch(/Microsoft\.Communication\/emailServices\/domains\/senderUsernames@/);
    expect(emailBicep).toMatch(/linkedDomains:/);
  });

  it("builds the sender from mailFromSenderDomain and the endpoint from hostName", () => {
    expect(emailBicep).toMatch(/'\$\{senderUsername\}@\$\{azureManagedDomain\.properties\.mailFromSenderDomain\}'/);
    expect(emailBicep).toMatch(/'https:\/\/\$\{communicationService\.properties\.hostName\}'/);
  });

  it("documents the sending limits next to the custom domain parameter", () => {
    expect(emailBicep).toMatch(/^param\s+customDomainName\s+string\s*=\s*''/m);
    expect(emailBicep).toMatch(/5 emails\/minute, 10\/hour/);
    expect(emailBicep).toMatch(/30 emails\/minute, 100\/hour/);
    expect(emailBicep).toMatch(/support request/);
  });
});

describe("delivery reports (infra/app/deliveryReports.bicep)", () => {
  const module = stripComments(read("infra/app/deliveryReports.bicep"));

  it("puts an Event Grid system topic on the Communication Services resource", () => {
    expect(module).toMatch(/Microsoft\.EventGrid\/systemTopics@/);
    expect(module).toMatch(/source:\s*communicationService\.id/);
    expect(module).toMatch(/topicType:\s*'Microsoft\.Communication\.CommunicationServices'/);
    expect(mainBicep).toMatch(/communicationServiceName:\s*email\.outputs\.communicationServiceName/);
  });

  it("grants nothing: no identity and no role assignment for Event Grid", () => {
    expect(module).not.toMatch(/roleAssignments|identity:/);
  });

  it("tells in docs/deploy.md that the postdeploy hook subscribes, and how to check events arrive", () => {
    const deploy = read("docs/deploy.md");
    expect(deploy).toMatch(/postdeploy/);
    expect(deploy).toMatch(/SUBSCRIBE_DELIVERY_REPORTS/);
    expect(deploy).toMatch(/az eventgrid system-topic event-subscription show/);
    expect(deploy).toMatch(/emailDeliveryReport/);
  });
});

describe("role assignments", () => {
  const roles = [
    { file: "infra/app/reader.bicep", guid: "acdd72a7-3385-48ef-bd42-f606fba81ae7", name: "Reader" },
    { file: "infra/app/rbac.bicep", guid: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", name: "Storage Blob Data Owner" },
    {
      file: "infra/app/rbac.bicep",
      guid: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
      name: "Storage Table Data Contributor",
    },
    {
      file: "infra/app/rbac.bicep",
      guid: "3913510d-42f4-4e42-8a64-420c390055eb",
      name: "Monitoring Metrics Publisher",
    },
    {
      file: "infra/app/rbac.bicep",
      guid: "09976791-48a7-449e-bb21-39d1a415f350",
      name: "Communication and Email Service Owner",
    },
  ] as const;

  it.each(roles)("$name: GUID named in a comment and used in a role assignment", ({ file, guid, name }) => {
    const source = read(file);
    const line = source.split("\n").find((l) => l.includes(`'${guid}'`));
    expect(line, `${name} GUID in ${file}`).toBeDefined();
    expect(line).toMatch(new RegExp(`//\\s*${name}\\s*$`));
    const variable = /^var\s+(\w+)\s*=/.exec(line ?? "")?.[1];
    expect(variable, `${name} is held in a var`).toBeDefined();
    const code = stripComments(source);
    const uses = code.match(new RegExp(`roleDefinitions',\\s*[^)]*\\b${variable}\\b`, "g")) ?? [];
    expect(uses.length, `${name} used as a roleDefinitionId`).toBeGreaterThan(0);
  });

  it("assigns each storage and monitoring role in its own roleAssignments resource", () => {
    const code = stripComments(rbacBicep);
    for (const variable of [
      "storageBlobDataOwnerRoleId",
      "storageTableDataContributorRoleId",
      "monitoringMetricsPublisherRoleId",
    ]) {
      const assignment = new RegExp(
        `resource\\s+\\w+\\s+'Microsoft\\.Authorization\\/roleAssignments@[\\d-]+'\\s*=\\s*\\{[^}]*?guid\\([^)]*${variable}\\)`,
      );
      expect(code, variable).toMatch(assignment);
    }
  });

  it("puts Reader at subscription scope and documents the management group command", () => {
    expect(readerBicep).toMatch(/^targetScope\s*=\s*'subscription'/m);
    expect(readerBicep).toMatch(/resource\s+\w+\s+'Microsoft\.Authorization\/roleAssignments@/);
    expect(mainBicep).toMatch(/module\s+\w+\s+'\.\/app\/reader\.bicep'/);
    expect(mainBicep).toMatch(/scope:\s*subscription\(subscriptionId\)/);
    // The one command for a management group, as a single shell command (lines joined by `\`).
    const docs = read("docs/deploy.md").replace(/\\\r?\n\s*/g, " ");
    const command = docs.split("\n").find((line) => line.includes("az role assignment create"));
    expect(command, "az role assignment create in docs/deploy.md").toBeDefined();
    expect(command).toMatch(/--role Reader\b/);
    expect(command).toMatch(/--scope \/providers\/Microsoft\.Management\/managementGroups\//);
    expect(command).toMatch(/--assignee-object-id/);
  });

  it("grants the Graph permissions User.Read.All and GroupMember.Read.All with the Microsoft Graph extension, only when asked, and documents the command otherwise", () => {
    const graphBicep = stripComments(read("infra/app/graphPermissions.bicep"));
    expect(graphBicep).toMatch(/^extension\s+microsoftGraphV1\b/m);
    expect(JSON.parse(read("infra/bicepconfig.json")).extensions.microsoftGraphV1).toMatch(/^br:mcr\.microsoft\.com\/bicep\/extensions\/microsoftgraph\/v1\.0:/);
    expect(graphBicep).toMatch(/resource\s+graph\s+'Microsoft\.Graph\/servicePrincipals@v1\.0'\s+existing\s*=\s*\{\s*appId:\s*graphAppId/);
    expect(graphBicep).toMatch(/var\s+graphAppId\s*=\s*'00000003-0000-0000-c000-000000000000'/);
    expect(graphBicep).toMatch(/resource\s+\w+\s+'Microsoft\.Graph\/appRoleAssignedTo@v1\.0'\s*=\s*\[\s*for\s+appRoleId\s+in\s+graphAppRoles/);
    // The app role ids with their names beside them (comments are read from the original source).
    const source = read("infra/app/graphPermissions.bicep");
    expect(source).toMatch(/'df021288-bdef-4463-88db-98f22de89214' \/\/ User\.Read\.All/);
    expect(source).toMatch(/'98830695-27a2-44f7-8c18-0c3ebc9698f6' \/\/ GroupMember\.Read\.All/);
    expect(graphBicep).not.toMatch(/ReadWrite/);
    expect(mainBicep).toMatch(/module\s+\w+\s+'\.\/app\/graphPermissions\.bicep'\s*=\s*if\s*\(grantGraphPermissions\)/);
    expect(mainBicep).toMatch(/param\s+grantGraphPermissions\s+bool\s*=\s*false/);
    // Role-based owners are off unless the permissions are granted.
    expect(mainBicep).toMatch(/^param\s+ownerSources\s+string\s*=\s*''\s*$/m);
    expect(readBicep(mainBicep).vars.get("effectiveOwnerSources")).toBe("empty(ownerSources) ? (grantGraphPermissions ? 'tags,roles' : 'tags') : ownerSources");
    const docs = read("docs/deploy.md");
    const command = docs.split("\n").find((line) => line.includes("/appRoleAssignments"));
    expect(command, "the Graph permission command in docs/deploy.md").toBeDefined();
    expect(command).toContain("df021288-bdef-4463-88db-98f22de89214");
    expect(command).toContain("98830695-27a2-44f7-8c18-0c3ebc9698f6");
    expect(command).toContain("00000003-0000-0000-c000-000000000000");
  });

  it("defines a least-privilege custom email role with exactly the documented actions", () => {
    const actions = /var\s+emailSenderActions\s*=\s*\[([^\]]*)\]/.exec(rbacBicep)?.[1];
    const list = (actions ?? "")
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    expect(list).toEqual([
      "'Microsoft.Communication/CommunicationServices/Read'",
      "'Microsoft.Communication/CommunicationServices/Write'",
      "'Microsoft.Communication/EmailServices/write'",
    ]);
    expect(rbacBicep).toMatch(/Microsoft\.Authorization\/roleDefinitions@[\d-]+'\s*=\s*if\s*\(emailSenderRole == 'custom'\)/);
    expect(rbacBicep).toMatch(/actions:\s*emailSenderActions/);
    expect(rbacBicep).toMatch(/assignableScopes:\s*\[\s*resourceGroup\(\)\.id\s*\]/);
    expect(rbacBicep).toMatch(/scope:\s*communicationService\b/);
    expect(mainBicep).toMatch(/^param\s+emailSenderRole\s+string\s*=\s*'custom'\s*$/m);
  });

  it("does not grant Contributor or Owner", () => {
    for (const file of bicepFiles) {
      const code = stripComments(read(file));
      expect(code, file).not.toMatch(/b24988ac-6180-42a0-ab88-20f7382dd24c/); // Contributor
      expect(code, file).not.toMatch(/8e3af657-a8ff-443c-a75c-2fe8c4bcb635/); // Owner
    }
  });
});

describe("secrets", () => {
  const texts = [...infraFiles, "azure.yaml"].map((file) => ({ file, text: read(file) }));

  it.each(texts.map(({ file }) => file))("%s reads no keys and builds no keyed connection string", (file) => {
    const text = texts.find((t) => t.file === file)?.text ?? "";
    expect(text).not.toMatch(/listKeys\s*\(/i);
    expect(text).not.toMatch(/\.listKeys\b/i);
    expect(text).not.toMatch(/AccountKey=/i);
    expect(text).not.toMatch(/accesskey=/i);
    expect(text).not.toMatch(/SharedAccessKey/i);
    expect(text).not.toMatch(/primaryKey|secondaryKey/);
    expect(text).not.toMatch(/connectionString\s*[:=][^\n]*\$\{[^}]*key/i);
    expect(text).not.toMatch(/@secure\(\)/);
  });
});

describe("modules", () => {
  it("pins every Azure Verified Module to a version", () => {
    const references = bicepFiles.flatMap((file) =>
      [...read(file).matchAll(/'(br\/public:avm\/[^']+)'/g)].map((m) => ({ file, ref: m[1] ?? "" })),
    );
    expect(references.length).toBeGreaterThanOrEqual(6);
    for (const { file, ref } of references) {
      expect(ref, file).toMatch(/^br\/public:avm\/res\/[a-z0-9-]+\/[a-z0-9-]+:\d+\.\d+\.\d+$/);
    }
    const modules = references.map(({ ref }) => ref.slice(0, ref.lastIndexOf(":")));
    for (const expected of [
      "br/public:avm/res/storage/storage-account",
      "br/public:avm/res/operational-insights/workspace",
      "br/public:avm/res/insights/component",
      "br/public:avm/res/managed-identity/user-assigned-identity",
      "br/public:avm/res/web/serverfarm",
      "br/public:avm/res/web/site",
    ]) {
      expect(modules).toContain(expected);
    }
  });

  it("passes only declared parameters to local modules and every required one", () => {
    for (const file of bicepFiles) {
      for (const module of readBicep(read(file)).modules) {
        if (!module.reference.startsWith("./")) continue;
        const target = join(dirname(file), module.reference);
        expect(existsSync(join(root, target)), target).toBe(true);
        const declared = bicepParams(read(target));
        const params = module.properties.get("params") ?? "{}";
        const passed = [...objectProperties(params.slice(1, -1)).keys()];
        for (const name of passed) expect(declared.has(name), `${target} param ${name}`).toBe(true);
        for (const [name, { hasDefault }] of declared) {
          if (!hasDefault) expect(passed, `${file} -> ${target} requires ${name}`).toContain(name);
        }
      }
    }
  });
});
