/**
 * Models as lists of layer specs, and the public registry that turns each spec into a module.
 *
 * A spec is a layer name ("relu") or an object with exactly one key, the name, whose value is that
 * layer's config ({"linear": 128}, {"linear": {"out": 128}}, {"batchnorm1d": {}}, {"dropout": 0.2}).
 * Each registered layer brings a zod schema for its config; a bare name means the config `{}`, so it is
 * accepted only when the schema accepts `{}`. The spec schemas are built from the registry when called,
 * so layers registered later are accepted too.
 */
import { type DType, Rng } from "@nabla/ndarray";
import { z } from "zod";
import { ReLU, Softmax } from "./activations.js";
import { BatchNorm1d } from "./batchnorm.js";
import { Dropout } from "./dropout.js";
import { check, fail, NnError } from "./errors.js";
import { Linear } from "./linear.js";
import type { Module } from "./module.js";
import { Sequential } from "./sequential.js";

/** What a layer's `build` knows about where it sits in the model. */
export interface LayerContext {
  /** Width of this layer's input (the previous layer's outDim, or the model's inputDim). */
  inDim: number;
  /** Position in the layer list, which is also its Sequential index and state-dict prefix. */
  index: number;
  /** The init stream: one `new Rng(seed)` shared by every layer in list order (Linear weights draw from it). */
  rng: Rng;
  /** The model's seed, for layers that derive a stream of their own (see {@link layerSeed}). */
  seed: number;
  dtype: DType;
  /** True while no Linear has been built yet (the first Linear uses "kaiming-input" init). */
  isFirstLinear: boolean;
  /** True for index 0: nothing before this layer needs dL/dinput, unless the model asks for it. */
  isFirst: boolean;
  /** buildSequential's computeInputGrad: the caller wants dL/dinput of the whole model. */
  computeInputGrad: boolean;
}

export interface LayerDefinition<C = unknown> {
  /** Validates (and may normalise, e.g. `128` → `{ out: 128 }`) the config. */
  schema: z.ZodType<C>;
  build(config: C, ctx: LayerContext): { module: Module; outDim: number };
  /**
   * The layer's output width and how many numbers it trains and keeps, known without building it, so a
   * spec can be checked (widths, memory) before anything is allocated. Without it a layer is taken to keep
   * its input width and hold nothing.
   */
  shape?(config: C, inDim: number): LayerShape;
}

/** What a layer adds to a model, before it is built. */
export interface LayerShape {
  outDim: number;
  /** Trained numbers (each also has a gradient). */
  parameters: number;
  /** Numbers kept but not trained (running statistics). */
  buffers?: number;
}

/**
 * Output width, parameter and buffer counts of a layer list, and the widest activation, from the
 * registered `shape` of each layer — nothing is allocated.
 */
export function describeLayers(
  layers: unknown,
  inputDim: number,
): { outDim: number; parameters: number; buffers: number; widths: number[]; layerParameters: number[] } {
  const specs = parseLayers(layers);
  let inDim = inputDim;
  let parameters = 0;
  let buffers = 0;
  const widths: number[] = [];
  const layerParameters: number[] = [];
  for (const spec of specs) {
    const definition = registry.get(spec.name) as LayerDefinition;
    const shape = definition.shape?.(spec.config, inDim) ?? { outDim: inDim, parameters: 0 };
    parameters += shape.parameters;
    layerParameters.push(shape.parameters);
    buffers += shape.buffers ?? 0;
    inDim = shape.outDim;
    widths.push(inDim);
  }
  return { outDim: inDim, parameters, buffers, widths, layerParameters };
}

/** A parsed spec: the layer name and its validated config. */
export interface LayerSpec {
  name: string;
  config: unknown;
}

/** The JSON form: "relu" or { linear: 128 }. */
export type LayerSpecInput = string | Record<string, unknown>;

const registry = new Map<string, LayerDefinition>();

/** Adds a layer to the registry; the name must be new and match /^[a-z][a-z0-9_]*$/. */
export function registerLayer<C>(name: string, definition: LayerDefinition<C>): void {
  check(
    /^[a-z][a-z0-9_]*$/.test(name),
    "registerLayer",
    `name must match /^[a-z][a-z0-9_]*$/, got "${name}"`,
  );
  check(!registry.has(name), "registerLayer", `layer "${name}" is already registered`);
  check(
    definition !== undefined && typeof definition.build === "function" && definition.schema !== undefined,
    "registerLayer",
    `layer "${name}" needs a zod schema and a build(config, ctx) function`,
  );
  registry.set(name, definition as LayerDefinition);
}

/** Names of the registered layers, in registration order. */
export function registeredLayers(): string[] {
  return [...registry.keys()];
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  return `${where}${issue.message}`;
}

/** Resolves one spec against the registry, or returns the reason it is invalid. */
function resolve(value: unknown): { spec: LayerSpec } | { error: string } {
  const expected = `expected one of ${registeredLayers().join(", ")}`;
  let name: string;
  let raw: unknown;
  if (typeof value === "string") {
    name = value;
    raw = {};
  } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length !== 1) {
      return {
        error: `a layer object needs exactly one key (the layer name), got ${keys.length}; ${expected}`,
      };
    }
    name = keys[0];
    raw = (value as Record<string, unknown>)[name];
  } else {
    return { error: `a layer is a name or a one-key object, got ${JSON.stringify(value)}; ${expected}` };
  }
  const definition = registry.get(name);
  if (definition === undefined) return { error: `unknown layer "${name}"; ${expected}` };
  const parsed = definition.schema.safeParse(raw);
  if (!parsed.success) {
    const form = typeof value === "string" ? ` (the bare name means ${name}: {})` : "";
    return { error: `${name}${form}: ${describeIssue(parsed.error)}` };
  }
  return { spec: { name, config: parsed.data } };
}

/** The zod schema of one layer spec, over the layers registered at the time of the call. */
export function layerSpecSchema(): z.ZodType<LayerSpec, LayerSpecInput> {
  return z
    .custom<LayerSpecInput>(() => true)
    .transform((value, ctx): LayerSpec => {
      const r = resolve(value);
      if ("error" in r) {
        ctx.addIssue({ code: "custom", message: r.error });
        return z.NEVER;
      }
      return r.spec;
    });
}

/** The zod schema of a layer list (at least one layer); messages name the failing index. */
export function layersSchema(): z.ZodType<LayerSpec[], LayerSpecInput[]> {
  return z
    .array(
      z.custom<LayerSpecInput>(() => true),
      { error: "layers must be an array of layer specs" },
    )
    .min(1, { error: "layers must hold at least one layer" })
    .transform((values, ctx): LayerSpec[] => {
      const specs: LayerSpec[] = [];
      values.forEach((value, i) => {
        const r = resolve(value);
        if ("error" in r) ctx.addIssue({ code: "custom", message: r.error, path: [i] });
        else specs.push(r.spec);
      });
      return specs;
    });
}

/** Validates a layer list, throwing a one-line NnError naming the first bad index. */
export function parseLayers(layers: unknown): LayerSpec[] {
  const parsed = layersSchema().safeParse(layers);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? `layers[${String(issue.path[0])}]: ` : "";
    throw new NnError(`parseLayers: ${where}${issue.message}`);
  }
  return parsed.data;
}

/**
 * Seed of the stream a layer draws at run time (Dropout's masks): a 32-bit mix of the model seed and
 * the layer's index, so it never shares state with the init stream `new Rng(seed)`, two dropout layers
 * draw different masks, and inserting a layer elsewhere does not change a layer's stream unless its
 * index moves.
 */
export function layerSeed(seed: number, index: number): number {
  let h = (Math.trunc(seed) | 0) ^ 0x6a09e667;
  h = Math.imul(h ^ (index + 1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

export interface BuildOptions {
  inputDim: number;
  /** Seed of the init stream and, through {@link layerSeed}, of every run-time stream. */
  seed: number;
  dtype?: DType;
  /** Make the first layer compute dL/dinput (default false: training never needs it). */
  computeInputGrad?: boolean;
}

/**
 * Builds a Sequential from a layer list. One `new Rng(seed)` is passed to every layer in order, so
 * `buildSequential(mlpLayers([128], 10), { inputDim: 3072, seed })` draws exactly the weights of
 * `new MLP(3072, [128], 10, { seed })`.
 */
export function buildSequential(layers: unknown, opts: BuildOptions): Sequential {
  check(
    Number.isInteger(opts?.inputDim) && opts.inputDim >= 1,
    "buildSequential",
    `opts.inputDim must be a positive integer, got ${opts?.inputDim}`,
  );
  check(Number.isFinite(opts.seed), "buildSequential", `opts.seed must be a finite number, got ${opts.seed}`);
  const specs = parseLayers(layers);
  const rng = new Rng(opts.seed);
  const dtype = opts.dtype ?? "float32";
  let inDim = opts.inputDim;
  let isFirstLinear = true;
  const modules: Module[] = [];
  specs.forEach((spec, index) => {
    const definition = registry.get(spec.name) as LayerDefinition;
    const ctx: LayerContext = {
      inDim,
      index,
      rng,
      seed: opts.seed,
      dtype,
      isFirstLinear,
      isFirst: index === 0,
      computeInputGrad: opts.computeInputGrad ?? false,
    };
    const built = definition.build(spec.config, ctx);
    if (!(Number.isInteger(built?.outDim) && built.outDim >= 1)) {
      fail("buildSequential", `layers[${index}] (${spec.name}) built no module with a positive outDim`);
    }
    if (built.module instanceof Linear) isFirstLinear = false;
    modules.push(built.module);
    inDim = built.outDim;
  });
  return new Sequential(modules, { outDim: inDim });
}

/** The assignment's MLP as a layer list: Linear → ReLU → … → Linear (logits). */
export function mlpLayers(hiddenDims: readonly number[], classes: number): LayerSpecInput[] {
  const layers: LayerSpecInput[] = [];
  for (const h of hiddenDims) layers.push({ linear: h }, "relu");
  layers.push({ linear: classes });
  return layers;
}

const positiveInt = z.number().int().positive();
const noOptions = z.strictObject({}, { error: "expected no options ({})" });

registerLayer("linear", {
  schema: z.union([positiveInt.transform((out) => ({ out })), z.strictObject({ out: positiveInt })], {
    error: "expected a positive integer width or { out: positive integer }",
  }),
  build: ({ out }, ctx) => ({
    module: new Linear(ctx.inDim, out, {
      rng: ctx.rng,
      dtype: ctx.dtype,
      init: ctx.isFirstLinear ? "kaiming-input" : "kaiming",
      computeInputGrad: !ctx.isFirst || ctx.computeInputGrad,
    }),
    outDim: out,
  }),
  shape: ({ out }, inDim) => ({ outDim: out, parameters: out * inDim + out }),
});

registerLayer("relu", { schema: noOptions, build: (_c, ctx) => ({ module: new ReLU(), outDim: ctx.inDim }) });

registerLayer("softmax", {
  schema: noOptions,
  build: (_c, ctx) => ({ module: new Softmax(), outDim: ctx.inDim }),
});

registerLayer("batchnorm1d", {
  schema: z.strictObject({
    momentum: z.number().min(0).max(1).optional(),
    eps: z.number().positive().optional(),
    affine: z.boolean().optional(),
  }),
  build: (config, ctx) => ({
    module: new BatchNorm1d(ctx.inDim, { ...config, dtype: ctx.dtype }),
    outDim: ctx.inDim,
  }),
  shape: (config, inDim) => ({
    outDim: inDim,
    parameters: config.affine === false ? 0 : 2 * inDim,
    buffers: 2 * inDim + 1,
  }),
});

const probability = z.number().min(0).lt(1);
registerLayer("dropout", {
  schema: z.union([probability.transform((p) => ({ p })), z.strictObject({ p: probability })], {
    error: "expected a drop probability in [0, 1) or { p: number in [0, 1) }",
  }),
  build: ({ p }, ctx) => ({
    module: new Dropout(p, { rng: new Rng(layerSeed(ctx.seed, ctx.index)) }),
    outDim: ctx.inDim,
  }),
});
