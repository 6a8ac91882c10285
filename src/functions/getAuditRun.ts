// GET /api/audit/runs/{id}: a run's state, progress, counts and errors.
import "../index.js";
import { app, type HttpFunctionOptions } from "@azure/functions";
import { z } from "zod";
import type { RunStatus } from "../azure/blobReportStore.js";
import { activeRun } from "./support/backgroundRun.js";
import { HttpProblem, json, parseQuery, parseValues, redact, route } from "./support/http.js";
import { reportUrl, runUrl } from "./support/urls.js";

/** As newRunId makes them: run-2026-11-26T07-00-00Z-1a2b3c. */
export const RUN_ID_PATTERN = /^run-[0-9TZ-]+-[0-9a-f]{6}$/;
const PATH = { id: { schema: z.string().regex(RUN_ID_PATTERN), allowed: "a run id such as run-2026-11-26T07-00-00Z-1a2b3c" } };

export const getAuditRun = route(async (request, { host }) => {
  parseQuery(request, {});
  const { id } = parseValues({ id: request.params.id ?? "" }, PATH, "Path parameter") as { id: string };
  const { reports } = host.composition;
  let status = await reports.status(id);
  if (!status) throw new HttpProblem(404, "RUN.NOT_FOUND", `There is no run ${id}.`);

  let abandoned = false;
  if (status.state === "running" && (await activeRun(host)) !== id) {
    // Its status is written before it lets go of the lock, so read it again: it may just have finished.
    status = (await reports.status(id)) ?? status;
    abandoned = status.state === "running";
  }
  const body = {
    runId: status.runId,
    state: abandoned ? "failed" : status.state,
    trigger: status.trigger,
    sendMode: status.sendMode,
    ...(status.kind ? { kind: status.kind } : {}),
    startedAt: status.startedAt,
    ...(status.finishedAt ? { finishedAt: status.finishedAt } : {}),
    progress: status.progress,
    ...(status.counts ? { counts: status.counts } : {}),
    ...(status.coverageComplete !== undefined ? { coverageComplete: status.coverageComplete } : {}),
    ...(status.backlog ? { backlog: status.backlog } : {}),
    errors: [
      ...status.errors.map(redact),
      ...(abandoned ? ["The run stopped without finishing: the process running it ended (for example, its instance was recycled). Start a new run."] : []),
    ],
    ...(abandoned ? { abandoned: true } : {}),
    statusUrl: runUrl(request, status.runId),
    ...(status.state === "succeeded" ? { reportUrl: reportUrl(request) } : {}),
  } satisfies Record<string, unknown> & Pick<RunStatus, "runId">;
  return json(200, body, status.state === "running" && !abandoned ? { "Retry-After": "5" } : {});
});

export const getAuditRunOptions = {
  route: "audit/runs/{id}",
  methods: ["GET"],
  authLevel: "function",
  handler: getAuditRun,
} satisfies HttpFunctionOptions;

app.http("getAuditRun", getAuditRunOptions);
