/**
 * Handing a job's training over. While a worker trains, the training state the runner saves after each epoch
 * (training-state.ts) is copied beside the queue; a worker that takes the job over — its first worker died,
 * or lost its lock — puts that state where its own run looks for one, so it resumes after the last epoch
 * the first worker finished instead of at epoch 1. The runner's resume checks the state is the job's (cache
 * key, steps, shapes) and ignores it otherwise, so a bad copy costs the epochs, not the results.
 */
import { existsSync } from "node:fs";
import { readFileBounded, writeFileAtomicSync } from "@nabla/io";
import type { Redis } from "ioredis";
import type { ProgressEvent } from "../train.js";
import { DELIVERY_SECONDS, MAX_QUEUED_CHECKPOINT_BYTES } from "./delivery.js";

/** A state holds two copies of the model and the optimizer's: larger ones are not copied (it still resumes locally). */
export const MAX_QUEUED_STATE_BYTES = MAX_QUEUED_CHECKPOINT_BYTES;

/**
 * Writes the state left under `key` to `stateFile`, unless this worker has a state of its own there (it ran the
 * job before: the newer one, by construction of its own run). Returns whether a state was taken over.
 */
export async function restoreState(redis: Redis, key: string, stateFile: string): Promise<boolean> {
  if (existsSync(stateFile)) return false;
  const size = await redis.strlen(key);
  if (size === 0 || size > MAX_QUEUED_STATE_BYTES) return false;
  const bytes = await redis.getBuffer(key);
  if (bytes === null) return false;
  writeFileAtomicSync(stateFile, bytes);
  return true;
}

/**
 * A progress listener that copies `stateFile` to `key` once per epoch. The runner saves the state after it
 * reports the epoch, before the next epoch's first step: the first step event after an epoch event is when
 * the file holds that epoch. Returns the upload's promise (never rejected), or undefined when there is none.
 */
export function stateUploader(
  redis: Redis,
  key: string,
  stateFile: string,
): (event: ProgressEvent) => Promise<void> | undefined {
  let due = false;
  return (event) => {
    if (event.type === "epoch") due = true;
    if (event.type !== "step" || !due) return undefined;
    due = false;
    let bytes: Buffer;
    try {
      const read = readFileBounded(stateFile, MAX_QUEUED_STATE_BYTES, "training state");
      bytes = Buffer.from(read.buffer, read.byteOffset, read.byteLength);
    } catch {
      // Not saved (a full disk) or too large for the queue: the job can still be resumed where it ran.
      return undefined;
    }
    return redis.set(key, bytes, "EX", DELIVERY_SECONDS).then(
      () => {},
      () => {},
    );
  };
}
