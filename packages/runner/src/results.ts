import { createHash } from "node:crypto";
import { join } from "node:path";
import { ensureOutputDir, InputTooLargeError, OutputDirError, readTextBounded } from "@nabla/io";
import { z } from "zod";
import { canonicalJson } from "./canonical.js";
import { commitPair, sha256Hex } from "./checkpoint.js";
import { ResultsError, UserError } from "./errors.js";
import { type ExperimentSpec, parseSpec } from "./spec.js";

/**
 * Bumped whenever the results format changes; part of the cache key, so old files are rerun, not misread.
 * 3: the digest covers the whole file; `checkpoint` names the checkpoint's sha-256; `timings.resumedAfterEpochs`.
 */
/** A results file holds metrics and curves (per-step losses are thinned to MAX_CURVE_POINTS): far below this. */
export const MAX_RESULTS_BYTES = 64 * 1024 * 1024;

export const RESULTS_SCHEMA_VERSION = 3;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

const finite = z.number().finite();
const fraction = z.number().min(0).max(1);
const epochNumber = z.number().int().positive();

export const environmentSchema = z.strictObject({
  node: z.string(),
  platform: z.string(),
  arch: z.string(),
  cpu: z.string(),
  /** The GEMM kernel @nabla/ndarray used (gemmKernelInfo()). */
  gemm: z.strictObject({ kernel: z.string(), simd: z.boolean(), threads: z.number().int().nonnegative() }),
  /** Versions of the packages that shape results. */
  packages: z.record(z.string(), z.string()),
  /** For mlp-tfjs: the TF.js backend actually used (wasm, or cpu after a fallback). */
  tfjsBackend: z.string().optional(),
});
export type Environment = z.output<typeof environmentSchema>;

/** Everything measured; arrays indexed by epoch (entry 0 is epoch 1). Epoch numbers are 1-based. */
export const metricsSchema = z.strictObject({
  /** Mean training loss of each completed epoch (mean over its batches). */
  trainLoss: z.array(finite),
  /**
   * The training loss curve per step: entry i is the mean loss of steps [i*stride, (i+1)*stride) over the
   * whole run (stride 1, i.e. every step, unless the run has more than MAX_CURVE_POINTS steps).
   * A diverged run's last entry may be null (a NaN/Inf loss).
   */
  trainLossPerStep: z.array(finite.nullable()),
  trainLossPerStepStride: z.number().int().positive(),
  stepsPerEpoch: z.number().int().positive(),
  valAccuracy: z.array(fraction),
  valLoss: z.array(finite),
  /** The learning rate used during each epoch (a scheduler changes it between epochs). */
  lr: z.array(finite),
  /** Test accuracy and loss of the parameters of the best validation epoch (null if no epoch completed). */
  testAccuracy: fraction.nullable(),
  testLoss: finite.nullable(),
  bestEpoch: epochNumber.nullable(),
  /** Test accuracy and loss of the parameters after the last completed epoch. */
  lastTestAccuracy: fraction.nullable(),
  lastTestLoss: finite.nullable(),
  /** Set when the loss became NaN/Inf: the epoch it happened in (its metrics are not recorded). */
  divergedAtEpoch: epochNumber.optional(),
});
export type Metrics = z.output<typeof metricsSchema>;

export const timingsSchema = z.strictObject({
  startedAt: z.string(),
  /** Loading (and for CIFAR-10, verifying) the data and building the model. */
  setupSeconds: z.number().nonnegative(),
  /** Wall time of each completed epoch: training steps plus validation. */
  epochSeconds: z.array(z.number().nonnegative()),
  /** Final test evaluation(s). */
  testSeconds: z.number().nonnegative(),
  /** Of every process that worked on the run, up to the last state it saved (a killed one's lost epoch aside). */
  totalSeconds: z.number().nonnegative(),
  /**
   * Set when the run was stopped and resumed: the epoch each resume continued after. `startedAt` and
   * `setupSeconds` are then the first process's; `epochSeconds` each epoch's, whichever process ran it.
   */
  resumedAfterEpochs: z.array(epochNumber).optional(),
});
export type Timings = z.output<typeof timingsSchema>;

export const resultsSchema = z.strictObject({
  schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
  name: z.string(),
  /** sha-256 of the resolved spec (minus name, description and data.dir) and of what shapes results. */
  cacheKey: sha256,
  /** The resolved spec; validated against the spec schema (of the kinds registered now) when loaded. */
  spec: z.custom<ExperimentSpec>((v) => v !== null && typeof v === "object" && !Array.isArray(v), {
    error: "expected the resolved experiment spec (an object)",
  }),
  environment: environmentSchema,
  status: z.enum(["ok", "diverged"]),
  metrics: metricsSchema,
  /**
   * The sha-256 of this run's checkpoint (`<name>.safetensors` beside the file); absent when no epoch completed.
   * The results file is the commit point of the pair: a checkpoint beside it is the one named here, or none.
   */
  checkpoint: z.strictObject({ sha256 }).optional(),
  timings: timingsSchema,
  /**
   * sha-256 over the canonical JSON of every other field (spec, environment, metrics, status, cache key,
   * checkpoint, timings — all a reader may use): a file edited after the run wrote it is recomputed by the
   * runner and refused by the reports, not trusted.
   */
  digest: sha256,
});
export type Results = z.output<typeof resultsSchema>;

/** Checks (and creates) a results folder before any long work: a file or a read-only folder is a UserError. */
export function ensureResultsDir(dir: string): void {
  try {
    ensureOutputDir(dir, "results folder");
  } catch (err) {
    if (err instanceof OutputDirError) throw new UserError(err.message);
    throw err;
  }
}

/** Where an experiment's results live. */
export function resultsPath(resultsDir: string, name: string): string {
  return join(resultsDir, `${name}.json`);
}

/**
 * JSON with a 2-space indent, except that arrays of numbers (or other scalars) stay on one line, so a
 * results file reads (and diffs) by field rather than one number per line. Deterministic: same value, same text.
 */
export function formatJson(value: unknown, indent = ""): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== "object")) {
      return `[${value.map((v) => JSON.stringify(v ?? null)).join(", ")}]`;
    }
    const inner = `${indent}  `;
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    const inner = `${indent}  `;
    const body = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(",\n");
    return `{\n${body}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** Serialises results deterministically (key order as built, trailing newline). */
export function serializeResults(results: Results): string {
  return `${formatJson(results)}\n`;
}

/** The content digest of a results file: over everything but the digest itself (see resultsSchema.digest). */
export function resultsDigest(results: Omit<Results, "digest"> | Results): string {
  const { digest: _digest, ...rest } = results as Results;
  return createHash("sha256").update(canonicalJson(rest)).digest("hex");
}

/**
 * Writes a results file atomically with its digest, as the commit point of its pair (see commitPair): with
 * `checkpoint` bytes those become `<name>.safetensors` and are named in `results.checkpoint`; with null the run
 * has none; left out, `results.checkpoint` says which (a queued run's, trained elsewhere). Sets `results.digest`
 * (and `.checkpoint`) on the object, so it equals what a reader of the file gets.
 */
export function writeResults(file: string, results: Results, checkpoint?: Uint8Array | null): void {
  if (checkpoint !== undefined) {
    results.checkpoint = checkpoint === null ? undefined : { sha256: sha256Hex(checkpoint) };
  }
  // Over what the file will hold (fields left undefined are dropped), so a reader computes the same digest.
  results.digest = resultsDigest(JSON.parse(JSON.stringify({ ...results, digest: undefined })));
  const checked = resultsSchema.safeParse(results);
  // Writing an invalid file would poison the cache; this is a bug, not a user error.
  if (!checked.success)
    throw new Error(`internal: results for ${results.name} do not validate: ${checked.error.message}`);
  commitPair(file, serializeResults(results), results.checkpoint?.sha256, checkpoint ?? undefined);
}

/** Reads and validates a results file; throws ResultsError naming the file and the first bad field. */
export function loadResults(file: string): Results {
  let text: string;
  try {
    text = readTextBounded(file, MAX_RESULTS_BYTES, "results file");
  } catch (err) {
    if (err instanceof InputTooLargeError) throw new ResultsError(err.message);
    throw new ResultsError(
      `${file}: cannot read results (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ResultsError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = resultsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.map(String).join(".") || "(root)";
    throw new ResultsError(
      `${file}: ${path}: ${issue.message} (results schema version ${RESULTS_SCHEMA_VERSION})`,
    );
  }
  if (resultsDigest(parsed.data) !== parsed.data.digest) {
    throw new ResultsError(
      `${file}: its digest does not match its contents (its spec, metrics, status, cache key, environment or timings were edited after the run wrote them); rerun the experiment or delete the file`,
    );
  }
  try {
    parsed.data.spec = parseSpec(parsed.data.spec, `${file}: spec`);
  } catch (err) {
    throw new ResultsError((err as Error).message);
  }
  return parsed.data;
}
