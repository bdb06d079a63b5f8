/**
 * Training state: all a stopped run needs to continue after its last completed epoch exactly as if it had never
 * stopped, saved after every epoch beside the results file as `.<name>.state.safetensors` — one file, so one
 * atomic rename replaces all of it. Tensors (parameters and buffers, the best epoch's copy, the optimizer's
 * arrays, every step's loss) are safetensors; the rest (histories, the optimizer's and scheduler's state dicts
 * without their arrays, RNG states, timings) is JSON in `__metadata__.state`. The data order and augmentation
 * need nothing: epoch e's depend only on the run seed and e, so the epoch count is their position.
 */
import { constants } from "node:buffer";
import { existsSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { readFileBounded, writeFileAtomicSync } from "@nabla/io";
import { fromTypedArray, isContiguous, type Rng, type Tensor } from "@nabla/ndarray";
import { decodeSafetensors, encodeSafetensors, type Module, type SafetensorsValue } from "@nabla/nn";
import type { Optimizer, Scheduler } from "@nabla/optim";
import type { ModelState, TrainableModel } from "./models.js";
import type { TrainProgress } from "./train.js";

export const TRAINING_STATE_FORMAT = "nabla-training-state-1";

type RngState = ReturnType<Rng["getState"]>;
type RandomSource = Pick<Rng, "getState" | "setState">;

/** Everything a run trains with, i.e. whose state the file holds. */
export interface RunParts {
  model: TrainableModel;
  /** The nabla module (for mlp-tfjs, the one its initial weights came from): where the RNG streams live. */
  module: Module;
  optimizer: Optimizer;
  scheduler?: Scheduler;
}

/** Whose a state is: one saved for anything else is not resumed. */
export interface StateOwner {
  cacheKey: string;
  /**
   * sha-256 of the results file that was there when the run started (null: none). A finished run's results
   * file differs from the one its state names, so a state left by a finished run is never resumed by --force.
   */
  supersedes: string | null;
  stepsPerEpoch: number;
  epochs: number;
}

/** Timings carried from process to process. */
export interface CarriedTimings {
  startedAt: string;
  setupSeconds: number;
  /** Seconds of every process that worked on the run, up to its last save. */
  elapsedSeconds: number;
  resumedAfterEpochs: number[];
}

interface StateJson {
  cacheKey: string;
  supersedes: string | null;
  stepsPerEpoch: number;
  epoch: number;
  history: Pick<TrainProgress, "trainLoss" | "valAccuracy" | "valLoss" | "lr" | "epochSeconds">;
  best: { epoch: number; accuracy: number } | null;
  optimizer: unknown;
  scheduler: unknown;
  rng: Record<string, RngState>;
  timings: CarriedTimings;
}

export interface SavedState {
  json: StateJson;
  tensors: Record<string, SafetensorsValue>;
}

/** `results/q3.json` → `results/.q3.state.safetensors` (spec names never start with ".", so no run's file). */
export function trainingStatePath(resultsFile: string): string {
  return join(dirname(resultsFile), `.${basename(resultsFile, ".json")}.state.safetensors`);
}

export function removeTrainingState(file: string): void {
  rmSync(file, { force: true });
}

/** Every Rng a module keeps (a Dropout's `rng`, or a registered layer's), by child index path. */
function randomSources(module: unknown, path = "", out = new Map<string, RandomSource>()) {
  const m = module as { rng?: Partial<RandomSource>; modules?: unknown };
  if (typeof m.rng?.getState === "function" && typeof m.rng.setState === "function") {
    out.set(path === "" ? "." : path, m.rng as RandomSource);
  }
  if (Array.isArray(m.modules)) {
    m.modules.forEach((child, i) => {
      randomSources(child, path === "" ? String(i) : `${path}.${i}`, out);
    });
  }
  return out;
}

/** A long JSON number array (non-finite values as "NaN", "Infinity", "-Infinity") as doubles, else undefined. */
function numberArray(v: unknown): Float64Array | undefined {
  if (!Array.isArray(v) || v.length < 16) return undefined;
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x === "number") out[i] = x;
    else if (x === "NaN" || x === "Infinity" || x === "-Infinity") out[i] = Number(x);
    else return undefined;
  }
  return out;
}

function allFloat32(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (Math.fround(a[i]) !== a[i] && !Number.isNaN(a[i])) return false;
  return true;
}

/**
 * The optimizer's state dict with its long number arrays (momentum buffers, moments) moved into `tensors` as
 * `{ $tensor: name }`: float32 when every value is one (a float32 parameter's state), float64 otherwise — exact
 * either way, and far smaller and faster than JSON text.
 */
function extractArrays(stateDict: unknown, tensors: Record<string, Tensor>): unknown {
  let count = 0;
  const walk = (value: unknown): unknown => {
    const numbers = numberArray(value);
    if (numbers !== undefined) {
      const name = `optimizer/${count++}`;
      const data = allFloat32(numbers) ? Float32Array.from(numbers) : numbers;
      tensors[name] = fromTypedArray(data, [numbers.length]);
      return { $tensor: name };
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return walk(stateDict);
}

/** extractArrays undone: the state dict as stateDict() returned it (non-finite values as their strings). */
function injectArrays(value: unknown, tensors: Record<string, SafetensorsValue>): unknown {
  if (Array.isArray(value)) return value.map((v) => injectArrays(v, tensors));
  if (value === null || typeof value !== "object") return value;
  const ref = (value as { $tensor?: unknown }).$tensor;
  if (typeof ref === "string" && Object.keys(value).length === 1) {
    const t = tensors[ref];
    if (t === undefined) throw new Error(`the optimizer's tensor ${ref} is missing`);
    return Array.from(t.data as ArrayLike<number>, (x) => (Number.isFinite(x) ? x : String(x)));
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, injectArrays(v, tensors)]));
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * encodeSafetensors' bytes for float tensors, byte for byte (sorted names, space-padded header, tensors in
 * name order), but copying each contiguous tensor's memory at once instead of element by element: a state is
 * several copies of the model, written after every epoch. Falls back to encodeSafetensors otherwise.
 */
export function encodeFloatTensors(tensors: Record<string, Tensor>, metadata: Record<string, string>) {
  const names = Object.keys(tensors).sort();
  const whole = (t: Tensor) => t.offset === 0 && t.size === t.data.length && isContiguous(t);
  if (!LITTLE_ENDIAN || !names.every((n) => whole(tensors[n]))) return encodeSafetensors(tensors, metadata);
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const dtype = t.data instanceof Float64Array ? "F64" : "F32";
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const text = JSON.stringify(header);
  const length = new TextEncoder().encode(text).length;
  const headerBytes = new TextEncoder().encode(text + " ".repeat((8 - (length % 8)) % 8));
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const { data } = tensors[name];
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return out;
}

/** Saves the state after `progress.epoch` completed epochs (atomically: the previous state or this one). */
export async function saveTrainingState(
  file: string,
  parts: RunParts,
  progress: TrainProgress,
  owner: StateOwner,
  timings: CarriedTimings,
): Promise<void> {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(await parts.model.snapshot())) tensors[`model/${k}`] = t;
  for (const [k, t] of Object.entries(progress.best?.state ?? {})) tensors[`best/${k}`] = t;
  const steps = progress.stepLosses;
  tensors["steps/loss"] = fromTypedArray(Float64Array.from(steps), [steps.length]);
  const rng: Record<string, RngState> = {};
  for (const [path, source] of randomSources(parts.module)) rng[path] = source.getState();
  const { trainLoss, valAccuracy, valLoss, lr, epochSeconds } = progress;
  const json: StateJson = {
    cacheKey: owner.cacheKey,
    supersedes: owner.supersedes,
    stepsPerEpoch: owner.stepsPerEpoch,
    epoch: progress.epoch,
    history: { trainLoss, valAccuracy, valLoss, lr, epochSeconds },
    best:
      progress.best === undefined ? null : { epoch: progress.best.epoch, accuracy: progress.best.accuracy },
    optimizer: extractArrays(parts.optimizer.stateDict(), tensors),
    scheduler: parts.scheduler?.stateDict() ?? null,
    rng,
    timings,
  };
  const metadata = { format: TRAINING_STATE_FORMAT, cacheKey: owner.cacheKey, state: JSON.stringify(json) };
  writeFileAtomicSync(file, encodeFloatTensors(tensors, metadata));
}

const isEpochList = (a: unknown, n: number) =>
  Array.isArray(a) && a.length === n && a.every((x) => typeof x === "number" && Number.isFinite(x));

/**
 * Reads the state at `file`: `state` when `owner` can resume it, `ignored` (why not) when it cannot — another
 * spec or code version, a finished run's leftover, not a state file — and neither when there is none.
 */
export function readTrainingState(file: string, owner: StateOwner): { state?: SavedState; ignored?: string } {
  if (!existsSync(file)) return {};
  let decoded: ReturnType<typeof decodeSafetensors>;
  let json: StateJson;
  try {
    decoded = decodeSafetensors(readFileBounded(file, constants.MAX_LENGTH, "training state"));
    if (decoded.metadata.format !== TRAINING_STATE_FORMAT)
      return { ignored: "not a training state of this version" };
    json = JSON.parse(decoded.metadata.state) as StateJson;
  } catch (err) {
    return { ignored: `unreadable: ${(err as Error).message}` };
  }
  if (json.cacheKey !== owner.cacheKey) return { ignored: "saved by another spec or code version" };
  if (json.supersedes !== owner.supersedes) return { ignored: "left by a run that has finished since" };
  const k = json.epoch;
  const h = json.history;
  const steps = decoded.tensors["steps/loss"];
  const consistent =
    json.stepsPerEpoch === owner.stepsPerEpoch &&
    Number.isInteger(k) &&
    k >= 1 &&
    k <= owner.epochs &&
    [h?.trainLoss, h?.valAccuracy, h?.valLoss, h?.lr, h?.epochSeconds].every((a) => isEpochList(a, k)) &&
    steps?.shape.length === 1 &&
    steps.shape[0] === k * owner.stepsPerEpoch &&
    (json.best === null || (json.best.epoch >= 1 && json.best.epoch <= k));
  if (!consistent) return { ignored: "its epochs do not fit the spec" };
  return { state: { json, tensors: decoded.tensors } };
}

function tensorsUnder(tensors: Record<string, SafetensorsValue>, prefix: string): ModelState {
  const out: ModelState = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (name.startsWith(prefix)) out[name.slice(prefix.length)] = t as Tensor;
  }
  return out;
}

/**
 * Puts a saved state into freshly built parts (model, optimizer, scheduler, RNG streams) and returns where the
 * loop continues. Throws when the state does not fit them; the parts may then be half restored: build anew.
 */
export async function applyTrainingState(
  saved: SavedState,
  parts: RunParts,
): Promise<{ progress: TrainProgress; timings: CarriedTimings }> {
  const { json, tensors } = saved;
  await parts.model.restore(tensorsUnder(tensors, "model/"));
  parts.optimizer.loadStateDict(injectArrays(json.optimizer, tensors));
  if ((json.scheduler === null) !== (parts.scheduler === undefined)) {
    throw new Error("the scheduler does not match the spec's");
  }
  if (parts.scheduler !== undefined) parts.scheduler.loadStateDict(json.scheduler);
  const sources = randomSources(parts.module);
  const saving = Object.keys(json.rng ?? {});
  if (saving.length !== sources.size || !saving.every((path) => sources.has(path))) {
    throw new Error("the random streams do not match the model's layers");
  }
  for (const [path, source] of sources) source.setState(json.rng[path]);
  const steps = tensors["steps/loss"] as Tensor;
  const progress: TrainProgress = {
    epoch: json.epoch,
    stepLosses: Array.from(steps.data as ArrayLike<number>),
    ...json.history,
  };
  if (json.best !== null) progress.best = { ...json.best, state: tensorsUnder(tensors, "best/") };
  return { progress, timings: json.timings };
}
