// POST /api/audit/runs: starts a run and answers 202 with where to poll it. Dry-run unless send=true is asked
// for and SEND_MODE allows sending. While a run is active it answers 202 with that run instead.
import "../index.js";
import { app, type HttpFunctionOptions, type HttpRequest } from "@azure/functions";
import { z } from "zod";
import { startBackgroundRun } from "./support/backgroundRun.js";
import { HttpProblem, json, oneOf, parseQuery, parseValues, route, type ParameterSpec } from "./support/http.js";
import { runUrl } from "./support/urls.js";

const MAX_BODY_CHARS = 1024;
const QUERY = { send: oneOf(["true", "false"]) };
const BODY: Record<string, ParameterSpec> = {
  send: { schema: z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]).optional(), allowed: "true or false" },
};

export const startAuditRun = route(async (request, { host, log, detach }) => {
  const query = parseQuery(request, QUERY);
  const body = await readBody(request);
  const fromQuery = query.send === undefined ? undefined : query.send === "true";
  const fromBody = body.send as boolean | undefined;
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
    throw new HttpProblem(400, "REQUEST.INVALID_PARAMETER", 'Parameter "send" is given in the query and the body with different values; give it once: true or false.', {
      parameter: "send",
      allowed: "true or false",
    });
  }
  const send = fromQuery ?? fromBody ?? false;
  const mode = host.config.sendMode;
  if (send && mode === "dry-run") {
    throw new HttpProblem(
      409,
      "SEND.NOT_ALLOWED",
      'Parameter "send" can be true only when the app setting SEND_MODE is "redirect" or "live"; it is "dry-run", so runs send nothing. Leave send out (or false) for a dry run.',
      { parameter: "send", allowed: "false (SEND_MODE is dry-run)" },
    );
  }
  const sendMode = send ? mode : "dry-run";

  const outcome = await startBackgroundRun(host, log, { sendMode });
  if (outcome.state === "failed") throw outcome.error;
  const statusUrl = runUrl(request, outcome.runId);
  const headers = { Location: statusUrl, "Retry-After": "5" };
  if (outcome.state === "already-running") {
    log.info("a run is already active; not starting another", { activeRunId: outcome.runId });
    return json(202, { runId: outcome.runId, statusUrl, alreadyRunning: true }, headers);
  }
  log.info("run started", { runId: outcome.runId, sendMode });
  // The run goes on after this response; its logs go to the host log from here on.
  detach();
  return json(202, { runId: outcome.runId, statusUrl, alreadyRunning: false, sendMode, state: outcome.state === "starting" ? "starting" : "running" }, headers);
});

async function readBody(request: HttpRequest): Promise<Record<string, unknown>> {
  const raw = await request.text();
  if (raw.length > MAX_BODY_CHARS) {
    throw new HttpProblem(400, "REQUEST.INVALID_PARAMETER", `The body is too long (at most ${MAX_BODY_CHARS} characters); send nothing or a JSON object such as {"send": true}.`, {
      parameter: "body",
      allowed: 'empty, or a JSON object with "send": true or false',
    });
  }
  if (raw.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new HttpProblem(400, "REQUEST.INVALID_PARAMETER", 'The body must be empty or a JSON object such as {"send": true}.', {
      parameter: "body",
      allowed: 'empty, or a JSON object with "send": true or false',
    });
  }
  return parseValues(parsed as Record<string, unknown>, BODY, "Body field");
}

export const startAuditRunOptions = {
  route: "audit/runs",
  methods: ["POST"],
  authLevel: "function",
  handler: startAuditRun,
} satisfies HttpFunctionOptions;

app.http("startAuditRun", startAuditRunOptions);
