import { z } from "zod";
import { nonNegative, positiveInt } from "./bounds.js";
import { LRScheduler } from "./lr-scheduler.js";
import type { Optimizer } from "./optimizer.js";
import type { SchedulerEntry } from "./registry.js";

const cosineShape = {
  /** Half-period in epochs. torch does not check it; tMax 0 divides by zero. */
  tMax: positiveInt,
  etaMin: nonNegative.default(0),
};

export const cosineAnnealingLROptionsSchema = z.strictObject(cosineShape);
/** `{ kind: "cosine", tMax, etaMin? }`. */
export const cosineConfigSchema = z.strictObject({ kind: z.literal("cosine"), ...cosineShape });
export type CosineAnnealingLROptions = z.input<typeof cosineAnnealingLROptionsSchema>;

/**
 * torch CosineAnnealingLR. The lr it outputs comes from the recursive form
 *   lr_e = (1 + cos(pi e / T)) / (1 + cos(pi (e-1) / T)) * (lr_{e-1} - etaMin) + etaMin
 * (with torch's special case at e = T+1 mod 2T), which equals the documented closed form
 * etaMin + (base - etaMin)(1 + cos(pi e / T))/2 up to rounding (measured: <= 2e-14 relative over 80 epochs).
 * Past tMax the lr rises again (the cosine continues), exactly as torch.
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax = 1;
  etaMin = 0;
  protected readonly optionsSchema = cosineAnnealingLROptionsSchema;

  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    super("CosineAnnealingLR", optimizer);
    this.applyOptions(options);
    this.initialStep();
  }

  protected getLr(): number {
    const e = this.lastEpoch;
    const { tMax, etaMin } = this;
    const lr = this.optimizer.lr;
    const base = this.baseLrs[0];
    if (e === 0) return lr;
    if (this.stepCount === 1 && e > 0)
      return etaMin + ((base - etaMin) * (1 + Math.cos((e * Math.PI) / tMax))) / 2;
    // JS % keeps the sign of the dividend, Python's does not, but both are zero for the same values
    if ((e - 1 - tMax) % (2 * tMax) === 0) return lr + ((base - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2;
    return (
      ((1 + Math.cos((Math.PI * e) / tMax)) / (1 + Math.cos((Math.PI * (e - 1)) / tMax))) * (lr - etaMin) +
      etaMin
    );
  }

  protected closedFormLr(): number {
    const base = this.baseLrs[0];
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2;
  }

  protected hyperparameters(): Record<string, unknown> {
    return { tMax: this.tMax, etaMin: this.etaMin };
  }

  protected setHyperparameters(o: z.output<typeof cosineAnnealingLROptionsSchema>): void {
    this.tMax = o.tMax;
    this.etaMin = o.etaMin;
  }
}

export const cosineEntry: SchedulerEntry<typeof cosineConfigSchema> = {
  kind: "cosine",
  schema: cosineConfigSchema,
  create: ({ kind: _, ...options }, optimizer) => new CosineAnnealingLR(optimizer, options),
};
