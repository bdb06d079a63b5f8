/**
 * The homework MLP (3072-128-10, SGD) trained by the runner's own loop and step (`trainLoop`, `nablaModel` from
 * @nabla/runner/training) on CIFAR-shaped splits. Everything here is Node-free: the Chromium check page, the
 * example's Web Worker and the Node side of the bit-identity test all train through this one function, so the
 * losses they report can only differ if the kernels do.
 */
import { BatchLoader, type CifarSplit, IMAGE_BYTES, splitTrainValidation } from "@nabla/cifar/portable";
import { buildSequential, mlpLayers } from "@nabla/nn";
import { createOptimizer } from "@nabla/optim";
import { nablaModel, type ProgressListener, type TrainOutcome, trainLoop } from "@nabla/runner/training";

export const HIDDEN_DIMS = [128];
export const CLASSES = 10;

export interface HomeworkRunOptions {
  /** The training file(s) as one split; validation is carved out of it by splitTrainValidation. */
  train: CifarSplit;
  test: CifarSplit;
  validationSize: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Weights, split and shuffling all derive from it, as in the runner. */
  seed: number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export async function trainHomeworkMlp(options: HomeworkRunOptions): Promise<TrainOutcome> {
  const { seed, batchSize } = options;
  const split = splitTrainValidation(options.train, { seed, validationSize: options.validationSize });
  const module = buildSequential(mlpLayers(HIDDEN_DIMS, CLASSES), {
    inputDim: IMAGE_BYTES,
    seed,
    dtype: "float32",
  });
  const optimizer = createOptimizer({ kind: "sgd", lr: options.lr }, module.parameters());
  const loader = (data: CifarSplit, shuffle: boolean) =>
    new BatchLoader(data, { batchSize, shuffle, seed, dropLast: false });
  return trainLoop({
    name: "homework-mlp",
    epochs: options.epochs,
    model: nablaModel(module, optimizer, IMAGE_BYTES),
    train: loader(split.train, true),
    validation: loader(split.validation, false),
    test: loader(options.test, false),
    currentLr: () => optimizer.lr,
    endEpoch: () => {},
    signal: options.signal,
    onProgress: options.onProgress,
  });
}
