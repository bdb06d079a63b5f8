/**
 * What a finished job hands back. Its return value (a Delivery: the results object, and the digest of its
 * checkpoint) goes through BullMQ; the checkpoint's bytes go under a Redis key of their own, so that BullMQ's
 * job hash and events stream stay small. When a worker finds at the end of a job that its lock is gone (Redis
 * restarted empty or was flushed under it), BullMQ will refuse its result, so the worker also leaves the
 * Delivery beside the queue, where the coordinator looks for it before training the member again.
 */
import { createHash } from "node:crypto";
import { formatSize, InputTooLargeError, readFileBounded } from "@nabla/io";
import type { Redis } from "ioredis";
import { z } from "zod";
import { echo } from "../errors.js";

/** Redis holds a value of up to 512 MB (proto-max-bulk-len); a checkpoint travels when it is at most this. */
export const MAX_QUEUED_CHECKPOINT_BYTES = 256 * 1024 * 1024;
/** A Delivery without its checkpoint: a results object (a 5,000-point loss curve is about 100 kB). */
export const MAX_DELIVERY_BYTES = 64 * 1024 * 1024;
/** As long as BullMQ keeps a completed job (the coordinator's removeOnComplete age). */
export const DELIVERY_SECONDS = 7 * 24 * 3600;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected a sha-256 in hex");

const deliverySchema = z.strictObject({
  /** Validated by the coordinator with the results schema (resultsFromJob). */
  results: z.unknown(),
  checkpoint: z
    .strictObject({ sha256, bytes: z.number().int().positive().max(MAX_QUEUED_CHECKPOINT_BYTES) })
    .optional(),
  /** Why results that have a best epoch come without its checkpoint (too large for the queue, missing). */
  checkpointOmitted: z.string().max(1000).optional(),
  /** The worker that trained it (host:pid), for the coordinator's messages. */
  worker: z.string().max(300),
});
export type Delivery = z.output<typeof deliverySchema>;

/** The Redis keys of a job besides BullMQ's own, from the queue's `toKey` (so they share its prefix). */
export function deliveryKeys(toKey: (type: string) => string, id: string) {
  return {
    checkpoint: toKey(`nabla-checkpoint:${id}`),
    delivery: toKey(`nabla-delivery:${id}`),
    /** The training state of its last completed epoch, for a worker that takes the job over (handover.ts). */
    state: toKey(`nabla-state:${id}`),
    /** BullMQ's lock of the job: the token of the worker running it. */
    lock: `${toKey(id)}:lock`,
  };
}
export type DeliveryKeys = ReturnType<typeof deliveryKeys>;

/**
 * A Delivery as it arrives, from BullMQ's return value or the key beside the queue. Results returned by a
 * worker that predates Deliveries (a bare results object) are taken as a Delivery without a checkpoint.
 */
export function parseDelivery(value: unknown, id: string): Delivery {
  if (value !== null && typeof value === "object" && "schemaVersion" in value)
    return { results: value, worker: "(unknown)", checkpointOmitted: "the worker sends no checkpoints" };
  const parsed = deliverySchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `job ${id}: the worker's delivery does not validate: ${echo(issue.path.map(String).join(".") || "(root)")}: ${echo(issue.message)}`,
    );
  }
  return parsed.data;
}

/**
 * The worker side: puts the checkpoint of finished results under its key (when there is one, and it is not
 * over MAX_QUEUED_CHECKPOINT_BYTES) and returns the Delivery describing it.
 */
export async function shipCheckpoint(
  redis: Redis,
  keys: DeliveryKeys,
  results: { metrics: { bestEpoch: number | null } },
  checkpointFile: string,
  worker: string,
): Promise<Delivery> {
  if (results.metrics.bestEpoch === null) return { results, worker };
  let bytes: Buffer;
  try {
    const read = readFileBounded(checkpointFile, MAX_QUEUED_CHECKPOINT_BYTES, "checkpoint");
    bytes = Buffer.from(read.buffer, read.byteOffset, read.byteLength);
  } catch (err) {
    const why =
      err instanceof InputTooLargeError
        ? `it is over the queue's limit of ${formatSize(MAX_QUEUED_CHECKPOINT_BYTES)} and stays in ${checkpointFile} on ${worker}`
        : `the worker could not read it (${(err as NodeJS.ErrnoException).code ?? echo((err as Error).message)})`;
    return { results, worker, checkpointOmitted: why };
  }
  await redis.set(keys.checkpoint, bytes, "EX", DELIVERY_SECONDS);
  const digest = createHash("sha256").update(bytes).digest("hex");
  return { results, worker, checkpoint: { sha256: digest, bytes: bytes.length } };
}

/**
 * The worker side, at the end of a job: when its lock is no longer this worker's (Redis lost it), leaves the
 * Delivery beside the queue unless another delivery of the job is there already (the job id is the cache key,
 * so any delivery of it holds the same results). Returns what happened, for the worker's log.
 */
export async function deliverIfLockLost(
  redis: Redis,
  keys: DeliveryKeys,
  token: string | undefined,
  delivery: Delivery,
): Promise<"held" | "delivered" | "already delivered"> {
  if (token !== undefined && (await redis.get(keys.lock)) === token) return "held";
  const set = await redis.set(keys.delivery, JSON.stringify(delivery), "EX", DELIVERY_SECONDS, "NX");
  return set === "OK" ? "delivered" : "already delivered";
}

/** The coordinator side: a Delivery left beside the queue, if any (bounded by its size in Redis). */
export async function readDelivery(redis: Redis, keys: DeliveryKeys, id: string): Promise<unknown> {
  const size = await redis.strlen(keys.delivery);
  if (size === 0) return undefined;
  if (size > MAX_DELIVERY_BYTES)
    throw new Error(`job ${id}: the delivery beside the queue is ${formatSize(size)}, over its limit`);
  const text = await redis.get(keys.delivery);
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`job ${id}: the delivery beside the queue is not valid JSON`);
  }
}

/** Thrown when a checkpoint that a Delivery announces is no longer in Redis: the job is trained again. */
export class CheckpointGoneError extends Error {
  override name = "CheckpointGoneError";
}

/** The coordinator side: the checkpoint's bytes, checked against the size and sha-256 the Delivery gives. */
export async function fetchCheckpoint(
  redis: Redis,
  keys: DeliveryKeys,
  declared: NonNullable<Delivery["checkpoint"]>,
  id: string,
): Promise<Buffer> {
  // The size first: a value larger than announced is refused without being transferred.
  const size = await redis.strlen(keys.checkpoint);
  if (size === 0) throw new CheckpointGoneError(`job ${id}: its checkpoint is no longer on the queue`);
  if (size !== declared.bytes)
    throw new Error(
      `job ${id}: the checkpoint on the queue is ${size} bytes, its delivery says ${declared.bytes}`,
    );
  const bytes = await redis.getBuffer(keys.checkpoint);
  if (bytes === null) throw new CheckpointGoneError(`job ${id}: its checkpoint is no longer on the queue`);
  const digest = createHash("sha256").update(bytes).digest("hex");
  if (digest !== declared.sha256)
    throw new Error(`job ${id}: the checkpoint on the queue does not match its sha-256 (${declared.sha256})`);
  return bytes;
}
