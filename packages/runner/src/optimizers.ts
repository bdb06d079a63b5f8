import {
  Adam,
  AdamW,
  CosineAnnealingLR,
  ExponentialLR,
  LinearLR,
  MultiStepLR,
  SGD,
  StepLR,
} from "@nabla/optim";
import type { OptimParam } from "./models.js";
import type { ExperimentSpec } from "./spec.js";

/** What the loop needs from an optimizer: one update from the current gradients, and the current lr. */
export interface OptimizerLike {
  step(): void;
  lr: number;
}

/** What the loop needs from a scheduler: stepped once after every epoch. */
export interface SchedulerLike {
  step(): void;
}

export function buildOptimizer(spec: ExperimentSpec, params: OptimParam[]): OptimizerLike {
  const o = spec.optimizer;
  switch (o.kind) {
    case "sgd":
      return new SGD(params, {
        lr: spec.lr,
        momentum: o.momentum,
        dampening: o.dampening,
        nesterov: o.nesterov,
        weightDecay: o.weightDecay,
      });
    case "adam":
      return new Adam(params, {
        lr: spec.lr,
        betas: o.betas,
        eps: o.eps,
        weightDecay: o.weightDecay,
        amsgrad: o.amsgrad,
      });
    case "adamw":
      return new AdamW(params, {
        lr: spec.lr,
        betas: o.betas,
        eps: o.eps,
        weightDecay: o.weightDecay,
        amsgrad: o.amsgrad,
      });
  }
}

/** The spec's scheduler on `optimizer`, or undefined for a constant lr. */
export function buildScheduler(spec: ExperimentSpec, optimizer: OptimizerLike): SchedulerLike | undefined {
  const s = spec.scheduler;
  if (s === undefined) return undefined;
  // The optim schedulers take the concrete optimizer classes; every one built above qualifies.
  const opt = optimizer as SGD;
  switch (s.kind) {
    case "step":
      return new StepLR(opt, { stepSize: s.stepSize, gamma: s.gamma });
    case "multistep":
      return new MultiStepLR(opt, { milestones: s.milestones, gamma: s.gamma });
    case "exponential":
      return new ExponentialLR(opt, { gamma: s.gamma });
    case "cosine":
      return new CosineAnnealingLR(opt, { tMax: s.tMax, etaMin: s.etaMin });
    case "linear":
      return new LinearLR(opt, {
        startFactor: s.startFactor,
        endFactor: s.endFactor,
        totalIters: s.totalIters,
      });
  }
}
