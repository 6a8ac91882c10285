// What every HTTP function shares: parameter checking with zod, JSON error bodies, and a guard that turns any
// failure into a short answer without stack traces or secrets (the details go to the log).
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { z } from "zod";
import { getHost, invocationLog, type FunctionsHost, type InvocationLog } from "../../app/functionsHost.js";
import { AuditError, ensureError } from "../../core/errors.js";

export const MAX_PARAMETER_LENGTH = 200;
/** The Functions host passes the function key on as a query parameter; it is accepted and never used. */
const FUNCTION_KEY_PARAMETER = "code";
const COMMON_HEADERS = { "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" };

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "HttpProblem";
  }
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { ...COMMON_HEADERS, "Content-Type": "application/json; charset=utf-8", ...headers } };
}

export function text(status: number, body: string, contentType: string, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, body, headers: { ...COMMON_HEADERS, "Content-Type": contentType, ...headers } };
}

export function problem(status: number, code: string, message: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {}): HttpResponseInit {
  return json(status, { error: { code, message: redact(message), ...details } }, headers);
}

/** A parameter: its schema and, for messages, the values it allows. */
export interface ParameterSpec {
  schema: z.ZodType;
  allowed: string;
}

/**
 * Checks a request's query against the parameters a route takes: unknown, repeated and oversized parameters are
 * refused, and each bad value is answered with the parameter's name and what it allows.
 */
export function parseQuery<S extends Record<string, ParameterSpec>>(
  request: HttpRequest,
  specs: S,
): { [K in keyof S]: z.output<S[K]["schema"]> } {
  const input: Record<string, string> = {};
  for (const [name, value] of request.query.entries()) {
    if (name === FUNCTION_KEY_PARAMETER) continue;
    if (!Object.hasOwn(specs, name)) {
      throw new HttpProblem(400, "REQUEST.UNKNOWN_PARAMETER", `Unknown query parameter "${clip(name)}". Allowed parameters: ${allowedList(specs)}.`, {
        parameter: clip(name),
        allowedParameters: Object.keys(specs),
      });
    }
    if (Object.hasOwn(input, name)) {
      throw new HttpProblem(400, "REQUEST.INVALID_PARAMETER", `Query parameter "${name}" is given more than once; give it once: ${specs[name]?.allowed}.`, {
        parameter: name,
        allowed: specs[name]?.allowed,
      });
    }
    input[name] = value;
  }
  return parseValues(input, specs, "Query parameter") as { [K in keyof S]: z.output<S[K]["schema"]> };
}

/** Checks named values (query or body fields) against their specs; the first bad one is reported. */
export function parseValues(input: Record<string, unknown>, specs: Record<string, ParameterSpec>, what: string): Record<string, unknown> {
  for (const [name, value] of Object.entries(input)) {
    if (!Object.hasOwn(specs, name)) {
      throw new HttpProblem(400, "REQUEST.UNKNOWN_PARAMETER", `Unknown ${what.toLowerCase()} "${clip(name)}". Allowed: ${allowedList(specs)}.`, {
        parameter: clip(name),
        allowedParameters: Object.keys(specs),
      });
    }
    if (typeof value === "string" && value.length > MAX_PARAMETER_LENGTH) {
      throw new HttpProblem(400, "REQUEST.INVALID_PARAMETER", `${what} "${name}" is too long (at most ${MAX_PARAMETER_LENGTH} characters); it must be ${specs[name]?.allowed}.`, {
        parameter: name,
        allowed: specs[name]?.allowed,
      });
    }
  }
  const output: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const parsed = spec.schema.safeParse(input[name]);
    if (!parsed.success) {
      const got = input[name] === undefined ? "" : ` (got ${clip(JSON.stringify(input[name]))})`;
      throw new HttpProblem(400, "REQUEST.INVALID_PARAMETER", `${what} "${name}" must be ${spec.allowed}${got}.`, { parameter: name, allowed: spec.allowed });
    }
    output[name] = parsed.data;
  }
  return output;
}

/** A parameter that takes one of a few words, case-insensitively. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T): ParameterSpec & { schema: z.ZodType<T[number] | undefined> } {
  return {
    schema: z
      .string()
      .transform((v) => v.trim().toLowerCase())
      .pipe(z.enum(values))
      .optional(),
    allowed: `one of ${values.join(", ")}`,
  };
}

/** A parameter whose (trimmed) value must pass `test`. */
export function satisfying(test: (value: string) => boolean, allowed: string): ParameterSpec & { schema: z.ZodType<string | undefined> } {
  return { schema: z.string().trim().refine(test).optional(), allowed };
}

const allowedList = (specs: Record<string, ParameterSpec>) =>
  Object.entries(specs)
    .map(([name, spec]) => `${name} (${spec.allowed})`)
    .join(", ");

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

/**
 * Removes what must never reach a client: key material from connection strings and SAS tokens, bearer tokens,
 * and stack frames. Applied to every message an error response carries.
 */
export function redact(message: string): string {
  return message
    .split("\n")
    .filter((line) => !/^\s*at\s/.test(line))
    .join("\n")
    // The whole pair goes, name included, so not even a format hint shows a key's name.
    .replace(/\b(?:AccountKey|SharedAccessKey|accesskey|InstrumentationKey|sig|SharedAccessSignature)=[^;&\s"']*/gi, "[redacted]")
    .replace(/Bearer\s+[\w.~+/-]+=*/g, "Bearer [redacted]")
    .slice(0, 2000);
}

export interface HttpInvocation {
  host: FunctionsHost;
  log: InvocationLog["log"];
  /** Call when work continues after the response (its logs then go to the host log). */
  detach: InvocationLog["detach"];
}

/**
 * Wraps a route: builds the invocation's logger, resolves the host (a bad configuration answers 500 naming the
 * settings), and answers HttpProblems as they say and anything else as a short error without its stack.
 */
export function route(handle: (request: HttpRequest, invocation: HttpInvocation, context: InvocationContext) => Promise<HttpResponseInit>): HttpHandler {
  return async (request, context) => {
    const { log, detach } = invocationLog(context, { route: new URL(request.url).pathname });
    let host: FunctionsHost;
    try {
      host = getHost();
    } catch (error) {
      const e = ensureError(error);
      log.error("configuration is not valid", { problems: e.message });
      return problem(500, "CONFIG.INVALID", e.message);
    }
    try {
      return await handle(request, { host, log, detach }, context);
    } catch (error) {
      if (error instanceof HttpProblem) return problem(error.status, error.code, error.message, error.details);
      const e = ensureError(error);
      log.error("request failed", { error: e.message, stack: e.stack });
      if (e instanceof AuditError && e.retryable) {
        return problem(503, e.code, `${e.message}. Try again shortly.`, {}, { "Retry-After": "10" });
      }
      return problem(500, e instanceof AuditError ? e.code : "INTERNAL", `The request failed; see the log of invocation ${context.invocationId}.`);
    }
  };
}
