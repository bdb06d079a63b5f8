import {
  OptimError,
  requireFiniteNumber,
  requireInClosed,
  requireNonNegative,
  requirePositiveInteger,
} from "./errors.js";
import { bisectRight, LRScheduler } from "./lr-scheduler.js";
import type { Optimizer } from "./optimizer.js";

function optionsObject(owner: string, options: unknown): Record<string, unknown> {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new OptimError(owner, "options", "an object", options);
  }
  return options as Record<string, unknown>;
}

export interface StepLROptions {
  stepSize: number;
  /** Default 0.1. */
  gamma?: number;
}

/** torch StepLR: lr = baseLr * gamma^floor(epoch / stepSize). */
export class StepLR extends LRScheduler {
  stepSize = 1;
  gamma = 0.1;

  constructor(optimizer: Optimizer, options: StepLROptions) {
    super("StepLR", optimizer);
    this.restoreHyperparameters(optionsObject("StepLR", options), "");
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

  protected restoreHyperparameters(s: Record<string, unknown>, prefix: string): void {
    const stepSize = requirePositiveInteger(this.owner, `${prefix}stepSize`, s.stepSize);
    this.gamma = requireNonNegative(this.owner, `${prefix}gamma`, s.gamma ?? 0.1);
    this.stepSize = stepSize;
  }
}

export interface MultiStepLROptions {
  /** Epoch indices, sorted ascending; a repeated milestone decays by gamma once per occurrence (as torch). */
  milestones: number[];
  /** Default 0.1. */
  gamma?: number;
}

/** torch MultiStepLR: lr = baseLr * gamma^(number of milestones <= epoch). */
export class MultiStepLR extends LRScheduler {
  milestones: number[] = [];
  gamma = 0.1;

  constructor(optimizer: Optimizer, options: MultiStepLROptions) {
    super("MultiStepLR", optimizer);
    this.restoreHyperparameters(optionsObject("MultiStepLR", options), "");
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

  protected restoreHyperparameters(s: Record<string, unknown>, prefix: string): void {
    const milestones = s.milestones;
    const field = `${prefix}milestones`;
    if (!Array.isArray(milestones))
      throw new OptimError(this.owner, field, "an array of epoch indices", milestones);
    milestones.forEach((m, i) => {
      if (typeof m !== "number" || !Number.isInteger(m) || m < 0) {
        throw new OptimError(this.owner, `${field}[${i}]`, "a non-negative integer epoch", m);
      }
      if (i > 0 && m < milestones[i - 1]) {
        throw new OptimError(this.owner, field, "sorted in increasing order", milestones);
      }
    });
    this.gamma = requireNonNegative(this.owner, `${prefix}gamma`, s.gamma ?? 0.1);
    this.milestones = milestones.slice();
  }
}

export interface ExponentialLROptions {
  gamma: number;
}

/** torch ExponentialLR: lr = baseLr * gamma^epoch. */
export class ExponentialLR extends LRScheduler {
  gamma = 1;

  constructor(optimizer: Optimizer, options: ExponentialLROptions) {
    super("ExponentialLR", optimizer);
    this.restoreHyperparameters(optionsObject("ExponentialLR", options), "");
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

  protected restoreHyperparameters(s: Record<string, unknown>, prefix: string): void {
    this.gamma = requireNonNegative(this.owner, `${prefix}gamma`, s.gamma);
  }
}

export interface CosineAnnealingLROptions {
  /** Half-period in epochs, a positive integer. */
  tMax: number;
  /** Default 0. */
  etaMin?: number;
}

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

  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    super("CosineAnnealingLR", optimizer);
    this.restoreHyperparameters(optionsObject("CosineAnnealingLR", options), "");
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

  protected restoreHyperparameters(s: Record<string, unknown>, prefix: string): void {
    const tMax = requirePositiveInteger(this.owner, `${prefix}tMax`, s.tMax);
    this.etaMin = requireNonNegative(this.owner, `${prefix}etaMin`, s.etaMin ?? 0);
    this.tMax = tMax;
  }
}

export interface LinearLROptions {
  /** Factor at epoch 0, in (0, 1]; default 1/3. */
  startFactor?: number;
  /** Factor from epoch totalIters on, in [0, 1]; default 1. */
  endFactor?: number;
  /** Default 5. */
  totalIters?: number;
}

/** torch LinearLR: lr = baseLr * (start + (end - start) * min(epoch, totalIters) / totalIters), e.g. warm-up. */
export class LinearLR extends LRScheduler {
  startFactor = 1 / 3;
  endFactor = 1;
  totalIters = 5;

  constructor(optimizer: Optimizer, options: LinearLROptions = {}) {
    super("LinearLR", optimizer);
    this.restoreHyperparameters(optionsObject("LinearLR", options), "");
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

  protected restoreHyperparameters(s: Record<string, unknown>, prefix: string): void {
    const startFactor = requireFiniteNumber(this.owner, `${prefix}startFactor`, s.startFactor ?? 1 / 3);
    // torch 1.13 accepts 0 but then divides by zero at epoch 1; newer torch rejects it too
    if (!(startFactor > 0 && startFactor <= 1)) {
      throw new OptimError(this.owner, `${prefix}startFactor`, "in (0, 1]", startFactor);
    }
    const endFactor = requireInClosed(this.owner, `${prefix}endFactor`, s.endFactor ?? 1, 0, 1);
    const totalIters = requirePositiveInteger(this.owner, `${prefix}totalIters`, s.totalIters ?? 5);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
  }
}
