// Runs one bench case: a fresh simulated Azure per measured run (same settings for auditor and baseline), the run,
// and the simulator's own counts. `isolate` puts the simulator and the run in child processes (the benchmark);
// without it everything runs in this process (the test that keeps the bench from rotting).
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { SimulatorStats } from "@batch-cert-auditor/simulated-azure";
import { AUDITOR_EXEC_ARGV, SIMULATOR_EXEC_ARGV, type BenchCase, type SimulatorSettings } from "./cases.js";
import { measureAuditor, measureBaseline, type RunMeasure, type Target } from "./measure.js";
import type { JobMeasure } from "./measureJob.js";
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

/** With `instanceMemoryMb` (isolated runs), the auditor's process runs in a memory cgroup of that size where one can be made. */
export async function runCase(benchCase: BenchCase, settings: SimulatorSettings, options: { isolate: boolean; instanceMemoryMb?: number }): Promise<CaseResult> {
  const once = (mode: "auditor" | "baseline") =>
    options.isolate ? runIsolated(benchCase, settings, mode, mode === "auditor" ? options.instanceMemoryMb : undefined) : runInProcess(benchCase, settings, mode);
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

async function runIsolated(benchCase: BenchCase, settings: SimulatorSettings, mode: "auditor" | "baseline", instanceMemoryMb?: number): Promise<MeasuredRun> {
  const simulator = fork(fileURLToPath(new URL("./simulatorProcess.js", import.meta.url)), { stdio: "inherit", execArgv: SIMULATOR_EXEC_ARGV });
  const limited = instanceMemoryMb === undefined ? undefined : memoryLimitedSpawn(instanceMemoryMb, AUDITOR_EXEC_ARGV);
  const spawn = limited && !("unavailable" in limited) ? { execPath: limited.execPath, execArgv: limited.execArgv } : { execArgv: AUDITOR_EXEC_ARGV };
  try {
    simulator.send({ shape: benchCase.shape, settings });
    const ready = await nextMessage<{ url: string; ca: string; expected: HostedSimulator["expected"] }>(simulator);
    const target: Target = { url: ready.url, ca: ready.ca };
    const runner = fork(fileURLToPath(new URL("./auditorProcess.js", import.meta.url)), { stdio: "inherit", ...spawn });
    const exited = new Promise<void>((resolve) => runner.once("exit", () => resolve()));
    runner.send({ mode, target, maxInFlight: benchCase.maxInFlight, armReads: settings.armReads });
    const measure = await nextMessage<RunMeasure | { error: string }>(runner).finally(async () => {
      await exited;
      if (limited && !("unavailable" in limited)) limited.release();
    });
    if ("error" in measure) throw new Error(`The ${mode} run failed: ${measure.error}`);
    simulator.send({ type: "stats" });
    const { stats } = await nextMessage<{ stats: SimulatorCounts }>(simulator);
    return { measure, simulator: stats, expected: ready.expected, ...(limited && !("unavailable" in limited) ? { limitedTo: instanceMemoryMb! } : {}) };
  } finally {
    simulator.send({ type: "stop" });
    // Also when the run never started (the simulator failed first): the cgroup is made before it. Releasing twice is harmless.
    if (limited && !("unavailable" in limited)) limited.release();
  }
}

/**
 * The whole daily job against a fresh simulated Azure, both in processes of their own; with `instanceMemoryMb`, the
 * job's process runs in a memory cgroup of that size (./instanceMemory.ts), or unconstrained where none can be made
 * (`memory.limitedTo` says which).
 */
export async function runJobCase(
  benchCase: BenchCase,
  settings: SimulatorSettings,
  options: { instanceMemoryMb?: number } = {},
): Promise<{ measure: JobMeasure; simulator: SimulatorCounts; expected: HostedSimulator["expected"]; memory: { limitedTo?: number; unavailable?: string } }> {
  const simulator = fork(fileURLToPath(new URL("./simulatorProcess.js", import.meta.url)), { stdio: "inherit", execArgv: SIMULATOR_EXEC_ARGV });
  const limited = options.instanceMemoryMb === undefined ? undefined : memoryLimitedSpawn(options.instanceMemoryMb, AUDITOR_EXEC_ARGV);
  const memory = limited === undefined ? {} : "unavailable" in limited ? { unavailable: limited.unavailable } : { limitedTo: options.instanceMemoryMb! };
  try {
    simulator.send({ shape: benchCase.shape, settings });
    const ready = await nextMessage<{ url: string; ca: string; expected: HostedSimulator["expected"] }>(simulator);
    const spawn = limited && !("unavailable" in limited) ? { execPath: limited.execPath, execArgv: limited.execArgv } : { execArgv: AUDITOR_EXEC_ARGV };
    const runner = fork(fileURLToPath(new URL("./jobProcess.js", import.meta.url)), { stdio: "inherit", ...spawn });
    const exited = new Promise<void>((resolve) => runner.once("exit", () => resolve()));
    runner.send({ target: { url: ready.url, ca: ready.ca } });
    const measure = await nextMessage<JobMeasure | { error: string }>(runner).finally(async () => {
      await exited;
      if (limited && !("unavailable" in limited)) limited.release();
    });
    if ("error" in measure) throw new Error(`The job failed${memory.limitedTo ? ` in ${memory.limitedTo} MB` : ""}: ${measure.error}`);
    simulator.send({ type: "stats" });
    const { stats } = await nextMessage<{ stats: SimulatorCounts }>(simulator);
    return { measure, simulator: stats, expected: ready.expected, memory };
  } finally {
    simulator.send({ type: "stop" });
    // Also when the run never started (the simulator failed first): the cgroup is made before it. Releasing twice is harmless.
    if (limited && !("unavailable" in limited)) limited.release();
  }
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
