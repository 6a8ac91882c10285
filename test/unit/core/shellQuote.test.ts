import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { flattenForComment, jmesRawString, shellQuote, shellQuoteReadable } from "../../../src/core/shellQuote.js";

/** What a real bash makes of `printf '%s\0' <words>`: the arguments it passed, split at NUL. */
function bashWords(line: string): string[] {
  const out = spawnSync("/bin/bash", ["-c", `printf '%s\\0' ${line}`], { encoding: "utf8", env: { PATH: "/nonexistent" } });
  return out.stdout.split("\0").slice(0, -1);
}

describe("shell quoting", () => {
  it("makes any text (quotes, $(...), backquotes, newlines, globs) arrive in bash as exactly one argument, unchanged", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary" }).map((s) => s.replace(/\0/g, "")), { minLength: 1, maxLength: 3 }), (values) => {
        expect(bashWords(values.map(shellQuote).join(" "))).toEqual(values);
        expect(bashWords(values.map(shellQuoteReadable).join(" "))).toEqual(values);
      }),
      { numRuns: 30 },
    );
  });

  it("keeps a comment on its one line, whatever line breaks the text holds", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        expect(flattenForComment(text)).not.toMatch(/[\n\r\u0085\u2028\u2029]/);
        expect(flattenForComment(text)).toHaveLength(text.length);
      }),
    );
  });

  it("writes a JMESPath raw string that escapes its quote and backslash", () => {
    expect(jmesRawString("a'b\\c")).toBe("'a\\'b\\\\c'");
  });
});
