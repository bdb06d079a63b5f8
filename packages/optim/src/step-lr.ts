import { z } from "zod";
import { nonNegative, positiveInt } from "./bounds.js";
import { LRScheduler } from "./lr-scheduler.js";
import type { Optimizer } from "./optimizer.js";
import type { SchedulerEntry } from "./registry.js";

const stepShape = {
  stepSize: positiveInt,
  /** torch does not check it; a negative gamma would make every other lr negative. */
  gamma: nonNegative.default(0.1),
};

export const stepLROptionsSchema = z.strictObject(stepShape);
/** `{ kind: "step", stepSize, gamma? }`. */
export const stepConfigSchema = z.strictObject({ kind: z.literal("step"), ...stepShape });
export type StepLROptions = z.input<typeof stepLROptionsSchema>;

/** torch StepLR: lr = baseLr * gamma^floor(epoch / stepSize). */
export class StepLR extends LRScheduler {
  stepSize = 1;
  gamma = 0.1;
  protected readonly optionsSchema = stepLROptionsSchema;

  constructor(optimizer: Optimizer, options: StepLROptions) {
    super("StepLR", optimizer);
    this.applyOptions(options);
    this.initialStep();
  }

  protected getLr(): number {
    const lr = this.optimizer.lr;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return lr;
    return lr * this.gamma;
  }

  protected closedFormLr(): number {
    return this.baseLrs[0] * this.gamma ** Math.floor(this.lastEpoch / this.stepSize);
  }

  protected hyperparameters(): Record<string, unknown> {
    return { stepSize: this.stepSize, gamma: this.gamma };
  }

  protected setHyperparameters(o: z.output<typeof stepLROptionsSchema>): void {
    this.stepSize = o.stepSize;
    this.gamma = o.gamma;
  }
}

export const stepEntry: SchedulerEntry<typeof stepConfigSchema> = {
  kind: "step",
  schema: stepConfigSchema,
  create: ({ kind: _, ...options }, optimizer) => new StepLR(optimizer, options),
};
