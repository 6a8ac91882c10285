// The app's Resource Graph queries, run by the simulated Azure's KQL evaluator: what each returns over rows shaped
// as Resource Graph's tables.
import { describe, expect, it } from "vitest";
import { executeKql, type Row } from "@batch-cert-auditor/simulated-azure";
import {
  ALL_QUERIES,
  BATCH_ACCOUNTS_QUERY,
  CONTAINERS_QUERY,
  POOLS_QUERY,
  ROLE_ASSIGNMENTS_QUERY,
  ROLE_DEFINITIONS_QUERY,
} from "../../../src/azure/queries.js";

describe("the queries the app sends", () => {
  const account = (name: string, type = "microsoft.batch/batchaccounts"): Row => ({
    id: `/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/${name}`,
    name,
    type,
    tenantId: "t",
    subscriptionId: "s1",
    resourceGroup: "rg",
    location: "westeurope",
    tags: { owner: `${name}@contoso.com` },
    properties: { poolAllocationMode: "BatchService" },
  });

  it("accepts every one of them", () => {
    const empty = { resources: [], batchresources: [], resourcecontainers: [], authorizationresources: [] };
    for (const query of Object.values(ALL_QUERIES)) expect(executeKql(query, empty)).toEqual([]);
  });

  it("BATCH_ACCOUNTS_QUERY returns Batch accounts only, with their listed columns, ordered by id", () => {
    const rows = [account("zulu"), account("web", "microsoft.web/sites"), account("able"), account("mixed", "Microsoft.Batch/batchAccounts")];
    const result = executeKql(BATCH_ACCOUNTS_QUERY, { resources: rows });
    expect(result.map((r) => r["name"])).toEqual(["able", "mixed", "zulu"]);
    expect(Object.keys(result[0] ?? {})).toEqual(["id", "name", "type", "subscriptionId", "resourceGroup", "location", "tags", "poolAllocationMode"]);
    expect(result[0]?.["tags"]).toEqual({ owner: "able@contoso.com" });
  });

  it("POOLS_QUERY returns every pool with its certificates and one column per fact the rules read (null where the path is missing)", () => {
    const pool = (name: string, properties: Record<string, unknown>): Row => ({
      id: `/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/a/pools/${name}`,
      name,
      type: "microsoft.batch/batchaccounts/pools",
      subscriptionId: "s1",
      resourceGroup: "rg",
      properties,
    });
    const certificates = [{ id: "/subscriptions/s1/.../certificates/sha1-ab12", storeLocation: "CurrentUser" }];
    const rows = [
      pool("p2", {
        certificates,
        vmSize: "STANDARD_D2S_V3",
        deploymentConfiguration: {
          virtualMachineConfiguration: { imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2016-datacenter" }, nodeAgentSkuId: "batch.node.windows amd64" },
        },
        scaleSettings: { fixedScale: { targetDedicatedNodes: 1, targetLowPriorityNodes: 2 } },
        currentLowPriorityNodes: 2,
        targetNodeCommunicationMode: "Classic",
        applicationLicenses: ["maya"],
        networkConfiguration: { publicIPAddressConfiguration: { provision: "NoPublicIPAddresses" } },
      }),
      pool("p1", {}),
      { ...account("acct"), properties: { certificates } },
    ];
    const result = executeKql(POOLS_QUERY, { batchresources: rows });
    expect(result.map((r) => r["name"])).toEqual(["p1", "p2"]);
    const nothing = {
      certificates: null,
      vmSize: null,
      imagePublisher: null,
      imageOffer: null,
      imageSku: null,
      imageId: null,
      nodeAgentSkuId: null,
      cloudServiceOsFamily: null,
      targetNodeCommunicationMode: null,
      currentNodeCommunicationMode: null,
      targetLowPriorityNodes: null,
      currentLowPriorityNodes: null,
      autoScaleFormula: null,
      applicationLicenses: null,
      publicIpProvision: null,
    };
    expect(result[0]).toMatchObject(nothing);
    expect(result[1]).toEqual({
      id: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/a/pools/p2",
      name: "p2",
      type: "microsoft.batch/batchaccounts/pools",
      subscriptionId: "s1",
      resourceGroup: "rg",
      ...nothing,
      certificates,
      vmSize: "STANDARD_D2S_V3",
      imagePublisher: "MicrosoftWindowsServer",
      imageOffer: "WindowsServer",
      imageSku: "2016-datacenter",
      nodeAgentSkuId: "batch.node.windows amd64",
      targetNodeCommunicationMode: "Classic",
      targetLowPriorityNodes: 2,
      currentLowPriorityNodes: 2,
      applicationLicenses: ["maya"],
      publicIpProvision: "NoPublicIPAddresses",
    });
  });

  it("CONTAINERS_QUERY returns subscriptions and resource groups with their tags, ordered by id", () => {
    const rows: Row[] = [
      { id: "/subscriptions/s2", name: "Prod", type: "microsoft.resources/subscriptions", subscriptionId: "s2", tags: { owner: "p@x" } },
      {
        id: "/subscriptions/s1/resourceGroups/rg",
        name: "rg",
        type: "microsoft.resources/subscriptions/resourcegroups",
        subscriptionId: "s1",
        resourceGroup: "rg",
        tags: {},
      },
      { id: "/providers/Microsoft.Management/managementGroups/root", name: "root", type: "microsoft.management/managementgroups" },
      { id: "/subscriptions/s1", name: "Dev", type: "microsoft.resources/subscriptions", subscriptionId: "s1" },
    ];
    expect(executeKql(CONTAINERS_QUERY, { resourcecontainers: rows })).toEqual([
      { id: "/subscriptions/s1", name: "Dev", type: "microsoft.resources/subscriptions", subscriptionId: "s1", resourceGroup: "", tags: null },
      {
        id: "/subscriptions/s1/resourceGroups/rg",
        name: "rg",
        type: "microsoft.resources/subscriptions/resourcegroups",
        subscriptionId: "s1",
        resourceGroup: "rg",
        tags: {},
      },
      {
        id: "/subscriptions/s2",
        name: "Prod",
        type: "microsoft.resources/subscriptions",
        subscriptionId: "s2",
        resourceGroup: "",
        tags: { owner: "p@x" },
      },
    ]);
  });

  it("ROLE_ASSIGNMENTS_QUERY returns assignments with their role, principal and scope; ROLE_DEFINITIONS_QUERY the role names", () => {
    const assignment = (id: string, scope: string): Row => ({
      id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${id}`,
      name: id,
      type: "microsoft.authorization/roleassignments",
      subscriptionId: scope.startsWith("/subscriptions/") ? "s1" : "",
      properties: { roleDefinitionId: "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/r1", principalId: `p-${id}`, principalType: "User", scope },
    });
    const definition: Row = {
      id: "/providers/Microsoft.Authorization/roleDefinitions/r1",
      name: "r1",
      type: "microsoft.authorization/roledefinitions",
      subscriptionId: "",
      properties: { roleName: "Owner", type: "BuiltInRole" },
    };
    const rows = [assignment("b", "/subscriptions/s1/resourceGroups/rg"), assignment("a", "/providers/Microsoft.Management/managementGroups/mg"), definition];
    const tables = { authorizationresources: rows };
    expect(executeKql(ROLE_ASSIGNMENTS_QUERY, tables).map((r) => [r.principalId, r.scope, r.roleDefinitionId])).toEqual([
      ["p-a", "/providers/Microsoft.Management/managementGroups/mg", "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/r1"],
      ["p-b", "/subscriptions/s1/resourceGroups/rg", "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/r1"],
    ]);
    expect(executeKql(ROLE_DEFINITIONS_QUERY, tables)).toEqual([
      { id: definition.id, name: "r1", type: "microsoft.authorization/roledefinitions", roleName: "Owner", roleType: "BuiltInRole" },
    ]);
  });

  it("evaluates the pools query over 100k rows, keeping every pool in id order", () => {
    const rows = Array.from({ length: 100_000 }, (_, i): Row => ({
      id: `/subscriptions/s${i % 50}/resourceGroups/rg${i % 300}/providers/Microsoft.Batch/batchAccounts/a${i}/pools/p${(i * 7919) % 100_000}`,
      name: `p${i}`,
      type: i % 2 === 0 ? "microsoft.batch/batchaccounts/pools" : "microsoft.batch/batchaccounts",
      subscriptionId: `s${i % 50}`,
      resourceGroup: `rg${i % 300}`,
      properties: { certificates: i % 4 === 0 ? [{ id: "c" }] : [] },
    }));
    // Speed is measured by `npm run bench`, not asserted here.
    const result = executeKql(POOLS_QUERY, { batchresources: rows });
    expect(result).toHaveLength(50_000);
    const ids = result.map((r) => String(r.id));
    expect(ids).toEqual([...ids].sort());
  });
});
