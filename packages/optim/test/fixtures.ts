// Loads the committed PyTorch fixtures (written by fixtures/make-fixtures.py) and builds optimizers/schedulers
// from their JSON specs. Shared by the fixture, float32 and resume tests.
import { readFileSync } from "node:fs";
import { type FloatArray, fromTypedArray, type Parameter } from "@nabla/ndarray";
import { createOptimizer, createScheduler, type Optimizer, type Scheduler } from "../src/index.js";

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

/** fixtures/one-cycle.json: OneCycleLR schedules step by step, and optimizer trajectories under it. */
export interface OneCycleFixture {
  torchVersion: string;
  schedules: {
    name: string;
    optimizer: "SGD" | "Adam";
    options: Record<string, unknown>;
    scheduler: SchedulerSpec;
    initialLr: number;
    totalSteps: number;
    lrs: number[];
    momenta: number[];
    stepBeyondError: string;
  }[];
  trajectories: (OptimizerCase & { schedule: SchedulerSpec; lrs: number[]; momenta: number[] })[];
}

function loadJson<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${file}`, import.meta.url), "utf8")) as T;
}

export const optimizerFixture = loadJson<OptimizerFixture>("optimizers.json");
export const schedulerFixture = loadJson<SchedulerFixture>("schedulers.json");
export const oneCycleFixture = loadJson<OneCycleFixture>("one-cycle.json");

/** A 1-D Parameter over `value` with a zero gradient of the same dtype (or over `grad` when given). */
export function param(name: string, value: FloatArray, grad?: FloatArray): Parameter {
  const g =
    grad ?? (value instanceof Float32Array ? new Float32Array(value.length) : new Float64Array(value.length));
  return { name, value: fromTypedArray(value, [value.length]), grad: fromTypedArray(g, [g.length]) };
}

/** The fixture problem as Parameters of the given dtype, initialised from the fixture. */
export function makeProblemParams(dtype: "float32" | "float64"): Parameter[] {
  const Ctor = dtype === "float32" ? Float32Array : Float64Array;
  return optimizerFixture.problem.params.map((p) => param(p.name, Ctor.from(p.init)));
}

/** g_i = c_i (p_i - t_i) + A sin(w p_i), in the same operation order as the Python script. */
export function computeProblemGrads(params: Parameter[]): void {
  const { sinAmplitude: A, sinFrequency: w } = optimizerFixture.problem;
  params.forEach((p, k) => {
    const spec = optimizerFixture.problem.params[k];
    const value = p.value.data;
    const grad = p.grad.data;
    for (let i = 0; i < value.length; i++) {
      const x = value[i];
      grad[i] = spec.curvature[i] * (x - spec.target[i]) + A * Math.sin(w * x);
    }
  });
}

/** The fixtures name torch's classes; the configs name kinds. */
const OPTIMIZER_KINDS: Record<string, string> = { SGD: "sgd", Adam: "adam", AdamW: "adamw" };
const SCHEDULER_KINDS: Record<string, string> = {
  StepLR: "step",
  MultiStepLR: "multistep",
  ExponentialLR: "exponential",
  CosineAnnealingLR: "cosine",
  LinearLR: "linear",
  SequentialLR: "sequential",
  OneCycleLR: "onecycle",
};

/** The fixture's optimizer, built through its config (createOptimizer), as the runner builds it. */
export function makeOptimizer(
  type: string,
  params: Parameter[],
  options: Record<string, unknown>,
): Optimizer {
  const kind = OPTIMIZER_KINDS[type];
  if (kind === undefined) throw new Error(`unknown optimizer ${type}`);
  return createOptimizer({ kind, ...options }, params);
}

/** A fixture scheduler spec ({ type: "StepLR", ... }) as a config ({ kind: "step", ... }), children included. */
export function schedulerConfig(spec: SchedulerSpec): { kind: string; [field: string]: unknown } {
  const { type, ...options } = spec;
  const kind = SCHEDULER_KINDS[type];
  if (kind === undefined) throw new Error(`unknown scheduler ${type}`);
  if (kind !== "sequential") return { kind, ...options };
  return { kind, ...options, schedulers: (spec.schedulers as SchedulerSpec[]).map(schedulerConfig) };
}

export function makeScheduler(optimizer: Optimizer, spec: SchedulerSpec): Scheduler {
  return createScheduler(schedulerConfig(spec), optimizer);
}

/** |a - b| / |b|, with 0 when both are exactly equal (so exact zeros compare fine). */
export function relativeError(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.abs(b);
}
