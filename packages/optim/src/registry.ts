import type { Parameter } from "@nabla/ndarray";
import { z } from "zod";
import { type adamConfigSchema, adamEntry, type adamwConfigSchema, adamwEntry } from "./adam.js";
import { positiveInt } from "./bounds.js";
import { type cosineConfigSchema, cosineEntry } from "./cosine-lr.js";
import { optimError, parseWith } from "./errors.js";
import { type exponentialConfigSchema, exponentialEntry } from "./exponential-lr.js";
import { type linearConfigSchema, linearEntry } from "./linear-lr.js";
import type { Scheduler, SchedulerInterval } from "./lr-scheduler.js";
import { type multistepConfigSchema, multistepEntry } from "./multistep-lr.js";
import { type onecycleConfigSchema, onecycleEntry } from "./one-cycle-lr.js";
import type { Optimizer } from "./optimizer.js";
import { type sequentialConfigSchema, sequentialEntry } from "./sequential.js";
import { type sgdConfigSchema, sgdEntry } from "./sgd.js";
import { type stepConfigSchema, stepEntry } from "./step-lr.js";

/** A config schema: a z.strictObject whose `kind` field is z.literal(<the entry's kind>). */
export type KindSchema = z.ZodObject<{ kind: z.ZodLiteral<string> }, z.core.$ZodObjectConfig>;

export interface OptimizerEntry<S extends KindSchema = KindSchema> {
  readonly kind: string;
  readonly schema: S;
  /** Builds the optimizer from a config already parsed by `schema` (defaults filled in). */
  create(config: z.output<S>, params: Parameter[]): Optimizer;
}

/**
 * What the caller of createScheduler knows about the run before training starts. `totalSteps` is the number of
 * optimizer steps it will take (epochs x batches per epoch): a "step" scheduler whose config gives neither
 * totalSteps nor epochs and stepsPerEpoch takes it from here, and one whose config gives fewer is rejected then
 * rather than failing when stepped past its end. "epoch" schedulers ignore the context.
 */
export interface SchedulerContext {
  totalSteps?: number;
}

const contextSchema = z.strictObject({ totalSteps: positiveInt.optional() });

export interface SchedulerEntry<S extends KindSchema = KindSchema> {
  readonly kind: string;
  readonly schema: S;
  /**
   * The `interval` of the schedulers it creates, known from the kind alone (default "epoch"); "step" kinds are
   * not offered as children of "sequential", whose milestones count epochs.
   */
  readonly interval?: SchedulerInterval;
  /** Builds the scheduler from a config already parsed by `schema` (defaults filled in). */
  create(config: z.output<S>, optimizer: Optimizer, context: SchedulerContext): Scheduler;
}

type BuiltinOptimizerSchema = typeof sgdConfigSchema | typeof adamConfigSchema | typeof adamwConfigSchema;
type BuiltinLRSchedulerSchema =
  | typeof stepConfigSchema
  | typeof multistepConfigSchema
  | typeof exponentialConfigSchema
  | typeof cosineConfigSchema
  | typeof linearConfigSchema;

/** A parsed optimizer config of a built-in kind (every default filled in). */
export type OptimizerConfig = z.output<BuiltinOptimizerSchema>;
/** What a user may write for a built-in optimizer kind (fields with defaults optional). */
export type OptimizerConfigInput = z.input<BuiltinOptimizerSchema>;
/** A parsed config of a built-in scheduler kind that SequentialLR can chain (per-epoch, not "sequential"). */
export type LRSchedulerConfig = z.output<BuiltinLRSchedulerSchema>;
export type LRSchedulerConfigInput = z.input<BuiltinLRSchedulerSchema>;
/** A parsed scheduler config of a built-in kind. */
export type SchedulerConfig =
  | LRSchedulerConfig
  | z.output<typeof sequentialConfigSchema>
  | z.output<typeof onecycleConfigSchema>;
export type SchedulerConfigInput =
  | LRSchedulerConfigInput
  | z.input<typeof sequentialConfigSchema>
  | z.input<typeof onecycleConfigSchema>;
/** A config of a kind registered from user code: its fields are checked by that entry's schema at run time. */
export interface RegisteredConfig {
  kind: string;
  [field: string]: unknown;
}

const optimizers = new Map<string, OptimizerEntry>();
const schedulers = new Map<string, SchedulerEntry>();
let optimizerUnion: z.ZodType | undefined;
let schedulerUnions = new Map<"all" | "chainable", z.ZodType>();
let builtinsRegistered = false;

/** Built-ins are added on first use, not at import: sequential.ts imports this module, so a cycle exists. */
function ensureBuiltins(): void {
  if (builtinsRegistered) return;
  builtinsRegistered = true;
  for (const e of [sgdEntry, adamEntry, adamwEntry])
    add("registerOptimizer", optimizers, e as OptimizerEntry);
  for (const e of [
    stepEntry,
    multistepEntry,
    exponentialEntry,
    cosineEntry,
    linearEntry,
    sequentialEntry,
    onecycleEntry,
  ]) {
    add("registerScheduler", schedulers, e as SchedulerEntry);
  }
}

function add<E extends OptimizerEntry | SchedulerEntry>(owner: string, map: Map<string, E>, entry: E): void {
  if (entry === null || typeof entry !== "object") throw optimError(owner, "entry", "an object", entry);
  const { kind, schema, create } = entry;
  if (typeof kind !== "string" || kind === "") throw optimError(owner, "kind", "a non-empty string", kind);
  if (map.has(kind)) throw optimError(owner, "kind", "a kind not registered yet", kind);
  const literal = (schema as { shape?: { kind?: unknown } } | undefined)?.shape?.kind;
  if (!(schema instanceof z.ZodObject) || !(literal instanceof z.ZodLiteral) || !literal.values.has(kind)) {
    throw optimError(
      owner,
      "schema",
      `a z.strictObject with kind: z.literal(${JSON.stringify(kind)})`,
      schema,
    );
  }
  if (typeof create !== "function") throw optimError(owner, "create", "a function", create);
  map.set(kind, entry);
}

/** Adds an optimizer kind; from then on configs of that kind parse and createOptimizer builds them. */
export function registerOptimizer<S extends KindSchema>(entry: OptimizerEntry<S>): void {
  ensureBuiltins();
  add("registerOptimizer", optimizers, entry as unknown as OptimizerEntry);
  optimizerUnion = undefined;
}

/** Adds a scheduler kind; from then on configs of that kind parse and createScheduler builds them. */
export function registerScheduler<S extends KindSchema>(entry: SchedulerEntry<S>): void {
  ensureBuiltins();
  const interval = (entry as { interval?: unknown } | null)?.interval;
  if (interval !== undefined && interval !== "step" && interval !== "epoch") {
    throw optimError(
      "registerScheduler",
      "interval",
      '"step" or "epoch" (or nothing, meaning "epoch")',
      interval,
    );
  }
  add("registerScheduler", schedulers, entry as unknown as SchedulerEntry);
  schedulerUnions = new Map();
}

/** The registered optimizer kinds, built-ins first, in registration order. */
export function optimizerKinds(): string[] {
  ensureBuiltins();
  return [...optimizers.keys()];
}

/** The registered scheduler kinds, built-ins first, in registration order. */
export function schedulerKinds(): string[] {
  ensureBuiltins();
  return [...schedulers.keys()];
}

function union(entries: { schema: KindSchema }[]): z.ZodType {
  const kinds = entries.map((e) => JSON.stringify(e.schema.shape.kind.value)).join(", ");
  const options = entries.map((e) => e.schema) as [KindSchema, ...KindSchema[]];
  return z.discriminatedUnion("kind", options, { error: `expected kind to be one of ${kinds}` });
}

/**
 * The discriminated union (on `kind`) of the optimizer configs registered now, for composing into larger
 * schemas. Its static type covers the built-in kinds; kinds registered from user code are accepted at run time.
 */
export function optimizerConfigSchema(): z.ZodType<OptimizerConfig, OptimizerConfigInput> {
  ensureBuiltins();
  optimizerUnion ??= union([...optimizers.values()]);
  return optimizerUnion as z.ZodType<OptimizerConfig, OptimizerConfigInput>;
}

function intervalOf(entry: SchedulerEntry): SchedulerInterval {
  return entry.interval ?? "epoch";
}

function schedulerUnion(which: "all" | "chainable"): z.ZodType {
  ensureBuiltins();
  let u = schedulerUnions.get(which);
  if (u === undefined) {
    const chainable = (e: SchedulerEntry) => e.kind !== "sequential" && intervalOf(e) === "epoch";
    u = union([...schedulers.values()].filter((e) => which === "all" || chainable(e)));
    schedulerUnions.set(which, u);
  }
  return u;
}

/** As optimizerConfigSchema(), for schedulers (including "sequential", whose children are other per-epoch kinds). */
export function schedulerConfigSchema(): z.ZodType<SchedulerConfig, SchedulerConfigInput> {
  return schedulerUnion("all") as z.ZodType<SchedulerConfig, SchedulerConfigInput>;
}

/** The registered scheduler configs SequentialLR may chain: every per-epoch kind but "sequential". */
export function lrSchedulerConfigSchema(): z.ZodType<LRSchedulerConfig, LRSchedulerConfigInput> {
  return schedulerUnion("chainable") as z.ZodType<LRSchedulerConfig, LRSchedulerConfigInput>;
}

/** The interval of the schedulers a registered kind creates, from its entry ("epoch" unless it says "step"). */
export function schedulerInterval(kind: string): SchedulerInterval {
  ensureBuiltins();
  const entry = schedulers.get(kind);
  if (entry === undefined) throw optimError("schedulerInterval", "kind", "a registered scheduler kind", kind);
  return intervalOf(entry);
}

/**
 * Parses an optimizer config, filling in defaults; throws OptimError with one line such as
 * `<source>: optimizer.momentum: expected a number >= 0, got -1` (without `source`, the line starts at the path).
 */
export function parseOptimizerConfig(input: unknown, source?: string): OptimizerConfig {
  return parseWith(source, "optimizer", optimizerConfigSchema(), input);
}

/** As parseOptimizerConfig, for a scheduler config (paths start at `scheduler`). */
export function parseSchedulerConfig(input: unknown, source?: string): SchedulerConfig {
  return parseWith(source, "scheduler", schedulerConfigSchema(), input);
}

/** Validates `config` against the registered optimizer kinds and builds that optimizer over `params`. */
export function createOptimizer(
  config: OptimizerConfigInput | RegisteredConfig,
  params: Parameter[],
): Optimizer {
  const parsed = parseOptimizerConfig(config);
  return (optimizers.get(parsed.kind) as OptimizerEntry).create(parsed, params);
}

/**
 * Validates `config` against the registered scheduler kinds and builds that scheduler on `optimizer`. `context`
 * (see SchedulerContext) supplies what a "step" scheduler needs from the training loop; the caller then steps
 * the scheduler as its `interval` says.
 */
export function createScheduler(
  config: SchedulerConfigInput | RegisteredConfig,
  optimizer: Optimizer,
  context: SchedulerContext = {},
): Scheduler {
  const parsed = parseSchedulerConfig(config);
  const ctx = parseWith("createScheduler", "context", contextSchema, context);
  const entry = schedulers.get(parsed.kind) as SchedulerEntry;
  const scheduler = entry.create(parsed, optimizer, ctx);
  // the kind's declared interval decides where its configs may appear (not inside "sequential" for "step"),
  // the instance's is what the caller's loop reads: a scheduler from user code must not contradict its entry
  if (scheduler?.interval !== intervalOf(entry)) {
    throw optimError(
      "createScheduler",
      "interval",
      `${JSON.stringify(intervalOf(entry))}, as the entry of ${JSON.stringify(entry.kind)} declares`,
      scheduler?.interval,
    );
  }
  return scheduler;
}
