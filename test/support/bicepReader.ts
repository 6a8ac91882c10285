// A small reader of Bicep source for the infra tests: no Bicep compiler is reachable offline (and none is published
// on npm), so the tests read the declarations themselves. It knows Bicep's lexical rules that matter for finding
// declarations and their bodies (Learn, "Bicep file structure and syntax", https://learn.microsoft.com/azure/azure-resource-manager/bicep/file):
//   - `//` line comments and `/* */` block comments;
//   - strings in single quotes with `\` escapes and `${...}` interpolation (which may hold strings and braces),
//     and multi-line strings in `'''` with neither;
//   - top-level declarations start a line: `targetScope = '...'`, `param`, `var`, `resource`, `module`, `output`,
//     `extension`, decorators `@...`; an object's properties are separated by newlines.
// Everything is read from a "masked" copy of the source: comments blanked, string contents replaced by `_`
// (newlines kept), so offsets match the original and braces/keywords inside strings or comments are never seen.

export type DeploymentScope = "resourceGroup" | "subscription" | "managementGroup" | "tenant";

export interface BicepModule {
  symbol: string;
  /** The module reference as written: a relative path ('./app/api.bicep') or a registry reference ('br/public:...'). */
  reference: string;
  /** `if (...)`, `[for ...]` or plain. */
  form: "plain" | "if" | "for";
  /** The body object's text (original source, comments kept). */
  body: string;
  /** The body's top-level properties and their value expressions (comments removed, trimmed). */
  properties: Map<string, string>;
  line: number;
}

export interface BicepFile {
  /** The declared targetScope, or resourceGroup (Bicep's default) when the file declares none. */
  targetScope: DeploymentScope;
  params: Map<string, { type: string; hasDefault: boolean; defaultValue?: string }>;
  /** Resource symbol -> resource type (without the api version), `existing` resources included. */
  resources: Map<string, string>;
  modules: BicepModule[];
  /** `var` symbol -> its value expression (comments removed). */
  vars: Map<string, string>;
  outputs: string[];
  /** The source with comments blanked (strings kept). */
  code: string;
}

/** Comments blanked; with `maskStrings`, string contents too. Same length and line breaks as `source`. */
export function mask(source: string, maskStrings = true): string {
  const out = source.split("");
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k += 1) if (out[k] !== "\n" && out[k] !== "\r") out[k] = " ";
  };
  const hide = (from: number, to: number) => {
    if (!maskStrings) return;
    for (let k = from; k < to; k += 1) if (out[k] !== "\n" && out[k] !== "\r") out[k] = "_";
  };

  /** Scans an expression from `i` until an unmatched `}` (returns its index) or the end. */
  const scanCode = (start: number, stopAtBrace: boolean): number => {
    let i = start;
    let depth = 0;
    while (i < source.length) {
      const ch = source[i];
      const next = source[i + 1];
      if (ch === "/" && next === "/") {
        const end = source.indexOf("\n", i);
        const stop = end === -1 ? source.length : end;
        blank(i, stop);
        i = stop;
      } else if (ch === "/" && next === "*") {
        const end = source.indexOf("*/", i + 2);
        const stop = end === -1 ? source.length : end + 2;
        blank(i, stop);
        i = stop;
      } else if (ch === "'") {
        i = scanString(i);
      } else if (ch === "{") {
        depth += 1;
        i += 1;
      } else if (ch === "}") {
        if (stopAtBrace && depth === 0) return i;
        depth -= 1;
        i += 1;
      } else {
        i += 1;
      }
    }
    return i;
  };

  /** Scans a string starting at the quote at `start`; returns the index after its closing quote. */
  const scanString = (start: number): number => {
    if (source.startsWith("'''", start)) {
      const end = source.indexOf("'''", start + 3);
      const stop = end === -1 ? source.length : end;
      hide(start + 3, stop);
      return end === -1 ? source.length : end + 3;
    }
    let i = start + 1;
    let runStart = i;
    while (i < source.length) {
      const ch = source[i];
      if (ch === "\\") {
        i += 2;
      } else if (ch === "$" && source[i + 1] === "{") {
        hide(runStart, i);
        const close = scanCode(i + 2, true);
        i = close + 1;
        runStart = i;
      } else if (ch === "'") {
        hide(runStart, i);
        return i + 1;
      } else {
        i += 1;
      }
    }
    hide(runStart, i);
    return i;
  };

  scanCode(0, false);
  return out.join("");
}

/** The index of the bracket that closes the one at `open` (`{`/`[`/`(`), read in masked text. */
export function closing(masked: string, open: number): number {
  const pairs: Record<string, string> = { "{": "}", "[": "]", "(": ")" };
  const stack: string[] = [];
  for (let i = open; i < masked.length; i += 1) {
    const ch = masked[i] ?? "";
    if (ch in pairs) stack.push(pairs[ch] ?? "");
    else if (ch === "}" || ch === "]" || ch === ")") {
      if (stack.pop() !== ch) throw new Error(`unbalanced '${ch}' at offset ${i}`);
      if (stack.length === 0) return i;
    }
  }
  throw new Error(`no closing bracket for offset ${open}`);
}

/**
 * The top-level properties of an object body (the text between `{` and `}`), each with its value expression: a
 * value runs to the end of its line, or to the bracket that closes one opened on it.
 */
export function objectProperties(bodyOriginal: string): Map<string, string> {
  const masked = mask(bodyOriginal);
  const code = mask(bodyOriginal, false);
  const props = new Map<string, string>();
  let i = 0;
  while (i < masked.length) {
    const lineEnd = masked.indexOf("\n", i) === -1 ? masked.length : masked.indexOf("\n", i);
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*|'[^']*')\s*:/.exec(masked.slice(i, lineEnd));
    if (!match) {
      i = lineEnd + 1;
      continue;
    }
    const keyText = code.slice(i, i + match[0].length).trim().replace(/:$/, "").trim();
    const key = keyText.startsWith("'") ? keyText.slice(1, -1) : keyText;
    let j = i + match[0].length;
    let end = lineEnd;
    // A value that opens a bracket on this line runs to its closing bracket.
    for (let k = j; k < end; k += 1) {
      const ch = masked[k];
      if (ch === "{" || ch === "[" || ch === "(") {
        const close = closing(masked, k);
        if (close >= end) {
          const after = masked.indexOf("\n", close);
          end = after === -1 ? masked.length : after;
        }
        k = close;
      }
    }
    props.set(key, code.slice(j, end).trim());
    j = end + 1;
    i = j;
  }
  return props;
}

const SCOPES: readonly DeploymentScope[] = ["resourceGroup", "subscription", "managementGroup", "tenant"];

/** Reads the declarations of one Bicep file. */
export function readBicep(source: string): BicepFile {
  const masked = mask(source);
  const code = mask(source, false);
  const lineOf = (offset: number) => source.slice(0, offset).split("\n").length;

  let targetScope: DeploymentScope = "resourceGroup";
  const scopeMatch = /^targetScope\s*=\s*'([A-Za-z]+)'/m.exec(code);
  if (scopeMatch) {
    const value = scopeMatch[1] as DeploymentScope;
    if (!SCOPES.includes(value)) throw new Error(`unknown targetScope '${scopeMatch[1]}'`);
    targetScope = value;
  }

  const params = new Map<string, { type: string; hasDefault: boolean; defaultValue?: string }>();
  for (const m of masked.matchAll(/^param\s+(\w+)\s+([\w.]+\??)/gm)) {
    const at = (m.index ?? 0) + m[0].length;
    const lineEnd = masked.indexOf("\n", at) === -1 ? masked.length : masked.indexOf("\n", at);
    const rest = code.slice(at, lineEnd);
    const eq = masked.slice(at, lineEnd).indexOf("=");
    const type = m[2] ?? "";
    params.set(m[1] ?? "", {
      type: type.replace(/\?$/, ""),
      hasDefault: type.endsWith("?") || eq !== -1,
      ...(eq !== -1 ? { defaultValue: rest.slice(eq + 1).trim() } : {}),
    });
  }

  const resources = new Map<string, string>();
  for (const m of masked.matchAll(/^resource\s+(\w+)\s+'/gm)) {
    const quote = (m.index ?? 0) + m[0].length - 1;
    const end = masked.indexOf("'", quote + 1);
    resources.set(m[1] ?? "", source.slice(quote + 1, end).replace(/@.*$/, ""));
  }

  const vars = new Map<string, string>();
  for (const m of masked.matchAll(/^var\s+(\w+)\s*=\s*/gm)) {
    const at = (m.index ?? 0) + m[0].length;
    const first = masked[at];
    let end: number;
    if (first === "{" || first === "[" || first === "(") end = closing(masked, at) + 1;
    else end = masked.indexOf("\n", at) === -1 ? masked.length : masked.indexOf("\n", at);
    vars.set(m[1] ?? "", code.slice(at, end).trim());
  }

  const modules: BicepModule[] = [];
  for (const m of masked.matchAll(/^module\s+(\w+)\s+'/gm)) {
    const quote = (m.index ?? 0) + m[0].length - 1;
    const endQuote = masked.indexOf("'", quote + 1);
    const reference = source.slice(quote + 1, endQuote);
    let i = masked.indexOf("=", endQuote) + 1;
    while (/\s/.test(masked[i] ?? "")) i += 1;
    let form: BicepModule["form"] = "plain";
    if (masked.startsWith("if", i)) {
      form = "if";
      const open = masked.indexOf("(", i);
      i = closing(masked, open) + 1;
    } else if (masked[i] === "[") {
      form = "for";
      // [for <item> in <expression>: { ... }]: the body is the object after the loop header's colon.
      const header = /^\[\s*for\b/.exec(masked.slice(i));
      if (!header) throw new Error(`module ${m[1]}: '[' without 'for'`);
      let k = i + header[0].length;
      let depth = 0;
      for (; k < masked.length; k += 1) {
        const ch = masked[k];
        if (ch === "(" || ch === "[" || ch === "{") depth += 1;
        else if (ch === ")" || ch === "]" || ch === "}") depth -= 1;
        else if (ch === ":" && depth === 0) break;
      }
      i = k + 1;
    }
    const open = masked.indexOf("{", i);
    const close = closing(masked, open);
    const body = source.slice(open + 1, close);
    modules.push({ symbol: m[1] ?? "", reference, form, body, properties: objectProperties(body), line: lineOf(m.index ?? 0) });
  }

  const outputs = [...masked.matchAll(/^output\s+(\w+)\s/gm)].map((m) => m[1] ?? "");
  return { targetScope, params, resources, modules, vars, outputs, code };
}

/**
 * The scope a module's `scope:` expression deploys to, from its scope function or the resource it names
 * (Learn, "Set scope for modules", https://learn.microsoft.com/azure/azure-resource-manager/bicep/modules#set-module-scope:
 * resourceGroup(...), subscription(...), managementGroup(...), tenant(), or a symbolic name of a resource group or
 * management group). Undefined when it cannot be told without evaluating (Bicep rejects those too: BCP420).
 */
export function scopeOfExpression(expression: string, file: BicepFile): DeploymentScope | undefined {
  const call = /^(resourceGroup|subscription|managementGroup|tenant)\s*\(/.exec(expression);
  if (call) return call[1] as DeploymentScope;
  const symbol = /^([A-Za-z_]\w*)$/.exec(expression)?.[1];
  if (!symbol) return undefined;
  const type = file.resources.get(symbol)?.toLowerCase();
  if (type === "microsoft.resources/resourcegroups") return "resourceGroup";
  if (type === "microsoft.management/managementgroups") return "managementGroup";
  return undefined;
}

/**
 * Where a deployment at one scope may deploy modules (Learn, "Deployment scopes" in the pages for each scope:
 * https://learn.microsoft.com/azure/azure-resource-manager/bicep/deploy-to-resource-group#deployment-scopes,
 * .../deploy-to-subscription#deployment-scopes, .../deploy-to-management-group#deployment-scopes,
 * .../deploy-to-tenant#deployment-scopes).
 */
export const REACHABLE_SCOPES: Record<DeploymentScope, readonly DeploymentScope[]> = {
  resourceGroup: ["resourceGroup", "subscription", "tenant"],
  subscription: ["subscription", "resourceGroup", "tenant"],
  managementGroup: ["managementGroup", "subscription", "resourceGroup", "tenant"],
  tenant: ["tenant", "managementGroup", "subscription", "resourceGroup"],
};

export interface ScopeProblem {
  module: string;
  line: number;
  message: string;
}

/**
 * Every module call whose scope does not match its callee's targetScope. Without `scope:` a module deploys at its
 * caller's scope, so the callee must declare that scope; otherwise Bicep requires `scope` (BCP035: the module
 * declaration "is missing the following required properties: scope") or rejects the scope given (BCP134: "Scope
 * ... is not valid for this module. Permitted scopes: ..."); Learn, "Bicep core diagnostics",
 * https://learn.microsoft.com/azure/azure-resource-manager/bicep/bicep-error-codes.
 * `calleeScope` answers the callee's targetScope for a module reference (undefined: unknown, which is a problem too).
 */
export function moduleScopeProblems(file: BicepFile, calleeScope: (reference: string) => DeploymentScope | undefined): ScopeProblem[] {
  const problems: ScopeProblem[] = [];
  for (const module of file.modules) {
    const target = calleeScope(module.reference);
    const at = { module: module.symbol, line: module.line };
    if (!target) {
      problems.push({ ...at, message: `the targetScope of '${module.reference}' is unknown` });
      continue;
    }
    const expression = module.properties.get("scope");
    if (expression === undefined) {
      if (target !== file.targetScope) {
        problems.push({ ...at, message: `deploys at the caller's scope (${file.targetScope}) but '${module.reference}' targets ${target}: it needs scope: (BCP035/BCP134)` });
      }
      continue;
    }
    const given = scopeOfExpression(expression, file);
    if (!given) problems.push({ ...at, message: `scope '${expression}' is not a scope function or a resource group / management group symbol` });
    else if (given !== target) problems.push({ ...at, message: `scope '${expression}' is a ${given} but '${module.reference}' targets ${target} (BCP134)` });
    else if (!REACHABLE_SCOPES[file.targetScope].includes(given)) problems.push({ ...at, message: `a ${file.targetScope} deployment cannot deploy a module at ${given}` });
  }
  return problems;
}
