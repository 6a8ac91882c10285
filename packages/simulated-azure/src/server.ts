// The simulated Azure: one HTTPS server on loopback that speaks the real REST contracts the auditor uses, so the
// real SDK clients (with their real bearer-token, paging and retry behaviour) can run against it.
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SIMULATOR_TLS_CERT, SIMULATOR_TLS_KEY } from "./devCertificate.js";
import { graphRoutes, type GraphOptions } from "./graphApi.js";
import { FaultInjector } from "./faults.js";
import { batchRoutes, type BatchApiOptions } from "./batchApi.js";
import { SimulatedEmailService, type EmailServiceOptions } from "./emailApi.js";
import { resourceGraphRoutes, type ResourceGraphOptions } from "./resourceGraphApi.js";
import type { TenantSnapshot } from "./snapshot.js";
import { SimulatorState } from "./state.js";
import { subscriptionRoutes } from "./subscriptionsApi.js";
import { LatencyModel, ServerErrorInjector, type LatencyOptions, type ServerErrorOptions } from "./transientFaults.js";
import { armError, type Route, type RouteContext, type RouteRequest, type RouteResponse, type SimulatorStats } from "./routes.js";

export { armError, type Route, type RouteContext, type RouteRequest, type RouteResponse, type SimulatorStats };

export interface SimulatorOptions {
  snapshot: TenantSnapshot;
  /** Added to every request, as a real network round trip would (a fixed wait; `latency` replaces it when given). */
  latencyMs?: number;
  /** A round trip that varies: log-normal around `meanMs`, seeded. Takes precedence over `latencyMs`. */
  latency?: LatencyOptions;
  /**
   * A seeded share of ARM (Batch, subscriptions) and Resource Graph requests answered with a transient 500 or 503, as
   * Azure sometimes does. Communication Services Email is left out: a send answered 5xx would be retried by the SDK
   * and could go twice, which is the send ambiguity the app handles on its own (tested with scripted faults), not a
   * transient read to shrug off. Microsoft Graph is left out too (its errors have Graph's own shape; scripted faults
   * cover it). Scripted faults (`snapshot.faults`) go first.
   */
  faults?: ServerErrorOptions;
  resourceGraph?: ResourceGraphOptions;
  /** Batch page size and ARM's per-subscription read throttling (off unless given). */
  batch?: BatchApiOptions;
  /** The ARM subscription list (GET /subscriptions). */
  subscriptions?: { pageSize?: number };
  /** Simulated Microsoft Graph: the most members one page gives, whatever `$top` asks (Graph may give fewer). */
  graph?: GraphOptions;
  /** The simulated Communication Services Email endpoint (always mounted; these tune it). */
  email?: EmailServiceOptions;
  host?: string;
  port?: number;
  /** Extra routes (e.g. the Communication Email service) mounted on the same server. */
  extraRoutes?: (ctx: RouteContext) => Route[];
}


export interface SimulatedAzure {
  /** https://127.0.0.1:<port> */
  url: string;
  /** The certificate the server presents; give it to clients as `tlsOptions.ca`. */
  ca: string;
  stats: SimulatorStats;
  state: SimulatorState;
  /** What the simulated Communication Email service accepted. */
  email: SimulatedEmailService;
  close(): Promise<void>;
}





export async function startSimulator(options: SimulatorOptions): Promise<SimulatedAzure> {
  const stats: SimulatorStats = { requests: 0, resourceGraphQueries: 0, batchCalls: 0, vmSkuCalls: 0, throttled429: 0, faultsInjected: 0, serverErrors: 0 };
  const state = new SimulatorState(options.snapshot);
  const faults = new FaultInjector(options.snapshot.faults ?? []);
  let url = "";
  const ctx: RouteContext = { snapshot: options.snapshot, state, stats, baseUrl: () => url };
  const email = new SimulatedEmailService(ctx, options.email ?? {});
  const latency = options.latency ? new LatencyModel(options.latency) : undefined;
  const serverErrors = options.faults && options.faults.serverErrorShare > 0 ? new ServerErrorInjector(options.faults) : undefined;
  // The routes whose requests may meet a transient 5xx: ARM's and Resource Graph's.
  const armRoutes = [...resourceGraphRoutes(ctx, options.resourceGraph ?? {}), ...batchRoutes(ctx, options.batch ?? {}), ...subscriptionRoutes(ctx, options.subscriptions ?? {})];
  const mayFail = new Set<Route>(armRoutes);
  const routes: Route[] = [
    ...armRoutes,
    ...graphRoutes(ctx, options.graph ?? {}),
    ...email.routes(),
    ...(options.extraRoutes?.(ctx) ?? []),
  ];

  const server: Server = createServer({ cert: SIMULATOR_TLS_CERT, key: SIMULATOR_TLS_KEY }, (req, res) => {
    void handle(req, res).catch((error: unknown) => {
      send(res, { status: 500, body: armError("InternalServerError", `Simulator error: ${(error as Error).message}`) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    const body = await readBody(req);
    const parsed = new URL(req.url ?? "/", "https://simulator");
    // The Communication Email SDK writes `//emails/...` paths; collapse them as the real front door does.
    const path = parsed.pathname.replace(/\/{2,}/g, "/");
    const method = (req.method ?? "GET").toUpperCase();
    const wait = latency ? latency.nextMs() : (options.latencyMs ?? 0);
    if (wait > 0) await sleep(wait);

    const fault = faults.match(method, path);
    if (fault) {
      stats.faultsInjected++;
      if (fault.delayMs) await sleep(fault.delayMs);
      if (fault.status !== undefined) {
        if (fault.status === 429) stats.throttled429++;
        send(res, {
          status: fault.status,
          headers: fault.headers ?? {},
          body: fault.body ?? armError("InjectedFault", `Injected fault for ${method} ${path}`),
        });
        return;
      }
    }

    for (const route of routes) {
      if (route.method !== method) continue;
      const match = route.pattern.exec(path);
      if (!match) continue;
      if (route.auth === "bearer" && !/^Bearer \S+/.test(req.headers.authorization ?? "")) {
        send(res, { status: 401, body: armError("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.") });
        return;
      }
      const serverError = serverErrors && mayFail.has(route) ? serverErrors.next() : undefined;
      if (serverError) {
        stats.serverErrors++;
        send(res, serverError);
        return;
      }
      const response = await route.handle({ method, path, rawPath: req.url ?? "/", query: parsed.searchParams, headers: req.headers, body, match });
      if (response.status === 429) stats.throttled429++;
      send(res, response);
      return;
    }
    send(res, { status: 404, body: armError("NotFound", `The simulator has no route for ${method} ${path}`) });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  url = `https://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    url,
    ca: SIMULATOR_TLS_CERT,
    stats,
    state,
    email,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}


function send(res: ServerResponse, response: RouteResponse): void {
  const headers: Record<string, string> = { "x-ms-request-id": crypto.randomUUID(), ...response.headers };
  if (response.body === undefined) {
    res.writeHead(response.status, headers).end();
    return;
  }
  const text = typeof response.body === "string" ? response.body : JSON.stringify(response.body);
  if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json; charset=utf-8";
  res.writeHead(response.status, headers).end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
