/**
 * Runs the homework's experiments: every spec in experiments/ -> results/<name>.json.
 *
 * `node dist/experiments.js [--force] [--only name,name] [--results DIR] [--workers N]` (turbo's `experiments`
 * task runs it without flags). Training specs go through @nabla/runner, whose cache makes an unchanged
 * experiment cost nothing; a spec with `grid` is a sweep run in worker threads. Two specs are not training
 * runs and carry a `kind`: `tfjs-crosscheck` (TF.js autograd vs nabla's backward) and `q5-monte-carlo`;
 * their results are reused while the spec in the results file equals the spec file.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  createProgressRenderer,
  parseSpec,
  readSpecFile,
  runExperiment,
  runSweep,
  sweepExperiments,
  UserError,
} from "@nabla/runner";
import { crossCheck } from "@nabla/tfjs";
import { writeJsonAtomic } from "./io.js";
import { runQ5MonteCarlo } from "./q5.js";
import { HW1_ROOT } from "./render.js";

export interface ExperimentsOptions {
  experimentsDir?: string;
  resultsDir?: string;
  force?: boolean;
  /** Run only these experiment names (spec `name`s). */
  only?: string[];
  workers?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Progress stream for training runs (default stderr). */
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface ExperimentSummary {
  name: string;
  file: string;
  cached: boolean;
}

interface SpecFile {
  file: string;
  spec: Record<string, unknown>;
}

function listSpecs(experimentsDir: string): SpecFile[] {
  if (!existsSync(experimentsDir)) throw new UserError(`${experimentsDir}: experiments folder not found`);
  return readdirSync(experimentsDir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => {
      const file = join(experimentsDir, f);
      const spec = readSpecFile(file) as Record<string, unknown> | null;
      if (typeof spec !== "object" || spec === null || Array.isArray(spec) || typeof spec.name !== "string") {
        throw new UserError(`${file}: expected a JSON object with a string "name"`);
      }
      return { file, spec };
    });
}

/** Reuse a non-training result while the spec stored in it equals the spec file. */
function upToDate(file: string, spec: unknown): boolean {
  if (!existsSync(file)) return false;
  try {
    const stored = JSON.parse(readFileSync(file, "utf8")) as { spec?: unknown };
    return JSON.stringify(stored.spec) === JSON.stringify(spec);
  } catch {
    return false;
  }
}

function numberField(spec: Record<string, unknown>, field: string, source: string): number | undefined {
  const value = spec[field];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new UserError(`${source}: ${field}: expected a number, got ${JSON.stringify(value)}`);
  }
  return value;
}

async function runSpecialSpec(
  { file, spec }: SpecFile,
  resultsDir: string,
  force: boolean,
  log: (line: string) => void,
): Promise<ExperimentSummary> {
  const name = spec.name as string;
  const out = join(resultsDir, `${name}.json`);
  if (!force && upToDate(out, spec)) {
    log(`${name}: cached (${out})`);
    return { name, file: out, cached: true };
  }
  const started = performance.now();
  if (spec.kind === "tfjs-crosscheck") {
    const dims = spec.dims;
    if (dims !== undefined && (!Array.isArray(dims) || !dims.every((d) => Number.isInteger(d) && d > 0))) {
      throw new UserError(`${file}: dims: expected an array of positive integers`);
    }
    const backend = spec.backend;
    if (backend !== undefined && backend !== "wasm" && backend !== "cpu") {
      throw new UserError(`${file}: backend: expected "wasm" or "cpu", got ${JSON.stringify(backend)}`);
    }
    const result = await crossCheck({
      seed: numberField(spec, "seed", file),
      steps: numberField(spec, "steps", file),
      batchSize: numberField(spec, "batchSize", file),
      lr: numberField(spec, "lr", file),
      dims: dims as number[] | undefined,
      backend: backend as "wasm" | "cpu" | undefined,
    });
    await writeJsonAtomic(out, { ...result, spec });
  } else if (spec.kind === "q5-monte-carlo") {
    const sigmas = spec.sigmas;
    if (
      sigmas !== undefined &&
      (!Array.isArray(sigmas) || !sigmas.every((s) => typeof s === "number" && s > 0))
    ) {
      throw new UserError(`${file}: sigmas: expected an array of positive numbers`);
    }
    const result = runQ5MonteCarlo({
      seed: numberField(spec, "seed", file),
      samples: numberField(spec, "samples", file),
      sigmas: sigmas as number[] | undefined,
    });
    await writeJsonAtomic(out, { ...result, spec });
  } else {
    throw new UserError(
      `${file}: kind: expected "tfjs-crosscheck" or "q5-monte-carlo" (training specs have no kind), got ${JSON.stringify(spec.kind)}`,
    );
  }
  log(`${name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s -> ${out}`);
  return { name, file: out, cached: false };
}

/** Runs (or reuses) every experiment; throws a UserError naming the experiments that failed. */
export async function runHw1Experiments(opts: ExperimentsOptions = {}): Promise<ExperimentSummary[]> {
  const experimentsDir = opts.experimentsDir ?? join(HW1_ROOT, "experiments");
  const resultsDir = opts.resultsDir ?? join(HW1_ROOT, "results");
  const log = opts.log ?? ((line: string) => console.log(line));
  const force = opts.force ?? false;
  let specs = listSpecs(experimentsDir);
  if (opts.only) {
    const unknown = opts.only.filter((n) => !specs.some((s) => s.spec.name === n));
    if (unknown.length > 0) throw new UserError(`--only: no experiment named ${unknown.join(", ")}`);
    specs = specs.filter((s) => opts.only?.includes(s.spec.name as string));
  }
  const progress = createProgressRenderer(opts.progressStream ?? process.stderr);
  const summaries: ExperimentSummary[] = [];
  try {
    for (const entry of specs) {
      const { file, spec } = entry;
      if (typeof spec.kind === "string") {
        summaries.push(await runSpecialSpec(entry, resultsDir, force, log));
      } else if (spec.grid !== undefined) {
        const outcome = await runSweep(sweepExperiments(spec, file), {
          resultsDir,
          force,
          workers: opts.workers,
          signal: opts.signal,
          onProgress: progress.listener,
        });
        progress.clear();
        for (const o of outcome.outcomes)
          summaries.push({ name: o.results.name, file: o.file, cached: o.cached });
        if (outcome.failures.length > 0 || outcome.cancelled.length > 0) {
          const failed = outcome.failures.map((f) => `${f.name}: ${f.message}`);
          const cancelled = outcome.cancelled.map((n) => `${n}: cancelled`);
          throw new UserError(`${file}: ${[...failed, ...cancelled].join("; ")}`);
        }
        log(
          `${spec.name}: ${outcome.outcomes.length} experiments (${outcome.outcomes.filter((o) => o.cached).length} cached)`,
        );
      } else {
        const outcome = await runExperiment(parseSpec(spec, file), {
          resultsDir,
          force,
          signal: opts.signal,
          onProgress: progress.listener,
        });
        progress.clear();
        summaries.push({ name: outcome.results.name, file: outcome.file, cached: outcome.cached });
        const m = outcome.results.metrics;
        log(
          `${spec.name}: ${outcome.cached ? "cached" : "trained"}, status ${outcome.results.status}, test accuracy ${m.testAccuracy ?? "—"}`,
        );
      }
    }
  } finally {
    progress.clear();
  }
  return summaries;
}

function parseArgs(argv: string[]): ExperimentsOptions {
  const opts: ExperimentsOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UserError(`${arg}: expected a value`);
      return v;
    };
    if (arg === "--force") opts.force = true;
    else if (arg === "--only") opts.only = value().split(",");
    else if (arg === "--results") opts.resultsDir = resolve(value());
    else if (arg === "--experiments") opts.experimentsDir = resolve(value());
    else if (arg === "--workers") {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new UserError(`--workers: expected a positive integer`);
      opts.workers = n;
    } else if (arg === "--help" || arg === "-h") {
      console.log(
        "usage: node dist/experiments.js [--force] [--only name,name] [--results DIR] [--experiments DIR] [--workers N]",
      );
      process.exit(0);
    } else throw new UserError(`unknown argument ${arg} (try --help)`);
  }
  return opts;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  const started = performance.now();
  runHw1Experiments({ ...parseArgs(process.argv.slice(2)), signal: controller.signal })
    .then((summaries) => {
      const trained = summaries.filter((s) => !s.cached).length;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `experiments: ${summaries.length} results (${trained} computed, ${summaries.length - trained} cached) in ${seconds} s`,
      );
    })
    .catch((error: unknown) => {
      const user = error instanceof UserError || (error as Error).name?.endsWith("Error");
      console.error(`experiments: ${(error as Error).message}`);
      if (!user) console.error((error as Error).stack);
      process.exit(controller.signal.aborted ? 130 : 1);
    });
}
