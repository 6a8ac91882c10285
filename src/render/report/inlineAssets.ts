// The page's inline style and script, and the Content-Security-Policy that allows exactly them.
// Both are read once, when this module loads, so their hashes are known before any report is rendered:
// an HTTP handler can send the same policy as a header without parsing the page.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

// report.css sits next to this module: in src under vitest, in dist after `npm run build` (which copies it).
export const REPORT_STYLE: string = readFileSync(new URL("./report.css", import.meta.url), "utf8");

// The browser script is a real function in ./browser/reportScript.ts, type-checked with the DOM library by its
// own tsconfig. The server takes only its compiled text, so the import is dynamic (the server's compiler never
// reads the file and no DOM types reach it): the .ts source under vitest, the .js that `npm run build` emits.
const scriptModule = `./browser/reportScript.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`;
const { reportScript } = (await import(scriptModule)) as { reportScript: () => void };
export const REPORT_SCRIPT = `"use strict";\n(${reportScript.toString()})();\n`;

function cspSource(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/** CSP source expressions (quoted, as they appear in the policy) for the page's inline style and script. */
export const reportCspHashes: Readonly<{ style: string; script: string }> = Object.freeze({
  style: cspSource(REPORT_STYLE),
  script: cspSource(REPORT_SCRIPT),
});

/** The policy the page carries in its `<meta http-equiv>`; everything else (fonts, fetch, frames) is refused. */
export const REPORT_CSP =
  `default-src 'none'; style-src ${reportCspHashes.style}; script-src ${reportCspHashes.script}; ` +
  `img-src data:; base-uri 'none'; form-action 'none'`;

/** The same policy for an HTTP `Content-Security-Policy` header, plus what a meta element cannot express. */
export const REPORT_CSP_HEADER = `${REPORT_CSP}; frame-ancestors 'none'`;

/**
 * JSON for a `<script type="application/json">` block. `<` (and `>`, `&`) become `\\u003c` etc. so a
 * value like `</script>` or `<!--` cannot end or alter the block; the JSON itself parses to the same value.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}