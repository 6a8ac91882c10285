// One HTTPS request to a running simulator, trusting its CA, with a bearer token: for tests that look at raw answers.
import { request } from "node:https";
import type { SimulatedAzure } from "../src/index.js";

export interface RawAnswer {
  status: number;
  headers: Record<string, unknown>;
  body: unknown;
}

export function callSimulator(sim: SimulatedAzure, method: "GET" | "POST", path: string, body?: unknown, auth = "Bearer test"): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, sim.url), { method, ca: sim.ca, headers: { authorization: auth, "content-type": "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw ? (JSON.parse(raw) as unknown) : undefined });
      });
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
