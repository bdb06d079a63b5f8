import { z } from "zod";
import { isStrictlyIncreasing, positiveInt } from "./bounds.js";
import { describe, optimError, parseWith } from "./errors.js";
import {
  bisectRight,
  checkSchedulerStateHeader,
  LRScheduler,
  type Scheduler,
  type SchedulerStateBase,
} from "./lr-scheduler.js";
import type { Optimizer } from "./optimizer.js";
import {
  createScheduler,
  type LRSchedulerConfig,
  type LRSchedulerConfigInput,
  lrSchedulerConfigSchema,
  type SchedulerEntry,
} from "./registry.js";

/** Epochs at which to switch to the next scheduler (torch checks only their count). */
const milestonesSchema = z
  .array(positiveInt)
  .refine(isStrictlyIncreasing, "expected strictly increasing epochs");

function countRule(o: { milestones: number[]; schedulers: unknown[] }, ctx: z.RefinementCtx): void {
  const want = o.schedulers.length - 1;
  if (o.milestones.length !== want) {
    ctx.addIssue({
      code: "custom",
      path: ["milestones"],
      message: `expected ${want} epoch${want === 1 ? "" : "s"} (one fewer than schedulers), got ${describe(o.milestones)}`,
    });
  }
}

/**
 * `{ kind: "sequential", schedulers: [config, ...], milestones }`; the children are configs of any registered
 * kind but "sequential" (SequentialLR cannot be nested), created in order on the same optimizer.
 */
export const sequentialConfigSchema = z
  .strictObject({
    kind: z.literal("sequential"),
    schedulers: z
      .array(z.lazy((): z.ZodType<LRSchedulerConfig, LRSchedulerConfigInput> => lrSchedulerConfigSchema()))
      .min(1, "expected at least one scheduler"),
    milestones: milestonesSchema,
  })
  .superRefine(countRule);

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
  /** Its milestones are epochs, and so are its children's schedules (a "step" kind cannot be a child). */
  readonly interval = "epoch";
  lastEpoch: number;
  private readonly schedulers: LRScheduler[];
  private milestones: number[];
  private lastLrValue: number[];

  constructor(optimizer: Optimizer, options: SequentialLROptions) {
    const owner = "SequentialLR";
    const { schedulers, milestones } = parseWith(owner, "", optionsSchema, options);
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw optimError(
          owner,
          `schedulers[${i}].optimizer`,
          "the optimizer passed to SequentialLR",
          "another one",
        );
      }
    });
    this.milestones = milestones.slice();
    if (optimizer.initialLr === undefined) throw optimError(owner, "optimizer.initialLr", "set", undefined);
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
    const milestones = parseWith(owner, "stateDict.milestones", milestonesSchema, s.milestones);
    if (milestones.length !== this.schedulers.length - 1) {
      throw optimError(owner, "stateDict.milestones", `${this.schedulers.length - 1} epochs`, milestones);
    }
    const children = s.schedulers;
    if (!Array.isArray(children) || children.length !== this.schedulers.length) {
      throw optimError(
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

/** The class's options: live LRScheduler instances instead of configs, the same milestone rules. */
const optionsSchema = z
  .strictObject({
    schedulers: z
      .array(
        z.custom<LRScheduler>(
          (s) => s instanceof LRScheduler,
          "expected a StepLR/MultiStepLR/ExponentialLR/CosineAnnealingLR/LinearLR (or another LRScheduler)",
        ),
      )
      .min(1, "expected at least one scheduler"),
    milestones: milestonesSchema,
  })
  .superRefine(countRule);

export const sequentialEntry: SchedulerEntry<typeof sequentialConfigSchema> = {
  kind: "sequential",
  schema: sequentialConfigSchema,
  create: (config, optimizer, context) => {
    const children = config.schedulers.map((c) => createScheduler(c, optimizer, context));
    return new SequentialLR(optimizer, {
      schedulers: children as LRScheduler[],
      milestones: config.milestones,
    });
  },
};
