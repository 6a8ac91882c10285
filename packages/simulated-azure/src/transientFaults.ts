// What a real network and a real service add to every answer: a round trip that varies, and now and then a transient
// server error. Both are drawn from seeded generators, so a run can be repeated: the n-th request the simulator
// handles gets the n-th draw (which request is n-th depends on the client's scheduling; the sequence does not).
import { armError, type RouteResponse } from "./routes.js";
import { mulberry32, standardNormal } from "./seededRandom.js";

export interface LatencyOptions {
  /** The mean added to every request, in milliseconds. */
  meanMs: number;
  /**
   * "lognormal": each request waits a log-normal time whose mean is `meanMs` (round trips are skewed: most near the
   * median, a long tail of slow ones); "none": every request waits exactly `meanMs`.
   */
  jitter?: "none" | "lognormal";
  /** The log-normal's shape (standard deviation of the logarithm); 0.5 puts the 99th percentile near 2.6x the median. */
  sigma?: number;
  seed?: number;
}

/** Draws the wait for each request. */
export class LatencyModel {
  private readonly random: () => number;
  private readonly mu: number;
  private readonly sigma: number;

  constructor(private readonly options: LatencyOptions) {
    if (!(options.meanMs >= 0)) throw new Error("latency.meanMs must be a number >= 0");
    this.sigma = options.sigma ?? 0.5;
    if (!(this.sigma >= 0)) throw new Error("latency.sigma must be a number >= 0");
    this.random = mulberry32(options.seed ?? 1);
    // The mean of a log-normal is exp(mu + sigma²/2): choose mu so that the mean is meanMs.
    this.mu = Math.log(Math.max(options.meanMs, Number.MIN_VALUE)) - (this.sigma * this.sigma) / 2;
  }

  nextMs(): number {
    if (this.options.meanMs === 0) return 0;
    if ((this.options.jitter ?? "none") === "none") return this.options.meanMs;
    return Math.exp(this.mu + this.sigma * standardNormal(this.random));
  }
}

export interface ServerErrorOptions {
  /** Share of eligible requests (ARM and Resource Graph) answered with a transient 5xx instead (0..1). */
  serverErrorShare: number;
  seed: number;
}

/**
 * Transient server errors as Azure answers them:
 * - The body is ARM's error envelope `{ "error": { "code", "message" } }` (azure-rest-api-specs,
 *   specification/common-types/resource-management/v5/types.json `ErrorResponse`/`ErrorDetail`); Resource Graph's
 *   own spec uses the same envelope (specification/resourcegraph/resource-manager/Microsoft.ResourceGraph/stable/
 *   2024-04-01/resourcegraph.json `ErrorResponse`).
 * - 500 `InternalServerError` carries ARM's "Encountered internal server error. Diagnostic information: …" message;
 *   503 `ServiceUnavailable` carries `Retry-After` in seconds, as RFC 9110 §15.6.4 allows for 503 and the Azure REST API
 *   guidelines (microsoft/api-guidelines, azure/Guidelines.md) ask services to send with 429 and 503.
 * - Both are transient by Azure's own guidance ("Transient fault handling" and "Retry guidance for Azure services" on
 *   Microsoft Learn, azure/architecture/best-practices): the Azure SDKs' default retry policy retries 408 and every 5xx
 *   but 501 and 505 with exponential back-off, and honours Retry-After on 429 and 503 (@azure/core-rest-pipeline
 *   `exponentialRetryStrategy`, `throttlingRetryStrategy`).
 * The error is answered before the request reaches the API: it spends no Resource Graph quota and no ARM read token,
 * and the request is not counted as a Batch call or a Resource Graph query.
 */
export class ServerErrorInjector {
  private readonly random: () => number;

  constructor(private readonly options: ServerErrorOptions) {
    if (!(options.serverErrorShare >= 0 && options.serverErrorShare <= 1)) throw new Error("faults.serverErrorShare must be a number from 0 to 1");
    this.random = mulberry32(options.seed);
  }

  /** The next request's fate: a 5xx answer, or undefined to serve it. Two draws per request, always. */
  next(): RouteResponse | undefined {
    const fail = this.random() < this.options.serverErrorShare;
    const unavailable = this.random() < 0.5;
    if (!fail) return undefined;
    return unavailable ? serviceUnavailable() : internalServerError();
  }
}

function internalServerError(): RouteResponse {
  const timestamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const tracking = crypto.randomUUID();
  return {
    status: 500,
    body: armError(
      "InternalServerError",
      `Encountered internal server error. Diagnostic information: timestamp '${timestamp}', tracking id '${tracking}', request correlation id '${tracking}'.`,
    ),
  };
}

function serviceUnavailable(): RouteResponse {
  return {
    status: 503,
    headers: { "retry-after": "1" },
    body: armError("ServiceUnavailable", "The service is temporarily unavailable. Please try again after '1' seconds."),
  };
}
