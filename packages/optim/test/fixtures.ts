// Loads the committed PyTorch fixtures (written by fixtures/make-fixtures.py) and builds optimizers/schedulers
// from their JSON specs. Shared by the fixture, float32 and resume tests.
import { readFileSync } from "node:fs";
import {
  Adam,
  type AdamOptions,
  AdamW,
  CosineAnnealingLR,
  ExponentialLR,
  LinearLR,
  type LRScheduler,
  MultiStepLR,
  type Optimizer,
  type ParamLike,
  type Scheduler,
  SequentialLR,
  SGD,
  type SGDOptions,
  StepLR,
} from "../src/index.js";

export interface ProblemParam {
  name: string;
  init: number[];
  curvature: number[];
  target: number[];
}

export interface OptimizerCase {
  name: string;
  optimizer: "SGD" | "Adam" | "AdamW";
  options: Record<string, unknown>;
  schedule?: SchedulerSpec;
  params: Record<string, number[]>[];
  grads?: Record<string, number[]>[];
  lrs?: number[];
}

export interface OptimizerFixture {
  torchVersion: string;
  steps: number;
  problem: { sinAmplitude: number; sinFrequency: number; params: ProblemParam[] };
  cases: OptimizerCase[];
  float32Cases: OptimizerCase[];
}

export interface SchedulerSpec {
  type: string;
  [key: string]: unknown;
}

export interface SchedulerFixture {
  torchVersion: string;
  epochs: number;
  cases: { name: string; baseLr: number; scheduler: SchedulerSpec; lrs: number[] }[];
  cosineRecursiveVsClosedForm: { case: string; maxRelativeDifferenceRecursiveVsClosedForm: number }[];
}

function loadJson<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${file}`, import.meta.url), "utf8")) as T;
}

export const optimizerFixture = loadJson<OptimizerFixture>("optimizers.json");
export const schedulerFixture = loadJson<SchedulerFixture>("schedulers.json");

/** The fixture problem as ParamLike arrays of the given dtype, initialised from the fixture. */
export function makeProblemParams(dtype: "float32" | "float64"): ParamLike[] {
  const Ctor = dtype === "float32" ? Float32Array : Float64Array;
  return optimizerFixture.problem.params.map((p) => ({
    name: p.name,
    value: Ctor.from(p.init),
    grad: new Ctor(p.init.length),
  }));
}

/** g_i = c_i (p_i - t_i) + A sin(w p_i), in the same operation order as the Python script. */
export function computeProblemGrads(params: ParamLike[]): void {
  const { sinAmplitude: A, sinFrequency: w } = optimizerFixture.problem;
  params.forEach((p, k) => {
    const spec = optimizerFixture.problem.params[k];
    for (let i = 0; i < p.value.length; i++) {
      const x = p.value[i];
      p.grad[i] = spec.curvature[i] * (x - spec.target[i]) + A * Math.sin(w * x);
    }
  });
}

export function makeOptimizer(
  kind: string,
  params: ParamLike[],
  options: Record<string, unknown>,
): Optimizer {
  if (kind === "SGD") return new SGD(params, options as unknown as SGDOptions);
  if (kind === "Adam") return new Adam(params, options as AdamOptions);
  if (kind === "AdamW") return new AdamW(params, options as AdamOptions);
  throw new Error(`unknown optimizer ${kind}`);
}

export function makeScheduler(optimizer: Optimizer, spec: SchedulerSpec): Scheduler {
  const o = spec as never;
  switch (spec.type) {
    case "StepLR":
      return new StepLR(optimizer, o);
    case "MultiStepLR":
      return new MultiStepLR(optimizer, o);
    case "ExponentialLR":
      return new ExponentialLR(optimizer, o);
    case "CosineAnnealingLR":
      return new CosineAnnealingLR(optimizer, o);
    case "LinearLR":
      return new LinearLR(optimizer, o);
    case "SequentialLR": {
      const children = (spec.schedulers as SchedulerSpec[]).map(
        (c) => makeScheduler(optimizer, c) as LRScheduler,
      );
      return new SequentialLR(optimizer, { schedulers: children, milestones: spec.milestones as number[] });
    }
    default:
      throw new Error(`unknown scheduler ${spec.type}`);
  }
}

/** |a - b| / |b|, with 0 when both are exactly equal (so exact zeros compare fine). */
export function relativeError(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.abs(b);
}
