// npm start / npm run audit / the bin build only when something the build reads changed (scripts/buildIfStale.js).
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { inputFingerprint, staleReason } from "../../../scripts/buildIfStale.js";

function put(root: string, path: string, text = "x"): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

function builtTree(): string {
  const root = mkdtempSync(join(tmpdir(), "bca-build-"));
  put(root, "package.json", "{}");
  put(root, "src/cli/main.ts", "export {};");
  for (const output of ["dist/src/cli/main.js", "dist/src/render/report/report.css", "dist/bench/run.js", "packages/simulated-azure/dist/index.js"]) put(root, output);
  return root;
}

const stamp = (root: string) => put(root, "dist/.build-stamp.json", JSON.stringify({ inputs: inputFingerprint(root) }));

describe("buildIfStale", () => {
  it("builds when there is no record of a build, and not again while nothing changed", () => {
    const root = builtTree();
    expect(staleReason(root)).toBe("no record of a previous build");
    stamp(root);
    expect(staleReason(root)).toBeUndefined();
  });

  it("builds again when a source changes, a source is added, or an output is missing", () => {
    const root = builtTree();
    stamp(root);
    put(root, "src/cli/main.ts", "export const changed = 1;");
    expect(staleReason(root)).toBe("sources changed since the last build");
    stamp(root);
    put(root, "bench/new.ts");
    expect(staleReason(root)).toBe("sources changed since the last build");
    stamp(root);
    put(root, "out/report.json");
    expect(staleReason(root)).toBeUndefined();

    const bare = builtTree();
    stamp(bare);
    put(bare, "packages/simulated-azure/package.json", "{}");
    expect(staleReason(bare)).toBe("the simulated Azure package is not linked");
  });
});
