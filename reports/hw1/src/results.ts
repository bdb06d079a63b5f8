/**
 * The results files the report reads (written by @nabla/runner into reports/hw1/results/), and the
 * cross-check and Monte-Carlo JSON next to them. A missing or malformed file is a one-line error naming it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { loadResults, type Results } from "@nabla/runner";
import type { CrossCheckResult } from "@nabla/tfjs";
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

function loadCrossCheck(file: string): CrossCheckResult {
  const json = readJson(file);
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
  const json = readJson(file) as Q5Result;
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

/** Reads every results file the report needs; lists all missing ones in one error. */
export function loadHw1Results(resultsDir: string): Hw1Results {
  // Relative to the working directory when inside it (results/q3.json), absolute otherwise.
  const show = (f: string) => {
    const rel = relative(process.cwd(), f);
    return rel === "" || rel.startsWith("..") ? f : rel;
  };
  const path = (name: string) => join(resultsDir, `${name}.json`);
  const required = [RESULT_NAMES.q3, RESULT_NAMES.q4a, RESULT_NAMES.q4bii, RESULT_NAMES.crossCheck].map(path);
  const missing = required.filter((f) => !existsSync(f)).map(show);
  const sweepFiles = existsSync(resultsDir)
    ? readdirSync(resultsDir)
        .filter((f) => f.startsWith(RESULT_NAMES.sweepPrefix) && f.endsWith(".json"))
        .map((f) => join(resultsDir, f))
    : [];
  if (sweepFiles.length === 0)
    missing.push(`${show(path(RESULT_NAMES.sweepPrefix))} (no ${RESULT_NAMES.sweepPrefix}*.json)`);
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
