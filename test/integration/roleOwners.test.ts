// Owners from role assignments end to end: the app's real clients (Resource Graph SDK, Microsoft Graph over
// core-rest-pipeline) against the simulated Azure's authorizationresources table and simulated Microsoft Graph.
import { afterEach, describe, expect, it } from "vitest";
import { connectAzure, type AzureAdapters } from "../../src/app/connectAzure.js";
import { auditTenant } from "../../src/core/auditTenant.js";
import type { AuditReport } from "../../src/core/model.js";
import type { OwnerPolicy } from "../../src/core/owners.js";
import { demoTenant } from "../support/simulatedAzure.js";
import { parseSnapshot, startSimulator, type SimulatedAzure, type TenantSnapshot } from "@batch-cert-auditor/simulated-azure";

const SUB = "5e1ec7ed-0000-4000-8000-00000000000d";
const RG = `/subscriptions/${SUB}/resourceGroups/rg-research`;
const ACCOUNT = `${RG}/providers/Microsoft.Batch/batchAccounts/researchbatch`;
const OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

const builtIn = (guid: string, roleName: string) => ({
  id: `/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
  name: guid,
  type: "Microsoft.Authorization/roleDefinitions" as const,
  properties: { roleName, type: "BuiltInRole" as const },
});

let n = 0;
const assignment = (scope: string, roleGuid: string, principalId: string, principalType: "User" | "Group" | "ServicePrincipal") => {
  const name = `00000000-0000-4000-a000-${String(++n).padStart(12, "0")}`;
  return {
    id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    type: "Microsoft.Authorization/roleAssignments" as const,
    properties: { roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`, principalId, principalType, scope },
  };
};

function snapshot(faults: TenantSnapshot["faults"] = []): TenantSnapshot {
  return parseSnapshot({
    tenantId: "72f988bf-0000-4000-8000-000000000000",
    subscriptions: [{ subscriptionId: SUB, displayName: "sub-research", managementGroups: ["contoso-root", "contoso-science"] }],
    resources: [
      { id: RG, name: "rg-research", type: "Microsoft.Resources/resourceGroups", location: "westeurope" },
      { id: ACCOUNT, name: "researchbatch", type: "Microsoft.Batch/batchAccounts", location: "westeurope", properties: { poolAllocationMode: "BatchService" } },
      {
        id: `${ACCOUNT}/certificates/sha1-0123456789abcdef0123456789abcdef01234567`,
        name: "sha1-0123456789abcdef0123456789abcdef01234567",
        type: "Microsoft.Batch/batchAccounts/certificates",
        properties: { thumbprintAlgorithm: "sha1", thumbprint: "0123456789abcdef0123456789abcdef01234567", format: "Cer", provisioningState: "Succeeded" },
      },
    ],
    roleDefinitions: [builtIn(OWNER, "Owner"), builtIn(CONTRIBUTOR, "Contributor"), builtIn(READER, "Reader")],
    roleAssignments: [
      assignment(ACCOUNT, CONTRIBUTOR, "deploy-sp", "ServicePrincipal"),
      assignment(ACCOUNT, READER, "reader-user", "User"),
      assignment(RG, OWNER, "left-company", "User"),
      assignment(`/subscriptions/${SUB}`, OWNER, "platform-admins", "Group"),
      assignment("/providers/Microsoft.Management/managementGroups/contoso-science", OWNER, "mg-owner", "User"),
    ],
    principals: [
      { "@odata.type": "#microsoft.graph.servicePrincipal", id: "deploy-sp", displayName: "deploy-pipeline" },
      { "@odata.type": "#microsoft.graph.user", id: "reader-user", mail: "reader@contoso.com", userPrincipalName: "reader@contoso.com", accountEnabled: true },
      { "@odata.type": "#microsoft.graph.user", id: "left-company", mail: "gone@contoso.com", userPrincipalName: "gone@contoso.com", accountEnabled: false },
      { "@odata.type": "#microsoft.graph.group", id: "platform-admins", displayName: "platform-admins", mail: null, mailEnabled: false, members: ["ann", "bob", "nested"] },
      { "@odata.type": "#microsoft.graph.group", id: "nested", displayName: "nested-ops", mail: null, mailEnabled: false, members: ["cat"] },
      { "@odata.type": "#microsoft.graph.user", id: "ann", mail: "ann@contoso.com", userPrincipalName: "ann@contoso.com", accountEnabled: true },
      { "@odata.type": "#microsoft.graph.user", id: "bob", mail: "bob@contoso.com", userPrincipalName: "bob@contoso.com", accountEnabled: false },
      { "@odata.type": "#microsoft.graph.user", id: "cat", mail: null, userPrincipalName: "cat@contoso.com", accountEnabled: true },
      { "@odata.type": "#microsoft.graph.user", id: "mg-owner", mail: "mg-owner@contoso.com", userPrincipalName: "mg-owner@contoso.com", accountEnabled: true },
    ],
    faults,
  });
}

const policy: OwnerPolicy = {
  ownerTagKeys: ["owner"],
  fallbackContacts: ["fallback@contoso.com"],
  allowedRecipientDomains: ["contoso.com"],
  sources: ["tags", "roles"],
  roleNames: ["Owner", "Contributor"],
};

let sim: SimulatedAzure | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function run(
  faults: TenantSnapshot["faults"],
  owners: OwnerPolicy = policy,
  maxRetries = 3,
  tenant?: TenantSnapshot,
  graphPermissions?: readonly string[],
): Promise<{ report: AuditReport; azure: AzureAdapters }> {
  await sim?.close();
  sim = await startSimulator({ snapshot: tenant ?? snapshot(faults), ...(graphPermissions ? { graph: { permissions: graphPermissions } } : {}) });
  const azure = connectAzure({
    simulator: { url: sim.url, ca: sim.ca },
    retry: { maxRetries, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
    maxRetryWaitMs: 5_000,
    groupMaxMembers: 20,
  });
  const report = await auditTenant(
    { inventory: azure.inventory, certificates: azure.certificates, pools: azure.certificates, access: azure.access, concurrency: 2 },
    {
      scope: { subscriptions: [], managementGroups: [] },
      asOf: "2026-11-26",
      generatedAt: "2026-11-26T07:00:00.000Z",
      owners: { owners, snooze: { tagKey: "snooze", reasonTagKey: "snooze-reason", maxDays: 90 } },
    },
  );
  return { report, azure };
}

describe("owners from role assignments over the simulated Azure", () => {
  it("mails a group's enabled members, nested ones included, when no tag names an owner, and shows each skipped principal with its reason", async () => {
    const { report } = await run([]);
    const [finding] = report.findings;
    expect(finding?.owners).toEqual([
      { address: "ann@contoso.com", source: "member of platform-admins, which holds Owner on subscription sub-research" },
      { address: "cat@contoso.com", source: "member of platform-admins, which holds Owner on subscription sub-research" },
    ]);
    expect(finding?.ownerProblems).toEqual([
      "service principal deploy-sp holds Contributor on Batch account researchbatch but is not a person; skipped",
      "user gone@contoso.com holds Owner on resource group rg-research but the account is disabled; skipped",
      "user bob@contoso.com is a member of platform-admins, which holds Owner on subscription sub-research, but the account is disabled; skipped",
    ]);
    expect(report.coverage.complete).toBe(true);
  });

  it("gives the finding to the fallback contacts with OWNER_SOURCES=tags, without asking Microsoft Graph", async () => {
    const { report, azure } = await run([], { ...policy, sources: ["tags"] });
    expect(report.findings[0]?.owners).toEqual([{ address: "fallback@contoso.com", source: "fallback" }]);
    expect(azure.graph.stats.requests).toBe(0);
  });

  it("still ends with the right owners when Microsoft Graph answers 429 and then 500 for a while", async () => {
    const { report, azure } = await run(
      [
        { pathPattern: "^/v1\\.0/users$", status: 429, headers: { "Retry-After": "0" }, times: 2, body: { error: { code: "TooManyRequests", message: "Too many requests" } } },
        { pathPattern: "^/v1\\.0/users$", status: 500, times: 2, body: { error: { code: "generalException", message: "boom" } } },
        { pathPattern: "/transitiveMembers$", status: 429, headers: { "Retry-After": "0" }, times: 1 },
      ],
      policy,
      5,
    );
    expect(report.findings[0]?.owners?.map((o) => o.address)).toEqual(["ann@contoso.com", "cat@contoso.com"]);
    // One users filter, one group, its members.
    expect(azure.graph.stats.requests).toBe(3);
    // Every injected answer was met and retried through: two 429s and two 500s on the users, one 429 on the members.
    expect(sim?.stats.faultsInjected).toBe(5);
  });

  it("falls back and reports why when Microsoft Graph keeps failing, and the audit still succeeds", async () => {
    const { report } = await run([{ pathPattern: "^/v1\\.0/", status: 500, body: { error: { code: "generalException", message: "boom" } } }], policy, 2);
    const [finding] = report.findings;
    expect(finding?.owners).toEqual([{ address: "fallback@contoso.com", source: "fallback" }]);
    expect(finding?.ownerProblems).toEqual([`owners from role assignments were not used for ${ACCOUNT}: Microsoft Graph answered 500 generalException: boom`]);
    expect(report.coverage.complete).toBe(true);
  });

  it("says the Graph permissions are missing when Graph answers 403 Authorization_RequestDenied, and falls back", async () => {
    const denied = { error: { code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation." } };
    const { report } = await run([{ pathPattern: "^/v1\\.0/", status: 403, body: denied }]);
    const [finding] = report.findings;
    expect(finding?.owners).toEqual([{ address: "fallback@contoso.com", source: "fallback" }]);
    expect(finding?.ownerProblems?.[0]).toMatch(/403 Authorization_RequestDenied: the identity lacks the Graph application permission User\.Read\.All \(GRANT_GRAPH_PERMISSIONS=true/);
  });

  it("finds the owners with only the permissions the deployment grants (User.Read.All, GroupMember.Read.All), never asking directoryObjects/getByIds", async () => {
    // getByIds would need Directory.Read.All; made to fail here so that any call to it would show.
    const { report } = await run([{ pathPattern: "getByIds", status: 500, body: { error: { code: "generalException", message: "not expected" } } }], policy, 0, undefined, ["User.Read.All", "GroupMember.Read.All"]);
    expect(report.findings[0]?.owners?.map((o) => o.address)).toEqual(["ann@contoso.com", "cat@contoso.com"]);
    expect(sim?.stats.faultsInjected).toBe(0);
  });

  it("names the missing permission when Graph lacks User.Read.All: users read with GroupMember.Read.All alone are 403", async () => {
    const { report } = await run([], policy, 0, undefined, ["GroupMember.Read.All"]);
    const [finding] = report.findings;
    expect(finding?.owners).toEqual([{ address: "fallback@contoso.com", source: "fallback" }]);
    expect(finding?.ownerProblems?.[0]).toMatch(/403 Authorization_RequestDenied: the identity lacks the Graph application permission User\.Read\.All/);
  });

  it("treats members Graph answers with only id and type as unreadable (a missing permission), not as people without a mail address", async () => {
    // Only the group holds a role, so no users are read directly: the members come back stripped without User.Read.All.
    const tenant = snapshot();
    tenant.roleAssignments = tenant.roleAssignments?.filter((a) => a.properties.principalId === "platform-admins");
    const { report } = await run([], policy, 0, tenant, ["GroupMember.Read.All"]);
    const [finding] = report.findings;
    expect(finding?.owners).toEqual([{ address: "fallback@contoso.com", source: "fallback" }]);
    expect(finding?.ownerProblems).toEqual([
      `owners from role assignments were not used for ${ACCOUNT}: Microsoft Graph answered user ann with only its id and type: the identity may not read its properties ` +
        "(the Graph application permission User.Read.All is missing; GRANT_GRAPH_PERMISSIONS=true, or the command in docs/deploy.md; or set OWNER_SOURCES=tags)",
    ]);
  });

  it("skips a group with hidden membership without Member.Read.Hidden, saying so, and goes on to the next role holder", async () => {
    const tenant = snapshot();
    tenant.principals = tenant.principals?.map((p) => (p.id === "platform-admins" ? { ...p, visibility: "HiddenMembership" as const } : p));
    const { report } = await run([], policy, 0, tenant);
    const [finding] = report.findings;
    expect(finding?.owners).toEqual([{ address: "mg-owner@contoso.com", source: "role Owner on management group contoso-science" }]);
    expect(finding?.ownerProblems?.find((p) => p.startsWith("group platform-admins"))).toMatch(/its members could not be read: Microsoft Graph answered 403 Authorization_RequestDenied: .*Member\.Read\.Hidden/);
    const withHidden = await run([], policy, 0, tenant, ["User.Read.All", "GroupMember.Read.All", "Member.Read.Hidden"]);
    expect(withHidden.report.findings[0]?.owners?.map((o) => o.address)).toEqual(["ann@contoso.com", "cat@contoso.com"]);
  });

  it("goes on to the management group's role holder when the subscription's group cannot be read, saying why", async () => {
    const { report } = await run([{ pathPattern: "/transitiveMembers$", status: 404, body: { error: { code: "Request_ResourceNotFound", message: "gone" } } }]);
    const [finding] = report.findings;
    expect(finding?.owners).toEqual([{ address: "mg-owner@contoso.com", source: "role Owner on management group contoso-science" }]);
    expect(finding?.ownerProblems).toContain(
      "group platform-admins, which holds Owner on subscription sub-research: its members could not be read: Microsoft Graph answered 404 Request_ResourceNotFound: gone",
    );
  });

  it("reads owners at the management groups above the subscription and at the root scope / (Resource Graph's AtScopeAboveAndBelow), nearest first", async () => {
    const tenant = snapshot();
    const root = assignment("/", OWNER, "ann", "User");
    root.id = `/providers/Microsoft.Authorization/roleAssignments/${root.name}`;
    tenant.roleAssignments = [...(tenant.roleAssignments ?? []).filter((a) => a.properties.scope.includes("managementGroups")), root];
    const { report } = await run([], policy, 0, tenant);
    expect(report.findings[0]?.owners).toEqual([{ address: "mg-owner@contoso.com", source: "role Owner on management group contoso-science" }]);
    tenant.roleAssignments = [root];
    const atRoot = await run([], policy, 0, tenant);
    expect(atRoot.report.findings[0]?.owners).toEqual([{ address: "ann@contoso.com", source: "role Owner on the root scope (/)" }]);
  });

  it("finds the demo tenant's lab account owners only through role assignments", async () => {
    const { report } = await run([], policy, 3, demoTenant());
    const lab = report.findings.find((f) => f.accountName === "labbatch");
    expect(lab?.owners).toEqual([
      { address: "priya@contoso.com", source: "member of lab-admins, which holds Owner on subscription Contoso Lab" },
      { address: "lab-lead@contoso.com", source: "role Contributor on subscription Contoso Lab" },
    ]);
    expect(lab?.ownerProblems).toEqual([
      "service principal 5a1e0001-0000-4000-8000-00000000a001 holds Contributor on Batch account labbatch but is not a person; skipped",
      "user former.lead@contoso.com holds Owner on resource group rg-lab but the account is disabled; skipped",
      "user former.lead@contoso.com is a member of lab-admins, which holds Owner on subscription Contoso Lab, but the account is disabled; skipped",
    ]);
    // Accounts an owner tag names are not touched by roles.
    expect(report.findings.find((f) => f.accountName === "sandboxbatch1")?.owners?.map((o) => o.address)).toEqual(["dana@contoso.com"]);
  });
});

describe("the simulated Microsoft Graph", () => {
  it("pages a group's transitive members with @odata.nextLink, and the client follows it up to OWNER_GROUP_MAX_MEMBERS", async () => {
    const members = Array.from({ length: 7 }, (_, i) => ({
      "@odata.type": "#microsoft.graph.user" as const,
      id: `m${i}`,
      mail: `m${i}@contoso.com`,
      userPrincipalName: `m${i}@contoso.com`,
      accountEnabled: true,
    }));
    const tenant = parseSnapshot({
      tenantId: "t",
      subscriptions: [],
      resources: [],
      principals: [{ "@odata.type": "#microsoft.graph.group", id: "big", displayName: "big", mail: null, mailEnabled: false, members: members.map((m) => m.id) }, ...members],
    });
    sim = await startSimulator({ snapshot: tenant, graph: { maxPageSize: 2 } });
    const { graph } = connectAzure({ simulator: { url: sim.url, ca: sim.ca } });

    const all = await graph.groupMembers("big", 20);
    expect(all.members.map((m) => m.id)).toEqual(["m0", "m1", "m2", "m3", "m4", "m5", "m6"]);
    expect(all.more).toBe(false);
    expect(graph.stats.requests).toBe(4);

    const capped = await graph.groupMembers("big", 5);
    expect(capped.members.map((m) => m.id)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(capped.more).toBe(true);

    const found = await graph.principals([
      { id: "M1", principalType: "User" },
      { id: "big", principalType: "Group" },
      { id: "nobody", principalType: "User" },
      { id: "no-group", principalType: "Group" },
      { id: "some-app", principalType: "ServicePrincipal" },
      { id: "deleted", principalType: "Unknown" },
    ]);
    expect(found.map((p) => [p.kind, p.id])).toEqual([
      ["user", "m1"],
      ["group", "big"],
      ["servicePrincipal", "some-app"],
    ]);
  });

  it("reads users 15 ids a request (Graph's limit for `in`), quoting each id", async () => {
    const users = Array.from({ length: 20 }, (_, i) => ({
      "@odata.type": "#microsoft.graph.user" as const,
      id: i === 0 ? "o'brien" : `u${i}`,
      mail: `u${i}@contoso.com`,
      userPrincipalName: `u${i}@contoso.com`,
      accountEnabled: true,
    }));
    sim = await startSimulator({ snapshot: parseSnapshot({ tenantId: "t", subscriptions: [], resources: [], principals: users }) });
    const { graph } = connectAzure({ simulator: { url: sim.url, ca: sim.ca } });
    const found = await graph.principals(users.map((u) => ({ id: u.id, principalType: "User" })));
    expect(found.map((p) => p.id).sort()).toEqual(users.map((u) => u.id.toLowerCase()).sort());
    expect(graph.stats.requests).toBe(2);
  });
});
