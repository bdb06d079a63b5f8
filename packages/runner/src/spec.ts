import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { SpecError } from "./errors.js";
import { formatSpecError } from "./spec-errors.js";

/**
 * Experiment specs. Every default is the original assignment's (UvA DL assignment 1): hidden [128], lr 0.1,
 * batch 128, 10 epochs, seed 42, plain SGD, 45k/5k split of the official train set with split seed 42.
 */
export const DEFAULTS = {
  hiddenDims: [128],
  lr: 0.1,
  batchSize: 128,
  epochs: 10,
  seed: 42,
  splitSeed: 42,
  validationSize: 5000,
} as const;

const positiveInt = z.number().int().positive();
const nonNegative = z.number().finite().nonnegative();
const uint32 = z.number().int().min(0).max(0xffff_ffff);
const hiddenDims = z.array(positiveInt).default([...DEFAULTS.hiddenDims]);

/** The message for a wrong or missing discriminator, listing the valid ones. */
function expectedOneOf(field: string, names: readonly string[]): { error: string } {
  return { error: `expected ${field} to be one of ${names.map((n) => `"${n}"`).join(", ")}` };
}

/** Lets `{"hiddenDims": [256]}` mean the default kind, so partial objects (and grid paths) work. */
function defaultKind<T extends z.ZodType>(field: string, kind: string, schema: T) {
  return z.preprocess(
    (v) =>
      v !== null && typeof v === "object" && !Array.isArray(v) && !(field in v) ? { [field]: kind, ...v } : v,
    schema,
  );
}

const modelUnion = z.discriminatedUnion(
  "kind",
  [
    /** The nabla MLP with its explicit backward pass. */
    z.strictObject({ kind: z.literal("mlp"), hiddenDims }),
    /** The same MLP in TensorFlow.js (autograd), initialised from the nabla MLP of the same seed. */
    z.strictObject({
      kind: z.literal("mlp-tfjs"),
      hiddenDims,
      backend: z.enum(["wasm", "cpu"]).default("wasm"),
    }),
  ],
  expectedOneOf("kind", ["mlp", "mlp-tfjs"]),
);

const optimizerUnion = z.discriminatedUnion(
  "kind",
  [
    z.strictObject({
      kind: z.literal("sgd"),
      momentum: nonNegative.default(0),
      dampening: nonNegative.default(0),
      nesterov: z.boolean().default(false),
      weightDecay: nonNegative.default(0),
    }),
    z.strictObject({
      kind: z.literal("adam"),
      betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
      eps: z.number().positive().default(1e-8),
      weightDecay: nonNegative.default(0),
      amsgrad: z.boolean().default(false),
    }),
    z.strictObject({
      kind: z.literal("adamw"),
      betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
      eps: z.number().positive().default(1e-8),
      weightDecay: nonNegative.default(0.01),
      amsgrad: z.boolean().default(false),
    }),
  ],
  expectedOneOf("kind", ["sgd", "adam", "adamw"]),
);

export const modelSchema = defaultKind("kind", "mlp", modelUnion);
export const optimizerSchema = defaultKind("kind", "sgd", optimizerUnion);

/** Learning-rate schedules, stepped once after every epoch (as PyTorch's epoch-based schedulers are). */
export const schedulerSchema = z.discriminatedUnion(
  "kind",
  [
    z.strictObject({
      kind: z.literal("step"),
      stepSize: positiveInt,
      gamma: z.number().positive().default(0.1),
    }),
    z.strictObject({
      kind: z.literal("multistep"),
      milestones: z
        .array(positiveInt)
        .min(1)
        .refine((m) => m.every((v, i) => i === 0 || v > m[i - 1]), "expected strictly increasing epochs"),
      gamma: z.number().positive().default(0.1),
    }),
    z.strictObject({ kind: z.literal("exponential"), gamma: z.number().positive() }),
    z.strictObject({ kind: z.literal("cosine"), tMax: positiveInt, etaMin: nonNegative.default(0) }),
    z.strictObject({
      kind: z.literal("linear"),
      startFactor: z
        .number()
        .positive()
        .max(1)
        .default(1 / 3),
      endFactor: z.number().positive().max(1).default(1),
      totalIters: positiveInt.default(5),
    }),
  ],
  expectedOneOf("kind", ["step", "multistep", "exponential", "cosine", "linear"]),
);

const dataUnion = z.discriminatedUnion(
  "source",
  [
    z.strictObject({
      source: z.literal("cifar10"),
      /** A folder of yours holding cifar-10-batches-bin (default: @nabla/cifar's cache). Verified, so not hashed. */
      dir: z.string().min(1).optional(),
      splitSeed: uint32.default(DEFAULTS.splitSeed),
      validationSize: positiveInt.default(DEFAULTS.validationSize),
    }),
    /** Learnable generated images with CIFAR-10's shape, for tests and smoke runs. */
    z.strictObject({
      source: z.literal("synthetic"),
      trainCount: positiveInt,
      testCount: positiveInt,
      seed: uint32.default(0),
      splitSeed: uint32.default(DEFAULTS.splitSeed),
      validationSize: positiveInt.default(DEFAULTS.validationSize),
    }),
  ],
  expectedOneOf("source", ["cifar10", "synthetic"]),
);

export const dataSchema = defaultKind("source", "cifar10", dataUnion);

/** The official CIFAR-10 training set size (before the train/validation split). */
const CIFAR10_TRAIN_IMAGES = 50_000;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._=+-]*$/;

const specShape = {
  name: z
    .string()
    .max(120)
    .regex(NAME_PATTERN, "expected a file-name-safe name (letters, digits, . _ = + -)"),
  /** Free text for the report; not part of the cache key. */
  description: z.string().max(10_000).optional(),
  model: modelSchema.default({ kind: "mlp", hiddenDims: [...DEFAULTS.hiddenDims] }),
  optimizer: optimizerSchema.default({
    kind: "sgd",
    momentum: 0,
    dampening: 0,
    nesterov: false,
    weightDecay: 0,
  }),
  scheduler: schedulerSchema.optional(),
  lr: z.number().finite().positive().default(DEFAULTS.lr),
  batchSize: positiveInt.default(DEFAULTS.batchSize),
  epochs: positiveInt.default(DEFAULTS.epochs),
  seed: uint32.default(DEFAULTS.seed),
  data: dataSchema.default({
    source: "cifar10",
    splitSeed: DEFAULTS.splitSeed,
    validationSize: DEFAULTS.validationSize,
  }),
};

type RawSpec = z.output<z.ZodObject<typeof specShape>>;

/** Checks that need several fields at once. */
function checkCombination(spec: RawSpec, ctx: z.RefinementCtx): void {
  const { data, model, optimizer } = spec;
  if (data.source === "synthetic") {
    if (data.validationSize >= data.trainCount) {
      ctx.addIssue({
        code: "custom",
        path: ["data", "validationSize"],
        message: `expected fewer than trainCount (${data.trainCount}) validation images, got ${data.validationSize}`,
      });
    } else if (data.trainCount - data.validationSize < spec.batchSize) {
      ctx.addIssue({
        code: "custom",
        path: ["batchSize"],
        message: `expected at most ${data.trainCount - data.validationSize} (the training images left after the split; the last partial batch is dropped), got ${spec.batchSize}`,
      });
    }
  } else if (data.validationSize >= CIFAR10_TRAIN_IMAGES) {
    ctx.addIssue({
      code: "custom",
      path: ["data", "validationSize"],
      message: `expected fewer than ${CIFAR10_TRAIN_IMAGES} (CIFAR-10's training images), got ${data.validationSize}`,
    });
  } else if (CIFAR10_TRAIN_IMAGES - data.validationSize < spec.batchSize) {
    ctx.addIssue({
      code: "custom",
      path: ["batchSize"],
      message: `expected at most ${CIFAR10_TRAIN_IMAGES - data.validationSize} (the training images left after the split; the last partial batch is dropped), got ${spec.batchSize}`,
    });
  }
  if (model.kind === "mlp-tfjs") {
    // The TF.js cross-check is defined with plain SGD only (tf.train.sgd), as the homework's Q4a.
    const plain =
      optimizer.kind === "sgd" &&
      optimizer.momentum === 0 &&
      optimizer.weightDecay === 0 &&
      !optimizer.nesterov;
    if (!plain) {
      ctx.addIssue({
        code: "custom",
        path: ["optimizer"],
        message:
          'expected plain SGD ({"kind": "sgd"} without momentum, nesterov or weightDecay) for model "mlp-tfjs"',
      });
    }
  }
  if (
    optimizer.kind === "sgd" &&
    optimizer.nesterov &&
    (optimizer.momentum <= 0 || optimizer.dampening !== 0)
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["optimizer", "nesterov"],
      message: "expected momentum > 0 and dampening 0 for Nesterov momentum",
    });
  }
}

/** One experiment, fully resolved (every default filled in). */
export const experimentSpecSchema = z.strictObject(specShape).superRefine(checkCombination);
export type ExperimentSpec = z.output<typeof experimentSpecSchema>;
/** What a user may write: every field but `name` optional. */
export type ExperimentSpecInput = z.input<typeof experimentSpecSchema>;

/** A sweep: an experiment spec plus `grid`, a map from a (dotted) field path to the values it takes. */
export const sweepSpecSchema = z.strictObject({
  ...specShape,
  grid: z.record(
    z.string().regex(/^[A-Za-z]+(\.[A-Za-z]+)*$/, "expected a field path such as lr or optimizer.momentum"),
    z.array(z.unknown()).min(1),
  ),
});
export type SweepSpecInput = z.input<typeof sweepSpecSchema>;

export { formatSpecError };

function parseWith<T extends z.ZodType>(schema: T, input: unknown, source: string): z.output<T> {
  const result = schema.safeParse(input, { reportInput: true });
  if (!result.success) throw new SpecError(formatSpecError(source, result.error));
  return result.data;
}

/** Validates one experiment spec and fills in the defaults; throws SpecError with a one-line message. */
export function parseSpec(input: unknown, source = "spec"): ExperimentSpec {
  if (Array.isArray(input)) {
    throw new SpecError(
      `${source}: expected one experiment spec, got an array of ${input.length} (run a list of specs with \`nabla sweep\`)`,
    );
  }
  if (input !== null && typeof input === "object" && "grid" in input) {
    throw new SpecError(`${source}: grid: a spec with a grid is a sweep (use runSweep / \`nabla sweep\`)`);
  }
  return parseWith(experimentSpecSchema, input, source);
}

/** Spec files are small; anything larger is refused before it is read. */
export const MAX_SPEC_BYTES = 1024 * 1024;
/** A grid expanding into more experiments than this is refused before expansion (overridable per call). */
export const MAX_SWEEP_MEMBERS = 10_000;

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} kB`;
}

/** Reads and parses a JSON file; a missing file or bad JSON is a SpecError too. */
export function readSpecFile(file: string): unknown {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_SPEC_BYTES) {
      throw new SpecError(
        `${file}: the spec file is ${formatBytes(size)}; specs are limited to ${formatBytes(MAX_SPEC_BYTES)} (is this a results or data file?)`,
      );
    }
    text = readFileSync(file, "utf8");
  } catch (err) {
    if (err instanceof SpecError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new SpecError(`${file}: cannot read the spec file (${code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SpecError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  for (const spec of Array.isArray(json) ? json : [json]) resolveDataDir(spec, dirname(resolve(file)));
  return json;
}

/** A relative `data.dir` in a spec file means relative to that file, wherever the CLI is started from. */
function resolveDataDir(spec: unknown, base: string): void {
  if (spec === null || typeof spec !== "object") return;
  const data = (spec as { data?: unknown }).data;
  if (data === null || typeof data !== "object") return;
  const dir = (data as { dir?: unknown }).dir;
  if (typeof dir === "string" && dir !== "" && !isAbsolute(dir))
    (data as { dir: string }).dir = resolve(base, dir);
}

/** Reads a spec file holding one experiment. */
export function loadSpecFile(file: string): ExperimentSpec {
  return parseSpec(readSpecFile(file), file);
}

function formatGridValue(value: unknown): string {
  // 12 significant digits: 10 ** -5 names "0.00001", not "0.000009999999999999999".
  if (typeof value === "number") return String(Number(value.toPrecision(12)));
  if (Array.isArray(value)) return value.map(formatGridValue).join("x");
  if (value !== null && typeof value === "object") {
    return Object.entries(value)
      .map(([k, v]) => `${k}${formatGridValue(v)}`)
      .join("_");
  }
  return String(value);
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    const copy = child !== null && typeof child === "object" && !Array.isArray(child) ? { ...child } : {};
    node[key] = copy;
    node = copy as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/**
 * Expands a sweep spec into its experiments: the cartesian product of the grid, in the grid's key order and
 * each list's order. Names are deterministic: `<name>-<path>=<value>` per grid key, e.g. `lr-sweep-lr=0.001`.
 * A spec without `grid` is a sweep of one.
 */
export function expandSweep(
  input: unknown,
  source = "spec",
  maxMembers = MAX_SWEEP_MEMBERS,
): ExperimentSpec[] {
  if (input === null || typeof input !== "object" || !("grid" in input)) return [parseSpec(input, source)];
  const sweep = parseWith(sweepSpecSchema, input, source);
  const members = Object.values(sweep.grid).reduce((n, values) => n * values.length, 1);
  if (members > maxMembers) {
    throw new SpecError(
      `${source}: grid: expands into ${members.toLocaleString("en-US")} experiments, more than the limit of ${maxMembers.toLocaleString("en-US")} (split the sweep, or raise the limit with --max-members)`,
    );
  }
  const { grid, ...base } = input as Record<string, unknown>;
  let combos: { overrides: [string, unknown][] }[] = [{ overrides: [] }];
  for (const [path, values] of Object.entries(sweep.grid)) {
    combos = combos.flatMap((c) =>
      values.map((v) => ({ overrides: [...c.overrides, [path, v] as [string, unknown]] })),
    );
  }
  const specs = combos.map(({ overrides }) => {
    const raw: Record<string, unknown> = structuredClone(base);
    for (const [path, value] of overrides) setPath(raw, path.split("."), value);
    raw.name = [sweep.name, ...overrides.map(([p, v]) => `${p}=${formatGridValue(v)}`)].join("-");
    return parseSpec(raw, `${source} (experiment ${String(raw.name)})`);
  });
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name))
      throw new SpecError(`${source}: grid: two experiments would both be named "${s.name}"`);
    seen.add(s.name);
  }
  return specs;
}
