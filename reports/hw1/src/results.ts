/**
 * The results files the report reads (written by @nabla/runner into reports/hw1/results/), and the
 * cross-check and Monte-Carlo JSON next to them. A missing or malformed file is a one-line error naming it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { DEFAULTS, expandSweep, loadResults, loadTaskResults, type Results } from "@nabla/runner";
import type { CrossCheckResult } from "./crosscheck.js";
import type { Q5Result } from "./q5.js";

/** Results file names (without .json): the experiment names of reports/hw1/experiments/. */
export const RESULT_NAMES = {
  /** Q3: the nabla MLP (explicit backward) with the assignment's defaults; a grid over run seeds. */
  q3: "q3",
  /** Q4a: the same MLP in TensorFlow.js (model kind mlp-tfjs), the same run seeds. */
  q4a: "q4a",
  /** Q4b.ii: defaults plus MultiStepLR (two milestones, gamma 0.1), the same run seeds. */
  q4bii: "q4b-ii",
  /** Q4b.iii: the lr sweep, a grid over lr and run seed; the runner names its members "<name>-lr=<v>-seed=<s>". */
  sweep: "q4b-iii",
  /** Q4a: @nabla/tfjs crossCheck() result (TF.js autograd vs nabla's backward, same weights and batches). */
  crossCheck: "q4a-crosscheck",
  /** Q5: runQ5MonteCarlo() result; computed in-process when the file is absent. */
  q5: "q5-monte-carlo",
} as const;

/** The experiment name of the Q4b.iii sweep. */
export const SWEEP_NAME = RESULT_NAMES.sweep;

/** The run seed whose curves the figures draw: the assignment's (the runner's default), when it is among the seeds. */
export const REFERENCE_SEED = DEFAULTS.seed;

/** Without specs, the results files taken for each experiment (a grid over seed, and lr for the sweep). */
const FALLBACK_PATTERNS: Record<string, RegExp> = {
  [RESULT_NAMES.q3]: /^q3(-seed=\d+)?\.json$/,
  [RESULT_NAMES.q4a]: /^q4a(-seed=\d+)?\.json$/,
  [RESULT_NAMES.q4bii]: /^q4b-ii(-seed=\d+)?\.json$/,
  [RESULT_NAMES.sweep]: /^q4b-iii-lr=.+?(-seed=\d+)?\.json$/,
};

export class Hw1ReportError extends Error {
  override name = "Hw1ReportError";
}

/** The runs of one sweep point over its run seeds: the reference seed first, then the others in grid order. */
export interface SeedRuns {
  /** The experiment's name (q3, q4a, …); for a sweep point "q4b-iii-lr=<v>". */
  name: string;
  runs: Results[];
}

export interface SweepPoint extends SeedRuns {
  lr: number;
}

export interface Hw1Results {
  q3: SeedRuns;
  q4a: SeedRuns;
  q4bii: SeedRuns;
  /** One point per learning rate, sorted by it. */
  sweep: SweepPoint[];
  crossCheck: CrossCheckResult;
  /** Undefined when results/q5-monte-carlo.json does not exist. */
  q5?: Q5Result;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Hw1ReportError(`${file}: cannot read JSON (${(error as Error).message.split("\n")[0]})`);
  }
}

function requireNumbers(file: string, value: unknown, fields: string[]): void {
  const obj = value as Record<string, unknown>;
  for (const field of fields) {
    if (typeof obj?.[field] !== "number" || !Number.isFinite(obj[field])) {
      throw new Hw1ReportError(`${file}: field ${field} must be a finite number`);
    }
  }
}

/** The `result` of a task's results file (written by the runner's runTask). */
function taskResult(file: string): unknown {
  try {
    return loadTaskResults(file).result;
  } catch (error) {
    throw new Hw1ReportError((error as Error).message.split("\n")[0]);
  }
}

function loadCrossCheck(file: string): CrossCheckResult {
  const json = taskResult(file);
  requireNumbers(file, json, [
    "maxParamRelDiffAfterOneStep",
    "maxLossRelDiffOver20Steps",
    "maxParamRelDiffAfterAllSteps",
    "steps",
    "batchSize",
    "lr",
    "seed",
  ]);
  const c = json as CrossCheckResult;
  if (typeof c.backend !== "string" || !Array.isArray(c.dims)) {
    throw new Hw1ReportError(`${file}: fields backend (string) and dims (array) are required`);
  }
  return c;
}

function loadQ5(file: string): Q5Result {
  const json = taskResult(file) as Q5Result;
  if (json?.kind !== "q5-monte-carlo" || !Array.isArray(json.cells) || json.cells.length === 0) {
    throw new Hw1ReportError(`${file}: expected kind "q5-monte-carlo" with a non-empty cells array`);
  }
  for (const [i, cell] of json.cells.entries()) {
    requireNumbers(`${file} cells[${i}]`, cell, [
      "sigma",
      "samples",
      "estimate",
      "standardError",
      "exact",
      "z",
    ]);
  }
  return json;
}

/**
 * The result names of experiment `name` according to its spec: the JSON file in `experimentsDir` whose `name`
 * it is, expanded by the runner's expandSweep (one name without a grid). Undefined when there is no such spec.
 */
export function memberNamesFromSpec(experimentsDir: string | undefined, name: string): string[] | undefined {
  if (experimentsDir === undefined || !existsSync(experimentsDir)) return undefined;
  for (const file of readdirSync(experimentsDir)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    const json = readJson(join(experimentsDir, file)) as { name?: unknown };
    if (json?.name !== name) continue;
    try {
      return expandSweep(json, join(experimentsDir, file)).map((spec) => spec.name);
    } catch (error) {
      throw new Hw1ReportError((error as Error).message.split("\n")[0]);
    }
  }
  return undefined;
}

/** The reference seed's run first, the others in their given order; refuses a seed given twice. */
function orderBySeed(name: string, runs: Results[], files: string[]): Results[] {
  const seen = new Map<number, string>();
  runs.forEach((r, i) => {
    const other = seen.get(r.spec.seed);
    if (other !== undefined) {
      throw new Hw1ReportError(`${files[i]}: run seed ${r.spec.seed} of ${name} is also that of ${other}`);
    }
    seen.set(r.spec.seed, files[i]);
  });
  const ref = runs.filter((r) => r.spec.seed === REFERENCE_SEED);
  return [...ref, ...runs.filter((r) => r.spec.seed !== REFERENCE_SEED)];
}

/**
 * Reads every results file the report needs; lists all missing ones in one error. With `experimentsDir`, each
 * experiment's members are those its spec names (stale files of an earlier grid are ignored); without, every
 * results file of the experiment's naming pattern is taken. Every experiment needs two run seeds or more.
 */
export function loadHw1Results(resultsDir: string, experimentsDir?: string): Hw1Results {
  // Relative to the working directory when inside it (results/q3.json), absolute otherwise.
  const show = (f: string) => {
    const rel = relative(process.cwd(), f);
    return rel === "" || rel.startsWith("..") ? f : rel;
  };
  const path = (name: string) => join(resultsDir, `${name}.json`);
  const missing: string[] = [];
  const filesOf = (name: string): string[] => {
    const names = memberNamesFromSpec(experimentsDir, name);
    if (names !== undefined) {
      const files = names.map(path);
      missing.push(...files.filter((f) => !existsSync(f)).map(show));
      return files;
    }
    const files = existsSync(resultsDir)
      ? readdirSync(resultsDir)
          .filter((f) => FALLBACK_PATTERNS[name].test(f))
          .sort((a, b) => a.localeCompare(b, "en", { numeric: true }))
          .map((f) => join(resultsDir, f))
      : [];
    if (files.length === 0) missing.push(show(path(`${name}-seed=*`)));
    return files;
  };
  const experiments = [RESULT_NAMES.q3, RESULT_NAMES.q4a, RESULT_NAMES.q4bii, RESULT_NAMES.sweep] as const;
  const files = Object.fromEntries(experiments.map((name) => [name, filesOf(name)]));
  if (!existsSync(path(RESULT_NAMES.crossCheck))) missing.push(show(path(RESULT_NAMES.crossCheck)));
  if (missing.length > 0) {
    throw new Hw1ReportError(
      `missing results: ${missing.join(", ")} — run the experiments first (pnpm report at the repository root runs them)`,
    );
  }
  const load = (file: string) => {
    try {
      return loadResults(file);
    } catch (error) {
      throw new Hw1ReportError((error as Error).message.split("\n")[0]);
    }
  };
  const seedRuns = (name: string, list: string[], needCompleted: boolean): SeedRuns => {
    const runs = list.map(load);
    if (runs.length < 2) {
      throw new Hw1ReportError(
        `${name}: ${runs.length} run seed (${list.map(show).join(", ")}); the seed statistics need at least 2 — add seeds to the grid of its spec`,
      );
    }
    if (needCompleted) {
      const bad = runs.findIndex((r) => r.status !== "ok" || r.metrics.testAccuracy === null);
      if (bad >= 0) {
        throw new Hw1ReportError(
          `${show(list[bad])}: status ${runs[bad].status}; ${name} needs completed runs`,
        );
      }
    }
    return { name, runs: orderBySeed(name, runs, list.map(show)) };
  };
  const byLr = new Map<number, string[]>();
  for (const file of files[RESULT_NAMES.sweep]) {
    const lr = load(file).spec.lr;
    byLr.set(lr, [...(byLr.get(lr) ?? []), file]);
  }
  const sweep = [...byLr.entries()]
    .sort(([a], [b]) => a - b)
    .map(([lr, list]) => ({ lr, ...seedRuns(`${RESULT_NAMES.sweep} lr=${lr}`, list, false) }));
  const q5File = path(RESULT_NAMES.q5);
  return {
    q3: seedRuns(RESULT_NAMES.q3, files[RESULT_NAMES.q3], true),
    q4a: seedRuns(RESULT_NAMES.q4a, files[RESULT_NAMES.q4a], true),
    q4bii: seedRuns(RESULT_NAMES.q4bii, files[RESULT_NAMES.q4bii], true),
    sweep,
    crossCheck: loadCrossCheck(path(RESULT_NAMES.crossCheck)),
    q5: existsSync(q5File) ? loadQ5(q5File) : undefined,
  };
}
