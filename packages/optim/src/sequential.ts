import { OptimError } from "./errors.js";
import {
  bisectRight,
  checkSchedulerStateHeader,
  LRScheduler,
  type Scheduler,
  type SchedulerStateBase,
} from "./lr-scheduler.js";
import type { Optimizer } from "./optimizer.js";

export interface SequentialLROptions {
  /** Schedulers built on the same optimizer, in order (SequentialLR cannot be nested). */
  schedulers: LRScheduler[];
  /** Epochs at which to switch to the next scheduler: strictly increasing, one fewer than the schedulers. */
  milestones: number[];
}

export interface SequentialLRState extends SchedulerStateBase {
  type: "SequentialLR";
  milestones: number[];
  schedulers: SchedulerStateBase[];
}

/**
 * torch SequentialLR (1.13): construction resets the lr to initialLr, moves every child back one epoch and
 * re-runs the first child's initial step. At a milestone the next child jumps to its epoch 0 with its closed form
 * (torch calls scheduler.step(0)); otherwise the active child steps normally, so e.g. MultiStepLR milestones of a
 * later child count from the switch.
 */
export class SequentialLR implements Scheduler {
  readonly optimizer: Optimizer;
  lastEpoch: number;
  private readonly schedulers: LRScheduler[];
  private milestones: number[];
  private lastLrValue: number[];

  constructor(optimizer: Optimizer, options: SequentialLROptions) {
    const owner = "SequentialLR";
    if (options === null || typeof options !== "object")
      throw new OptimError(owner, "options", "an object", options);
    const { schedulers, milestones } = options;
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      throw new OptimError(owner, "schedulers", "a non-empty array of schedulers", schedulers);
    }
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) {
        throw new OptimError(
          owner,
          `schedulers[${i}]`,
          "a StepLR/MultiStepLR/ExponentialLR/CosineAnnealingLR/LinearLR",
          s,
        );
      }
      if (s.optimizer !== optimizer) {
        throw new OptimError(
          owner,
          `schedulers[${i}].optimizer`,
          "the optimizer passed to SequentialLR",
          "another one",
        );
      }
    });
    this.milestones = checkMilestones(owner, "milestones", milestones, schedulers.length);
    if (optimizer.initialLr === undefined)
      throw new OptimError(owner, "optimizer.initialLr", "set", undefined);
    this.optimizer = optimizer;
    this.schedulers = schedulers.slice();
    this.lastEpoch = 0;
    optimizer.lr = optimizer.initialLr;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0].initialStep();
    this.lastLrValue = this.schedulers[0].getLastLr();
  }

  step(): void {
    this.lastEpoch += 1;
    const idx = bisectRight(this.milestones, this.lastEpoch);
    const scheduler = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) scheduler.stepToEpoch(0);
    else scheduler.step();
    this.lastLrValue = scheduler.getLastLr();
  }

  getLastLr(): number[] {
    return this.lastLrValue.slice();
  }

  stateDict(): SequentialLRState {
    return {
      type: "SequentialLR",
      lastEpoch: this.lastEpoch,
      lastLr: this.lastLrValue.slice(),
      milestones: this.milestones.slice(),
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  loadStateDict(state: unknown): void {
    const owner = "SequentialLR";
    const s = checkSchedulerStateHeader(owner, state);
    const milestones = checkMilestones(owner, "stateDict.milestones", s.milestones, this.schedulers.length);
    const children = s.schedulers;
    if (!Array.isArray(children) || children.length !== this.schedulers.length) {
      throw new OptimError(
        owner,
        "stateDict.schedulers",
        `an array of ${this.schedulers.length} states`,
        children,
      );
    }
    // children validate themselves; load into them only after all have been checked by a dry run on copies
    this.schedulers.forEach((child, i) => {
      const snapshot = child.stateDict();
      try {
        child.loadStateDict(children[i]);
      } finally {
        child.loadStateDict(snapshot);
      }
    });
    this.schedulers.forEach((child, i) => {
      child.loadStateDict(children[i]);
    });
    this.milestones = milestones;
    this.lastEpoch = s.lastEpoch as number;
    this.lastLrValue = (s.lastLr as number[]).slice();
  }
}

function checkMilestones(
  owner: string,
  field: string,
  milestones: unknown,
  schedulerCount: number,
): number[] {
  if (!Array.isArray(milestones) || milestones.length !== schedulerCount - 1) {
    throw new OptimError(
      owner,
      field,
      `an array of ${schedulerCount - 1} epochs (one fewer than schedulers)`,
      milestones,
    );
  }
  milestones.forEach((m, i) => {
    if (typeof m !== "number" || !Number.isInteger(m) || m <= 0) {
      throw new OptimError(owner, `${field}[${i}]`, "a positive integer epoch", m);
    }
    if (i > 0 && m <= milestones[i - 1])
      throw new OptimError(owner, field, "strictly increasing", milestones);
  });
  return milestones.slice();
}
