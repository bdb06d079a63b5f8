/**
 * Models as lists of layer specs, and the public registry that turns each spec into a module.
 *
 * A spec is a layer name ("relu") or an object with exactly one key, the name, whose value is that
 * layer's config ({"linear": 128}, {"linear": {"out": 128}}, {"batchnorm1d": {}}, {"dropout": 0.2}).
 * Each registered layer brings a zod schema for its config; a bare name means the config `{}`, so it is
 * accepted only when the schema accepts `{}`. The spec schemas are built from the registry when called,
 * so layers registered later are accepted too.
 */
import { conv2dOutputSize, conv2dPlan, type DType, Rng } from "@nabla/ndarray";
import { z } from "zod";
import { ReLU, Softmax } from "./activations.js";
import { GELU, LeakyReLU, Sigmoid, Tanh } from "./activations-smooth.js";
import { AdaptiveAvgPool2d, AvgPool2d } from "./avg-pooling.js";
import { BatchNorm1d } from "./batchnorm.js";
import { BatchNorm2d } from "./batchnorm2d.js";
import { Conv2d } from "./conv2d.js";
import { Dropout } from "./dropout.js";
import { check, fail, NnError } from "./errors.js";
import { Flatten } from "./flatten.js";
import { Linear } from "./linear.js";
import type { Module } from "./module.js";
import {
  MaxPool2d,
  type Pool2dOptions,
  pooledSize,
  poolWindow,
  type Size2,
  size2,
  windowMismatch,
} from "./pooling.js";
import { Sequential } from "./sequential.js";

/** What a layer's `build` knows about where it sits in the model. */
export interface LayerContext {
  /** Shape of one input sample, without the batch axis: [features] for flat data, [C, H, W] for images. */
  inShape: readonly number[];
  /** Shape of one output sample, as the layer's `shape` declared it. */
  outShape: readonly number[];
  /** Position in the layer list, which is also its Sequential index and state-dict prefix. */
  index: number;
  /** The init stream: one `new Rng(seed)` shared by every layer in list order (Linear weights draw from it). */
  rng: Rng;
  /** The model's seed, for layers that derive a stream of their own (see {@link layerSeed}). */
  seed: number;
  dtype: DType;
  /** Registry names of the layers before this one, in order (Linear's init depends on whether one came first). */
  previous: readonly string[];
  /** True for index 0: nothing before this layer needs dL/dinput, unless the model asks for it. */
  isFirst: boolean;
  /** buildSequential's computeInputGrad: the caller wants dL/dinput of the whole model. */
  computeInputGrad: boolean;
}

export interface LayerDefinition<C = unknown> {
  /** Validates (and may normalise, e.g. `128` → `{ out: 128 }`) the config. */
  schema: z.ZodType<C>;
  /**
   * What the layer makes of an input sample of shape `inShape`, known without building it, so a spec is
   * checked (shapes, memory) before anything is allocated. Throws an NnError (e.g. {@link LayerShapeError})
   * when the layer cannot take that input. Without it a layer keeps its input shape, holds no parameters
   * and keeps an output and an input gradient per sample.
   */
  shape?(config: C, inShape: readonly number[]): LayerShape;
  build(config: C, ctx: LayerContext): Module;
}

/** What a layer adds to a model, before it is built. Counts are numbers (elements), not bytes. */
export interface LayerShape {
  /** Shape of one output sample. */
  outShape: number[];
  /** Trained numbers (each also has a gradient). */
  parameters: number;
  /** Numbers kept but not trained (running statistics). */
  buffers?: number;
  /**
   * Numbers per sample the layer keeps while training: its output, its input gradient and what its
   * backward saves (masks, normalised inputs). Default: output + input gradient.
   */
  activations?: number;
  /**
   * Numbers of working memory the layer holds whatever the batch size (im2col tiles of a fixed number of
   * output positions). Default 0.
   */
  scratch?: number;
}

/** Thrown by a layer's `shape` for an input it cannot take; the planner adds the layer's index. */
export class LayerShapeError extends NnError {}

/** One layer of a planned model: its parsed spec and what it makes of its input. */
export interface PlannedLayer extends LayerSpec {
  inShape: number[];
  outShape: number[];
  parameters: number;
  buffers: number;
  activations: number;
  scratch: number;
}

/**
 * A layer list parsed once against the registry and an input shape: every layer's shapes and memory, in
 * order. The spec check, the pre-flight estimate and the builder all read this one value.
 */
export interface LayerPlan {
  layers: PlannedLayer[];
  inShape: number[];
  outShape: number[];
  /** Totals over the layers. */
  parameters: number;
  buffers: number;
  /** Per sample. */
  activations: number;
  /** Whatever the batch size. */
  scratch: number;
  /** The largest single parameter tensor's length (typed arrays have a maximum length). */
  largestParameter: number;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function checkShape(shape: readonly number[], where: string): void {
  if (!(Array.isArray(shape) && shape.length >= 1 && shape.every((d) => Number.isInteger(d) && d >= 1))) {
    throw new NnError(`${where}: expected a shape of positive integers, got [${String(shape)}]`);
  }
}

/**
 * Parses `layers` and walks them from a sample of shape `inShape` ([3072], or [3, 32, 32]); throws a
 * one-line NnError naming the first layer that is invalid or cannot take its input.
 */
export function planLayers(layers: unknown, inShape: readonly number[]): LayerPlan {
  checkShape(inShape, "planLayers: inShape");
  const specs = parseLayers(layers);
  let shape = [...inShape];
  const planned: PlannedLayer[] = [];
  specs.forEach((spec, index) => {
    const definition = registry.get(spec.name) as LayerDefinition;
    let declared: LayerShape;
    try {
      declared = definition.shape?.(spec.config, shape) ?? { outShape: shape, parameters: 0 };
    } catch (err) {
      if (!(err instanceof NnError)) throw err;
      const message = err.message.replace(/^[^:]*: /, "");
      throw new NnError(`planLayers: layers[${index}] (${spec.name}): ${message}`);
    }
    checkShape(declared.outShape, `planLayers: layers[${index}] (${spec.name}) declared outShape`);
    const outSize = sizeOf(declared.outShape);
    planned.push({
      name: spec.name,
      config: spec.config,
      inShape: shape,
      outShape: [...declared.outShape],
      parameters: declared.parameters,
      buffers: declared.buffers ?? 0,
      activations: declared.activations ?? outSize + sizeOf(shape),
      scratch: declared.scratch ?? 0,
    });
    shape = [...declared.outShape];
  });
  const sum = (key: "parameters" | "buffers" | "activations" | "scratch") =>
    planned.reduce((n, l) => n + l[key], 0);
  return {
    layers: planned,
    inShape: [...inShape],
    outShape: shape,
    parameters: sum("parameters"),
    buffers: sum("buffers"),
    activations: sum("activations"),
    scratch: sum("scratch"),
    largestParameter: planned.reduce((n, l) => Math.max(n, l.parameters), 0),
  };
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
  /** Shape of one input sample ([features], or [C, H, W]); `inputDim: d` means `inputShape: [d]`. */
  inputShape?: readonly number[];
  inputDim?: number;
  /** Seed of the init stream and, through {@link layerSeed}, of every run-time stream. */
  seed: number;
  dtype?: DType;
  /** Make the first layer compute dL/dinput (default false: training never needs it). */
  computeInputGrad?: boolean;
}

/**
 * Builds a Sequential from a layer list, or from a {@link LayerPlan} (then the input shape is the plan's). One
 * `new Rng(seed)` is passed to every layer in order, so `buildSequential(mlpLayers([128], 10), { inputDim:
 * 3072, seed })` draws exactly the weights of `new MLP(3072, [128], 10, { seed })`.
 */
export function buildSequential(layers: unknown, opts: BuildOptions): Sequential {
  check(
    opts !== undefined && Number.isFinite(opts.seed),
    "buildSequential",
    `opts.seed must be a finite number, got ${opts?.seed}`,
  );
  const plan = isLayerPlan(layers) ? layers : planLayers(layers, inputShapeOf(opts));
  const rng = new Rng(opts.seed);
  const dtype = opts.dtype ?? "float32";
  const previous: string[] = [];
  const modules: Module[] = [];
  plan.layers.forEach((layer, index) => {
    const definition = registry.get(layer.name) as LayerDefinition;
    const ctx: LayerContext = {
      inShape: layer.inShape,
      outShape: layer.outShape,
      index,
      rng,
      seed: opts.seed,
      dtype,
      previous: [...previous],
      isFirst: index === 0,
      computeInputGrad: opts.computeInputGrad ?? false,
    };
    const module = definition.build(layer.config, ctx);
    if (module === null || typeof module !== "object" || typeof module.forward !== "function") {
      fail("buildSequential", `layers[${index}] (${layer.name}): build returned no module`);
    }
    modules.push(module);
    previous.push(layer.name);
  });
  return new Sequential(modules, { outShape: plan.outShape });
}

function isLayerPlan(value: unknown): value is LayerPlan {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    "layers" in value &&
    "outShape" in value
  );
}

function inputShapeOf(opts: BuildOptions): number[] {
  if (opts.inputShape !== undefined) {
    checkShape(opts.inputShape, "buildSequential: opts.inputShape");
    return [...opts.inputShape];
  }
  check(
    Number.isInteger(opts.inputDim) && (opts.inputDim as number) >= 1,
    "buildSequential",
    `opts.inputShape or a positive integer opts.inputDim is required, got ${opts.inputDim}`,
  );
  return [opts.inputDim as number];
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

/**
 * The width of a flat sample ([features]), or a LayerShapeError for any other shape: layers that mix every
 * feature (Linear, BatchNorm1d) take `(N, features)` as PyTorch's do, and "flatten" bridges from images.
 */
export function flatWidth(inShape: readonly number[]): number {
  if (inShape.length !== 1) {
    throw new LayerShapeError(
      `layer: expected a flat input [features], got [${inShape.join(", ")}] (put "flatten" before it)`,
    );
  }
  return inShape[0];
}

registerLayer("linear", {
  schema: z.union([positiveInt.transform((out) => ({ out })), z.strictObject({ out: positiveInt })], {
    error: "expected a positive integer width or { out: positive integer }",
  }),
  // A sample of any shape is read flattened (row-major), so today's layer lists on images keep their bits;
  // "flatten" before it is the PyTorch-equivalent form.
  build: ({ out }, ctx) =>
    new Linear(sizeOf(ctx.inShape), out, {
      rng: ctx.rng,
      dtype: ctx.dtype,
      // The homework's init: the first Linear of a model is fed raw inputs, not a ReLU's output.
      init: ctx.previous.includes("linear") ? "kaiming" : "kaiming-input",
      computeInputGrad: !ctx.isFirst || ctx.computeInputGrad,
    }),
  shape: ({ out }, inShape) => {
    const inDim = sizeOf(inShape);
    return { outShape: [out], parameters: out * inDim + out };
  },
});

registerLayer("relu", { schema: noOptions, build: () => new ReLU() });

registerLayer("softmax", {
  schema: noOptions,
  build: () => new Softmax(),
  shape: (_c, inShape) => ({ outShape: [flatWidth(inShape)], parameters: 0 }),
});

registerLayer("batchnorm1d", {
  schema: z.strictObject({
    momentum: z.number().min(0).max(1).optional(),
    eps: z.number().positive().optional(),
    affine: z.boolean().optional(),
  }),
  build: (config, ctx) => new BatchNorm1d(flatWidth(ctx.inShape), { ...config, dtype: ctx.dtype }),
  shape: (config, inShape) => {
    const features = flatWidth(inShape);
    return {
      outShape: [features],
      parameters: config.affine === false ? 0 : 2 * features,
      buffers: 2 * features + 1,
      // output, input gradient and the normalised input
      activations: 3 * features,
    };
  },
});

const probability = z.number().min(0).lt(1);
registerLayer("dropout", {
  schema: z.union([probability.transform((p) => ({ p })), z.strictObject({ p: probability })], {
    error: "expected a drop probability in [0, 1) or { p: number in [0, 1) }",
  }),
  build: ({ p }, ctx) => new Dropout(p, { rng: new Rng(layerSeed(ctx.seed, ctx.index)) }),
  shape: (_c, inShape) => ({ outShape: [...inShape], parameters: 0, activations: 3 * sizeOf(inShape) }),
});

// Convolution layers (conv2d): entries below this line.
const convSize = z.union([positiveInt, z.tuple([positiveInt, positiveInt])]);
const convNonNegative = z.number().int().min(0);
const convPadding = z.union([convNonNegative, z.tuple([convNonNegative, convNonNegative])]);
registerLayer("conv2d", {
  schema: z.strictObject(
    {
      out: positiveInt,
      kernel: convSize,
      stride: convSize.optional(),
      padding: convPadding.optional(),
      dilation: convSize.optional(),
      bias: z.boolean().optional(),
    },
    { error: "expected { out, kernel, stride?, padding?, dilation?, bias? } (sizes: n or [h, w])" },
  ),
  build: (config, ctx) =>
    new Conv2d(ctx.inShape[0], config.out, {
      kernelSize: config.kernel,
      stride: config.stride,
      padding: config.padding,
      dilation: config.dilation,
      bias: config.bias,
      rng: ctx.rng,
      dtype: ctx.dtype,
      computeInputGrad: !ctx.isFirst || ctx.computeInputGrad,
    }),
  shape: (config, inShape) => {
    if (inShape.length !== 3) {
      throw new LayerShapeError(
        `conv2d: expected an input [channels, height, width], got [${inShape.join(", ")}] ` +
          "(give the model image samples, e.g. inputShape [3, 32, 32])",
      );
    }
    const [c, h, w] = inShape;
    const two = (v: number | readonly [number, number] | undefined, fallback: number) =>
      typeof v === "number" ? [v, v] : (v ?? [fallback, fallback]);
    const [[kh, kw], [sh, sw], [ph, pw], [dh, dw]] = [
      two(config.kernel, 1),
      two(config.stride, 1),
      two(config.padding, 0),
      two(config.dilation, 1),
    ];
    if (conv2dOutputSize(h, kh, sh, ph, dh) === 0 || conv2dOutputSize(w, kw, sw, pw, dw) === 0) {
      const text = (a: number, b: number) => (a === b ? `${a}` : `${a}×${b}`);
      const dilation = dh === 1 && dw === 1 ? "" : ` (dilation ${text(dh, dw)})`;
      throw new LayerShapeError(
        `conv2d: kernel ${text(kh, kw)}${dilation} with padding ${text(ph, pw)} does not fit a ${h}×${w} input`,
      );
    }
    const plan = conv2dPlan({ ...config, inShape, outChannels: config.out });
    return {
      outShape: plan.outShape,
      parameters: config.out * c * kh * kw + (config.bias === false ? 0 : config.out),
      activations: config.out * plan.outHeight * plan.outWidth + c * h * w,
      // Batch-independent, not per sample: the plan's column tile and weight-gradient partials (README).
      scratch: plan.scratchLength,
    };
  },
});

// Pooling and reshaping (maxpool2d, avgpool2d, adaptiveavgpool2d, flatten): entries below this line.

/** [C, H, W] of an image sample, or a LayerShapeError naming the layer. */
function imageSample(name: string, inShape: readonly number[]): [number, number, number] {
  if (inShape.length !== 3) {
    throw new LayerShapeError(`${name}: expected an image input [C, H, W], got [${inShape.join(", ")}]`);
  }
  return [inShape[0], inShape[1], inShape[2]];
}

const size2Schema = z.union([positiveInt, z.tuple([positiveInt, positiveInt])]);
const nonNegativeInt = z.number().int().min(0);
interface PoolConfig extends Pool2dOptions {
  kernel: Size2;
}
const poolSchema = z
  .union(
    [
      size2Schema.transform((kernel): PoolConfig => ({ kernel })),
      z.strictObject({
        kernel: size2Schema,
        stride: size2Schema.optional(),
        padding: z.union([nonNegativeInt, z.tuple([nonNegativeInt, nonNegativeInt])]).optional(),
      }),
    ],
    { error: "expected a kernel size (2 or [2, 3]) or { kernel, stride?, padding? }" },
  )
  .refine(
    ({ kernel, padding = 0 }) => {
      const [kh, kw] = size2(kernel);
      const [ph, pw] = size2(padding);
      return 2 * ph <= kh && 2 * pw <= kw;
    },
    { error: "padding must be at most half the kernel (PyTorch's rule)" },
  );

/** [C, oh, ow] of a pooled sample; a LayerShapeError for a non-image input or a window that does not fit. */
function pooledShape(name: string, config: PoolConfig, inShape: readonly number[]): number[] {
  const [c, h, w] = imageSample(name, inShape);
  const win = poolWindow(name, config.kernel, config);
  const why = windowMismatch(win, h, w);
  if (why !== null) throw new LayerShapeError(`${name}: ${why}`);
  return [c, pooledSize(h, win.kh, win.sh, win.ph), pooledSize(w, win.kw, win.sw, win.pw)];
}

registerLayer("maxpool2d", {
  schema: poolSchema,
  build: (config) => new MaxPool2d(config.kernel, config),
  shape: (config, inShape) => {
    const outShape = pooledShape("maxpool2d", config, inShape);
    // output, input gradient, and the argmax index of each output that backward reads
    return { outShape, parameters: 0, activations: 2 * sizeOf(outShape) + sizeOf(inShape) };
  },
});

registerLayer("avgpool2d", {
  schema: poolSchema,
  build: (config) => new AvgPool2d(config.kernel, config),
  shape: (config, inShape) => {
    const outShape = pooledShape("avgpool2d", config, inShape);
    return { outShape, parameters: 0, activations: sizeOf(outShape) + sizeOf(inShape) };
  },
});

registerLayer("adaptiveavgpool2d", {
  schema: z.union(
    [size2Schema.transform((out) => ({ out })), z.strictObject({ out: size2Schema.optional() })],
    { error: "expected an output size (1 or [2, 3]) or { out?: size } (default 1: global average pooling)" },
  ),
  build: (config) => new AdaptiveAvgPool2d(config.out ?? 1),
  shape: (config, inShape) => {
    const [c] = imageSample("adaptiveavgpool2d", inShape);
    const outShape = [c, ...size2(config.out ?? 1)];
    return { outShape, parameters: 0, activations: sizeOf(outShape) + sizeOf(inShape) };
  },
});

registerLayer("flatten", {
  schema: noOptions,
  build: () => new Flatten(),
  // Forward and backward return views of the contiguous tensors they are given: nothing of its own is kept.
  shape: (_c, inShape) => ({ outShape: [sizeOf(inShape)], parameters: 0, activations: 0 }),
});

// Normalisation over channels and element-wise activations (batchnorm2d, tanh, sigmoid, leakyrelu, gelu):
// entries below this line.

/** [C, H, W] → C, or a LayerShapeError: BatchNorm2d normalises the channels of images, as PyTorch's does. */
function batchNorm2dChannels(inShape: readonly number[]): number {
  if (inShape.length !== 3) {
    throw new LayerShapeError(`layer: expected an image input [C, H, W], got [${inShape.join(", ")}]`);
  }
  return inShape[0];
}

registerLayer("batchnorm2d", {
  // the options of batchnorm1d
  schema: z.strictObject({
    momentum: z.number().min(0).max(1).optional(),
    eps: z.number().positive().optional(),
    affine: z.boolean().optional(),
  }),
  build: (config, ctx) => new BatchNorm2d(batchNorm2dChannels(ctx.inShape), { ...config, dtype: ctx.dtype }),
  shape: (config, inShape) => {
    const channels = batchNorm2dChannels(inShape);
    return {
      outShape: [...inShape],
      parameters: config.affine === false ? 0 : 2 * channels,
      buffers: 2 * channels + 1,
      // output, input gradient and the normalised input
      activations: 3 * sizeOf(inShape),
    };
  },
});

// Element-wise activations keep their input's shape, an output and an input gradient per value (the
// default shape); GELU's backward reads its input, which is the previous layer's output, already counted.
registerLayer("tanh", { schema: noOptions, build: () => new Tanh() });
registerLayer("sigmoid", { schema: noOptions, build: () => new Sigmoid() });
registerLayer("gelu", { schema: noOptions, build: () => new GELU() });

const leakySlope = z.number().min(0);
registerLayer("leakyrelu", {
  schema: z.union(
    [
      leakySlope.transform((negativeSlope) => ({ negativeSlope })),
      z.strictObject({ negativeSlope: leakySlope.optional() }),
    ],
    { error: "expected a negative slope ≥ 0 or { negativeSlope?: number ≥ 0 } (default 0.01)" },
  ),
  build: (config) => new LeakyReLU(config),
});
