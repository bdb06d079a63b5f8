/**
 * Realistic fixture results for the report test: the shapes the runner writes (validated with its zod
 * schema), numbers shaped like a real CIFAR-10 run (loss from ~1.9 to ~1.3, accuracy 0.40–0.50,
 * 351 steps per epoch, the two largest learning rates diverging). Generated, deterministic.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  parseSpec,
  RESULTS_SCHEMA_VERSION,
  type Results,
  resultsDigest,
  resultsSchema,
  TASK_RESULTS_SCHEMA_VERSION,
  taskResultsDigest,
} from "@nabla/runner";
import type { CrossCheckResult } from "../src/crosscheck.js";

/** Small deterministic generator (an LCG is plenty for fixture noise). */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

const STEPS = 351;

interface RunShape {
  name: string;
  spec: Record<string, unknown>;
  trainLoss: number[];
  valAccuracy: number[];
  lr: number[];
  divergedAtEpoch?: number;
  testAccuracy: number | null;
  lastTestAccuracy: number | null;
  seed: number;
}

function makeResults(shape: RunShape): Results {
  const rand = noise(shape.seed);
  const epochs = shape.trainLoss.length;
  const perStep: (number | null)[] = [];
  shape.trainLoss.forEach((mean, e) => {
    const prev = e === 0 ? Math.max(mean, 2.35) : shape.trainLoss[e - 1];
    for (let i = 0; i < STEPS; i++) perStep.push(prev + ((mean - prev) * (i + 1)) / STEPS + 0.15 * rand());
  });
  if (shape.divergedAtEpoch !== undefined) {
    const start = perStep.length === 0 ? 2.4 : (perStep[perStep.length - 1] as number);
    for (let i = 0; i < 40; i++) perStep.push(start * 1.6 ** i);
    perStep.push(null);
  }
  const valLoss = shape.valAccuracy.map((a, i) => 1.95 - 1.1 * (a - 0.4) + 0.02 * i);
  const bestEpoch = epochs === 0 ? null : shape.valAccuracy.indexOf(Math.max(...shape.valAccuracy)) + 1;
  const results = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    name: shape.name,
    cacheKey: "0123456789abcdef".repeat(4),
    spec: parseSpec({ name: shape.name, ...shape.spec }),
    environment: {
      node: "v20.20.2",
      platform: "linux",
      arch: "x64",
      cpu: "AMD EPYC (fixture)",
      gemm: { kernel: "wasm", simd: true, threads: 1 },
      packages: { "@nabla/nn": "0.1.0" },
      ...((shape.spec.model as { kind?: string } | undefined)?.kind === "mlp-tfjs"
        ? { tfjsBackend: "wasm" }
        : {}),
    },
    status: shape.divergedAtEpoch === undefined ? "ok" : "diverged",
    metrics: {
      trainLoss: shape.trainLoss,
      trainLossPerStep: perStep,
      trainLossPerStepStride: 1,
      stepsPerEpoch: STEPS,
      valAccuracy: shape.valAccuracy,
      valLoss,
      lr: shape.lr,
      testAccuracy: shape.testAccuracy,
      testLoss: shape.testAccuracy === null ? null : 1.5,
      bestEpoch,
      lastTestAccuracy: shape.lastTestAccuracy,
      lastTestLoss: shape.lastTestAccuracy === null ? null : 1.52,
      ...(shape.divergedAtEpoch === undefined ? {} : { divergedAtEpoch: shape.divergedAtEpoch }),
    },
    timings: {
      startedAt: "2026-11-26T23:00:00.000Z",
      setupSeconds: 1.25,
      epochSeconds: shape.trainLoss.map((_, i) => 4.5 + 0.01 * i),
      testSeconds: 0.4,
      totalSeconds: 1.65 + shape.trainLoss.reduce((s, _, i) => s + 4.5 + 0.01 * i, 0),
    },
  };
  // The digest is computed as the runner's writeResults does, so the fixture passes loadResults' check.
  return resultsSchema.parse({
    ...results,
    digest: resultsDigest(results as Parameters<typeof resultsDigest>[0]),
  });
}

const Q3_LOSS = [1.8862, 1.5601, 1.4877, 1.4451, 1.4139, 1.3829, 1.3474, 1.3381, 1.3072, 1.2831];
const Q3_VAL = [0.4244, 0.4672, 0.4586, 0.482, 0.4911, 0.4588, 0.4648, 0.4638, 0.4833, 0.4726];

export const SWEEP_LRS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100];

export interface Fixture {
  q3: Results;
  q4a: Results;
  q4bii: Results;
  sweep: Results[];
  crossCheck: CrossCheckResult;
}

export function makeFixture(): Fixture {
  const tenLr = (lr: number) => Array.from({ length: 10 }, () => lr);
  const q3 = makeResults({
    name: "q3",
    spec: {},
    trainLoss: Q3_LOSS,
    valAccuracy: Q3_VAL,
    lr: tenLr(0.1),
    testAccuracy: 0.4817,
    lastTestAccuracy: 0.4702,
    seed: 1,
  });
  const q4a = makeResults({
    name: "q4a",
    spec: { model: { kind: "mlp-tfjs" } },
    trainLoss: Q3_LOSS.map((l, i) => l + 0.0004 * i),
    valAccuracy: Q3_VAL.map((a, i) => a - 0.0006 * (i % 3)),
    lr: tenLr(0.1),
    testAccuracy: 0.4809,
    lastTestAccuracy: 0.4695,
    seed: 2,
  });
  const q4bii = makeResults({
    name: "q4b-ii",
    spec: { scheduler: { kind: "multistep", milestones: [5, 8], gamma: 0.1 } },
    trainLoss: [1.8862, 1.5601, 1.4877, 1.4451, 1.4139, 1.2905, 1.2702, 1.2597, 1.2449, 1.2431],
    valAccuracy: [0.4244, 0.4672, 0.4586, 0.482, 0.4911, 0.5162, 0.5188, 0.5204, 0.5226, 0.5222],
    lr: [0.1, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001],
    testAccuracy: 0.5123,
    lastTestAccuracy: 0.5119,
    seed: 3,
  });
  const sweep = SWEEP_LRS.map((lr, k) => {
    const diverged = lr >= 10;
    const quality = [0.11, 0.16, 0.28, 0.39, 0.452, 0.4911, 0.3155][k] ?? 0;
    return makeResults({
      name: `q4b-iii-lr=${lr}`,
      spec: { lr },
      trainLoss: diverged
        ? []
        : Array.from(
            { length: 10 },
            (_, i) => 2.3 - (2.3 - (2.3 - 1.3 * quality * 2)) * (1 - Math.exp(-(i + 1) / 3)),
          ),
      valAccuracy: diverged ? [] : Array.from({ length: 10 }, (_, i) => quality * (0.8 + 0.02 * i)),
      lr: diverged ? [] : tenLr(lr),
      ...(diverged ? { divergedAtEpoch: 1 } : {}),
      testAccuracy: diverged ? null : quality * 0.97,
      lastTestAccuracy: diverged ? null : quality * 0.96,
      seed: 10 + k,
    });
  });
  const crossCheck: CrossCheckResult = {
    maxParamRelDiffAfterOneStep: 3.1e-7,
    maxLossRelDiffOver20Steps: 8.4e-7,
    maxParamRelDiffAfterAllSteps: 1.9e-6,
    steps: 20,
    batchSize: 128,
    dims: [3072, 128, 10],
    lr: 0.01,
    seed: 0,
    backend: "wasm",
    lossesNabla: [2.4187, 2.3912],
    lossesTfjs: [2.4187, 2.3912],
  };
  return { q3, q4a, q4bii, sweep, crossCheck };
}

/** Writes the fixture as results files (the names the report expects). */
export function writeFixture(dir: string, fixture: Fixture, skip: string[] = []): void {
  mkdirSync(dir, { recursive: true });
  const write = (name: string, value: unknown) => {
    if (!skip.includes(name)) writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(value, null, 2)}\n`);
  };
  write("q3", fixture.q3);
  write("q4a", fixture.q4a);
  write("q4b-ii", fixture.q4bii);
  for (const r of fixture.sweep) write(r.name, r);
  write("q4a-crosscheck", taskResultsFile("q4a-crosscheck", "tfjs-crosscheck", fixture.crossCheck));
}

/** A task's results file in the runner's format (taskResultsSchema), holding `result`. */
export function taskResultsFile(name: string, kind: string, result: unknown) {
  const cacheKey = "0".repeat(64);
  return {
    schemaVersion: TASK_RESULTS_SCHEMA_VERSION,
    name,
    kind,
    cacheKey,
    config: {},
    result,
    timings: { startedAt: "2026-12-01T00:00:00.000Z", totalSeconds: 1 },
    digest: taskResultsDigest({ cacheKey, result: JSON.parse(JSON.stringify(result)) }),
  };
}
