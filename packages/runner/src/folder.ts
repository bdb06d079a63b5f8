/**
 * The experiments driver: runs a report's whole experiments folder — training specs, sweeps and registered
 * tasks — into a results folder, each entry cached on its own. Every spec is validated before anything runs.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { gemmKernelInfo } from "@nabla/ndarray";
import { UserError } from "./errors.js";
import type { RunOutcome } from "./experiment.js";
import { ensureResultsDir } from "./results.js";
import type { ExperimentSpec } from "./spec.js";
import { readSpecFile } from "./spec.js";
import { runSweep, type SweepFailure, sweepExperiments } from "./sweep.js";
import { parseTaskSpec, runTask, type TaskOutcome, type TaskSpec } from "./tasks.js";
import type { ProgressListener } from "./train.js";

export interface ExperimentsFolderOptions {
  /** The folder of spec files (`*.json`, read in name order). */
  dir: string;
  resultsDir: string;
  force?: boolean;
  /** Run only the files whose spec `name` is listed (a sweep by its own name). */
  only?: string[];
  /** Worker threads for the training runs (default: the number of cores). */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Registration modules each training worker imports first (see SweepOptions.modules). */
  modules?: string[];
  /** One line per finished task and per file, for a log. */
  log?: (line: string) => void;
}

export interface ExperimentsFolderOutcome {
  /** Training runs (trained or cached), in file order and each sweep's order. */
  runs: RunOutcome[];
  tasks: TaskOutcome[];
  failures: SweepFailure[];
  cancelled: string[];
}

interface FolderEntry {
  file: string;
  name: string;
  task?: TaskSpec;
  training?: ExperimentSpec[];
}

/** Reads and validates every spec of the folder (nothing runs); one SpecError/UserError names the file. */
export function readExperimentsFolder(dir: string): FolderEntry[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(`${dir}: expected a folder of experiment specs (*.json)`);
  }
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  if (files.length === 0) throw new UserError(`${dir}: no experiment specs (*.json) in the folder`);
  const entries = files.map((f): FolderEntry => {
    const file = join(dir, f);
    const json = readSpecFile(file) as Record<string, unknown> | null;
    const name = json !== null && typeof json === "object" && !Array.isArray(json) ? json.name : undefined;
    if (json !== null && typeof json === "object" && !Array.isArray(json) && "kind" in json) {
      const task = parseTaskSpec(json, file);
      return { file, name: task.name, task };
    }
    const training = sweepExperiments(json, file);
    return { file, name: typeof name === "string" ? name : f.replace(/\.json$/, ""), training };
  });
  const owner = new Map<string, string>();
  for (const entry of entries) {
    const names = entry.task !== undefined ? [entry.task.name] : (entry.training ?? []).map((s) => s.name);
    for (const n of names) {
      const other = owner.get(n);
      if (other !== undefined)
        throw new UserError(`${entry.file}: results name "${n}" is also produced by ${other}`);
      owner.set(n, entry.file);
    }
  }
  return entries;
}

/**
 * turbo hashes NABLA_GEMM_KERNEL (set by the root scripts) into the experiments task, and a remote cache hands
 * the outputs to every machine with the same hash: a value that is not this process's kernel would share
 * results across kernels that round differently.
 */
function checkDeclaredKernel(): void {
  const declared = process.env.NABLA_GEMM_KERNEL;
  if (declared === undefined || declared === "") return;
  const gemm = gemmKernelInfo();
  const actual = `${gemm.kernel}/${gemm.isa}`;
  if (declared !== actual)
    throw new UserError(
      `NABLA_GEMM_KERNEL: expected this process's GEMM kernel "${actual}" (turbo hashes the variable), got "${declared}"`,
    );
}

/**
 * Runs (or reuses) every experiment of `dir`: the tasks one after the other in this thread, then every
 * training run — plain specs and sweep members together — in parallel worker threads.
 */
export async function runExperimentsFolder(
  options: ExperimentsFolderOptions,
): Promise<ExperimentsFolderOutcome> {
  let entries = readExperimentsFolder(options.dir);
  const log = options.log ?? (() => {});
  if (options.only !== undefined) {
    const unknown = options.only.filter((n) => !entries.some((e) => e.name === n));
    if (unknown.length > 0)
      throw new UserError(`only: no experiment named ${unknown.join(", ")} in ${options.dir}`);
    entries = entries.filter((e) => options.only?.includes(e.name));
  }
  checkDeclaredKernel();
  ensureResultsDir(options.resultsDir);
  const tasks: TaskOutcome[] = [];
  const failures: SweepFailure[] = [];
  const cancelled: string[] = [];
  for (const entry of entries) {
    if (entry.task === undefined) continue;
    if (options.signal?.aborted) {
      cancelled.push(entry.task.name);
      continue;
    }
    try {
      const outcome = await runTask(entry.task, { ...options, log });
      tasks.push(outcome);
      const seconds = outcome.results.timings.totalSeconds.toFixed(1);
      log(`${entry.task.name}: ${outcome.cached ? "cached" : `computed in ${seconds} s`} (${outcome.file})`);
    } catch (err) {
      const error = err as Error;
      if (error.name === "CancelledError") cancelled.push(entry.task.name);
      else
        failures.push({
          name: entry.task.name,
          message: error.message,
          user: error instanceof UserError,
          stack: error.stack,
        });
    }
  }
  const training = entries.flatMap((e) => e.training ?? []);
  let runs: RunOutcome[] = [];
  if (training.length > 0) {
    const sweep = await runSweep(training, {
      resultsDir: options.resultsDir,
      force: options.force,
      workers: options.workers,
      signal: options.signal,
      onProgress: options.onProgress,
      modules: options.modules,
    });
    runs = sweep.outcomes;
    failures.push(...sweep.failures);
    cancelled.push(...sweep.cancelled);
    for (const entry of entries) {
      if (entry.training === undefined) continue;
      const names = new Set(entry.training.map((s) => s.name));
      const mine = runs.filter((r) => names.has(r.results.name));
      log(
        `${entry.name}: ${mine.length}/${names.size} results (${mine.filter((r) => r.cached).length} cached)`,
      );
    }
  }
  return { runs, tasks, failures, cancelled };
}
