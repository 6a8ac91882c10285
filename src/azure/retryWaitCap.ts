// Caps the waits a server sets. The SDKs' retry policy sleeps out any Retry-After it is given (an hour, if asked),
// inside a run that must end before the Functions timeout. This policy sits behind the retry policy (perRetry), sees
// each throttled answer first, and when the server asks for longer than MAX_RETRY_WAIT_SECONDS turns the answer into
// an error the retry policy will not retry: the call fails at once, with the reason, and its scope is reported as
// failed. Retrying sooner than the server said would only be refused again.
import { RestError, createHttpHeaders, type PipelinePolicy, type PipelineResponse } from "@azure/core-rest-pipeline";
import { retryAfterMs } from "./subscriptionPacer.js";

export const retryWaitCapPolicyName = "retryWaitCapPolicy";

/** The error code of a throttled answer that asked for a wait beyond the cap. */
export const WAIT_TOO_LONG = "RetryWaitTooLong";

/** Default for MAX_RETRY_WAIT_SECONDS. */
export const DEFAULT_MAX_RETRY_WAIT_MS = 60_000;

const RETRY_HEADERS = ["retry-after", "retry-after-ms", "x-ms-retry-after-ms"];

/** The setting a cap comes from, named in the error (default MAX_RETRY_WAIT_SECONDS). */
export const DEFAULT_CAP_SETTING = "MAX_RETRY_WAIT_SECONDS";

/**
 * `throttledWithoutWait: "fail"`: a 429 that names no wait at all fails at once too, rather than being retried on
 * the client's own back-off (the mail service's choice: its quota windows are an hour long). `capSetting`: the name
 * the error gives the cap (the mail sender's own cap is EMAIL_MAX_RETRY_WAIT_MS, not MAX_RETRY_WAIT_SECONDS).
 */
export function retryWaitCapPolicy(maxWaitMs: number, options: { throttledWithoutWait?: "retry" | "fail"; capSetting?: string } = {}): PipelinePolicy {
  return {
    name: retryWaitCapPolicyName,
    async sendRequest(request, next) {
      const response = await next(request);
      if (response.status !== 429 && response.status !== 503) return response;
      const named = RETRY_HEADERS.some((h) => response.headers.has(h));
      if (!named && !(options.throttledWithoutWait === "fail" && response.status === 429)) return response;
      const wait = named ? retryAfterMs(response) : Number.POSITIVE_INFINITY;
      if (wait <= maxWaitMs) return response;
      // The retry policy reads the wait from the error's response: hand it one without the headers.
      const headers = createHttpHeaders();
      for (const [name, value] of response.headers) if (!RETRY_HEADERS.includes(name.toLowerCase())) headers.set(name, value);
      const stripped: PipelineResponse = { ...response, headers };
      throw new RestError(waitTooLongMessage(new URL(request.url).host, wait, maxWaitMs, options.capSetting), {
        code: WAIT_TOO_LONG,
        statusCode: response.status,
        request,
        response: stripped,
      });
    },
  };
}

export function waitTooLongMessage(who: string, waitMs: number, maxWaitMs: number, capSetting = DEFAULT_CAP_SETTING): string {
  if (!Number.isFinite(waitMs)) return `${who} answered 429 without saying how long to wait; not retried this run`;
  return `${who} asked to wait ${formatSeconds(waitMs)} before trying again, longer than ${capSetting} (${formatSeconds(maxWaitMs)}); not retried this run`;
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
