import { parseArgs } from "node:util";
import { describe, expect, it } from "vitest";
import { unknownOptionHint } from "../../../src/cli/optionHint.js";

const KNOWN = ["simulate", "subscriptions", "management-groups", "now", "out", "format", "send-mode", "send-only", "allow-incomplete", "wait-for-lock", "quiet", "verbose", "help"];

/** The error node:util parseArgs throws for `args`, as main.ts gets it. */
function parseError(args: string[]): unknown {
  try {
    parseArgs({ options: Object.fromEntries(KNOWN.map((k) => [k, { type: "boolean" as const }])), args, strict: true });
  } catch (error) {
    return error;
  }
  throw new Error(`${args.join(" ")} parsed`);
}

describe("unknownOptionHint", () => {
  it.each([
    ["--quite", "quiet"],
    ["--fromat", "format"],
    ["--allow-incomplet", "allow-incomplete"],
    ["--subscription", "subscriptions"],
    ["--simlate", "simulate"],
  ])("suggests the option nearest to %s", (typed, meant) => {
    expect(unknownOptionHint(parseError([typed]), KNOWN)).toBe(`Did you mean --${meant}?`);
  });

  it("suggests nothing for a word far from every option, or for another error", () => {
    expect(unknownOptionHint(parseError(["--kubernetes"]), KNOWN)).toBeUndefined();
    expect(unknownOptionHint(new Error("Unknown option '--quite'"), KNOWN)).toBeUndefined();
  });
});
