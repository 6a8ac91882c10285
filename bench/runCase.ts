// Runs one bench case: a fresh simulated Azure per measured run (same settings for auditor and baseline), the run,
// and the simulator's own counts. `isolate` puts the simulator and the run in child processes (the benchmark);
// without it everything runs in this process (the test that keeps the bench from rotting).
import { fork, type ChildProcess, type Serializable } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { SimulatorStats } from "@batch-cert-auditor/simulated-azure";
import { AUDITOR_EXEC_ARGV, SIMULATOR_EXEC_ARGV, type BenchCase, type SimulatorSettings } from "./cases.js";
import { measureAuditor, measureBaseline, type RunMeasure, type Target } from "./measure.js";
import { startAzurite } from "@batch-cert-auditor/simulated-azure";
import { FIRST_DAY, type JobMeasure, type JobOrder } from "./measureJob.js";
import type { JobStage } from "../src/app/runAuditJob.js";
import { hostSimulator, type HostedSimulator } from "./simulatorHost.js";
import { memoryLimitedSpawn } from "./instanceMemory.js";

export type SimulatorCounts = SimulatorStats & { hotSubscriptionCalls: number; cpuSeconds: number };

export interface MeasuredRun {
  measure: RunMeasure;
  /** The memory cgroup the run's process ran in (MB), when it ran in one. */
  limitedTo?: number;
  simulator: SimulatorCounts;
  expected: HostedSimulator["expected"];
}

export interface CaseResult {
  benchCase: BenchCase;
  auditor: MeasuredRun;
  baseline?: MeasuredRun;
}

/**
 * With `instanceMemoryMb` (isolated runs), the auditor's process runs in a memory cgroup of that size where one can be
 * made; `extraExecArgv` (isolated runs) adds Node flags to the auditor's process (the bench's --profile).
 */
export async function runCase(benchCase: BenchCase, settings: SimulatorSettings, options: { isolate: boolean; instanceMemoryMb?: number; extraExecArgv?: string[] }): Promise<CaseResult> {
  const once = (mode: "auditor" | "baseline") =>
    options.isolate
      ? runIsolated(benchCase, settings, mode, mode === "auditor" ? options.instanceMemoryMb : undefined, mode === "auditor" ? options.extraExecArgv : undefined)
      : runInProcess(benchCase, settings, mode);
  // The baseline first: the auditor's numbers are the ones printed last and read most.
  const baseline = benchCase.baseline ? await once("baseline") : undefined;
  const auditor = await once("auditor");
  return { benchCase, auditor, ...(baseline ? { baseline } : {}) };
}

async function runInProcess(benchCase: BenchCase, settings: SimulatorSettings, mode: "auditor" | "baseline"): Promise<MeasuredRun> {
  const sim = await hostSimulator(benchCase.shape, settings);
  try {
    const target = { url: sim.url, ca: sim.ca };
    const measure = mode === "auditor" ? await measureAuditor(target, benchCase.maxInFlight, settings.armReads) : await measureBaseline(target);
    return { measure, simulator: sim.stats(), expected: sim.expected };
  } finally {
    await sim.close();
  }
}

async function runIsolated(benchCase: BenchCase, settings: SimulatorSettings, mode: "auditor" | "baseline", instanceMemoryMb?: number, extraExecArgv?: string[]): Promise<MeasuredRun> {
  const order = (target: Target) => ({ mode, target, maxInFlight: benchCase.maxInFlight, armReads: settings.armReads });
  const run = await measureInFreshProcess<RunMeasure>(benchCase, settings, "./auditorProcess.js", order, instanceMemoryMb, extraExecArgv);
  if ("error" in run.measure) throw new Error(`The ${mode} run failed: ${run.measure.error}`);
  return { measure: run.measure, simulator: run.simulator, expected: run.expected, ...(run.memory.limitedTo ? { limitedTo: run.memory.limitedTo } : {}) };
}

/**
 * The whole daily job against a fresh simulated Azure, both in processes of their own; with `instanceMemoryMb`, the
 * job's process runs in a memory cgroup of that size (./instanceMemory.ts), or unconstrained where none can be made
 * (`memory.limitedTo` says which). With `laterDay`, the measured job is that day's, on the storage and the simulated
 * mail service a first day's job (FIRST_DAY, its own process, unconstrained, not measured) left: every finding's state,
 * every message sent and its reminder histories. That first day sends every message (no mail limit), as the hourly
 * sending runs would have by then; the later day is paced as shipped.
 */
export async function runJobCase(
  benchCase: BenchCase,
  settings: SimulatorSettings,
  options: { instanceMemoryMb?: number; extraExecArgv?: string[]; snapshotAfter?: JobStage; laterDay?: string } = {},
): Promise<{ measure: JobMeasure; simulator: SimulatorCounts; expected: HostedSimulator["expected"]; memory: { limitedTo?: number; unavailable?: string } }> {
  const storage = options.laterDay === undefined ? undefined : await startAzurite({});
  try {
    const shared = storage ? { storage: storage.connectionString } : {};
    const order = (target: Target): JobOrder => ({ target, ...shared, ...(options.snapshotAfter ? { snapshotAfter: options.snapshotAfter } : {}), ...(options.laterDay ? { asOf: options.laterDay } : {}) });
    const firstDay = storage
      ? {
          order: (target: Target): JobOrder => ({ target, ...shared, asOf: FIRST_DAY, settings: { EMAIL_PER_MINUTE: "10000", EMAIL_PER_HOUR: "1000000" } }),
          // The later day stands on a first day that sent everything it planned.
          problem: (answer: JobMeasure | { error: string }) =>
            "error" in answer ? answer.error : answer.deferred > 0 ? `it left ${answer.deferred} messages unsent` : undefined,
        }
      : undefined;
    const run = await measureInFreshProcess<JobMeasure>(benchCase, settings, "./jobProcess.js", order, options.instanceMemoryMb, options.extraExecArgv, firstDay);
    if ("error" in run.measure) throw new Error(`The job failed${run.memory.limitedTo ? ` in ${run.memory.limitedTo} MB` : ""}: ${run.measure.error}`);
    return { ...run, measure: run.measure };
  } finally {
    await storage?.stop();
  }
}

/**
 * One measured process (`module`, sent `order(target)`) against a fresh simulator in a process of its own; with
 * `instanceMemoryMb`, in a memory cgroup of that size where one can be made. The cgroup is made once the simulator is
 * ready and released once the measured process has exited. `extraExecArgv`: Node flags added to the measured
 * process's (none ship; the bench's --profile adds --cpu-prof or --heap-prof). `before`: an order for a process of the
 * same module run first, unconstrained and not measured, against the same simulator (a later day's first day), and
 * what in its answer would make the measured run meaningless (FirstDayFailed).
 */
async function measureInFreshProcess<T>(
  benchCase: BenchCase,
  settings: SimulatorSettings,
  module: string,
  order: (target: Target) => Serializable,
  instanceMemoryMb: number | undefined,
  extraExecArgv: string[] = [],
  before?: { order: (target: Target) => Serializable; problem: (answer: T | { error: string }) => string | undefined },
): Promise<{ measure: T | { error: string }; simulator: SimulatorCounts; expected: HostedSimulator["expected"]; memory: { limitedTo?: number; unavailable?: string } }> {
  const simulator = fork(fileURLToPath(new URL("./simulatorProcess.js", import.meta.url)), { stdio: "inherit", execArgv: SIMULATOR_EXEC_ARGV });
  try {
    simulator.send({ shape: benchCase.shape, settings });
    const ready = await nextMessage<{ url: string; ca: string; expected: HostedSimulator["expected"] }>(simulator);
    const target = { url: ready.url, ca: ready.ca };
    const stats = async () => {
      simulator.send({ type: "stats" });
      return (await nextMessage<{ stats: SimulatorCounts }>(simulator)).stats;
    };
    let earlier: SimulatorCounts | undefined;
    if (before) {
      const problem = before.problem(await answerOf<T | { error: string }>(module, before.order(target), { execArgv: AUDITOR_EXEC_ARGV }));
      if (problem !== undefined) throw new FirstDayFailed(`The run before the measured one (its first day) failed: ${problem}`);
      earlier = await stats();
    }
    const execArgv = [...AUDITOR_EXEC_ARGV, ...extraExecArgv];
    const limited = instanceMemoryMb === undefined ? undefined : memoryLimitedSpawn(instanceMemoryMb, execArgv);
    const cgroup = limited && !("unavailable" in limited) ? limited : undefined;
    const memory = limited === undefined ? {} : cgroup ? { limitedTo: instanceMemoryMb! } : { unavailable: (limited as { unavailable: string }).unavailable };
    let measure: T | { error: string };
    try {
      measure = await answerOf<T | { error: string }>(module, order(target), cgroup ? { execPath: cgroup.execPath, execArgv: cgroup.execArgv } : { execArgv });
    } finally {
      cgroup?.release();
    }
    // The simulator's counts are the measured run's alone: those of the run before it are taken off.
    const counts = await stats();
    if (earlier) for (const key of Object.keys(counts) as (keyof SimulatorCounts)[]) counts[key] -= earlier[key];
    return { measure, simulator: counts, expected: ready.expected, memory };
  } finally {
    simulator.send({ type: "stop" });
  }
}

/** The run a later day stands on failed, or left messages unsent: the later day was not measured. */
export class FirstDayFailed extends Error {}

/** `module` in a process of its own, sent `order`: its one answer, once it has exited. */
async function answerOf<T>(module: string, order: Serializable, spawn: { execPath?: string; execArgv: string[] }): Promise<T> {
  const runner = fork(fileURLToPath(new URL(module, import.meta.url)), { stdio: "inherit", ...spawn });
  const exited = new Promise<void>((resolve) => runner.once("exit", () => resolve()));
  runner.send(order);
  return nextMessage<T>(runner).finally(() => exited);
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`child process exited (${code}) before answering`));
    child.once("exit", onExit);
    child.once("message", (message) => {
      child.off("exit", onExit);
      resolve(message as T);
    });
  });
}
