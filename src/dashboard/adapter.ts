// node:http in front of the registered HTTP functions: each request becomes a real HttpRequest and
// InvocationContext from @azure/functions, goes to the handler the function file registered, and the handler's
// answer is written back as the worker would (through HttpResponse). Routing comes from the registrations
// themselves (route template, methods), so what runs here is what the Functions host would route to.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import functions, { type HttpResponse as HttpResponseType, type HttpResponseInit, type LogLevel } from "@azure/functions";
import { httpTrigger, type RegisteredFunction } from "./functionsCore.js";

// A webpack-built CommonJS package: Node's ESM loader finds `app` among its named exports but not these classes.
const { HttpRequest, HttpResponse, InvocationContext } = functions;

const ROUTE_PREFIX = "/api/";
const MAX_BODY_BYTES = 64 * 1024;

interface HttpRoute {
  name: string;
  methods: string[];
  pattern: RegExp;
  params: string[];
  callback: RegisteredFunction["callback"];
}

export interface AdapterOptions {
  log?: (functionName: string, level: LogLevel, message: string) => void;
}

export function createFunctionsServer(registrations: readonly RegisteredFunction[], options: AdapterOptions = {}): Server {
  const routes = registrations.flatMap((fn): HttpRoute[] => {
    const trigger = httpTrigger(fn);
    if (!trigger) return [];
    const params: string[] = [];
    // {name} and {name:constraint} match one path segment.
    const source = trigger.route
      .split("/")
      .map((segment) => {
        const m = /^\{(\w+)(?::[^}]*)?\??\}$/.exec(segment);
        if (!m?.[1]) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        params.push(m[1]);
        return "([^/]+)";
      })
      .join("/");
    return [{ name: fn.metadata.name, methods: trigger.methods, pattern: new RegExp(`^${ROUTE_PREFIX}${source}/?$`, "i"), params, callback: fn.callback }];
  });

  return createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      options.log?.("adapter", "error", error instanceof Error ? (error.stack ?? error.message) : String(error));
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "INTERNAL", message: "The local adapter failed; see its console." } }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
    const method = (req.method ?? "GET").toUpperCase();
    if (url.pathname === "/" && (method === "GET" || method === "HEAD")) {
      res.writeHead(302, { Location: "/api/audit/report?format=html" }).end();
      return;
    }
    const onPath = routes.map((r) => ({ route: r, match: r.pattern.exec(url.pathname) })).filter((r) => r.match);
    const found = onPath.find((r) => r.route.methods.includes(method));
    if (!found?.match) {
      const status = onPath.length > 0 ? 405 : 404;
      res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...(status === 405 ? { Allow: onPath.flatMap((r) => r.route.methods).join(", ") } : {}) });
      res.end(JSON.stringify({ error: { code: status === 405 ? "METHOD_NOT_ALLOWED" : "NOT_FOUND", message: `No function answers ${method} ${url.pathname}.` } }));
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      res.writeHead(413, { "Content-Type": "application/json; charset=utf-8" }).end(JSON.stringify({ error: { code: "REQUEST.TOO_LARGE", message: "The body is too large." } }));
      return;
    }
    const params: Record<string, string> = {};
    found.route.params.forEach((name, i) => {
      params[name] = decodeURIComponent(found.match?.[i + 1] ?? "");
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const request = new HttpRequest({ method, url: url.href, headers, params, ...(body ? { body: { string: body } } : {}) });
    const functionName = found.route.name;
    const context = new InvocationContext({
      invocationId: randomUUID(),
      functionName,
      logHandler: (level, ...args) => options.log?.(functionName, level, args.map(String).join(" ")),
    });
    const result = (await found.route.callback(request, context)) as HttpResponseInit | HttpResponseType | undefined;
    const response = result instanceof HttpResponse ? result : new HttpResponse(result ?? {});
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      out[name] = value;
    });
    res.writeHead(response.status, out);
    res.end(method === "HEAD" ? undefined : Buffer.from(await response.arrayBuffer()));
  }
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
