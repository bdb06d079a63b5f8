/**
 * Checkpoints: the best-validation model of a run, written beside its results file as `<name>.safetensors`
 * (parameters and buffers under PyTorch's nn.Sequential names; `__metadata__` holds the run's cache key and
 * layer list, so PyTorch — or `nabla eval` — can rebuild the model). Outputs, not sources: not committed.
 *
 * A results file and its checkpoint are replaced as a pair (commitPair): the results file is the commit point
 * and names its checkpoint's sha-256, and `<name>.safetensors` is either that checkpoint or absent — never
 * another run's — whenever a process stops, a write fails or the disk fills.
 */

import { constants } from "node:buffer";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { featureSize } from "@nabla/data";
import { InputTooLargeError, readFileBounded, writeFileAtomicSync } from "@nabla/io";
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

/** The checkpoint bytes of `state` (loaded into `module`, whose buffers say which entries are integers). */
export function encodeCheckpoint(module: Module, state: ModelState, meta: CheckpointMetadata): Uint8Array {
  module.loadStateDict(state);
  return saveSafetensors(module, {
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
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * `results/q3.json` + sha → `results/.q3.<16 hex of sha>.safetensors`: a checkpoint held aside while its pair
 * changes. Spec names start with a letter or digit, so no run's own files can take such a name.
 */
function asidePath(resultsFile: string, sha: string): string {
  return join(dirname(resultsFile), `.${basename(resultsFile, ".json")}.${sha.slice(0, 16)}.safetensors`);
}

function asideFiles(resultsFile: string): string[] {
  const prefix = `.${basename(resultsFile, ".json")}.`;
  const dir = dirname(resultsFile);
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && /^[0-9a-f]{16}\.safetensors$/.test(f.slice(prefix.length)))
    .map((f) => join(dir, f));
}

function fileSha(file: string): string | undefined {
  return existsSync(file) ? sha256Hex(readFileBounded(file, constants.MAX_LENGTH, "checkpoint")) : undefined;
}

/**
 * Replaces a run's results file and checkpoint as a pair. Only two steps take disk space, and both come before
 * anything a reader sees changes: (1) the new checkpoint is written aside; (2) the current `<name>.safetensors`,
 * unless it is the one `named`, is renamed aside (its results file still names it); (3) the results file is
 * written — the commit point; (4) the named checkpoint is renamed into place; (5) the ones aside are removed.
 * A failed (1) or (3) — a full disk — restores the old pair; a process killed between (2) and (4) leaves
 * `<name>.safetensors` absent (never another run's) until the next run of that name settles it (settlePair).
 */
export function commitPair(
  resultsFile: string,
  resultsText: string,
  named: string | undefined,
  checkpoint?: Uint8Array,
): void {
  const stable = checkpointPath(resultsFile);
  const current = fileSha(stable);
  let staged: string | undefined;
  if (checkpoint !== undefined && named !== undefined && current !== named) {
    staged = asidePath(resultsFile, named);
    writeFileAtomicSync(staged, checkpoint);
  }
  let demoted: string | undefined;
  try {
    if (current !== undefined && current !== named) {
      demoted = asidePath(resultsFile, current);
      renameSync(stable, demoted);
    }
    writeFileAtomicSync(resultsFile, resultsText);
  } catch (err) {
    try {
      if (demoted !== undefined) renameSync(demoted, stable);
    } catch {
      // The old results file still names the checkpoint aside: the next run of this name puts it back.
    }
    if (staged !== undefined) rmSync(staged, { force: true });
    throw err;
  }
  settlePair(resultsFile, named);
}

/**
 * Completes an interrupted commitPair of a results file that names `named` (or no checkpoint): the named
 * checkpoint held aside is put in place when none is, and the others aside are removed. Cheap when there is
 * nothing to do (one folder listing); only a process that owns the name (its run, or its cache hit) calls it.
 */
export function settlePair(resultsFile: string, named: string | undefined): void {
  const stable = checkpointPath(resultsFile);
  const aside = named === undefined ? undefined : asidePath(resultsFile, named);
  if (aside !== undefined && existsSync(aside)) {
    if (fileSha(stable) === named) rmSync(aside);
    else renameSync(aside, stable);
  }
  if (named === undefined) rmSync(stable, { force: true });
  for (const file of asideFiles(resultsFile)) rmSync(file, { force: true });
}

/** Reads a checkpoint's metadata (and checks the file is one of ours); UserError naming the file otherwise. */
export function readCheckpoint(file: string): { bytes: Uint8Array; metadata: Record<string, string> } {
  let bytes: Uint8Array;
  try {
    bytes = readFileBounded(file, constants.MAX_LENGTH, "checkpoint");
  } catch (err) {
    if (err instanceof InputTooLargeError) throw new UserError(err.message);
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
