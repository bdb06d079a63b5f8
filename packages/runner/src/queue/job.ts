/**
 * What travels through the queue. A job is data only: a resolved spec (without the coordinator's data
 * folder), the coordinator's cache key (also the job id) and its GEMM kernel. Workers re-validate it with the
 * spec schema and run it with the runner's own code; the return value is a Delivery (see delivery.ts).
 */
import { gemmKernelInfo } from "@nabla/ndarray";
import { z } from "zod";
import { echo, SpecError } from "../errors.js";
import { type Results, resultsDigest, resultsSchema } from "../results.js";
import { type ExperimentSpec, MAX_SPEC_BYTES, parseSpec } from "../spec.js";

export interface JobPayload {
  spec: unknown;
  /** The coordinator's cache key of the spec: the job id, so enqueuing a sweep twice never duplicates work. */
  key: string;
  /** The coordinator's GEMM kernel and instruction set, named when a worker's differs. */
  kernel: string;
}

const count = z.number().int().nonnegative();
const real = z.number();
/** Progress is only displayed, but it comes from the queue: checked before the renderer sees it. */
const progressSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("start"), worker: z.string().max(300), epochs: count, stepsPerEpoch: count }),
  z.object({
    type: z.literal("step"),
    epoch: count,
    epochs: count,
    step: count,
    stepsPerEpoch: count,
    loss: real,
    samples: count,
    epochElapsedSeconds: real,
  }),
  z.object({
    type: z.literal("epoch"),
    epoch: count,
    epochs: count,
    trainLoss: real,
    valAccuracy: real,
    valLoss: real,
    lr: real,
    seconds: real,
  }),
]);

/** Progress a worker reports with job.updateProgress: the runner's own start, step and epoch events. */
export type MemberProgress = z.output<typeof progressSchema>;

/** A job's progress as reported by a worker, or undefined when it is not one of the runner's events. */
export function parseProgress(data: unknown): MemberProgress | undefined {
  const parsed = progressSchema.safeParse(data);
  return parsed.success ? parsed.data : undefined;
}

const payloadSchema = z.strictObject({
  spec: z.record(z.string(), z.unknown()),
  key: z.string().regex(/^[0-9a-f]{64}$/, "expected a 64-digit hex cache key"),
  kernel: z.string().max(200),
});

/** The kernel as the cache key names it (see cachedResults). */
export function kernelId(): string {
  const gemm = gemmKernelInfo();
  return `${gemm.kernel}/${gemm.isa}`;
}

/** A member as a job: its spec minus the coordinator's data folder (workers use their own verified data). */
export function toPayload(spec: ExperimentSpec, key: string): JobPayload {
  const { dir: _dir, ...data } = spec.data as ExperimentSpec["data"] & { dir?: string };
  return { spec: { ...spec, data }, key, kernel: kernelId() };
}

/**
 * Validates a job's data on the worker: the payload's frame, then the spec schema of the runner (what a local
 * run accepts, minus paths). Anything else is a SpecError naming the job and the field: the job fails unrun.
 */
export function parsePayload(
  data: unknown,
  jobId: string | undefined,
): { spec: ExperimentSpec; payload: JobPayload } {
  const source = `job ${echo(jobId ?? "(no id)")}`;
  // BullMQ has parsed it already (Redis bounds a value at 512 MB); a spec file's limit applies to what is run.
  const size = JSON.stringify(data ?? null).length;
  if (size > MAX_SPEC_BYTES)
    throw new SpecError(`${source}: the payload is ${size} bytes; specs are limited to ${MAX_SPEC_BYTES}`);
  const frame = payloadSchema.safeParse(data);
  if (!frame.success) {
    const issue = frame.error.issues[0];
    throw new SpecError(
      `${source}: ${echo(issue.path.map(String).join(".") || "(root)")}: ${echo(issue.message)}`,
    );
  }
  if (jobId !== frame.data.key)
    throw new SpecError(`${source}: key: expected the job id, got ${frame.data.key}`);
  const data_ = frame.data.spec.data;
  if (data_ !== null && typeof data_ === "object" && "dir" in data_)
    throw new SpecError(
      `${source}: spec.data.dir: a worker reads its own data; paths are not taken from the queue`,
    );
  return { spec: parseSpec(frame.data.spec, `${source}: spec`), payload: frame.data };
}

/**
 * The results of a job's delivery on the coordinator: a results object of the runner's schema under the key
 * it was queued with, whose digest matches its numbers. It is then written under the member's own name and
 * spec (the key does not cover either).
 */
export function resultsFromJob(value: unknown, spec: ExperimentSpec, key: string): Results {
  const parsed = resultsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `job ${key}: the returned results do not validate: ${echo(issue.path.map(String).join("."))}: ${echo(issue.message)}`,
    );
  }
  if (parsed.data.cacheKey !== key)
    throw new Error(`job ${key}: the returned results carry cache key ${parsed.data.cacheKey}`);
  if (resultsDigest(parsed.data) !== parsed.data.digest)
    throw new Error(`job ${key}: the returned results do not match their digest (edited on the way?)`);
  return { ...parsed.data, name: spec.name, spec };
}
