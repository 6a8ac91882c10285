// A stand-in for "@azure/functions-core", the module the Functions Node worker builds into the process: the worker
// intercepts require() of that name, and @azure/functions registers each app.http/app.timer through it. Installing
// this one records the registrations exactly as the worker would receive them (the metadata is made by
// @azure/functions itself), so the local dashboard can route by them and a test can check them.
import Module from "node:module";

export const CORE_MODULE = "@azure/functions-core";

export interface BindingMetadata extends Record<string, unknown> {
  type: string;
  direction: "in" | "out";
}

export interface RegisteredFunction {
  metadata: { name: string; bindings: Record<string, BindingMetadata>; retryOptions?: Record<string, unknown> };
  callback: (...args: unknown[]) => unknown;
}

export interface FunctionsCore {
  registrations: RegisteredFunction[];
  /** Set by @azure/functions when it finds a worker. */
  programmingModel: { name: string; version: string } | undefined;
}

const INSTALLED = Symbol.for("batch-cert-auditor.functions-core");

/** Installs the stand-in (once per process) and returns what it records. Call before loading the function files. */
export function installFunctionsCore(options: { log?: (level: string, message: string) => void } = {}): FunctionsCore {
  const holder = globalThis as { [INSTALLED]?: FunctionsCore };
  const existing = holder[INSTALLED];
  if (existing) return existing;
  const state: FunctionsCore = { registrations: [], programmingModel: undefined };
  const noop = { dispose: () => undefined };
  const core = {
    version: "local",
    hostVersion: "local",
    registerFunction: (metadata: RegisteredFunction["metadata"], callback: RegisteredFunction["callback"]) => {
      state.registrations.push({ metadata, callback });
      return noop;
    },
    setProgrammingModel: (model: { name: string; version: string }) => {
      state.programmingModel = model;
    },
    getProgrammingModel: () => state.programmingModel,
    registerHook: () => noop,
    log: (level: string, _category: string, message: string) => options.log?.(level, message),
    Disposable: class {
      constructor(private readonly callOnDispose: () => unknown) {}
      dispose() {
        this.callOnDispose();
      }
    },
  };
  // As the worker does: answer require("@azure/functions-core") with the core object.
  const proto = Module.prototype as unknown as { require: (id: string) => unknown };
  proto.require = new Proxy(proto.require, {
    apply(target, thisArg, args: [string]) {
      return args[0] === CORE_MODULE ? core : Reflect.apply(target, thisArg, args);
    },
  });
  holder[INSTALLED] = state;
  return state;
}

export function httpTrigger(fn: RegisteredFunction): { route: string; methods: string[]; authLevel: string } | undefined {
  const trigger = Object.values(fn.metadata.bindings).find((b) => b.type === "httpTrigger");
  if (!trigger) return undefined;
  return {
    route: String(trigger.route ?? fn.metadata.name),
    methods: (Array.isArray(trigger.methods) ? trigger.methods : ["GET", "POST"]).map((m) => String(m).toUpperCase()),
    authLevel: String(trigger.authLevel ?? "anonymous"),
  };
}
