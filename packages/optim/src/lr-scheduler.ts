import { OptimError, requireFiniteNumber } from "./errors.js";
import { Optimizer } from "./optimizer.js";

/** What every scheduler offers (LRScheduler subclasses and SequentialLR). */
export interface Scheduler {
  readonly optimizer: Optimizer;
  /** Advance one epoch; call once per epoch after that epoch's optimizer steps, as in PyTorch. */
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
 * Subclasses validate their options, then call initialStep() at the end of their constructor.
 */
export abstract class LRScheduler implements Scheduler {
  readonly optimizer: Optimizer;
  lastEpoch = -1;
  baseLrs: number[];
  /** torch's _step_count: number of step() calls including the initial one (CosineAnnealingLR reads it). */
  protected stepCount = 0;
  private lastLrValue: number[] = [];
  protected readonly owner: string;

  protected constructor(owner: string, optimizer: Optimizer) {
    this.owner = owner;
    if (!(optimizer instanceof Optimizer)) {
      throw new OptimError(owner, "optimizer", "an SGD, Adam or AdamW instance from @nabla/optim", optimizer);
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
  /** Validates and applies hyperparameters read from a state dict (field names prefixed with `prefix`). */
  protected abstract restoreHyperparameters(state: Record<string, unknown>, prefix: string): void;

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
      throw new OptimError(this.owner, "epoch", "a non-negative integer", epoch);
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
    const stepCount = s.stepCount;
    if (typeof stepCount !== "number" || !Number.isInteger(stepCount) || stepCount < 0) {
      throw new OptimError(this.owner, "stateDict.stepCount", "a non-negative integer", stepCount);
    }
    const baseLrs = requireLrList(this.owner, "stateDict.baseLrs", s.baseLrs);
    this.restoreHyperparameters(s, "stateDict.");
    this.lastEpoch = s.lastEpoch as number;
    this.stepCount = stepCount;
    this.baseLrs = baseLrs;
    this.lastLrValue = (s.lastLr as number[]).slice();
  }

  private apply(lr: number): void {
    // Validated options make every schedule mathematically >= 0, but the recursive forms can round to a tiny
    // negative value (LinearLR decaying to endFactor 0 gives -8.9e-24 where torch would pass that on); clamp it.
    this.optimizer.lr = Math.max(0, lr);
    this.lastLrValue = [this.optimizer.lr];
  }
}

function requireLrList(owner: string, field: string, value: unknown): number[] {
  if (!Array.isArray(value) || value.length !== 1)
    throw new OptimError(owner, field, "an array of one lr", value);
  return [requireFiniteNumber(owner, `${field}[0]`, value[0])];
}

export function checkSchedulerStateHeader(owner: string, state: unknown): Record<string, unknown> {
  if (state === null || typeof state !== "object" || Array.isArray(state)) {
    throw new OptimError(owner, "stateDict", "an object produced by stateDict()", state);
  }
  const s = state as Record<string, unknown>;
  if (s.type !== owner) throw new OptimError(owner, "stateDict.type", JSON.stringify(owner), s.type);
  if (typeof s.lastEpoch !== "number" || !Number.isInteger(s.lastEpoch) || s.lastEpoch < -1) {
    throw new OptimError(owner, "stateDict.lastEpoch", "an integer >= -1", s.lastEpoch);
  }
  requireLrList(owner, "stateDict.lastLr", s.lastLr);
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
