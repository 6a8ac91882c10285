// Resource Graph's authorizationScopeFilter over the authorizationresources table, as the simulator models it.
import { afterEach, describe, expect, it } from "vitest";
import { parseSnapshot, startSimulator, type SimulatedAzure } from "../src/index.js";
import { callSimulator } from "./request.js";

const SUB = "00000000-0000-4000-8000-00000000000a";
const OTHER = "00000000-0000-4000-8000-00000000000b";
const assignment = (name: string, scope: string) => ({
  id: `${scope === "/" ? "" : scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
  name,
  type: "Microsoft.Authorization/roleAssignments" as const,
  properties: { roleDefinitionId: "/providers/Microsoft.Authorization/roleDefinitions/r", principalId: name, principalType: "User" as const, scope },
});
const tenant = parseSnapshot({
  tenantId: "t",
  subscriptions: [
    { subscriptionId: SUB, displayName: "a", managementGroups: ["science", "root-mg"] },
    { subscriptionId: OTHER, displayName: "b", managementGroups: ["finance", "root-mg"] },
  ],
  resources: [],
  roleDefinitions: [{ id: "/providers/Microsoft.Authorization/roleDefinitions/r", name: "r", type: "Microsoft.Authorization/roleDefinitions", properties: { roleName: "Owner", type: "BuiltInRole" } }],
  roleAssignments: [
    assignment("at-sub", `/subscriptions/${SUB}`),
    assignment("at-rg", `/subscriptions/${SUB}/resourceGroups/rg`),
    assignment("at-science", "/providers/Microsoft.Management/managementGroups/science"),
    assignment("at-finance", "/providers/Microsoft.Management/managementGroups/finance"),
    assignment("at-root", "/"),
    assignment("other-sub", `/subscriptions/${OTHER}`),
  ],
});

let sim: SimulatedAzure | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function assignments(subscriptions: string[] | undefined, authorizationScopeFilter?: string): Promise<{ status: number; names: string[] }> {
  sim ??= await startSimulator({ snapshot: tenant });
  const answer = await callSimulator(sim, "POST", "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01", {
    query: "authorizationresources | where type =~ 'microsoft.authorization/roleassignments' | project name | order by name asc",
    ...(subscriptions ? { subscriptions } : {}),
    options: { resultFormat: "objectArray", ...(authorizationScopeFilter ? { authorizationScopeFilter } : {}) },
  });
  const data = (answer.body as { data?: { name: string }[] }).data ?? [];
  return { status: answer.status, names: data.map((row) => row.name) };
}

describe("authorizationScopeFilter on the simulated Resource Graph", () => {
  it("returns assignments on the management groups above a subscription, and at the root, only with AtScopeAboveAndBelow (or AtScopeAndAbove)", async () => {
    expect((await assignments([SUB])).names).toEqual(["at-rg", "at-sub"]);
    expect((await assignments([SUB], "AtScopeAndBelow")).names).toEqual(["at-rg", "at-sub"]);
    expect((await assignments([SUB], "AtScopeAboveAndBelow")).names).toEqual(["at-rg", "at-root", "at-science", "at-sub"]);
    expect((await assignments([SUB], "AtScopeAndAbove")).names).toEqual(["at-root", "at-science", "at-sub"]);
    expect((await assignments([SUB], "AtScopeExact")).names).toEqual(["at-sub"]);
  });

  it("returns no management group assignment to a tenant-scope query with the default filter, and refuses an unknown filter", async () => {
    expect((await assignments(undefined)).names).toEqual(["at-rg", "at-sub", "other-sub"]);
    expect((await assignments(undefined, "AtScopeAboveAndBelow")).names).toEqual(["at-finance", "at-rg", "at-root", "at-science", "at-sub", "other-sub"]);
    expect((await assignments([SUB], "Everything")).status).toBe(400);
  });
});
