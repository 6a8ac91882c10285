import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { rendererFingerprint } from "../../../src/app/rendererFingerprint.js";

function tree(files: Record<string, string>): URL[] {
  const root = mkdtempSync(join(tmpdir(), "renderer-"));
  for (const [name, text] of Object.entries(files)) {
    const path = join(root, name);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
  }
  return ["render/", "report/"].map((d) => pathToFileURL(join(root, d) + "/"));
}

describe("rendererFingerprint", () => {
  const base = { "render/reportHtml.js": "export const a = 1;", "render/report/findingsTable.js": "escape(x)", "report/reportCsv.js": "csv" };

  it("is the same for the same code, and changes with any rendering file's content, name or a new file", () => {
    const one = rendererFingerprint(tree(base));
    expect(rendererFingerprint(tree(base))).toBe(one);
    expect(rendererFingerprint(tree({ ...base, "render/report/findingsTable.js": "escapeHtml(x)" }))).not.toBe(one);
    expect(rendererFingerprint(tree({ ...base, "render/report/report.css": "td{}" }))).not.toBe(one);
    expect(rendererFingerprint(tree({ ...base, "report/reportCsv.js": "csv2" }))).not.toBe(one);
  });

  it("ignores source maps", () => {
    expect(rendererFingerprint(tree({ ...base, "render/reportHtml.js.map": "{}" }))).toBe(rendererFingerprint(tree(base)));
  });

  it("never matches a stored file when the code cannot be read", () => {
    const missing = [pathToFileURL(join(tmpdir(), "no-such-renderer-dir/"))];
    const a = rendererFingerprint(missing);
    expect(a).toMatch(/^unread-/);
    expect(rendererFingerprint(missing)).not.toBe(a);
  });

  it("reads the deployed renderers next to the app", () => {
    expect(rendererFingerprint()).toMatch(/^[0-9a-f]{16}$/);
  });
});
