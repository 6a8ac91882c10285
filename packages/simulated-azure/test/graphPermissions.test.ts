// The simulated Microsoft Graph answers as an identity with the configured application permissions would be answered.
import { afterEach, describe, expect, it } from "vitest";
import { parseSnapshot, startSimulator, type SimulatedAzure } from "../src/index.js";
import { callSimulator } from "./request.js";

const tenant = parseSnapshot({
  tenantId: "t",
  subscriptions: [],
  resources: [],
  principals: [
    { "@odata.type": "#microsoft.graph.user", id: "ann", mail: "ann@contoso.com", userPrincipalName: "ann@contoso.com", accountEnabled: true },
    { "@odata.type": "#microsoft.graph.servicePrincipal", id: "app", displayName: "pipeline" },
    { "@odata.type": "#microsoft.graph.group", id: "ops", displayName: "ops", mail: null, mailEnabled: false, members: ["ann", "app"] },
    { "@odata.type": "#microsoft.graph.group", id: "secret", displayName: "secret", mail: null, mailEnabled: false, members: ["ann"], visibility: "HiddenMembership" },
  ],
});

let sim: SimulatedAzure | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

type GraphAnswer = { status: number; body: { value?: Record<string, unknown>[]; error?: { code: string } } & Record<string, unknown> };

async function ask(permissions: readonly string[] | undefined, path: string, body?: unknown): Promise<GraphAnswer> {
  sim ??= await startSimulator({ snapshot: tenant, ...(permissions ? { graph: { permissions } } : {}) });
  return (await callSimulator(sim, body === undefined ? "GET" : "POST", path, body)) as GraphAnswer;
}

describe("the simulated Microsoft Graph's permissions", () => {
  it("answers getByIds with only id and @odata.type without Directory.Read.All, and in full with it", async () => {
    const stripped = await ask(undefined, "/v1.0/directoryObjects/getByIds", { ids: ["ann", "ops"] });
    expect(stripped.body.value).toEqual([
      { "@odata.type": "#microsoft.graph.user", id: "ann" },
      { "@odata.type": "#microsoft.graph.group", id: "ops" },
    ]);
    await sim?.close();
    sim = undefined;
    const full = await ask(["Directory.Read.All"], "/v1.0/directoryObjects/getByIds?$select=id,mail", { ids: ["ann"] });
    expect(full.body.value).toEqual([{ "@odata.type": "#microsoft.graph.user", id: "ann", mail: "ann@contoso.com" }]);
  });

  it("lists users by `id in (...)` with User.Read.All, refuses more than 15 values, and is 403 without the permission", async () => {
    const found = await ask(undefined, `/v1.0/users?$filter=${encodeURIComponent("id in ('ANN','nobody')")}`);
    expect(found.body.value?.map((u) => u.userPrincipalName)).toEqual(["ann@contoso.com"]);
    const ids = Array.from({ length: 16 }, (_, i) => `'u${i}'`).join(",");
    expect((await ask(undefined, `/v1.0/users?$filter=${encodeURIComponent(`id in (${ids})`)}`)).status).toBe(400);
    await sim?.close();
    sim = undefined;
    const refused = await ask(["GroupMember.Read.All"], `/v1.0/users?$filter=${encodeURIComponent("id in ('ann')")}`);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe("Authorization_RequestDenied");
  });

  it("strips members the caller may not read (users without User.Read.All, service principals without Application.Read.All) and hides hidden memberships", async () => {
    const members = await ask(["GroupMember.Read.All"], "/v1.0/groups/ops/transitiveMembers");
    expect(members.body.value).toEqual([
      { "@odata.type": "#microsoft.graph.user", id: "ann" },
      { "@odata.type": "#microsoft.graph.servicePrincipal", id: "app" },
    ]);
    await sim?.close();
    sim = undefined;
    expect((await ask(undefined, "/v1.0/groups/secret")).status).toBe(200);
    expect((await ask(undefined, "/v1.0/groups/secret/transitiveMembers")).status).toBe(403);
    expect((await ask(undefined, "/v1.0/groups/ops/transitiveMembers")).body.value?.[0]?.mail).toBe("ann@contoso.com");
  });
});
