import { fromTypedArray } from "@nabla/ndarray";
import { countCorrect, MLP, SoftmaxCrossEntropy } from "@nabla/nn";
import { UserError } from "./errors.js";
import type { ExperimentSpec } from "./spec.js";

/** CIFAR-10 images flattened in channel, row, column order. */
export const INPUT_DIM = 3072;
export const CLASSES = 10;

/** What the training loop needs from a model, whatever computes its gradients. */
export interface TrainableModel {
  /** Forward, loss, backward and one optimizer step on the first `size` rows; returns the mean loss. */
  trainStep(x: Float32Array, labels: Int32Array, size: number, lr: number): number;
  /** Summed loss and number of correct predictions on the first `size` rows (no update). */
  evaluate(x: Float32Array, labels: Int32Array, size: number): { lossSum: number; correct: number };
  /** A copy of every parameter (to keep the best validation epoch's model). */
  snapshot(): Promise<Float32Array[]>;
  restore(snapshot: Float32Array[]): Promise<void>;
  dispose(): void;
  /** e.g. the TF.js backend actually used. */
  readonly backendName?: string;
}

/** The parameter adapter @nabla/optim expects. */
export interface OptimParam {
  name: string;
  value: Float32Array;
  grad: Float32Array;
}

/** Builds the nabla MLP of a spec: the same initial weights for both model kinds (same seed, same order). */
export function buildNablaMlp(spec: ExperimentSpec): MLP {
  return new MLP(INPUT_DIM, spec.model.hiddenDims, CLASSES, { seed: spec.seed, dtype: "float32" });
}

export function optimParams(mlp: MLP): OptimParam[] {
  return mlp.parameters().map((p) => ({
    name: p.name,
    value: p.value.data as Float32Array,
    grad: p.grad.data as Float32Array,
  }));
}

/** The nabla MLP with its explicit backward pass; `step` applies the optimizer (which owns the lr). */
export function nablaModel(mlp: MLP, step: () => void): TrainableModel {
  const loss = new SoftmaxCrossEntropy();
  const params = mlp.parameters();
  const forward = (x: Float32Array, size: number) =>
    mlp.forward(fromTypedArray(x.subarray(0, size * INPUT_DIM), [size, INPUT_DIM]));
  return {
    trainStep(x, labels, size) {
      mlp.zeroGrad();
      const y = labels.subarray(0, size);
      const mean = loss.forward(forward(x, size), y);
      // A NaN/Inf loss ends the run as diverged; backpropagating it would only spread NaN.
      if (!Number.isFinite(mean)) return mean;
      mlp.backward(loss.backward());
      step();
      return mean;
    },
    evaluate(x, labels, size) {
      const y = labels.subarray(0, size);
      const logits = forward(x, size);
      const mean = loss.forward(logits, y);
      return { lossSum: mean * size, correct: countCorrect(logits, y) };
    },
    snapshot: async () => params.map((p) => Float32Array.from(p.value.data as Float32Array)),
    async restore(snapshot) {
      params.forEach((p, i) => {
        (p.value.data as Float32Array).set(snapshot[i]);
      });
    },
    dispose() {},
  };
}

/** The API of @nabla/tfjs used here (declared locally: the package is an optional peer dependency). */
export interface TfjsLayerWeights {
  weight: Float32Array;
  bias: Float32Array;
  inDim: number;
  outDim: number;
}
interface TfjsMlp {
  trainStep(x: Float32Array, labels: Int32Array, batchSize: number, lr: number): number;
  evaluate(x: Float32Array, labels: Int32Array, batchSize: number): { lossSum: number; correct: number };
  getWeights(): TfjsLayerWeights[] | Promise<TfjsLayerWeights[]>;
  setWeights(layers: TfjsLayerWeights[]): void | Promise<void>;
  numTensors(): number;
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

/** Copies the nabla MLP's weights (out×in row-major, as TF.js expects them here) for @nabla/tfjs. */
export function layerWeights(mlp: MLP): TfjsLayerWeights[] {
  return mlp.layers.map((layer) => ({
    weight: Float32Array.from(layer.weight.data as Float32Array),
    bias: Float32Array.from(layer.bias.data as Float32Array),
    inDim: layer.weight.shape[1],
    outDim: layer.weight.shape[0],
  }));
}

/**
 * The same MLP in TensorFlow.js, with autograd gradients and plain SGD (lr passed per step), starting from the
 * nabla MLP's initial weights. Snapshots go through getWeights/setWeights.
 */
export async function tfjsModel(spec: ExperimentSpec, mlp: MLP): Promise<TrainableModel> {
  if (spec.model.kind !== "mlp-tfjs") throw new Error("internal: tfjsModel needs an mlp-tfjs spec");
  const tfjs = await importTfjs();
  const model = await tfjs.createTfjsMlp({ layers: layerWeights(mlp), backend: spec.model.backend });
  const shapes = layerWeights(mlp);
  return {
    trainStep: (x, labels, size, lr) =>
      model.trainStep(x.subarray(0, size * INPUT_DIM), labels.subarray(0, size), size, lr),
    evaluate: (x, labels, size) =>
      model.evaluate(x.subarray(0, size * INPUT_DIM), labels.subarray(0, size), size),
    async snapshot() {
      const weights = await model.getWeights();
      return weights.flatMap((l) => [Float32Array.from(l.weight), Float32Array.from(l.bias)]);
    },
    async restore(snapshot) {
      await model.setWeights(
        shapes.map((l, i) => ({ ...l, weight: snapshot[2 * i], bias: snapshot[2 * i + 1] })),
      );
    },
    dispose: () => model.dispose(),
    backendName: model.backendName,
  };
}
