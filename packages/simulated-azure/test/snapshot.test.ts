import { describe, expect, it } from "vitest";
import { parseSnapshot } from "../src/snapshot.js";

const SUB = "11111111-1111-4111-8111-111111111111";
const base = () => ({
  tenantId: "t",
  subscriptions: [{ subscriptionId: SUB, displayName: "S" }],
  resources: [
    { id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/a`, name: "a", type: "Microsoft.Batch/batchAccounts" },
  ],
});

describe("tenant snapshots", () => {
  it("accepts a well-formed snapshot", () => {
    expect(parseSnapshot(base()).resources).toHaveLength(1);
  });

  it("refuses a malformed entry, naming the entry and the field", () => {
    const bad = base() as Record<string, unknown>;
    (bad.resources as unknown[]).push({ id: "not-an-arm-id", name: "x", type: "T" });
    expect(() => parseSnapshot(bad, "tenant.json")).toThrow(/tenant\.json.*\n.*resources\[1\] \(not-an-arm-id\)\.id: must be an ARM id/);
  });

  it("lists every problem at once: unknown fields, bad fault regex, orphan pool", () => {
    const bad = base() as Record<string, unknown>;
    (bad.subscriptions as Record<string, unknown>[])[0]!.colour = "blue";
    bad.faults = [{ pathPattern: "(" }];
    let message = "";
    try {
      parseSnapshot(bad);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/subscriptions\[0\].*colour|Unrecognized key.*colour/);
    expect(message).toMatch(/faults\[0\].*pathPattern.*regular expression/);

    const orphan = base();
    orphan.resources.push({ id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/zzz/pools/p`, name: "p", type: "Microsoft.Batch/batchAccounts/pools" });
    expect(() => parseSnapshot(orphan)).toThrow(/pools\/p\)\.id: its Batch account is not in "resources"/);
  });

  it("refuses a resource in a subscription the snapshot does not declare", () => {
    const bad = base();
    bad.resources[0]!.id = bad.resources[0]!.id.replace(SUB, "22222222-2222-4222-8222-222222222222");
    expect(() => parseSnapshot(bad)).toThrow(/subscription 22222222-2222-4222-8222-222222222222 is not in "subscriptions"/);
  });

  it("accepts role definitions, role assignments and principals as the owner-resolution issue gives them, and refuses unknown fields in them", () => {
    const withRoles = {
      ...base(),
      roleDefinitions: [{ id: "/providers/Microsoft.Authorization/roleDefinitions/r1", name: "r1", type: "Microsoft.Authorization/roleDefinitions", properties: { roleName: "Owner", type: "BuiltInRole" } }],
      roleAssignments: [
        {
          id: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments/a1`,
          name: "a1",
          type: "Microsoft.Authorization/roleAssignments",
          properties: { roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/r1`, principalId: "g1", principalType: "Group", scope: `/subscriptions/${SUB}` },
        },
      ],
      principals: [
        { "@odata.type": "#microsoft.graph.group", id: "g1", displayName: "admins", mail: null, mailEnabled: false, members: ["u1"] },
        { "@odata.type": "#microsoft.graph.user", id: "u1", mail: "u1@contoso.com", userPrincipalName: "u1@contoso.com", accountEnabled: true },
        { "@odata.type": "#microsoft.graph.servicePrincipal", id: "s1", displayName: "pipeline" },
      ],
    };
    expect(parseSnapshot(withRoles).principals).toHaveLength(3);

    const bad = structuredClone(withRoles) as Record<string, unknown>;
    ((bad.roleAssignments as Record<string, Record<string, unknown>>[])[0]!.properties as Record<string, unknown>).principalType = "Robot";
    ((bad.principals as Record<string, unknown>[])[1] as Record<string, unknown>).nickname = "u";
    let message = "";
    try {
      parseSnapshot(bad);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/roleAssignments\[0\].*principalType/);
    expect(message).toMatch(/principals\[1\].*nickname|Unrecognized key.*nickname/);
  });
});
