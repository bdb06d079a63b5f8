import { z } from "zod";
import { positiveInt, unitClosed } from "./bounds.js";
import { LRScheduler } from "./lr-scheduler.js";
import type { Optimizer } from "./optimizer.js";
import type { SchedulerEntry } from "./registry.js";

const linearShape = {
  /** In (0, 1]: torch 1.13 accepts 0 but then divides by zero at epoch 1 (newer torch rejects it too). */
  startFactor: z
    .number()
    .gt(0, "expected a number in (0, 1]")
    .max(1, "expected a number in (0, 1]")
    .default(1 / 3),
  /** In [0, 1], as torch checks. */
  endFactor: unitClosed.default(1),
  totalIters: positiveInt.default(5),
};

export const linearLROptionsSchema = z.strictObject(linearShape);
/** `{ kind: "linear", startFactor?, endFactor?, totalIters? }`. */
export const linearConfigSchema = z.strictObject({ kind: z.literal("linear"), ...linearShape });
export type LinearLROptions = z.input<typeof linearLROptionsSchema>;

/** torch LinearLR: lr = baseLr * (start + (end - start) * min(epoch, totalIters) / totalIters), e.g. warm-up. */
export class LinearLR extends LRScheduler {
  startFactor = 1 / 3;
  endFactor = 1;
  totalIters = 5;
  protected readonly optionsSchema = linearLROptionsSchema;

  constructor(optimizer: Optimizer, options: LinearLROptions = {}) {
    super("LinearLR", optimizer);
    this.applyOptions(options);
    this.initialStep();
  }

  protected getLr(): number {
    const lr = this.optimizer.lr;
    const { startFactor: s, endFactor: f, totalIters: n } = this;
    const e = this.lastEpoch;
    if (e === 0) return lr * s;
    if (e > n) return lr;
    return lr * (1 + (f - s) / (n * s + (e - 1) * (f - s)));
  }

  protected closedFormLr(): number {
    const { startFactor: s, endFactor: f, totalIters: n } = this;
    return this.baseLrs[0] * (s + ((f - s) * Math.min(n, this.lastEpoch)) / n);
  }

  protected hyperparameters(): Record<string, unknown> {
    return { startFactor: this.startFactor, endFactor: this.endFactor, totalIters: this.totalIters };
  }

  protected setHyperparameters(o: z.output<typeof linearLROptionsSchema>): void {
    this.startFactor = o.startFactor;
    this.endFactor = o.endFactor;
    this.totalIters = o.totalIters;
  }
}

export const linearEntry: SchedulerEntry<typeof linearConfigSchema> = {
  kind: "linear",
  schema: linearConfigSchema,
  create: ({ kind: _, ...options }, optimizer) => new LinearLR(optimizer, options),
};
