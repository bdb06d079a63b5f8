/**
 * Checkpoints: the best-validation model of a run, written beside its results file as `<name>.safetensors`
 * (parameters and buffers under PyTorch's nn.Sequential names; `__metadata__` holds the run's cache key and
 * layer list, so PyTorch — or `nabla eval` — can rebuild the model). Outputs, not sources: not committed.
 */
import { readFileSync } from "node:fs";
import { featureSize } from "@nabla/data";
import { writeFileAtomicSync } from "@nabla/io";
import { decodeSafetensors, loadSafetensors, type Module, saveSafetensors } from "@nabla/nn";
import { UserError } from "./errors.js";
import type { ModelState } from "./models.js";

export const CHECKPOINT_FORMAT = "nabla-checkpoint-1";

/** `results/q3.json` → `results/q3.safetensors`. */
export function checkpointPath(resultsFile: string): string {
  return resultsFile.replace(/\.json$/, "") + ".safetensors";
}

export interface CheckpointMetadata {
  name: string;
  cacheKey: string;
  /** The nabla layer list (JSON), as @nabla/nn's buildSequential takes it. */
  layers: unknown[];
  featureShape: readonly number[];
  classNames: readonly string[];
  /** The epoch whose parameters these are (the best validation epoch). */
  epoch: number;
}

/** Writes `state` (loaded into `module`, whose buffers say which entries are integers) atomically. */
export function writeCheckpoint(
  file: string,
  module: Module,
  state: ModelState,
  meta: CheckpointMetadata,
): void {
  module.loadStateDict(state);
  const bytes = saveSafetensors(module, {
    format: CHECKPOINT_FORMAT,
    name: meta.name,
    cacheKey: meta.cacheKey,
    layers: JSON.stringify(meta.layers),
    inputDim: String(featureSize(meta.featureShape)),
    featureShape: JSON.stringify(meta.featureShape),
    classNames: JSON.stringify(meta.classNames),
    epoch: String(meta.epoch),
    dtype: "float32",
  });
  writeFileAtomicSync(file, bytes);
}

/** Reads a checkpoint's metadata (and checks the file is one of ours); UserError naming the file otherwise. */
export function readCheckpoint(file: string): { bytes: Uint8Array; metadata: Record<string, string> } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new UserError(
      `${file}: cannot read the checkpoint (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
  let metadata: Record<string, string>;
  try {
    metadata = decodeSafetensors(bytes).metadata;
  } catch (err) {
    throw new UserError(`${file}: not a valid safetensors file (${(err as Error).message})`);
  }
  if (metadata.format !== CHECKPOINT_FORMAT || typeof metadata.cacheKey !== "string") {
    throw new UserError(
      `${file}: not a nabla checkpoint (its __metadata__.format is not "${CHECKPOINT_FORMAT}")`,
    );
  }
  return { bytes, metadata };
}

/** Loads a checkpoint into a module built from the same layer list (strict: every tensor must match). */
export function loadCheckpointInto(module: Module, file: string, bytes: Uint8Array): void {
  try {
    loadSafetensors(module, bytes, { strict: true });
  } catch (err) {
    throw new UserError(`${file}: does not fit the model of its results file (${(err as Error).message})`);
  }
}
