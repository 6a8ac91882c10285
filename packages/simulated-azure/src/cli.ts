#!/usr/bin/env node
// Runs the simulated Azure alone: `simulated-azure <snapshot.json> [--port N] [--latency-ms N] [--jitter lognormal]
// [--server-error-share S] [--seed N] [--ca-out FILE]`. Prints its URL and writes its CA certificate to `--ca-out`
// (default `simulated-azure-ca.pem` in the working directory) for clients to trust; stops on Ctrl-C.
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { startSimulator } from "./server.js";
import { loadSnapshot } from "./snapshot.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: "string" },
    "latency-ms": { type: "string" },
    jitter: { type: "string" },
    "server-error-share": { type: "string" },
    seed: { type: "string" },
    "ca-out": { type: "string" },
  },
});
const path = positionals[0];
const number = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not "${value}"`);
  return n;
};
try {
  if (!path) throw new Error("usage: simulated-azure <snapshot.json> [--port N] [--latency-ms N] [--jitter lognormal] [--server-error-share S] [--seed N] [--ca-out FILE]");
  const caOut = values["ca-out"] ?? "simulated-azure-ca.pem";
  const port = number("port", values.port);
  const latencyMs = number("latency-ms", values["latency-ms"]);
  const seed = number("seed", values.seed) ?? 1;
  if (values.jitter !== undefined && values.jitter !== "lognormal" && values.jitter !== "none") throw new Error(`--jitter must be lognormal or none, not "${values.jitter}"`);
  if (values.jitter === "lognormal" && latencyMs === undefined) throw new Error("--jitter needs --latency-ms (the mean)");
  const share = values["server-error-share"] === undefined ? undefined : Number(values["server-error-share"]);
  if (share !== undefined && !(share >= 0 && share <= 1)) throw new Error(`--server-error-share must be a number from 0 to 1, not "${values["server-error-share"]}"`);
  const sim = await startSimulator({
    snapshot: await loadSnapshot(path),
    ...(port === undefined ? {} : { port }),
    ...(latencyMs === undefined ? {} : { latencyMs }),
    ...(latencyMs !== undefined && values.jitter === "lognormal" ? { latency: { meanMs: latencyMs, jitter: "lognormal" as const, seed } } : {}),
    ...(share === undefined ? {} : { faults: { serverErrorShare: share, seed } }),
  });
  await writeFile(caOut, sim.ca);
  process.stdout.write(`Simulated Azure at ${sim.url} (CA certificate: ${caOut}). Ctrl-C stops it.\n`);
  process.once("SIGINT", () => void sim.close().then(() => process.exit(0)));
} catch (error) {
  process.stderr.write(`simulated-azure: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
