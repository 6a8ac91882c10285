// The migration kit's create, as its script sends it (PUT with If-None-Match: *), against the simulated Batch
// management API on the demo tenant: refused with 412 for a pool that exists (render-pool-kv, already migrated),
// created for the free name the kit chose, refused the second time.
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type SimulatedAzure } from "@batch-cert-auditor/simulated-azure";
import { demoTenant } from "../support/simulatedAzure.js";

const ACCOUNT = "/subscriptions/3f2c1a4e-8b7d-4c6a-9e1f-2a3b4c5d6e7f/resourceGroups/rg-imaging/providers/Microsoft.Batch/batchAccounts/imagingbatch";

let sim: SimulatedAzure;
beforeAll(async () => {
  sim = await startSimulator({ snapshot: demoTenant() });
});
afterAll(async () => {
  await sim.close();
});

function send(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: { value?: { name: string; properties: Record<string, unknown> }[]; error?: { code: string } } }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, sim.url), { method, ca: sim.ca, headers: { authorization: "Bearer test", "content-type": "application/json", ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as never }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const body = { properties: { vmSize: "STANDARD_D2S_V3", deploymentConfiguration: { virtualMachineConfiguration: { nodeAgentSkuId: "batch.node.ubuntu 24.04" } } } };
const put = (pool: string, headers: Record<string, string>) => send("PUT", `${ACCOUNT}/pools/${pool}?api-version=2024-07-01`, headers, body);

describe("a conditional pool create (If-None-Match: *)", () => {
  it("is refused with 412 for a pool that exists, in any case, and leaves that pool as it was", async () => {
    const refused = await put("Render-Pool-KV", { "if-none-match": "*" });
    expect(refused.status).toBe(412);
    expect(refused.body.error?.code).toBe("PreconditionFailed");
    const listed = await send("GET", `${ACCOUNT}/pools?api-version=2024-07-01`, {});
    const existing = listed.body.value?.find((p) => p.name === "render-pool-kv");
    expect(existing?.properties.vmSize).not.toBe("STANDARD_D2S_V3");
  });

  it("creates a pool under a free name (201), is refused the second time (412), and the Batch API lists the new pool", async () => {
    expect((await put("render-pool-kv2", { "if-none-match": "*" })).status).toBe(201);
    expect((await put("render-pool-kv2", { "if-none-match": "*" })).status).toBe(412);
    const listed = await send("GET", `${ACCOUNT}/pools?api-version=2024-07-01`, {});
    expect(listed.body.value?.filter((p) => p.name === "render-pool-kv2")).toHaveLength(1);
  });

  it("updates an existing pool when the header is absent, as ARM's PUT does", async () => {
    expect((await put("render-pool-kv2", {})).status).toBe(200);
  });
});
