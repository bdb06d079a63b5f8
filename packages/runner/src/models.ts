/**
 * Models the training loop drives: the nabla layer list with its explicit backward (the runner's training
 * step lives here: zero the gradients, forward, loss, backward, one optimizer step), and the same MLP in
 * TensorFlow.js. Both expose their state under the nabla Sequential's names, so a checkpoint of either loads
 * into the other.
 */
import type { DatasetInfo } from "@nabla/data";
import { fromTypedArray, type Tensor } from "@nabla/ndarray";
import {
  buildSequential,
  countCorrect,
  type LayerPlan,
  Linear,
  type Module,
  mlpLayers,
  planLayers,
  SoftmaxCrossEntropy,
} from "@nabla/nn";
import { UserError } from "./errors.js";
import type { ExperimentSpec } from "./spec.js";

/** Copies of a model's parameters and buffers, by state-dict name. */
export type ModelState = Record<string, Tensor>;

/** What the training loop needs from a model, whatever computes its gradients. */
export interface TrainableModel {
  /** Training mode (batch statistics, dropout) before an epoch's steps; eval mode before evaluating. */
  train(): void;
  eval(): void;
  /** Forward, loss, backward and one optimizer step on the first `size` rows; returns the mean loss. */
  trainStep(x: Float32Array, labels: Int32Array, size: number): number;
  /** Summed loss and number of correct predictions on the first `size` rows (no update). */
  evaluate(x: Float32Array, labels: Int32Array, size: number): { lossSum: number; correct: number };
  /** A copy of every parameter and buffer (to keep the best validation epoch's model). */
  snapshot(): Promise<ModelState>;
  restore(state: ModelState): Promise<void>;
  dispose(): void;
  /** e.g. the TF.js backend actually used. */
  readonly backendName?: string;
}

/** What the training step needs from an optimizer (any of @nabla/optim's): one update from the gradients. */
export interface Stepper {
  step(): void;
}

/** The layer list a spec's model stands for: its own, or the assignment's MLP for `hiddenDims`. */
export function modelLayers(spec: ExperimentSpec, info: DatasetInfo): unknown[] {
  const model = spec.model;
  return "layers" in model ? model.layers : mlpLayers(model.hiddenDims, info.classNames.length);
}

const plans = new WeakMap<ExperimentSpec, { featureShape: readonly number[]; plan: LayerPlan }>();

/**
 * The spec's layer list planned against the dataset's sample shape (per-layer shapes, parameters, memory):
 * made once per parsed spec — the spec check, pre-flight and the builder share it. Throws @nabla/nn's
 * one-line error for a layer that cannot take its input.
 */
export function modelPlan(spec: ExperimentSpec, info: DatasetInfo): LayerPlan {
  const known = plans.get(spec);
  if (known !== undefined && sameShape(known.featureShape, info.featureShape)) return known.plan;
  const plan = planLayers(modelLayers(spec, info), info.featureShape);
  plans.set(spec, { featureShape: info.featureShape, plan });
  return plan;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Builds the spec's nabla model (float32). For both model kinds the initial weights come from here. */
export function buildModule(spec: ExperimentSpec, info: DatasetInfo): Module {
  return buildSequential(modelPlan(spec, info), { seed: spec.seed, dtype: "float32" });
}

function copyState(state: Record<string, Tensor>): ModelState {
  const out: ModelState = {};
  for (const [name, t] of Object.entries(state)) out[name] = fromTypedArray(t.data.slice(), [...t.shape]);
  return out;
}

/**
 * The runner's training step around a nabla module: the one place a nabla model is trained (the runner's
 * loop, the TF.js cross-check and the benchmarks all call it). The optimizer owns the learning rate.
 * `sampleShape` is one example's shape ([3072], or [3, 32, 32] for a CNN; a number d means [d]): batches
 * reach the module as [size, ...sampleShape] views of the loader's rows.
 */
export function nablaModel(
  module: Module,
  optimizer: Stepper,
  sampleShape: number | readonly number[],
): TrainableModel {
  const loss = new SoftmaxCrossEntropy();
  const shape = typeof sampleShape === "number" ? [sampleShape] : [...sampleShape];
  const values = shape.reduce((n, d) => n * d, 1);
  const forward = (x: Float32Array, size: number) =>
    module.forward(fromTypedArray(x.subarray(0, size * values), [size, ...shape]));
  return {
    train: () => {
      module.train();
    },
    eval: () => {
      module.eval();
    },
    trainStep(x, labels, size) {
      module.zeroGrad();
      const y = labels.subarray(0, size);
      const mean = loss.forward(forward(x, size), y);
      // A NaN/Inf loss ends the run as diverged; backpropagating it would only spread NaN.
      if (!Number.isFinite(mean)) return mean;
      module.backward(loss.backward());
      optimizer.step();
      return mean;
    },
    evaluate(x, labels, size) {
      const y = labels.subarray(0, size);
      const logits = forward(x, size);
      const mean = loss.forward(logits, y);
      return { lossSum: mean * size, correct: countCorrect(logits, y) };
    },
    snapshot: async () => copyState(module.stateDict()),
    async restore(state) {
      module.loadStateDict(state);
    },
    dispose() {},
  };
}

/** The weights of a Linear in the layout @nabla/tfjs takes (copies; out×in row-major). */
export interface TfjsLayerWeights {
  weight: Float32Array;
  bias: Float32Array;
  inDim: number;
  outDim: number;
}
/** The API of @nabla/tfjs used here (declared locally: the package is an optional peer dependency). */
interface TfjsMlp {
  trainStep(x: Float32Array, labels: Int32Array, batchSize: number, lr: number): number;
  evaluate(x: Float32Array, labels: Int32Array, batchSize: number): { lossSum: number; correct: number };
  getWeights(): TfjsLayerWeights[] | Promise<TfjsLayerWeights[]>;
  setWeights(layers: TfjsLayerWeights[]): void | Promise<void>;
  dispose(): void;
  backendName: string;
}
interface TfjsModule {
  createTfjsMlp(opts: { layers: TfjsLayerWeights[]; backend?: "wasm" | "cpu" }): Promise<TfjsMlp>;
}

async function importTfjs(): Promise<TfjsModule> {
  // A variable specifier keeps TypeScript and bundlers from requiring the optional package at build time.
  const specifier = "@nabla/tfjs";
  try {
    return (await import(specifier)) as TfjsModule;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new UserError(
        'model "mlp-tfjs" needs the optional package @nabla/tfjs: add it next to @nabla/runner',
      );
    }
    throw err;
  }
}

/** The Linear layers of a nabla module with their state-dict prefixes ("0", "2", …). */
function linearLayers(module: Module): { prefix: string; layer: Linear }[] {
  const children = (module as { modules?: readonly Module[] }).modules ?? [module];
  return children.flatMap((m, i) => (m instanceof Linear ? [{ prefix: String(i), layer: m }] : []));
}

/**
 * The same MLP in TensorFlow.js, with autograd gradients and plain SGD at the optimizer's current lr,
 * starting from the nabla module's initial weights. Its state uses the nabla module's names.
 */
export async function tfjsModel(
  spec: ExperimentSpec,
  module: Module,
  currentLr: () => number,
  inputDim: number,
): Promise<TrainableModel> {
  if (spec.model.kind !== "mlp-tfjs") throw new Error("internal: tfjsModel needs an mlp-tfjs spec");
  const tfjs = await importTfjs();
  const linears = linearLayers(module);
  const weights = linears.map(({ layer }) => ({
    weight: Float32Array.from(layer.weight.data as Float32Array),
    bias: Float32Array.from(layer.bias.data as Float32Array),
    inDim: layer.weight.shape[1],
    outDim: layer.weight.shape[0],
  }));
  const model = await tfjs.createTfjsMlp({ layers: weights, backend: spec.model.backend });
  return {
    train() {},
    eval() {},
    trainStep: (x, labels, size) =>
      model.trainStep(x.subarray(0, size * inputDim), labels.subarray(0, size), size, currentLr()),
    evaluate: (x, labels, size) =>
      model.evaluate(x.subarray(0, size * inputDim), labels.subarray(0, size), size),
    async snapshot() {
      const current = await model.getWeights();
      const state: ModelState = {};
      current.forEach((l, i) => {
        const { prefix } = linears[i];
        state[`${prefix}.weight`] = fromTypedArray(Float32Array.from(l.weight), [l.outDim, l.inDim]);
        state[`${prefix}.bias`] = fromTypedArray(Float32Array.from(l.bias), [l.outDim]);
      });
      return state;
    },
    async restore(state) {
      await model.setWeights(
        weights.map((l, i) => ({
          ...l,
          weight: state[`${linears[i].prefix}.weight`].data as Float32Array,
          bias: state[`${linears[i].prefix}.bias`].data as Float32Array,
        })),
      );
    },
    dispose: () => model.dispose(),
    backendName: model.backendName,
  };
}
