#!/usr/bin/env node
// The `batch-cert-auditor` bin. In a source checkout (a fresh clone after `npm ci`, or after an edit) it builds first
// when the build is missing or stale (scripts/buildIfStale.js; output on stderr), then runs the compiled CLI. Where
// there are no sources (an installed build) it runs the CLI as it is.
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { ensureBuilt, ROOT } from "./buildIfStale.js";

if (existsSync(join(ROOT, "src", "cli", "main.ts"))) {
  const status = ensureBuilt();
  if (status !== 0) process.exit(status);
}
await import("../dist/src/cli/main.js");
