/**
 * Pre-flight: what a run will hold in memory and write, estimated from the spec alone (no data read, nothing
 * allocated), against what this machine has and what a file write takes — so a model or dataset that cannot
 * fit fails in a moment with one line naming the field, instead of the kernel's OOM killer ending the process
 * (or a RangeError deep in a loader, or a failed checkpoint write, after minutes of work).
 */
import { constants } from "node:buffer";
import { freemem, totalmem } from "node:os";
import { featureSize } from "@nabla/data";
import { formatSize } from "@nabla/io";
import { experimentDatasetInfo } from "./datasets.js";
import { SpecError } from "./errors.js";
import { modelPlan } from "./models.js";
import type { ExperimentSpec } from "./spec.js";

export interface MemoryEstimate {
  /** Bytes by what holds them. */
  parts: {
    parameters: number;
    optimizer: number;
    activations: number;
    scratch: number;
    checkpoint: number;
    data: number;
  };
  total: number;
  /** The largest single array the run allocates, in elements (typed arrays have a maximum length). */
  largestArray: number;
  /** Bytes of the files a run encodes whole in memory and then writes (float32 numbers). */
  files: {
    /** The best epoch's parameters and buffers (`<name>.safetensors`). */
    checkpoint: number;
    /** What resuming needs: parameters and buffers (live and best), the optimizer's state, the step losses. */
    trainingState: number;
  };
}

/**
 * The largest file a run writes: each is encoded into one buffer before @nabla/io writes it (in pieces, so
 * the 2 GiB limit of a single write does not apply), and a buffer holds at most this many bytes.
 */
export const MAX_FILE_BYTES = constants.MAX_LENGTH;

/** Optimizer state per parameter, in copies of the parameters (momentum buffers, Adam's moments). */
function optimizerCopies(spec: ExperimentSpec): number {
  const o = spec.optimizer as { kind: string; momentum?: number; amsgrad?: boolean };
  if (o.kind === "sgd") return (o.momentum ?? 0) > 0 ? 1 : 0;
  if (o.kind === "adam" || o.kind === "adamw") return o.amsgrad ? 3 : 2;
  return 2;
}

/**
 * Bytes the run will need, from the layers' declared shapes (nothing is allocated): float32 numbers, except
 * the data, which sources hold as bytes.
 */
export function estimateMemory(spec: ExperimentSpec): MemoryEstimate {
  const info = experimentDatasetInfo(spec);
  const inputDim = featureSize(info.featureShape);
  const plan = modelPlan(spec, info);
  // Value, gradient and the best epoch's copy of every parameter; buffers twice (live and best copy).
  const parameters = 4 * (3 * plan.parameters + 2 * plan.buffers);
  const optimizer = 4 * optimizerCopies(spec) * plan.parameters;
  // What each layer keeps per sample for backward (outputs, input gradients, masks), for the training batch
  // and again for the evaluation batch (the layers' buffers are cached per batch shape).
  const activations = 4 * 2 * spec.batchSize * plan.activations;
  // Working memory the layers hold between steps (im2col tiles), whatever the batch size.
  const scratch = 4 * plan.scratch;
  // The safetensors file of the best epoch is encoded in memory before it is written.
  const checkpoint = 4 * (plan.parameters + plan.buffers);
  const samples = Object.values(info.splitSizes).reduce((a, b) => a + b, 0);
  // The source's bytes plus the loader's resident copy (WebAssembly memory) and one normalised batch.
  const data = 2 * samples * inputDim + 4 * spec.batchSize * inputDim;
  const largestSplit = Math.max(...Object.values(info.splitSizes)) * inputDim;
  const largestArray = Math.max(
    largestSplit,
    plan.largestParameter,
    spec.batchSize * Math.max(...plan.layers.map((l) => featureSize(l.outShape))),
  );
  const parts = { parameters, optimizer, activations, scratch, checkpoint, data };
  const files = {
    checkpoint: 4 * (plan.parameters + plan.buffers),
    // Live and best parameters and buffers, the optimizer's arrays, and every step's loss (float64).
    trainingState:
      4 * (2 * (plan.parameters + plan.buffers) + optimizerCopies(spec) * plan.parameters) +
      8 * spec.epochs * Math.floor((info.splitSizes.train ?? 0) / spec.batchSize),
  };
  return { parts, total: Object.values(parts).reduce((a, b) => a + b, 0), largestArray, files };
}

/**
 * Memory this process may use: what the OS reports available, within a cgroup limit if there is one, and
 * within NABLA_MEMORY_LIMIT (bytes) when set — a cap for shared machines.
 */
export function availableMemory(): number {
  const constrained = process.constrainedMemory?.() ?? 0;
  const limit = constrained > 0 && constrained < totalmem() ? constrained : totalmem();
  const cap = Number(process.env.NABLA_MEMORY_LIMIT);
  return Math.min(freemem(), limit, Number.isFinite(cap) && cap > 0 ? cap : Number.POSITIVE_INFINITY);
}

/** The spec field to change when `part` dominates. */
function culprit(spec: ExperimentSpec, part: keyof MemoryEstimate["parts"]): string {
  if (part === "data") return spec.data.source === "synthetic" ? "data.trainCount" : "data";
  if (part === "activations" || part === "scratch") return "batchSize";
  return "layers" in spec.model ? "model.layers" : "model.hiddenDims";
}

/**
 * Throws a one-line SpecError when the run cannot fit: a single array over the typed-array maximum, a file
 * (checkpoint, training state) over MAX_FILE_BYTES, or a total over what the machine has (`available`,
 * default availableMemory()). `source` names the spec file.
 */
export function preflight(
  spec: ExperimentSpec,
  source = spec.name,
  available = availableMemory(),
): MemoryEstimate {
  const estimate = estimateMemory(spec);
  const parts = Object.entries(estimate.parts) as [keyof MemoryEstimate["parts"], number][];
  const [worst] = parts.reduce((a, b) => (b[1] > a[1] ? b : a));
  const breakdown = parts.map(([k, v]) => `${k} ${formatSize(v)}`).join(", ");
  if (estimate.largestArray > constants.MAX_LENGTH) {
    throw new SpecError(
      `${source}: ${culprit(spec, worst)}: the run needs an array of ${estimate.largestArray.toExponential(2)} numbers, beyond the ${constants.MAX_LENGTH.toExponential(2)} a typed array holds; make it smaller`,
    );
  }
  if (estimate.total > available) {
    throw new SpecError(
      `${source}: ${culprit(spec, worst)}: the run needs about ${formatSize(estimate.total)} of memory (${breakdown}) but this machine has ${formatSize(available)} available; make it smaller`,
    );
  }
  const model = culprit(spec, "parameters");
  const o = spec.optimizer.kind;
  const files: [string, string, number][] = [
    [model, "checkpoint (the best epoch's parameters and buffers)", estimate.files.checkpoint],
    [
      model,
      `training state (parameters, buffers and the state of optimizer "${o}")`,
      estimate.files.trainingState,
    ],
  ];
  for (const [field, what, bytes] of files) {
    if (bytes > MAX_FILE_BYTES) {
      throw new SpecError(
        `${source}: ${field}: the run's ${what} would be about ${formatSize(bytes)}, over the ${formatSize(MAX_FILE_BYTES)} a file can be encoded in; make it smaller`,
      );
    }
  }
  return estimate;
}
