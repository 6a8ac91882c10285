// The report page's stylesheet and browser script are real files; these check they reach the page whole and that
// the project's checks cover the script. What the script does is tested in Chromium (test/browser/reportHtml.test.ts).
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runInNewContext } from "node:vm";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { renderReportHtml } from "../../../src/render/reportHtml.js";
import { sampleExtras, sampleReport } from "../../support/sampleReport.js";

const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const SCRIPT_FILE = join(ROOT, "src/render/report/browser/reportScript.ts");

function parsedConfig(name: string): ts.ParsedCommandLine {
  const path = join(ROOT, name);
  return ts.parseJsonConfigFileContent(ts.readConfigFile(path, ts.sys.readFile).config, ts.sys, ROOT, {}, path);
}

const html = renderReportHtml(sampleReport(), sampleExtras());
const inlineScript = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";

describe("the report page's inline assets", () => {
  it("inlines src/render/report/report.css exactly as written", () => {
    const css = readFileSync(join(ROOT, "src/render/report/report.css"), "utf8");
    expect(/<style>([\s\S]*?)<\/style>/.exec(html)?.[1]).toBe(css);
  });

  it("inlines the browser script as one self-running function that needs nothing from outside its body", () => {
    expect(inlineScript).toMatch(/^"use strict";\n\(function reportScript\(\) \{[\s\S]*\}\)\(\);\n$/);
    // Only what a page has; on a page without a findings table the script stops at once, without a ReferenceError.
    const document = { getElementById: () => null, querySelector: () => null, querySelectorAll: () => [] };
    expect(() => runInNewContext(inlineScript, { document, window: {} })).not.toThrow();
  });

  it("type-checks the browser script with the DOM library in npm run typecheck, and keeps it out of the server's program", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.typecheck).toContain("tsc -p tsconfig.browser.json --noEmit");
    expect(pkg.scripts.build).toContain("tsc -p tsconfig.browser.json");
    const browser = parsedConfig("tsconfig.browser.json");
    expect(browser.errors).toEqual([]);
    expect(browser.fileNames).toContain(SCRIPT_FILE);
    expect(browser.options.lib).toContain("lib.dom.d.ts");
    for (const server of ["tsconfig.json", "tsconfig.build.json"]) {
      const parsed = parsedConfig(server);
      expect(parsed.fileNames, server).not.toContain(SCRIPT_FILE);
      expect(parsed.options.lib ?? [], server).not.toContain("lib.dom.d.ts");
    }
  });
});
