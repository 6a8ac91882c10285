// The whole daily job in a fresh process (no heap flag: as the Functions worker runs it), so its peak RSS and CPU are
// its own. Protocol (IPC): receives { target, snapshotAfter? }; answers the JobMeasure (or { error }) and exits.
import type { Target } from "./measure.js";
import { measureJob } from "./measureJob.js";
import type { JobStage } from "../src/app/runAuditJob.js";

process.once("message", (message: { target: Target; snapshotAfter?: JobStage }) => {
  void measureJob(message.target, message.snapshotAfter).then(
    (result) => process.send?.(result, () => process.exit(0)),
    (error: unknown) => process.send?.({ error: String((error as Error).stack ?? error) }, () => process.exit(1)),
  );
});
