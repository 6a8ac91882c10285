// What every simulated API module shares with the server: the route shapes and ARM's error body. Kept apart from the
// server so that the API modules and the server do not import each other.
import type { IncomingMessage } from "node:http";
import type { TenantSnapshot } from "./snapshot.js";
import type { SimulatorState } from "./state.js";

export interface SimulatorStats {
  requests: number;
  resourceGraphQueries: number;
  batchCalls: number;
  /** Of the Batch calls, those to `locations/{location}/virtualMachineSkus` (one per region read, per page). */
  vmSkuCalls: number;
  throttled429: number;
  faultsInjected: number;
  /** Transient 500/503 answers drawn by `faults.serverErrorShare` (each one a retry for the client). */
  serverErrors: number;
}

export interface RouteRequest {
  method: string;
  path: string;
  /** The request target as sent (path and query, `//` not collapsed), for checking signatures. */
  rawPath: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: string;
  match: RegExpExecArray;
}

export interface RouteResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface Route {
  method: string;
  pattern: RegExp;
  /** ARM routes require a bearer token; data-plane routes check their own auth. */
  auth: "bearer" | "none";
  handle(req: RouteRequest): RouteResponse | Promise<RouteResponse>;
}

export interface RouteContext {
  snapshot: TenantSnapshot;
  state: SimulatorState;
  stats: SimulatorStats;
  baseUrl(): string;
}

/** ARM's error body (azure-rest-api-specs common-types v5 ErrorResponse: `{ error: { code, message } }`). */
export function armError(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}
