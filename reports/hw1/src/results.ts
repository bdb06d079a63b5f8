/**
 * The results files the report reads (written by @nabla/runner into reports/hw1/results/), and the
 * cross-check and Monte-Carlo JSON next to them. A missing or malformed file is a one-line error naming it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expandSweep, loadResults, loadTaskResults, type Results } from "@nabla/runner";
import type { CrossCheckResult } from "./crosscheck.js";
import type { Q5Result } from "./q5.js";

/** Results file names (without .json) — the experiment names of reports/hw1/experiments/. */
export const RESULT_NAMES = {
  /** Q3: the nabla MLP (explicit backward) with the assignment's defaults. */
  q3: "q3",
  /** Q4a: the same MLP in TensorFlow.js (model kind mlp-tfjs). */
  q4a: "q4a",
  /** Q4b.ii: defaults plus MultiStepLR (two milestones, gamma 0.1). */
  q4bii: "q4b-ii",
  /** Q4b.iii: the lr sweep; runner names its members "<name>-lr=<value>". */
  sweepPrefix: "q4b-iii-lr=",
  /** Q4a: @nabla/tfjs crossCheck() result (TF.js autograd vs nabla's backward, same weights and batches). */
  crossCheck: "q4a-crosscheck",
  /** Q5: runQ5MonteCarlo() result; computed in-process when the file is absent. */
  q5: "q5-monte-carlo",
} as const;

/** The experiment name of the Q4b.iii sweep (its members are named "q4b-iii-lr=<value>" by the runner). */
export const SWEEP_NAME = "q4b-iii";

export class Hw1ReportError extends Error {
  override name = "Hw1ReportError";
}

export interface Hw1Results {
  q3: Results;
  q4a: Results;
  q4bii: Results;
  /** Sorted by learning rate. */
  sweep: Results[];
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
 * The result names of the Q4b.iii sweep according to its spec: a JSON file in `experimentsDir` whose `name` is
 * "q4b-iii" and that has a `grid`, expanded by the runner's expandSweep. Undefined when there is no such spec
 * (then every results/q4b-iii-lr=*.json is taken).
 */
export function sweepNamesFromSpec(experimentsDir: string | undefined): string[] | undefined {
  if (experimentsDir === undefined || !existsSync(experimentsDir)) return undefined;
  for (const file of readdirSync(experimentsDir)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    const json = readJson(join(experimentsDir, file)) as { name?: unknown; grid?: unknown };
    if (json?.name !== SWEEP_NAME || json.grid === undefined) continue;
    try {
      return expandSweep(json, join(experimentsDir, file)).map((spec) => spec.name);
    } catch (error) {
      throw new Hw1ReportError((error as Error).message.split("\n")[0]);
    }
  }
  return undefined;
}

/**
 * Reads every results file the report needs; lists all missing ones in one error. With `experimentsDir`, the
 * sweep's members are those its spec names (stale files of an earlier grid are ignored).
 */
export function loadHw1Results(resultsDir: string, experimentsDir?: string): Hw1Results {
  // Relative to the working directory when inside it (results/q3.json), absolute otherwise.
  const show = (f: string) => {
    const rel = relative(process.cwd(), f);
    return rel === "" || rel.startsWith("..") ? f : rel;
  };
  const path = (name: string) => join(resultsDir, `${name}.json`);
  const required = [RESULT_NAMES.q3, RESULT_NAMES.q4a, RESULT_NAMES.q4bii, RESULT_NAMES.crossCheck].map(path);
  const sweepNames = sweepNamesFromSpec(experimentsDir);
  let sweepFiles: string[];
  if (sweepNames !== undefined) {
    sweepFiles = sweepNames.map(path);
    required.push(...sweepFiles);
  } else {
    sweepFiles = existsSync(resultsDir)
      ? readdirSync(resultsDir)
          .filter((f) => f.startsWith(RESULT_NAMES.sweepPrefix) && f.endsWith(".json"))
          .map((f) => join(resultsDir, f))
      : [];
  }
  const missing = required.filter((f) => !existsSync(f)).map(show);
  if (sweepFiles.length === 0) missing.push(show(join(resultsDir, `${RESULT_NAMES.sweepPrefix}*.json`)));
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
  const q5File = path(RESULT_NAMES.q5);
  return {
    q3: load(path(RESULT_NAMES.q3)),
    q4a: load(path(RESULT_NAMES.q4a)),
    q4bii: load(path(RESULT_NAMES.q4bii)),
    sweep: sweepFiles.map(load).sort((a, b) => a.spec.lr - b.spec.lr),
    crossCheck: loadCrossCheck(path(RESULT_NAMES.crossCheck)),
    q5: existsSync(q5File) ? loadQ5(q5File) : undefined,
  };
}
