// The whole daily job in a fresh process (no Node flags, as the Functions worker runs it; where V8's heap limit is
// 2 GB or more the app paces its heap itself), so its peak RSS and CPU are its own.
// Protocol (IPC): receives a JobOrder; answers the JobMeasure (or { error }) and exits.
import { measureJob, type JobOrder } from "./measureJob.js";

process.once("message", (message: JobOrder) => {
  void measureJob(message).then(
    (result) => process.send?.(result, () => process.exit(0)),
    (error: unknown) => process.send?.({ error: String((error as Error).stack ?? error) }, () => process.exit(1)),
  );
});
