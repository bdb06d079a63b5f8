/**
 * Q4a's cross-check of TF.js autograd against nabla's explicit backward: both start from the weights of the
 * nabla MLP of the same seed and take plain SGD steps on the same deterministic batches. nabla's side is the
 * runner's training step (nablaModel) with @nabla/optim's SGD — the code that trains the report's runs.
 */
import { Rng } from "@nabla/ndarray";
import { buildSequential, Linear, type Module, mlpLayers } from "@nabla/nn";
import { createOptimizer } from "@nabla/optim";
import { nablaModel } from "@nabla/runner";
import {
  createTfjsMlp,
  maxRelDiff,
  type TfjsBackendName,
  type TfjsLayerWeights,
  TfjsMlpError,
} from "@nabla/tfjs";

export interface CrossCheckOptions {
  /** Seed of the nabla MLP's initialisation; the batches use seed + 1. Default 0. */
  seed?: number;
  /** SGD steps compared (the loss comparison covers all of them). Default 20. */
  steps?: number;
  /** Default 128. */
  batchSize?: number;
  /** [input, ...hidden, classes]. Default [3072, 128, 10] (the homework's MLP). */
  dims?: number[];
  /** Learning rate of every step. Default 0.01. */
  lr?: number;
  /** TF.js backend. Default "wasm". */
  backend?: TfjsBackendName;
}

export interface CrossCheckResult {
  /** Max over parameter tensors of max|tfjs - nabla| / max|nabla| after the first step. */
  maxParamRelDiffAfterOneStep: number;
  /** Max over steps of |loss_tfjs - loss_nabla| / |loss_nabla| (named for the default 20 steps). */
  maxLossRelDiffOver20Steps: number;
  /** Same parameter measure after the last step. */
  maxParamRelDiffAfterAllSteps: number;
  steps: number;
  batchSize: number;
  dims: number[];
  lr: number;
  seed: number;
  backend: string;
  lossesNabla: number[];
  lossesTfjs: number[];
}

/** The Linear layers' weights of a nabla model in the layout createTfjsMlp takes (copies, float32). */
export function linearWeights(module: Module): TfjsLayerWeights[] {
  const children = (module as { modules?: readonly Module[] }).modules ?? [module];
  return children
    .filter((m): m is Linear => m instanceof Linear)
    .map((layer) => {
      const [outDim, inDim] = layer.weight.shape;
      return {
        weight: Float32Array.from(layer.weight.data),
        bias: Float32Array.from(layer.bias.data),
        inDim,
        outDim,
      };
    });
}

function paramDiff(tfjs: TfjsLayerWeights[], nabla: TfjsLayerWeights[]): number {
  let worst = 0;
  tfjs.forEach((l, i) => {
    worst = Math.max(worst, maxRelDiff(l.weight, nabla[i].weight), maxRelDiff(l.bias, nabla[i].bias));
  });
  return worst;
}

function checkOptions(o: Required<CrossCheckOptions>): void {
  const bad = (field: string, want: string, got: unknown) => {
    throw new TfjsMlpError(`crossCheck: ${field} must be ${want}, got ${JSON.stringify(got)}`);
  };
  if (!Number.isInteger(o.steps) || o.steps < 1) bad("steps", "a positive integer", o.steps);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) bad("batchSize", "a positive integer", o.batchSize);
  if (!Array.isArray(o.dims) || o.dims.length < 2 || !o.dims.every((d) => Number.isInteger(d) && d > 0)) {
    bad("dims", "[input, ...hidden, classes] of positive integers", o.dims);
  }
  if (o.dims[o.dims.length - 1] < 2) bad("dims", "at least 2 classes", o.dims);
  if (!Number.isFinite(o.lr) || o.lr <= 0) bad("lr", "a finite number > 0", o.lr);
  if (!Number.isFinite(o.seed)) bad("seed", "a finite number", o.seed);
}

function teacherLabels(
  teacher: Float32Array,
  x: Float32Array,
  labels: Int32Array,
  batchSize: number,
  inDim: number,
  classes: number,
): void {
  for (let i = 0; i < batchSize; i++) {
    let best = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < classes; c++) {
      let score = 0;
      for (let k = 0; k < inDim; k++) score += teacher[c * inDim + k] * x[i * inDim + k];
      if (score > best) {
        best = score;
        labels[i] = c;
      }
    }
  }
}

/** Runs nabla and TF.js side by side from identical weights; see CrossCheckResult. */
export async function crossCheck(options: CrossCheckOptions = {}): Promise<CrossCheckResult> {
  const o: Required<CrossCheckOptions> = {
    seed: options.seed ?? 0,
    steps: options.steps ?? 20,
    batchSize: options.batchSize ?? 128,
    dims: options.dims ?? [3072, 128, 10],
    lr: options.lr ?? 0.01,
    backend: options.backend ?? "wasm",
  };
  checkOptions(o);
  const { seed, steps, batchSize, dims, lr } = o;
  const inDim = dims[0];
  const classes = dims[dims.length - 1];
  const nabla = buildSequential(mlpLayers(dims.slice(1, -1), classes), {
    inputDim: inDim,
    seed,
    dtype: "float32",
  });
  const trainer = nablaModel(nabla, createOptimizer({ kind: "sgd", lr }, nabla.parameters()), inDim);
  const tfjs = await createTfjsMlp({ layers: linearWeights(nabla), backend: o.backend });
  const batchRng = new Rng(seed + 1);
  // A learnable task, so the compared trajectories actually descend: labels are the argmax of a fixed
  // random linear "teacher" applied to the inputs.
  const teacher = new Float32Array(classes * inDim);
  batchRng.fillNormal(teacher);
  const x = new Float32Array(batchSize * inDim);
  const labels = new Int32Array(batchSize);
  const result: CrossCheckResult = {
    maxParamRelDiffAfterOneStep: Number.NaN,
    maxLossRelDiffOver20Steps: 0,
    maxParamRelDiffAfterAllSteps: Number.NaN,
    steps,
    batchSize,
    dims: [...dims],
    lr,
    seed,
    backend: tfjs.backendName,
    lossesNabla: [],
    lossesTfjs: [],
  };
  try {
    for (let step = 0; step < steps; step++) {
      // A fresh deterministic batch of standard-normal inputs (like normalised pixels).
      batchRng.fillNormal(x);
      teacherLabels(teacher, x, labels, batchSize, inDim, classes);

      const lossNabla = trainer.trainStep(x, labels, batchSize);

      const lossTfjs = tfjs.trainStep(x, labels, batchSize, lr);
      result.lossesNabla.push(lossNabla);
      result.lossesTfjs.push(lossTfjs);
      const rel = Math.abs(lossTfjs - lossNabla) / Math.max(Math.abs(lossNabla), Number.MIN_VALUE);
      result.maxLossRelDiffOver20Steps = Math.max(result.maxLossRelDiffOver20Steps, rel);
      if (step === 0) result.maxParamRelDiffAfterOneStep = paramDiff(tfjs.getWeights(), linearWeights(nabla));
    }
    result.maxParamRelDiffAfterAllSteps = paramDiff(tfjs.getWeights(), linearWeights(nabla));
  } finally {
    tfjs.dispose();
  }
  return result;
}
