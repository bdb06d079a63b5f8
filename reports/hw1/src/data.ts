/**
 * The data object the templates render: every number in the report's text comes from here, computed from
 * the results files, the @nabla/nn checks and the Monte-Carlo run. The only typed-in numbers are the test
 * accuracies the original homework reported, labelled as such.
 */
import { experimentDatasetInfo, type Results } from "@nabla/runner";
import type { CheckTables } from "./checks.js";
import type { CrossCheckResult } from "./crosscheck.js";
import { figure1, figure2, figure3 } from "./figures.js";
import type { Q5Cell, Q5Result } from "./q5.js";
import type { Hw1Results } from "./results.js";
import { figure4, figure5, lrLabel } from "./sweep-figures.js";

/** What the original homework (numpy and PyTorch implementations) reported as test accuracy. */
export const ORIGINAL_REPORTED = { numpyTestAccuracy: 0.4794, pytorchTestAccuracy: 0.4769 } as const;

/** Cross-check tolerance of issue 8: TF.js and nabla agree within 1e-5 relative. */
export const CROSSCHECK_TOLERANCE = 1e-5;

function requireFinite(value: number | null, what: string): number {
  if (value === null || !Number.isFinite(value)) throw new Error(`${what} is missing (null) in the results`);
  return value;
}

export interface EpochRow {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valAccuracy: number;
  lr: number;
  seconds: number;
  isBest: boolean;
}

/** Train/validation/test sizes, as the data source states them for the spec's config. */
function splitSizes(r: Results): { trainSize: number; validationSize: number; testSize: number } {
  const sizes = experimentDatasetInfo(r.spec).splitSizes;
  return { trainSize: sizes.train, validationSize: sizes.validation, testSize: sizes.test };
}

/** "128" or "128, 64" for the assignment's MLP; the layer list in words otherwise. */
function modelShape(r: Results): string {
  const model = r.spec.model;
  if ("hiddenDims" in model) return model.hiddenDims.join(", ");
  return model.layers.map((l) => Object.keys(l)[0]).join(" → ");
}

/** A run as the templates see it. */
export function summariseRun(r: Results) {
  const m = r.metrics;
  const epochsRun = m.trainLoss.length;
  const bestValAccuracy = epochsRun > 0 ? Math.max(...m.valAccuracy) : null;
  const epochRows: EpochRow[] = m.trainLoss.map((trainLoss, i) => ({
    epoch: i + 1,
    trainLoss,
    valLoss: m.valLoss[i],
    valAccuracy: m.valAccuracy[i],
    lr: m.lr[i],
    seconds: r.timings.epochSeconds[i] ?? 0,
    isBest: m.bestEpoch === i + 1,
  }));
  const trainSeconds = r.timings.epochSeconds.reduce((a, b) => a + b, 0);
  return {
    name: r.name,
    status: r.status,
    diverged: r.status === "diverged",
    divergedAtEpoch: m.divergedAtEpoch ?? null,
    model: r.spec.model.kind,
    hiddenDims: modelShape(r),
    lr: r.spec.lr,
    lrLabel: lrLabel(r.spec.lr),
    batchSize: r.spec.batchSize,
    epochs: r.spec.epochs,
    epochsRun,
    seed: r.spec.seed,
    dataSource: r.spec.data.source,
    ...splitSizes(r),
    stepsPerEpoch: m.stepsPerEpoch,
    testAccuracy: m.testAccuracy,
    lastTestAccuracy: m.lastTestAccuracy,
    testLoss: m.testLoss,
    bestEpoch: m.bestEpoch,
    bestValAccuracy,
    finalValAccuracy: epochsRun > 0 ? m.valAccuracy[epochsRun - 1] : null,
    firstTrainLoss: epochsRun > 0 ? m.trainLoss[0] : null,
    finalTrainLoss: epochsRun > 0 ? m.trainLoss[epochsRun - 1] : null,
    epochRows,
    totalSeconds: r.timings.totalSeconds,
    meanEpochSeconds: epochsRun > 0 ? trainSeconds / epochsRun : null,
    samplesPerSecond:
      epochsRun > 0 && trainSeconds > 0
        ? (m.stepsPerEpoch * r.spec.batchSize * epochsRun) / trainSeconds
        : null,
    gemm: r.environment.gemm.kernel,
    tfjsBackend: r.environment.tfjsBackend ?? null,
  };
}
export type RunSummary = ReturnType<typeof summariseRun>;

/** Consecutive epochs sharing a learning rate: [{ from, to, lr }]. */
export function lrSegments(lr: number[]): { from: number; to: number; lr: number; lrLabel: string }[] {
  const out: { from: number; to: number; lr: number; lrLabel: string }[] = [];
  lr.forEach((value, i) => {
    const last = out[out.length - 1];
    if (last && Math.abs(last.lr - value) <= 1e-12 * Math.abs(value)) last.to = i + 1;
    else out.push({ from: i + 1, to: i + 1, lr: value, lrLabel: lrLabel(value) });
  });
  return out;
}

function schedule(q4bii: Results) {
  const scheduler = q4bii.spec.scheduler;
  if (scheduler?.kind !== "multistep" || scheduler.milestones.length !== 2) {
    throw new Error(`${q4bii.name}: Q4b.ii expects a multistep scheduler with two milestones`);
  }
  return scheduler;
}

/** The milestone discussion: where the constant-rate run (Q3) stood when each decay happens. */
function milestoneEvidence(q3: RunSummary, milestones: number[]) {
  const acc = q3.epochRows.map((r) => r.valAccuracy);
  const best = requireFinite(q3.bestValAccuracy, "Q3 best validation accuracy");
  const first = milestones[0];
  const atFirst = acc[first - 1] ?? null;
  const after = acc.slice(first);
  // The first epoch whose validation accuracy is within 2 points of the run's best: the plateau's start.
  const plateauEpoch = acc.findIndex((a) => a >= best - 0.02) + 1;
  return {
    plateauEpoch,
    valAccuracyAtFirstMilestone: atFirst,
    gainBeforeFirst: atFirst === null ? null : atFirst - acc[0],
    gainAfterFirst: atFirst === null || after.length === 0 ? null : Math.max(...after) - atFirst,
    spreadAfterFirst: after.length === 0 ? null : Math.max(...after) - Math.min(...after),
  };
}

/** a − b of two accuracies as text pieces: |a − b| in percentage points and "higher" / "lower" / "equal". */
function gap(a: number, b: number): { points: number; direction: "higher" | "lower" | "equal" } {
  const points = Math.abs(a - b) * 100;
  return { points, direction: points < 0.005 ? "equal" : a > b ? "higher" : "lower" };
}

/** trainLoss[epoch] − trainLoss[epoch + 1] (1-based epochs), or null when the run is shorter. */
function lossDrop(trainLoss: number[], epoch: number): number | null {
  return epoch < trainLoss.length ? trainLoss[epoch - 1] - trainLoss[epoch] : null;
}

function crossCheckData(c: CrossCheckResult) {
  const worst = Math.max(
    c.maxParamRelDiffAfterOneStep,
    c.maxLossRelDiffOver20Steps,
    c.maxParamRelDiffAfterAllSteps,
  );
  return {
    ...c,
    dims: c.dims.join("–"),
    tolerance: CROSSCHECK_TOLERANCE,
    pass: worst <= CROSSCHECK_TOLERANCE,
    firstLossNabla: c.lossesNabla[0] ?? null,
    firstLossTfjs: c.lossesTfjs[0] ?? null,
  };
}

const LAW_NAMES: Record<string, string> = {
  normal: "normal N(0, σ²)",
  uniform: "uniform U(−√3σ, √3σ)",
  laplace: "Laplace(0, σ/√2)",
  "centred-exponential": "Exp(σ) − σ (skewed)",
};

function q5Data(q5: Q5Result, computedInProcess: boolean) {
  const rows = q5.cells.map((c: Q5Cell) => ({
    ...c,
    lawName: LAW_NAMES[c.law] ?? c.law,
    absZ: Math.abs(c.z),
    relativeDeviation: (c.estimate - c.claim) / c.claim,
    consistentWithClaim: Math.abs(c.estimate - c.claim) <= 4 * c.standardError,
  }));
  const symmetric = rows.filter((r) => r.symmetric);
  const control = rows.filter((r) => !r.symmetric);
  return {
    seed: q5.seed,
    samples: q5.samples,
    sigmas: q5.sigmas,
    rows,
    symmetricCount: symmetric.length,
    lawCount: new Set(symmetric.map((r) => r.law)).size,
    maxAbsZSymmetric: Math.max(...symmetric.map((r) => r.absZ)),
    allSymmetricConsistent: symmetric.every((r) => r.consistentWithClaim),
    hasControl: control.length > 0,
    controlMinZFromClaim:
      control.length > 0
        ? Math.min(...control.map((r) => Math.abs(r.estimate - r.claim) / r.standardError))
        : null,
    controlRatio: control.length > 0 ? control[0].estimate / (control[0].sigma * control[0].sigma) : null,
    computedInProcess,
  };
}

export interface ReportInputs {
  results: Hw1Results;
  checks: CheckTables;
  q5: Q5Result;
  q5ComputedInProcess: boolean;
}

export function buildReportData(inputs: ReportInputs) {
  const { results, checks } = inputs;
  const q3 = summariseRun(results.q3);
  const q4a = summariseRun(results.q4a);
  const q4bii = summariseRun(results.q4bii);
  const sweep = results.sweep.map(summariseRun);
  const scheduler = schedule(results.q4bii);
  const completed = sweep.filter((r) => r.bestValAccuracy !== null);
  const bestRun = completed.reduce<RunSummary | null>(
    (best, r) => (best === null || (r.bestValAccuracy ?? 0) > (best.bestValAccuracy ?? 0) ? r : best),
    null,
  );
  const diverged = sweep.filter((r) => r.diverged);
  const q3Test = requireFinite(q3.testAccuracy, "q3 metrics.testAccuracy");
  const q4aTest = requireFinite(q4a.testAccuracy, "q4a metrics.testAccuracy");
  const epochPairs = q3.epochRows.map((row, i) => ({ q3: row, q4a: q4a.epochRows[i] ?? null }));
  const info = experimentDatasetInfo(results.q3.spec);
  return {
    inputDim: info.featureSize,
    classes: info.classNames.length,
    lnClasses: Math.log(info.classNames.length),
    original: ORIGINAL_REPORTED,
    checks,
    q3,
    q4a,
    epochPairs,
    comparison: {
      q3VsQ4a: gap(q3Test, q4aTest),
      q3VsOriginalNumpy: gap(q3Test, ORIGINAL_REPORTED.numpyTestAccuracy),
      q4aVsOriginalPytorch: gap(q4aTest, ORIGINAL_REPORTED.pytorchTestAccuracy),
      maxTrainLossGap: Math.max(
        ...epochPairs.filter((p) => p.q4a).map((p) => Math.abs(p.q3.trainLoss - p.q4a!.trainLoss)),
      ),
    },
    crossCheck: crossCheckData(results.crossCheck),
    q4bii: {
      ...q4bii,
      milestones: scheduler.milestones,
      firstMilestone: scheduler.milestones[0],
      secondMilestone: scheduler.milestones[1],
      epochsBetweenMilestones: scheduler.milestones[1] - scheduler.milestones[0],
      epochsAfterLastMilestone: results.q4bii.spec.epochs - scheduler.milestones[1],
      gamma: scheduler.gamma,
      segments: lrSegments(results.q4bii.metrics.lr),
      evidence: milestoneEvidence(q3, scheduler.milestones),
      testMinusQ3: requireFinite(q4bii.testAccuracy, "q4b-ii metrics.testAccuracy") - q3Test,
      bestValMinusQ3: (q4bii.bestValAccuracy ?? 0) - (q3.bestValAccuracy ?? 0),
      // Training-loss decrease over the first epoch after the first decay, with and without the schedule.
      lossDropAfterFirst: lossDrop(results.q4bii.metrics.trainLoss, scheduler.milestones[0]),
      q3LossDropSameEpoch: lossDrop(results.q3.metrics.trainLoss, scheduler.milestones[0]),
    },
    q4biii: {
      runs: sweep.map((r) => ({ ...r, isSweepBest: r === bestRun })),
      count: sweep.length,
      lrMin: sweep[0].lr,
      lrMax: sweep[sweep.length - 1].lr,
      best: bestRun,
      smallest: sweep[0],
      largestCompleted: completed.length > 0 ? completed[completed.length - 1] : null,
      diverged,
      divergedCount: diverged.length,
      anyDiverged: diverged.length > 0,
    },
    q5: q5Data(inputs.q5, inputs.q5ComputedInProcess),
    environment: {
      node: results.q3.environment.node,
      cpu: results.q3.environment.cpu,
      gemm: results.q3.environment.gemm.kernel,
      tfjsBackend: results.q4a.environment.tfjsBackend ?? results.crossCheck.backend,
      dataSource: results.q3.spec.data.source,
    },
    figures: {
      fig1: figure1(results.q3),
      fig2: figure2(results.q3, results.q4a),
      fig3: figure3(results.q3, results.q4bii),
      fig4: figure4(results.sweep),
      fig5: figure5(results.sweep),
    },
  };
}
export type ReportData = ReturnType<typeof buildReportData>;
