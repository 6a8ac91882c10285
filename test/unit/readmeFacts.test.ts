// Facts the README states that the code decides: checked here so that the two cannot drift apart again.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { REPORT_SCHEMA_VERSION } from "../../src/core/model.js";
import { REPLACEMENT_API_VERSION } from "../../src/core/migrationKit.js";
import { CERTIFICATE_API_VERSION } from "../../src/core/migrationSteps.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const read = (path: string) => readFileSync(resolve(ROOT, path), "utf8");
const readme = read("README.md");

describe("the README", () => {
  it("names the report's schemaVersion the code writes", () => {
    expect([...readme.matchAll(/schemaVersion: "([^"]+)"/g)].map((m) => m[1])).toEqual([REPORT_SCHEMA_VERSION]);
    expect(read("docs/report-schema.md")).toContain(`| \`schemaVersion\` | \`"${REPORT_SCHEMA_VERSION}"\` |`);
  });

  it("gives the certificate delete and the replacement pool the api-versions the code uses", () => {
    const deletes = [...readme.matchAll(/az rest --method delete … \?api-version=([0-9-]+)/g)].map((m) => m[1]);
    expect(deletes.length).toBeGreaterThan(0);
    expect(new Set(deletes)).toEqual(new Set([CERTIFICATE_API_VERSION]));
    const puts = [...readme.matchAll(/pools\/\{new\}\?api-version=([0-9-]+)/g)].map((m) => m[1]);
    expect(puts.length).toBeGreaterThan(0);
    expect(new Set(puts)).toEqual(new Set([REPLACEMENT_API_VERSION]));
  });

  it("states the bench's duration as docs/benchmarks.md measured it, and links docs/scale.md", () => {
    const said = /`npm run bench` \(about ([\d.]+) minutes/.exec(readme)?.[1];
    const measured = /`npm run bench` \(cases 1-4\) takes\s+about ([\d.]+) minutes/.exec(read("docs/benchmarks.md"))?.[1];
    expect(said).toBeDefined();
    expect(said).toBe(measured);
    expect(readme).toContain("(docs/scale.md)");
  });
});
