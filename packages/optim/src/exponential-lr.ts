import { z } from "zod";
import { nonNegative } from "./bounds.js";
import { LRScheduler } from "./lr-scheduler.js";
import type { Optimizer } from "./optimizer.js";
import type { SchedulerEntry } from "./registry.js";

/** gamma is required, as in torch. */
const exponentialShape = { gamma: nonNegative };

export const exponentialLROptionsSchema = z.strictObject(exponentialShape);
/** `{ kind: "exponential", gamma }`. */
export const exponentialConfigSchema = z.strictObject({
  kind: z.literal("exponential"),
  ...exponentialShape,
});
export type ExponentialLROptions = z.input<typeof exponentialLROptionsSchema>;

/** torch ExponentialLR: lr = baseLr * gamma^epoch. */
export class ExponentialLR extends LRScheduler {
  gamma = 1;
  protected readonly optionsSchema = exponentialLROptionsSchema;

  constructor(optimizer: Optimizer, options: ExponentialLROptions) {
    super("ExponentialLR", optimizer);
    this.applyOptions(options);
    this.initialStep();
  }

  protected getLr(): number {
    const lr = this.optimizer.lr;
    return this.lastEpoch === 0 ? lr : lr * this.gamma;
  }

  protected closedFormLr(): number {
    return this.baseLrs[0] * this.gamma ** this.lastEpoch;
  }

  protected hyperparameters(): Record<string, unknown> {
    return { gamma: this.gamma };
  }

  protected setHyperparameters(o: z.output<typeof exponentialLROptionsSchema>): void {
    this.gamma = o.gamma;
  }
}

export const exponentialEntry: SchedulerEntry<typeof exponentialConfigSchema> = {
  kind: "exponential",
  schema: exponentialConfigSchema,
  create: ({ kind: _, ...options }, optimizer) => new ExponentialLR(optimizer, options),
};
