// One measured run (auditor or naive baseline) in a fresh process, so its peak RSS is its own.
// Protocol (IPC): receives { mode, target, maxInFlight, armReads }; answers the RunMeasure and exits.
import { measureAuditor, measureBaseline, type Target } from "./measure.js";

interface RunOrder {
  mode: "auditor" | "baseline";
  target: Target;
  maxInFlight: number;
  armReads: { capacity: number; refillPerSecond: number };
}

process.once("message", (message: RunOrder) => {
  const run = message.mode === "auditor" ? measureAuditor(message.target, message.maxInFlight, message.armReads) : measureBaseline(message.target);
  void run.then(
    (result) => process.send?.(result, () => process.exit(0)),
    (error: unknown) => process.send?.({ error: String((error as Error).stack ?? error) }, () => process.exit(1)),
  );
});
