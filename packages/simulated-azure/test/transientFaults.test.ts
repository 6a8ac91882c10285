import { afterEach, describe, expect, it } from "vitest";
import { startSimulator, type SimulatedAzure } from "../src/server.js";
import { generateTenant } from "../src/tenantGenerator.js";
import { LatencyModel, ServerErrorInjector } from "../src/transientFaults.js";
import { callSimulator, type RawAnswer } from "./request.js";

const draws = (injector: ServerErrorInjector, n: number) => Array.from({ length: n }, () => injector.next()?.status ?? 200);

describe("transient server errors", () => {
  it("draw the same sequence of answers from the same seed, and another from another seed", () => {
    const first = draws(new ServerErrorInjector({ serverErrorShare: 0.05, seed: 7 }), 2_000);
    const again = draws(new ServerErrorInjector({ serverErrorShare: 0.05, seed: 7 }), 2_000);
    const other = draws(new ServerErrorInjector({ serverErrorShare: 0.05, seed: 8 }), 2_000);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it("fail about the share asked for, with both 500 and 503", () => {
    const statuses = draws(new ServerErrorInjector({ serverErrorShare: 0.02, seed: 11 }), 20_000);
    const failed = statuses.filter((s) => s !== 200);
    expect(failed.length / statuses.length).toBeGreaterThan(0.015);
    expect(failed.length / statuses.length).toBeLessThan(0.025);
    expect(new Set(failed)).toEqual(new Set([500, 503]));
  });

  it("refuse a share outside 0..1", () => {
    expect(() => new ServerErrorInjector({ serverErrorShare: 1.5, seed: 1 })).toThrow(/serverErrorShare/);
  });
});

describe("latency jitter", () => {
  it("is log-normal around the mean: same seed, same waits; mean near meanMs; a tail above it", () => {
    const model = () => new LatencyModel({ meanMs: 50, jitter: "lognormal", sigma: 0.5, seed: 3 });
    const a = model();
    const b = model();
    const waits = Array.from({ length: 20_000 }, () => a.nextMs());
    expect(Array.from({ length: 20_000 }, () => b.nextMs())).toEqual(waits);
    const mean = waits.reduce((sum, w) => sum + w, 0) / waits.length;
    expect(mean).toBeGreaterThan(48);
    expect(mean).toBeLessThan(52);
    const sorted = [...waits].sort((x, y) => x - y);
    // Median exp(mu) = 50 * exp(-sigma²/2) ≈ 44 ms; 99th percentile ≈ 44 * exp(2.33 * 0.5) ≈ 141 ms.
    expect(sorted[10_000]).toBeGreaterThan(42);
    expect(sorted[10_000]).toBeLessThan(46);
    expect(sorted[19_800]).toBeGreaterThan(125);
    expect(Math.min(...waits)).toBeGreaterThan(0);
  });

  it("without jitter waits exactly the mean", () => {
    const model = new LatencyModel({ meanMs: 20 });
    expect([model.nextMs(), model.nextMs()]).toEqual([20, 20]);
  });
});

describe("the simulator with transient faults", () => {
  let sim: SimulatedAzure | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  function get(path: string, method: "GET" | "POST" = "GET", auth = "Bearer test"): Promise<RawAnswer> {
    return callSimulator(sim as SimulatedAzure, method, path, method === "POST" ? { query: "resources | limit 1" } : undefined, auth);
  }

  it("answers ARM and Resource Graph requests with ARM's error body, 503 with Retry-After, and counts them", async () => {
    sim = await startSimulator({ snapshot: generateTenant({ seed: 1, subscriptions: 2, accounts: 3, pools: 0, certificateShare: 0 }), faults: { serverErrorShare: 1, seed: 5 } });
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await get("/subscriptions?api-version=2022-12-01"));
    answers.push(await get("/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01", "POST"));

    for (const answer of answers) {
      expect([500, 503]).toContain(answer.status);
      expect(answer.body).toEqual({ error: { code: answer.status === 503 ? "ServiceUnavailable" : "InternalServerError", message: expect.any(String) } });
      if (answer.status === 503) expect(Number(answer.headers["retry-after"])).toBeGreaterThan(0);
    }
    expect(new Set(answers.map((a) => a.status)).size).toBe(2);
    expect(sim.stats.serverErrors).toBe(answers.length);
    // The failed requests never reached the API: no Resource Graph query was counted.
    expect(sim.stats.resourceGraphQueries).toBe(0);
  });

  it("leaves Communication Services Email and Microsoft Graph alone, and checks authentication first", async () => {
    sim = await startSimulator({ snapshot: generateTenant({ seed: 1, subscriptions: 1, accounts: 1, pools: 0, certificateShare: 0 }), faults: { serverErrorShare: 1, seed: 5 } });
    // Without credentials the email service answers 401 (not a 5xx); Graph answers 404 for an unknown group.
    expect((await get("/emails/operations/x?api-version=2025-09-01", "GET", "")).status).toBe(401);
    expect((await get("/v1.0/groups/00000000-0000-4000-8000-000000000000/transitiveMembers")).status).toBe(404);
    expect((await get("/subscriptions?api-version=2022-12-01", "GET", "")).status).toBe(401);
    expect(sim.stats.serverErrors).toBe(0);
  });
});
