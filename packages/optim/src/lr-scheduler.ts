import { z } from "zod";
import { lrSchema, nonNegativeInt, pickFields } from "./bounds.js";
import { optimError, parseWith } from "./errors.js";
import { Optimizer } from "./optimizer.js";

const lrList = z.tuple([lrSchema], { error: "expected an array of one lr" });
const lastEpochSchema = z.number().int("expected an integer >= -1").min(-1, "expected an integer >= -1");

/**
 * When a scheduler's step() is called, as in PyTorch: "epoch", once after each epoch's optimizer steps (every
 * scheduler but OneCycleLR); "step", after every optimizer step (OneCycleLR, whose schedule counts batches).
 */
export type SchedulerInterval = "step" | "epoch";

/** What every scheduler offers (LRScheduler subclasses, SequentialLR and OneCycleLR). */
export interface Scheduler {
  readonly optimizer: Optimizer;
  /** Whether step() follows every optimizer step or every epoch; the caller's loop must honour it. */
  readonly interval: SchedulerInterval;
  /**
   * For a "step" scheduler: the step() calls its schedule has after construction (one more throws, as in torch).
   * Undefined for "epoch" schedulers, which can be stepped forever.
   */
  readonly totalSteps?: number;
  /** Advance one interval (see `interval`), after that interval's optimizer steps, as in PyTorch. */
  step(): void;
  /** The lr set by the most recent step (or by construction), one entry per parameter group (here always one). */
  getLastLr(): number[];
  stateDict(): SchedulerStateBase;
  loadStateDict(state: unknown): void;
}

export interface SchedulerStateBase {
  type: string;
  lastEpoch: number;
  lastLr: number[];
}

export interface LRSchedulerState extends SchedulerStateBase {
  baseLrs: number[];
  stepCount: number;
}

/**
 * torch.optim.lr_scheduler._LRScheduler (1.13) for one parameter group. On construction the optimizer's
 * `initialLr` is set to its current lr if no scheduler did so before, `baseLrs = [initialLr]`, and one step is
 * taken to epoch 0. step() then applies the chainable (recursive) form getLr(), exactly as torch does, so lrs
 * match torch's output including its rounding; closedFormLr() is used only when jumping to an epoch (SequentialLR).
 * Subclasses parse their options with their options schema (the same one their config schema is built from and
 * their state dicts are checked with), then call initialStep() at the end of their constructor.
 */
export abstract class LRScheduler implements Scheduler {
  readonly optimizer: Optimizer;
  /** Every torch LRScheduler of this package counts epochs; a per-batch subclass overrides it with "step". */
  readonly interval: SchedulerInterval = "epoch";
  lastEpoch = -1;
  baseLrs: number[];
  /** torch's _step_count: number of step() calls including the initial one (CosineAnnealingLR reads it). */
  protected stepCount = 0;
  private lastLrValue: number[] = [];
  protected readonly owner: string;

  protected constructor(owner: string, optimizer: Optimizer) {
    this.owner = owner;
    if (!(optimizer instanceof Optimizer)) {
      throw optimError(owner, "optimizer", "an Optimizer from @nabla/optim", optimizer);
    }
    this.optimizer = optimizer;
    if (optimizer.initialLr === undefined) optimizer.initialLr = optimizer.lr;
    this.baseLrs = [optimizer.initialLr];
  }

  /** Chainable form: the next lr computed from the optimizer's current lr and lastEpoch (already advanced). */
  protected abstract getLr(): number;
  /** Closed form at lastEpoch, from baseLrs. */
  protected abstract closedFormLr(): number;
  /** The scheduler's own hyperparameters, as stored in stateDict(). */
  protected abstract hyperparameters(): Record<string, unknown>;
  /** The options schema: validates constructor options and the hyperparameters of a state dict alike. */
  protected abstract readonly optionsSchema: z.ZodObject;
  /** Applies options parsed by `optionsSchema`. */
  protected abstract setHyperparameters(options: Record<string, unknown>): void;

  /** Parses constructor options (unknown fields are errors) and applies them. */
  protected applyOptions(options: unknown): void {
    this.setHyperparameters(parseWith(this.owner, "", this.optionsSchema, options));
  }

  /** torch's _initial_step(): reset the step count and step to epoch 0. Also used by SequentialLR. */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  step(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    this.apply(this.getLr());
  }

  /** torch's deprecated step(epoch): jump to `epoch` using the closed form. SequentialLR uses stepToEpoch(0). */
  stepToEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0)
      throw optimError(this.owner, "epoch", "an integer >= 0", epoch);
    this.stepCount += 1;
    this.lastEpoch = epoch;
    this.apply(this.closedFormLr());
  }

  getLastLr(): number[] {
    return this.lastLrValue.slice();
  }

  stateDict(): LRSchedulerState {
    return {
      type: this.owner,
      lastEpoch: this.lastEpoch,
      stepCount: this.stepCount,
      baseLrs: this.baseLrs.slice(),
      lastLr: this.lastLrValue.slice(),
      ...this.hyperparameters(),
    };
  }

  loadStateDict(state: unknown): void {
    const s = checkSchedulerStateHeader(this.owner, state);
    const stepCount = parseWith(this.owner, "stateDict.stepCount", nonNegativeInt, s.stepCount);
    const baseLrs = parseWith(this.owner, "stateDict.baseLrs", lrList, s.baseLrs);
    const schema = this.optionsSchema;
    this.setHyperparameters(parseWith(this.owner, "stateDict", schema, pickFields(schema, s)));
    this.lastEpoch = s.lastEpoch as number;
    this.stepCount = stepCount;
    this.baseLrs = baseLrs.slice();
    this.lastLrValue = (s.lastLr as number[]).slice();
  }

  private apply(lr: number): void {
    // Validated options make every schedule mathematically >= 0, but the recursive forms can round to a tiny
    // negative value (LinearLR decaying to endFactor 0 gives -8.9e-24 where torch would pass that on); clamp it.
    this.optimizer.lr = Math.max(0, lr);
    this.lastLrValue = [this.optimizer.lr];
  }
}

export function checkSchedulerStateHeader(owner: string, state: unknown): Record<string, unknown> {
  if (state === null || typeof state !== "object" || Array.isArray(state)) {
    throw optimError(owner, "stateDict", "an object produced by stateDict()", state);
  }
  const s = state as Record<string, unknown>;
  if (s.type !== owner) throw optimError(owner, "stateDict.type", JSON.stringify(owner), s.type);
  parseWith(owner, "stateDict.lastEpoch", lastEpochSchema, s.lastEpoch);
  parseWith(owner, "stateDict.lastLr", lrList, s.lastLr);
  return s;
}

/** Python's bisect.bisect_right on a sorted array: the number of elements <= x. */
export function bisectRight(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x < sorted[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
