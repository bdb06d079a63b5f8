/**
 * The homework MLP in TensorFlow.js: Linear (Y = X·Wᵀ + b) layers with ReLU between them, logits out,
 * mean softmax cross-entropy, gradients from TF.js autograd (optimizer.minimize) and plain SGD
 * (tf.train.sgd). No backward pass is written here: this is the independent cross-check of nabla's.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type TfjsBackendName, useBackend } from "./backend.js";
import { TfjsMlpError } from "./errors.js";
import { setWasmMatMulMode, type WasmMatMulMode } from "./wasm-matmul.js";

/** One Linear layer's parameters, laid out as in @nabla/nn: weight is out×in row-major. */
export interface TfjsLayerWeights {
  weight: Float32Array;
  bias: Float32Array;
  inDim: number;
  outDim: number;
}

export interface TfjsMlpOptions {
  layers: TfjsLayerWeights[];
  /** Default "wasm" (SIMD build); falls back to "cpu" with the reason in `backendFallbackReason`. */
  backend?: TfjsBackendName;
  /**
   * wasm only, process-wide: how transposed matMuls run (see wasm-matmul.ts). Default
   * "explicit-transpose" (Transpose + XNNPACK, ~6x faster steps); "stock" is TF.js's own loop.
   */
  wasmMatMul?: WasmMatMulMode;
}

export interface TfjsMlp {
  /** The TF.js backend the model runs on ("wasm" or "cpu"). */
  readonly backendName: string;
  /** Why the requested backend was not used, or null. */
  readonly backendFallbackReason: string | null;
  /** Whether the wasm backend runs its SIMD build. */
  readonly simd: boolean;
  /** The wasm matMul mode set when the model was created ("stock" on cpu). */
  readonly wasmMatMul: WasmMatMulMode;
  readonly inDim: number;
  readonly classes: number;
  /** One SGD step on x (batchSize×inDim, row-major) and labels; returns the mean loss before the update. */
  trainStep(x: Float32Array, labels: Int32Array, batchSize: number, lr: number): number;
  /** Summed (not mean) cross-entropy and number of correct argmax predictions over one batch. */
  evaluate(x: Float32Array, labels: Int32Array, batchSize: number): { lossSum: number; correct: number };
  /** Copies of the current parameters. */
  getWeights(): TfjsLayerWeights[];
  /** Overwrites all parameters (same layer shapes as at creation). */
  setWeights(layers: TfjsLayerWeights[]): void;
  /** Live TF.js tensors in the whole engine (constant across steps when nothing leaks). */
  numTensors(): number;
  /** Releases the variables and the optimizer; the model is unusable afterwards. */
  dispose(): void;
}

function isPositiveInt(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n > 0;
}

/** Validates layer shapes (and, with `expected`, that they match the model's). Throws TfjsMlpError. */
export function validateLayers(
  where: string,
  layers: unknown,
  expected?: { inDim: number; outDim: number }[],
): void {
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new TfjsMlpError(`${where}: layers must be a non-empty array of { weight, bias, inDim, outDim }`);
  }
  if (expected !== undefined && layers.length !== expected.length) {
    throw new TfjsMlpError(`${where}: got ${layers.length} layers, the model has ${expected.length}`);
  }
  layers.forEach((layer: Partial<TfjsLayerWeights> | null, i) => {
    const at = `${where}: layers[${i}]`;
    if (layer === null || typeof layer !== "object") throw new TfjsMlpError(`${at} must be an object`);
    const { inDim, outDim, weight, bias } = layer;
    if (!isPositiveInt(inDim)) throw new TfjsMlpError(`${at}.inDim must be a positive integer, got ${inDim}`);
    if (!isPositiveInt(outDim))
      throw new TfjsMlpError(`${at}.outDim must be a positive integer, got ${outDim}`);
    if (!(weight instanceof Float32Array) || weight.length !== inDim * outDim) {
      const got = weight instanceof Float32Array ? `length ${weight.length}` : "not a Float32Array";
      throw new TfjsMlpError(
        `${at}.weight must be a Float32Array of outDim*inDim = ${outDim * inDim}, got ${got}`,
      );
    }
    if (!(bias instanceof Float32Array) || bias.length !== outDim) {
      const got = bias instanceof Float32Array ? `length ${bias.length}` : "not a Float32Array";
      throw new TfjsMlpError(`${at}.bias must be a Float32Array of outDim = ${outDim}, got ${got}`);
    }
    if (i > 0 && inDim !== layers[i - 1].outDim) {
      throw new TfjsMlpError(
        `${at}.inDim = ${inDim} must equal layers[${i - 1}].outDim = ${layers[i - 1].outDim}`,
      );
    }
    if (expected !== undefined && (inDim !== expected[i].inDim || outDim !== expected[i].outDim)) {
      throw new TfjsMlpError(
        `${at} is ${outDim}x${inDim}, the model's layer is ${expected[i].outDim}x${expected[i].inDim}`,
      );
    }
  });
}

interface TfLayer {
  weight: tf.Variable<tf.Rank.R2>; // out×in, as in nabla
  bias: tf.Variable<tf.Rank.R1>;
  inDim: number;
  outDim: number;
}

class TfjsMlpImpl implements TfjsMlp {
  readonly inDim: number;
  readonly classes: number;
  private layers: TfLayer[];
  private optimizer: tf.SGDOptimizer | null = null;
  private lr = Number.NaN;
  private disposed = false;

  constructor(
    layers: TfjsLayerWeights[],
    readonly backendName: TfjsBackendName,
    readonly backendFallbackReason: string | null,
    readonly simd: boolean,
    readonly wasmMatMul: WasmMatMulMode,
  ) {
    this.inDim = layers[0].inDim;
    this.classes = layers[layers.length - 1].outDim;
    // Copies: TF.js's cpu backend keeps a reference to the typed array it is given. Inside tidy so the
    // initial-value tensors are released (variables survive tidy). Unnamed: TF.js names variables uniquely.
    this.layers = tf.tidy(() =>
      layers.map((l) => ({
        weight: tf.variable(tf.tensor2d(l.weight.slice(), [l.outDim, l.inDim])),
        bias: tf.variable(tf.tensor1d(l.bias.slice())),
        inDim: l.inDim,
        outDim: l.outDim,
      })),
    );
  }

  private check(where: string): void {
    if (this.disposed) throw new TfjsMlpError(`TfjsMlp.${where}: the model has been disposed`);
    const active = tf.getBackend();
    if (active !== this.backendName) {
      throw new TfjsMlpError(
        `TfjsMlp.${where}: the model lives on TF.js backend "${this.backendName}" but the active backend is now "${active}"; create a new model`,
      );
    }
  }

  private checkBatch(where: string, x: Float32Array, labels: Int32Array, batchSize: number): void {
    if (!isPositiveInt(batchSize)) {
      throw new TfjsMlpError(`TfjsMlp.${where}: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (!(x instanceof Float32Array) || x.length < batchSize * this.inDim) {
      const got = x instanceof Float32Array ? `length ${x.length}` : "not a Float32Array";
      throw new TfjsMlpError(
        `TfjsMlp.${where}: x must be a Float32Array of at least batchSize*inDim = ${batchSize * this.inDim}, got ${got}`,
      );
    }
    if (!(labels instanceof Int32Array) || labels.length < batchSize) {
      const got = labels instanceof Int32Array ? `length ${labels.length}` : "not an Int32Array";
      throw new TfjsMlpError(
        `TfjsMlp.${where}: labels must be an Int32Array of at least ${batchSize}, got ${got}`,
      );
    }
    for (let i = 0; i < batchSize; i++) {
      const c = labels[i];
      if (c < 0 || c >= this.classes) {
        throw new TfjsMlpError(`TfjsMlp.${where}: labels[${i}] = ${c} is outside [0, ${this.classes})`);
      }
    }
  }

  /** Per-batch tensors are made from the caller's arrays (only the first batchSize rows). */
  private batchTensors(x: Float32Array, labels: Int32Array, batchSize: number): [tf.Tensor2D, tf.Tensor2D] {
    const xs = tf.tensor2d(x.subarray(0, batchSize * this.inDim), [batchSize, this.inDim]);
    const oneHot = tf.oneHot(
      tf.tensor1d(labels.subarray(0, batchSize), "int32"),
      this.classes,
    ) as tf.Tensor2D;
    return [xs, oneHot];
  }

  private logits(xs: tf.Tensor2D): tf.Tensor2D {
    let h: tf.Tensor2D = xs;
    this.layers.forEach((layer, i) => {
      h = tf.add(tf.matMul(h, layer.weight, false, true), layer.bias);
      if (i < this.layers.length - 1) h = tf.relu(h);
    });
    return h;
  }

  private sgd(lr: number): tf.SGDOptimizer {
    if (this.optimizer === null) {
      this.optimizer = tf.train.sgd(lr);
    } else if (lr !== this.lr) {
      // SGD keeps no state besides the learning-rate scalar, which setLearningRate replaces.
      this.optimizer.setLearningRate(lr);
    }
    this.lr = lr;
    return this.optimizer;
  }

  trainStep(x: Float32Array, labels: Int32Array, batchSize: number, lr: number): number {
    this.check("trainStep");
    this.checkBatch("trainStep", x, labels, batchSize);
    if (typeof lr !== "number" || !Number.isFinite(lr) || lr < 0) {
      throw new TfjsMlpError(`TfjsMlp.trainStep: lr must be a finite number >= 0, got ${lr}`);
    }
    const optimizer = this.sgd(lr);
    const varList = this.layers.flatMap((l) => [l.weight, l.bias]);
    const cost = tf.tidy((): tf.Scalar => {
      const [xs, oneHot] = this.batchTensors(x, labels, batchSize);
      const meanLoss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(oneHot, this.logits(xs), undefined, 0, tf.Reduction.MEAN),
        true,
        varList,
      );
      if (meanLoss === null) throw new Error("TfjsMlp.trainStep: optimizer.minimize returned no cost");
      return meanLoss;
    });
    const loss = cost.dataSync()[0];
    cost.dispose();
    return loss;
  }

  evaluate(x: Float32Array, labels: Int32Array, batchSize: number): { lossSum: number; correct: number } {
    this.check("evaluate");
    this.checkBatch("evaluate", x, labels, batchSize);
    const [lossT, correctT] = tf.tidy(() => {
      const [xs, oneHot] = this.batchTensors(x, labels, batchSize);
      const logits = this.logits(xs);
      const lossSum = tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, 0, tf.Reduction.SUM);
      // argMax returns the first maximal index, like nabla's argmaxRows.
      const hits = tf.equal(tf.argMax(logits, 1), tf.argMax(oneHot, 1));
      return [lossSum, tf.sum(tf.cast(hits, "int32"))];
    });
    const result = { lossSum: lossT.dataSync()[0], correct: correctT.dataSync()[0] };
    tf.dispose([lossT, correctT]);
    return result;
  }

  getWeights(): TfjsLayerWeights[] {
    this.check("getWeights");
    // Copies: dataSync may hand out the backend's own storage.
    return this.layers.map((l) => ({
      weight: new Float32Array(l.weight.dataSync()),
      bias: new Float32Array(l.bias.dataSync()),
      inDim: l.inDim,
      outDim: l.outDim,
    }));
  }

  setWeights(layers: TfjsLayerWeights[]): void {
    this.check("setWeights");
    validateLayers("TfjsMlp.setWeights", layers, this.layers);
    tf.tidy(() => {
      layers.forEach((l, i) => {
        this.layers[i].weight.assign(tf.tensor2d(l.weight.slice(), [l.outDim, l.inDim]));
        this.layers[i].bias.assign(tf.tensor1d(l.bias.slice()));
      });
    });
  }

  numTensors(): number {
    return tf.memory().numTensors;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const l of this.layers) tf.dispose([l.weight, l.bias]);
    this.optimizer?.dispose();
    this.optimizer = null;
  }
}

/** Builds the MLP on the requested TF.js backend from the given parameters (copied). */
export async function createTfjsMlp(options: TfjsMlpOptions): Promise<TfjsMlp> {
  if (options === null || typeof options !== "object") {
    throw new TfjsMlpError("createTfjsMlp: options must be an object { layers, backend? }");
  }
  validateLayers("createTfjsMlp", options.layers);
  const requested = options.backend ?? "wasm";
  if (requested !== "wasm" && requested !== "cpu") {
    throw new TfjsMlpError(
      `createTfjsMlp: backend must be "wasm" or "cpu", got ${JSON.stringify(requested)}`,
    );
  }
  const matMul = options.wasmMatMul ?? "explicit-transpose";
  if (matMul !== "explicit-transpose" && matMul !== "stock") {
    throw new TfjsMlpError(
      `createTfjsMlp: wasmMatMul must be "explicit-transpose" or "stock", got ${JSON.stringify(matMul)}`,
    );
  }
  const info = await useBackend(requested);
  if (info.backendName === "wasm") setWasmMatMulMode(matMul);
  const mode = info.backendName === "wasm" ? matMul : "stock";
  return new TfjsMlpImpl(options.layers, info.backendName, info.fallbackReason, info.simd, mode);
}
