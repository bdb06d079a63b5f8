import { dirname, isAbsolute, resolve } from "node:path";
import { type DataConfig, dataConfigSchema, datasetInfo, HOLDOUT_DEFAULTS } from "@nabla/data";
import { formatSize, InputTooLargeError, readTextBounded } from "@nabla/io";
import { layersSchema, NnError } from "@nabla/nn";
import { optimizerConfigSchema, type SchedulerConfig, schedulerConfigSchema } from "@nabla/optim";
import { z } from "zod";
import { ensureBuiltinDatasets } from "./datasets.js";
import { echo, SpecError } from "./errors.js";
import { modelPlan } from "./models.js";
import { formatSpecError } from "./spec-errors.js";

/**
 * Experiment specs. The runner owns only the spec's frame (name, lr, batch size, epochs, seed, the model
 * kinds); every other part is composed from the package that owns it: optimizer and scheduler configs from
 * @nabla/optim's registries, layer lists from @nabla/nn's, data configs from @nabla/data's. The schemas are
 * built when a spec is parsed, so kinds registered from user code are accepted. Every default is the original
 * assignment's (UvA DL assignment 1): hidden [128], lr 0.1, batch 128, 10 epochs, seed 42, plain SGD, 45k/5k
 * split of the official train set with split seed 42.
 */
export const DEFAULTS = {
  hiddenDims: [128],
  lr: 0.1,
  batchSize: 128,
  epochs: 10,
  seed: 42,
  /** The holdout split's defaults are @nabla/data's (HOLDOUT_DEFAULTS); repeated here for the spec's readers. */
  splitSeed: HOLDOUT_DEFAULTS.splitSeed,
  validationSize: HOLDOUT_DEFAULTS.validationSize,
} as const;

const positiveInt = z.number().int().positive();
const uint32 = z.number().int().min(0).max(0xffff_ffff);
const hiddenDims = z.array(positiveInt).default([...DEFAULTS.hiddenDims]);

/** The message for a wrong or missing discriminator, listing the valid ones. */
function expectedOneOf(field: string, names: readonly string[]): { error: string } {
  return { error: `expected ${field} to be one of ${names.map((n) => `"${n}"`).join(", ")}` };
}

/** A layer list in its canonical JSON form: one `{ name: config }` object per layer, configs normalised. */
export type LayerList = Record<string, unknown>[];

/** The model kind a spec means when it names none: a layer list is "sequential", anything else the MLP. */
function defaultModelKind<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => {
    if (v === null || typeof v !== "object" || Array.isArray(v) || "kind" in v) return v;
    return { kind: "layers" in v ? "sequential" : "mlp", ...v };
  }, schema);
}

function modelSchema() {
  const layers = layersSchema().transform((specs): LayerList => specs.map((s) => ({ [s.name]: s.config })));
  return defaultModelKind(
    z.discriminatedUnion(
      "kind",
      [
        /** Any layer list of @nabla/nn's registry, run in order (a CNN, an MLP with BatchNorm, …). */
        z.strictObject({ kind: z.literal("sequential"), layers }),
        /** hiddenDims: the assignment's MLP, Linear → ReLU → … → Linear; `layers` is kept as "sequential". */
        z.strictObject({
          kind: z.literal("mlp"),
          hiddenDims: z.array(positiveInt).optional(),
          layers: layers.optional(),
        }),
        /** The same MLP in TensorFlow.js (autograd), initialised from the nabla MLP of the same seed. */
        z.strictObject({
          kind: z.literal("mlp-tfjs"),
          hiddenDims,
          backend: z.enum(["wasm", "cpu"]).default("wasm"),
        }),
      ],
      expectedOneOf("kind", ["sequential", "mlp", "mlp-tfjs"]),
    ),
  ).transform((m, ctx): ModelSpec => {
    if (m.kind !== "mlp") return m;
    if (m.hiddenDims !== undefined && m.layers !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["layers"],
        message: 'expected either hiddenDims (the assignment\'s MLP) or layers (kind "sequential"), not both',
      });
      return z.NEVER;
    }
    return m.layers !== undefined
      ? { kind: "sequential", layers: m.layers }
      : { kind: "mlp", hiddenDims: m.hiddenDims ?? [...DEFAULTS.hiddenDims] };
  });
}

export type ModelSpec =
  | { kind: "mlp"; hiddenDims: number[] }
  | { kind: "sequential"; layers: LayerList }
  | { kind: "mlp-tfjs"; hiddenDims: number[]; backend: "wasm" | "cpu" };

/** An optimizer config as a spec holds it: @nabla/optim's, without `lr` (the spec's top-level `lr` is the one). */
export type OptimizerSpec = { kind: string } & Record<string, unknown>;

const specShape = () => ({
  name: z
    .string()
    .max(120)
    .regex(NAME_PATTERN, "expected a file-name-safe name (letters, digits, . _ = + -)"),
  /** Free text for the report; not part of the cache key. */
  description: z.string().max(10_000).optional(),
  model: modelSchema().prefault({}),
  /** Resolved against @nabla/optim's registry with the spec's lr (see resolveOptimizer). */
  optimizer: z.unknown().optional(),
  scheduler: schedulerConfigSchema().optional(),
  lr: z.number().finite().positive().default(DEFAULTS.lr),
  batchSize: positiveInt.default(DEFAULTS.batchSize),
  epochs: positiveInt.default(DEFAULTS.epochs),
  seed: uint32.default(DEFAULTS.seed),
  data: dataConfigSchema({ defaultSource: "cifar10" }).prefault({}),
});

/** A file-name-safe experiment or task name: the one pattern both spec kinds are checked against. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._=+-]*$/;

/** One experiment, fully resolved (every default filled in). */
export interface ExperimentSpec {
  name: string;
  description?: string;
  model: ModelSpec;
  optimizer: OptimizerSpec;
  scheduler?: SchedulerConfig;
  lr: number;
  batchSize: number;
  epochs: number;
  seed: number;
  data: DataConfig;
}

/** What a user may write: every field but `name` optional. */
export interface ExperimentSpecInput {
  name: string;
  description?: string;
  model?:
    | { kind?: "mlp"; hiddenDims?: number[]; layers?: unknown[] }
    | { kind?: "sequential"; layers: unknown[] }
    | { kind: "mlp-tfjs"; hiddenDims?: number[]; backend?: "wasm" | "cpu" };
  optimizer?: { kind?: string } & Record<string, unknown>;
  scheduler?: { kind: string } & Record<string, unknown>;
  lr?: number;
  batchSize?: number;
  epochs?: number;
  seed?: number;
  data?: { source?: string } & Record<string, unknown>;
}

type Ctx = z.RefinementCtx;

function issue(ctx: Ctx, path: (string | number)[], message: string): void {
  ctx.addIssue({ code: "custom", path, message });
}

/** Resolves `optimizer` against @nabla/optim's schema with the spec's lr; issues keep their optimizer.* paths. */
function resolveOptimizer(raw: unknown, lr: number, ctx: Ctx): OptimizerSpec | undefined {
  const given = raw === undefined ? { kind: "sgd" } : raw;
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    issue(ctx, ["optimizer"], 'expected an object such as {"kind": "sgd"}');
    return undefined;
  }
  if ("lr" in given) {
    issue(
      ctx,
      ["optimizer", "lr"],
      "set the learning rate with the spec's top-level lr (the one the scheduler changes)",
    );
    return undefined;
  }
  const withKind = "kind" in given ? given : { kind: "sgd", ...given };
  const parsed = optimizerConfigSchema().safeParse({ ...withKind, lr }, { reportInput: true });
  if (!parsed.success) {
    for (const i of parsed.error.issues) ctx.addIssue({ ...i, path: ["optimizer", ...i.path] } as never);
    return undefined;
  }
  const { lr: _lr, ...config } = parsed.data as Record<string, unknown>;
  return config as OptimizerSpec;
}

/** Checks that need several fields at once, against what the dataset's config tells before any data is read. */
function checkCombination(spec: ExperimentSpec, ctx: Ctx): void {
  const { data, model, optimizer } = spec;
  const info = datasetInfo(data);
  const train = info.splitSizes.train;
  if (train !== undefined && train < spec.batchSize) {
    issue(
      ctx,
      ["batchSize"],
      `expected at most ${train} (the training images left after the split; the last partial batch is dropped), got ${spec.batchSize}`,
    );
  }
  for (const split of ["train", "validation", "test"]) {
    if (!(split in info.splitSizes)) {
      issue(
        ctx,
        ["data", "source"],
        `expected a dataset with train, validation and test splits; "${data.source}" has no ${split}`,
      );
      return;
    }
  }
  const classes = info.classNames.length;
  if (model.kind === "sequential") {
    let outShape: number[];
    try {
      outShape = modelPlan(spec, info).outShape;
    } catch (err) {
      if (!(err instanceof NnError)) throw err;
      issue(ctx, ["model", "layers"], err.message.replace(/^(parseLayers|planLayers): /, ""));
      return;
    }
    if (outShape.length !== 1 || outShape[0] !== classes) {
      issue(
        ctx,
        ["model", "layers", model.layers.length - 1],
        `expected the last layer to give ${classes} outputs (the classes of ${data.source}), got [${outShape.join(", ")}]`,
      );
    }
  }
  if (model.kind === "mlp-tfjs") {
    // The TF.js cross-check is defined with plain SGD only (tf.train.sgd), as the homework's Q4a.
    const plain =
      optimizer.kind === "sgd" &&
      optimizer.momentum === 0 &&
      optimizer.weightDecay === 0 &&
      !optimizer.nesterov;
    if (!plain) {
      issue(
        ctx,
        ["optimizer"],
        'expected plain SGD ({"kind": "sgd"} without momentum, nesterov or weightDecay) for model "mlp-tfjs"',
      );
    }
  }
}

function experimentSchema(extra: Record<string, z.ZodType> = {}) {
  ensureBuiltinDatasets();
  return z.strictObject({ ...specShape(), ...extra }).transform((raw, ctx) => {
    const optimizer = resolveOptimizer(raw.optimizer, raw.lr, ctx);
    if (optimizer === undefined) return z.NEVER;
    const { grid: _grid, ...rest } = raw as typeof raw & { grid?: unknown };
    const spec = { ...rest, optimizer } as ExperimentSpec;
    // Keep the field order of a results file stable: name, description, model, optimizer, scheduler, ...
    const ordered: ExperimentSpec = {
      name: spec.name,
      ...(spec.description === undefined ? {} : { description: spec.description }),
      model: spec.model,
      optimizer: spec.optimizer,
      ...(spec.scheduler === undefined ? {} : { scheduler: spec.scheduler }),
      lr: spec.lr,
      batchSize: spec.batchSize,
      epochs: spec.epochs,
      seed: spec.seed,
      data: spec.data,
    };
    checkCombination(ordered, ctx);
    return ordered;
  });
}

/** The schema of one experiment spec over the kinds registered now (zod; `.parse` fills in the defaults). */
export function experimentSpecSchema(): z.ZodType<ExperimentSpec, ExperimentSpecInput> {
  return experimentSchema() as unknown as z.ZodType<ExperimentSpec, ExperimentSpecInput>;
}

/** A sweep: an experiment spec plus `grid`, a map from a (dotted) field path to the values it takes. */
export function sweepSpecSchema() {
  return z.strictObject({
    grid: z.record(
      z.string().regex(/^[A-Za-z]+(\.[A-Za-z]+)*$/, "expected a field path such as lr or optimizer.momentum"),
      z.array(z.unknown()).min(1),
    ),
  });
}
export type SweepSpecInput = ExperimentSpecInput & { grid: Record<string, unknown[]> };

export { formatSpecError };

function parseWith<T extends z.ZodType>(schema: T, input: unknown, source: string): z.output<T> {
  const result = schema.safeParse(input, { reportInput: true });
  if (!result.success) throw new SpecError(formatSpecError(source, result.error));
  return result.data;
}

/** Specs this thread has parsed: handing one back to parseSpec (the CLI, then runExperiment) costs nothing. */
const parsedSpecs = new WeakSet<object>();

/** Validates one experiment spec and fills in the defaults; throws SpecError with a one-line message. */
export function parseSpec(input: unknown, source = "spec"): ExperimentSpec {
  if (input !== null && typeof input === "object" && parsedSpecs.has(input)) return input as ExperimentSpec;
  if (input !== null && typeof input === "object" && !Array.isArray(input) && "kind" in input) {
    throw new SpecError(
      `${source}: kind: a spec with a kind is a task (run it with \`nabla experiments\` and the module that registers it)`,
    );
  }
  if (Array.isArray(input)) {
    throw new SpecError(
      `${source}: expected one experiment spec, got an array of ${input.length} (run a list of specs with \`nabla sweep\`)`,
    );
  }
  if (input !== null && typeof input === "object" && "grid" in input) {
    throw new SpecError(`${source}: grid: a spec with a grid is a sweep (use runSweep / \`nabla sweep\`)`);
  }
  const spec = parseWith(experimentSpecSchema(), input, source);
  parsedSpecs.add(spec);
  return spec;
}

/** Spec files are small; anything larger is refused before it is read. */
export const MAX_SPEC_BYTES = 1024 * 1024;
/** A grid expanding into more experiments than this is refused before expansion (overridable per call). */
export const MAX_SWEEP_MEMBERS = 10_000;

/** Reads and parses a JSON file; a missing file or bad JSON is a SpecError too. */
export function readSpecFile(file: string): unknown {
  let text: string;
  try {
    // Bounded by the bytes read, not by stat: a FIFO or /dev/zero given as a spec stops at the limit.
    text = readTextBounded(file, MAX_SPEC_BYTES, "spec file");
  } catch (err) {
    if (err instanceof InputTooLargeError) {
      const size =
        err.size === undefined ? `larger than ${formatSize(MAX_SPEC_BYTES)}` : formatSize(err.size);
      throw new SpecError(
        `${file}: the spec file is ${size}; specs are limited to ${formatSize(MAX_SPEC_BYTES)} (is this a results or data file?)`,
      );
    }
    const code = (err as NodeJS.ErrnoException).code;
    throw new SpecError(`${file}: cannot read the spec file (${code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SpecError(`${file}: not valid JSON (${echo((err as Error).message)})`);
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
  const { grid: gridInput } = input as { grid?: unknown };
  const sweep = parseWith(sweepSpecSchema(), { grid: gridInput }, source);
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
    raw.name = [base.name, ...overrides.map(([p, v]) => `${p}=${formatGridValue(v)}`)].join("-");
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
