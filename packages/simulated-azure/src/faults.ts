// Faults from the snapshot: a matching request gets the fault's answer (or only its delay) instead of the real one.
import type { SnapshotFault } from "./snapshot.js";

interface ArmedFault {
  fault: SnapshotFault;
  pattern: RegExp;
  seen: number;
  applied: number;
}

export class FaultInjector {
  private readonly faults: ArmedFault[];

  constructor(faults: readonly SnapshotFault[]) {
    this.faults = faults.map((fault) => ({ fault, pattern: new RegExp(fault.pathPattern, "i"), seen: 0, applied: 0 }));
  }

  /** The first fault that applies to this request, counting it as used. */
  match(method: string, path: string): SnapshotFault | undefined {
    for (const armed of this.faults) {
      const { fault } = armed;
      if (fault.method && fault.method.toUpperCase() !== method) continue;
      if (!armed.pattern.test(path)) continue;
      armed.seen++;
      if (armed.seen <= (fault.after ?? 0)) continue;
      if (fault.times !== undefined && armed.applied >= fault.times) continue;
      armed.applied++;
      return fault;
    }
    return undefined;
  }
}
