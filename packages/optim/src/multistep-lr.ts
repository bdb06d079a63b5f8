import { z } from "zod";
import { isNonDecreasing, nonNegative, nonNegativeInt } from "./bounds.js";
import { bisectRight, LRScheduler } from "./lr-scheduler.js";
import type { Optimizer } from "./optimizer.js";
import type { SchedulerEntry } from "./registry.js";

const multiStepShape = {
  /**
   * Epoch indices in non-decreasing order. torch keeps a Counter, so a repeated milestone decays by gamma once
   * per occurrence (a committed fixture checks that). torch also accepts an unsorted list; it is rejected here
   * as the likely typo it is, and because the closed form (SequentialLR's jump) bisects the list. May be empty.
   */
  milestones: z.array(nonNegativeInt).refine(isNonDecreasing, "expected epochs in non-decreasing order"),
  gamma: nonNegative.default(0.1),
};

export const multiStepLROptionsSchema = z.strictObject(multiStepShape);
/** `{ kind: "multistep", milestones, gamma? }`. */
export const multistepConfigSchema = z.strictObject({ kind: z.literal("multistep"), ...multiStepShape });
export type MultiStepLROptions = z.input<typeof multiStepLROptionsSchema>;

/** torch MultiStepLR: lr = baseLr * gamma^(number of milestones <= epoch). */
export class MultiStepLR extends LRScheduler {
  milestones: number[] = [];
  gamma = 0.1;
  protected readonly optionsSchema = multiStepLROptionsSchema;

  constructor(optimizer: Optimizer, options: MultiStepLROptions) {
    super("MultiStepLR", optimizer);
    this.applyOptions(options);
    this.initialStep();
  }

  protected getLr(): number {
    const lr = this.optimizer.lr;
    // torch keeps a Counter of milestones and multiplies by gamma^count at a milestone epoch
    let count = 0;
    for (const m of this.milestones) if (m === this.lastEpoch) count++;
    return count === 0 ? lr : lr * this.gamma ** count;
  }

  protected closedFormLr(): number {
    return this.baseLrs[0] * this.gamma ** bisectRight(this.milestones, this.lastEpoch);
  }

  protected hyperparameters(): Record<string, unknown> {
    return { milestones: this.milestones.slice(), gamma: this.gamma };
  }

  protected setHyperparameters(o: z.output<typeof multiStepLROptionsSchema>): void {
    this.milestones = o.milestones.slice();
    this.gamma = o.gamma;
  }
}

export const multistepEntry: SchedulerEntry<typeof multistepConfigSchema> = {
  kind: "multistep",
  schema: multistepConfigSchema,
  create: ({ kind: _, ...options }, optimizer) => new MultiStepLR(optimizer, options),
};
