/**
 * Data augmentation: `data.augment`, a list of transforms applied to the training batches, and the public
 * registry that resolves each name. A transform is a name ("horizontalFlip") or an object with exactly one key,
 * the name, whose value is its config ({"randomCrop": {"padding": 4}}); a bare name means the config `{}`.
 * Names are resolved when a list is parsed, so transforms registered after a schema was built are accepted.
 */
import { Rng } from "@nabla/ndarray";
import { z } from "zod";
import { DataError, isNonNegativeInt } from "./errors.js";
import { deriveAugmentSeed } from "./seed.js";
import { horizontalFlip, randomCrop } from "./transforms.js";
import { type Batch, type BatchStream, featureSize } from "./types.js";

/** The JSON form of one transform: "horizontalFlip", {"horizontalFlip": {"p": 0.5}}, {"randomCrop": {"padding": 4}}. */
export type TransformInput = string | Readonly<Record<string, unknown>>;

/** What a transform's build knows about the stream it will augment. */
export interface TransformContext {
  /** Shape of one example, e.g. [3, 32, 32]; check() has accepted it. */
  featureShape: readonly number[];
  /** The most examples a batch holds: size scratch buffers by it. */
  batchSize: number;
  /** Per channel, the value a raw 0 takes once batched (Dataset.rawZero), when the dataset declares it. */
  rawZero: readonly number[] | undefined;
}

/**
 * One transform applied to a batch: rewrite the first `size` examples of `x` ([batchSize, featureSize],
 * row-major) in place, drawing from `rng` example by example. Called for every batch, so it must not allocate,
 * and it must draw the same way on every run (the draws are part of the results).
 */
export type BatchTransform = (x: Float32Array, size: number, rng: Rng) => void;

export interface TransformDefinition<C = unknown> {
  /**
   * Validates (and may fill in defaults of) the config. Its output must parse to itself: parsed specs are
   * written to results files and parsed again.
   */
  schema: z.ZodType<C>;
  /**
   * The problem with applying this config to examples of `featureShape`, as "expected …, got …", or undefined.
   * Runs when a data config is parsed, before any data is read. Without it every shape is accepted.
   */
  check?(config: C, featureShape: readonly number[]): string | undefined;
  /** The per-batch function; allocate what it needs here, once. May throw a DataError (missing rawZero). */
  build(config: C, ctx: TransformContext): BatchTransform;
}

const registry = new Map<string, TransformDefinition>([
  ["randomCrop", randomCrop as TransformDefinition],
  ["horizontalFlip", horizontalFlip as TransformDefinition],
]);
const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Makes a transform selectable by name in `data.augment`. Registering the same definition again is a no-op,
 * so modules may register what they need without coordinating; another definition under a taken name throws.
 */
export function registerTransform<C>(name: string, definition: TransformDefinition<C>): void {
  const where = "registerTransform";
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new DataError(
      where,
      "name",
      `expected letters, digits and _ (a letter first), got ${JSON.stringify(name)}`,
    );
  }
  const known = registry.get(name);
  if (known === (definition as TransformDefinition)) return;
  if (known !== undefined) {
    throw new DataError(where, "name", `expected a new name, transform "${name}" is already registered`);
  }
  if (definition?.schema === undefined || typeof definition.build !== "function") {
    throw new DataError(where, name, "expected a zod schema and a build(config, ctx) function");
  }
  if (definition.check !== undefined && typeof definition.check !== "function") {
    throw new DataError(where, `${name}.check`, "expected a function");
  }
  registry.set(name, definition as TransformDefinition);
}

/** Names of the registered transforms, in registration order (the built-ins first). */
export function registeredTransforms(): string[] {
  return [...registry.keys()];
}

/** One resolved transform of a list. */
interface Step {
  name: string;
  config: unknown;
  definition: TransformDefinition;
}

function quoted(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(", ");
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Resolves one transform against the registry, or returns why it is invalid. */
function resolve(value: unknown): Step | string {
  const expected = `expected one of ${quoted(registeredTransforms())}`;
  let name: string;
  let raw: unknown;
  if (typeof value === "string") {
    name = value;
    raw = {};
  } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length !== 1) {
      return `a transform object needs exactly one key (the transform's name), got ${keys.length}; ${expected}`;
    }
    name = keys[0];
    raw = (value as Record<string, unknown>)[name];
  } else {
    return `a transform is a name or a one-key object, got ${show(value)}; ${expected}`;
  }
  const definition = registry.get(name);
  if (definition === undefined) return `unknown transform ${JSON.stringify(name)}; ${expected}`;
  const parsed = definition.schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const form = typeof value === "string" ? ` (the bare name means ${name}: {})` : "";
    const path = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return `${name}${form}: ${path}${issue.message.replace(/^Invalid input: /, "")}`;
  }
  return { name, config: parsed.data, definition };
}

/** Resolves a list, or returns its first problem (index -1: not a list). */
function resolveAll(augment: unknown): Step[] | { index: number; problem: string } {
  if (!Array.isArray(augment)) {
    return {
      index: -1,
      problem: `expected a list of transforms such as [{"randomCrop": {"padding": 4}}, "horizontalFlip"], got ${show(augment)}`,
    };
  }
  const steps: Step[] = [];
  for (let i = 0; i < augment.length; i++) {
    const r = resolve(augment[i]);
    if (typeof r === "string") return { index: i, problem: r };
    steps.push(r);
  }
  return steps;
}

/** The first step that cannot take examples of `featureShape`, with its problem. */
function shapeProblem(
  steps: readonly Step[],
  featureShape: readonly number[],
): { index: number; problem: string } | undefined {
  for (let i = 0; i < steps.length; i++) {
    const { name, config, definition } = steps[i];
    const problem = definition.check?.(config, featureShape);
    if (problem !== undefined) return { index: i, problem: `${name}: ${problem}` };
  }
  return undefined;
}

function fieldOf(index: number): string {
  return index < 0 ? "data.augment" : `data.augment[${index}]`;
}

/** The parsed JSON form: every transform as { name: config } with its defaults filled in. */
function normalised(steps: readonly Step[]): TransformInput[] {
  return steps.map(({ name, config }) => ({ [name]: config }));
}

/**
 * The zod schema of `data.augment` (dataConfigSchema adds it to every source, optional). Output: each
 * transform as { name: config }, defaults filled in, so "horizontalFlip" parses to {"horizontalFlip": {"p":
 * 0.5}}. The shape checks need the dataset's featureShape: dataConfigSchema runs them, or call checkAugment.
 */
export function augmentSchema(): z.ZodType<TransformInput[], unknown> {
  return z.unknown().transform((value, ctx) => {
    const r = resolveAll(value);
    if (!Array.isArray(r)) {
      ctx.addIssue({ code: "custom", path: r.index < 0 ? [] : [r.index], message: r.problem });
      return z.NEVER;
    }
    return normalised(r);
  });
}

/**
 * The first problem of a parsed `augment` list against a dataset's featureShape (for a schema's refinement):
 * the index of the transform and what is wrong, e.g. { index: 0, problem: "randomCrop: expected images of
 * shape [C, H, W], got featureShape [3072]" }.
 */
export function augmentProblem(
  augment: unknown,
  featureShape: readonly number[],
): { index: number; problem: string } | undefined {
  const r = resolveAll(augment);
  return Array.isArray(r) ? shapeProblem(r, featureShape) : r;
}

/**
 * Checks a `data.augment` list (JSON or parsed form) against the dataset's featureShape (DatasetInfo's: known
 * before any data is read); throws a one-line DataError naming the transform, e.g. `checkAugment:
 * data.augment[0]: randomCrop: size: expected 32 (…), got 28`. undefined and [] are fine.
 */
export function checkAugment(augment: unknown, featureShape: readonly number[]): void {
  if (augment === undefined) return;
  const problem = augmentProblem(augment, featureShape);
  if (problem !== undefined) throw new DataError("checkAugment", fieldOf(problem.index), problem.problem);
}

export interface AugmentOptions {
  /** Shape of one example: the dataset's featureShape, e.g. [3, 32, 32]. */
  featureShape: readonly number[];
  /** The run seed (uint32): epoch e draws from new Rng(deriveAugmentSeed(seed, e)). */
  seed: number;
  /** Per channel, what a raw 0 becomes once batched (Dataset.rawZero): the padding value of randomCrop. */
  rawZero?: readonly number[];
}

/**
 * The training batches with `augment` applied. Undefined or [] returns `stream` itself (nothing changes).
 * Otherwise epoch e copies each batch of stream.epoch(e) into one buffer allocated here (the source's arrays
 * are never written) and runs the transforms on it in list order; y is the source batch's. Draws: one
 * new Rng(deriveAugmentSeed(seed, e)) per epoch, consumed batch by batch, within a batch transform by
 * transform (list order), within a transform example by example (batch order), so an epoch depends only on
 * (seed, e) and the source's batches. The yielded batch is reused like the source's: copy what you keep.
 */
export function augmentBatches(
  stream: BatchStream,
  augment: readonly TransformInput[] | undefined,
  options: AugmentOptions,
): BatchStream {
  const where = "augmentBatches";
  if (augment === undefined || (Array.isArray(augment) && augment.length === 0)) return stream;
  const { featureShape, seed, rawZero } = options;
  if (!(isNonNegativeInt(seed) && seed <= 0xffff_ffff)) {
    throw new DataError(where, "seed", `expected an integer in [0, 4294967295], got ${seed}`);
  }
  const f = featureSize(featureShape);
  const steps = resolveAll(augment);
  if (!Array.isArray(steps)) throw new DataError(where, fieldOf(steps.index), steps.problem);
  const problem = shapeProblem(steps, featureShape);
  if (problem !== undefined) throw new DataError(where, fieldOf(problem.index), problem.problem);
  const ctx: TransformContext = { featureShape: [...featureShape], batchSize: stream.batchSize, rawZero };
  const transforms = steps.map(({ name, config, definition }, i) => {
    try {
      return definition.build(config, ctx);
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      const message = err.message.startsWith(`${name}: `) ? err.message : `${name}: ${err.message}`;
      throw new DataError(where, fieldOf(i), message);
    }
  });
  return new AugmentedStream(stream, transforms, f, seed);
}

class AugmentedStream implements BatchStream {
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  private readonly source: BatchStream;
  private readonly transforms: readonly BatchTransform[];
  private readonly featureSize: number;
  private readonly seed: number;
  private readonly buffer: Float32Array;
  private readonly full: Batch;
  /** The last partial batch's view, kept so that replayed epochs reuse it. */
  private partial: Batch | null = null;

  constructor(source: BatchStream, transforms: readonly BatchTransform[], f: number, seed: number) {
    this.source = source;
    this.batchSize = source.batchSize;
    this.batchesPerEpoch = source.batchesPerEpoch;
    this.transforms = transforms;
    this.featureSize = f;
    this.seed = seed;
    this.buffer = new Float32Array(source.batchSize * f);
    this.full = { x: this.buffer, y: new Int32Array(0), size: source.batchSize };
  }

  *epoch(index: number): Generator<Batch, void, undefined> {
    if (!isNonNegativeInt(index)) {
      throw new DataError("BatchStream.epoch", "index", `expected a non-negative integer, got ${index}`);
    }
    const rng = new Rng(deriveAugmentSeed(this.seed, index));
    const f = this.featureSize;
    for (const batch of this.source.epoch(index)) {
      const { size } = batch;
      if (!(size >= 1 && size <= this.batchSize && batch.x.length === size * f)) {
        throw new DataError(
          "augmentBatches",
          "batch",
          `expected 1 to ${this.batchSize} examples of ${f} features, got ${size} examples and ${batch.x.length} values`,
        );
      }
      const out = size === this.batchSize ? this.full : this.partialOf(size);
      out.y = batch.y;
      this.buffer.set(batch.x);
      for (const transform of this.transforms) transform(this.buffer, size, rng);
      yield out;
    }
  }

  private partialOf(size: number): Batch {
    if (this.partial?.size !== size) {
      this.partial = { x: this.buffer.subarray(0, size * this.featureSize), y: new Int32Array(0), size };
    }
    return this.partial;
  }
}
