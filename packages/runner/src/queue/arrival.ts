/**
 * The coordinator's side of a finished job: the checkpoint that came with it verified against its results,
 * then each member's results file and checkpoint written as a pair, as a local run writes them.
 */
import { type DecodedSafetensors, decodeSafetensors, encodeSafetensors, loadSafetensors } from "@nabla/nn";
import { CHECKPOINT_FORMAT, sha256Hex } from "../checkpoint.js";
import { experimentDatasetInfo } from "../datasets.js";
import { echo } from "../errors.js";
import { buildModule } from "../models.js";
import { type Results, writeResults } from "../results.js";
import type { ExperimentSpec } from "../spec.js";

/**
 * Checks that a checkpoint from the queue is the one of `results`: a nabla checkpoint of the job's cache key
 * and best epoch whose tensors load (strictly) into the model the spec builds. Throws a one-line Error.
 */
export function verifyCheckpoint(bytes: Uint8Array, results: Results, id: string): DecodedSafetensors {
  const where = `job ${id}: the checkpoint from the queue`;
  let decoded: DecodedSafetensors;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (err) {
    throw new Error(`${where} is not a valid safetensors file (${(err as Error).message})`);
  }
  // The worker's results name their checkpoint's sha-256: these bytes must be those.
  const named = results.checkpoint?.sha256;
  if (named !== sha256Hex(bytes))
    throw new Error(`${where} is not the one its results name (sha-256 ${named})`);
  const m = decoded.metadata;
  const expected: [string, string | undefined, string][] = [
    ["format", m.format, CHECKPOINT_FORMAT],
    ["cacheKey", m.cacheKey, id],
    ["epoch", m.epoch, String(results.metrics.bestEpoch)],
  ];
  for (const [field, got, want] of expected) {
    if (got !== want)
      throw new Error(
        `${where} is not the one of its results (its ${field} is "${echo(got)}", expected "${want}")`,
      );
  }
  try {
    loadSafetensors(buildModule(results.spec, experimentDatasetInfo(results.spec)), bytes, { strict: true });
  } catch (err) {
    throw new Error(`${where} does not fit the model of its spec (${(err as Error).message})`);
  }
  return decoded;
}

/** The checkpoint under a member's own name (members differing only in name share one job). */
function named(bytes: Uint8Array, decoded: DecodedSafetensors, name: string): Uint8Array {
  if (decoded.metadata.name === name) return bytes;
  return encodeSafetensors(decoded.tensors, { ...decoded.metadata, name });
}

/**
 * Writes a member's results file with its checkpoint as a pair (writeResults; a results file names its
 * checkpoint's sha-256). Without a checkpoint: a run without a best epoch has none (a stale one is removed);
 * one that was not sent stays named by the results, absent here, as a run trained elsewhere.
 */
export function writeMember(
  spec: ExperimentSpec,
  file: string,
  results: Results,
  checkpoint: { bytes: Uint8Array; decoded: DecodedSafetensors } | undefined,
): void {
  if (checkpoint !== undefined)
    writeResults(file, results, named(checkpoint.bytes, checkpoint.decoded, spec.name));
  else writeResults(file, results, results.metrics.bestEpoch === null ? null : undefined);
}
