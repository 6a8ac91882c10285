// Absolute links for API answers. Built from the request's own origin; the function key is never copied into them.
import type { HttpRequest } from "@azure/functions";

/** The host's default route prefix (host.json extensions.http.routePrefix). */
export const API_PREFIX = "/api";

export const runUrl = (request: HttpRequest, runId: string) => `${new URL(request.url).origin}${API_PREFIX}/audit/runs/${encodeURIComponent(runId)}`;

export const reportUrl = (request: HttpRequest, format?: "json" | "csv" | "html") =>
  `${new URL(request.url).origin}${API_PREFIX}/audit/report${format ? `?format=${format}` : ""}`;
