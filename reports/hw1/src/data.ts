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
import {
  againstSpread,
  epochBands,
  type Paired,
  pairedBySeed,
  type SeedStats,
  type SweepPointStats,
  seedStats,
  sweepStats,
} from "./seeds.js";
import { figure4, figure5, lrLabel } from "./sweep-figures.js";

/** What the original homework (numpy and PyTorch implementations) reported as test accuracy. */
export const ORIGINAL_REPORTED = { numpyTestAccuracy: 0.4794, pytorchTestAccuracy: 0.4769 } as const;

/** Cross-check tolerance of issue 8: TF.js and nabla agree within 1e-5 relative. */
export const CROSSCHECK_TOLERANCE = 1e-5;

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

/**
 * The milestone discussion: where the constant-rate runs (Q3) stood when each decay happens, on their
 * validation accuracy averaged over the seeds (one seed's curve wiggles by more than the plateau's slope).
 */
function milestoneEvidence(acc: number[], milestones: number[]) {
  const best = Math.max(...acc);
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

/** Mean over the seeds of the training-loss decrease over the epoch after `epoch` (null when too short). */
function meanLossDrop(runs: Results[], epoch: number): number | null {
  const drops = runs.map((r) => lossDrop(r.metrics.trainLoss, epoch));
  if (drops.some((d) => d === null)) return null;
  return (drops as number[]).reduce((a, b) => a + b, 0) / drops.length;
}

/** Worker time of the training runs (their results' totalSeconds), per experiment and in all. */
function computeTime(results: Hw1Results) {
  const sum = (runs: Results[]) => runs.reduce((a, r) => a + r.timings.totalSeconds, 0);
  const q3 = sum(results.q3.runs);
  const q4a = sum(results.q4a.runs);
  const q4bii = sum(results.q4bii.runs);
  const sweep = sum(results.sweep.flatMap((p) => p.runs));
  const total = q3 + q4a + q4bii + sweep;
  const runs =
    results.q3.runs.length +
    results.q4a.runs.length +
    results.q4bii.runs.length +
    results.sweep.reduce((n, p) => n + p.runs.length, 0);
  return {
    q3,
    q4a,
    q4bii,
    sweep,
    total,
    runs,
    q4aShare: q4a / total,
    q4aPerRun: q4a / results.q4a.runs.length,
  };
}

/** Largest |Q4a − Q3| training loss of any epoch of any seed both ran. */
function maxTrainLossGap(q3: Results[], q4a: Results[]): number {
  let worst = 0;
  for (const a of q4a) {
    const b = q3.find((r) => r.spec.seed === a.spec.seed);
    if (b === undefined) continue;
    a.metrics.trainLoss.forEach((l, i) => {
      if (i < b.metrics.trainLoss.length) worst = Math.max(worst, Math.abs(l - b.metrics.trainLoss[i]));
    });
  }
  return worst;
}

/** The per-seed appendix table: one row per Q3 seed, the other experiments' values of that seed beside it. */
function perSeedRows(q3: SeedStats, q4a: SeedStats, q4bii: SeedStats, gain: Paired, tfjs: Paired) {
  const find = <T extends { seed: number }>(rows: T[], seed: number) =>
    rows.find((r) => r.seed === seed) ?? null;
  return q3.perSeed.map((row) => ({
    seed: row.seed,
    q3: row,
    q4a: find(q4a.perSeed, row.seed),
    q4bii: find(q4bii.perSeed, row.seed),
    gain: find(gain.rows, row.seed)?.testDifference ?? null,
    tfjsMinusNabla: find(tfjs.rows, row.seed)?.testDifference ?? null,
    lossTfjsMinusNabla: find(tfjs.rows, row.seed)?.lossDifference ?? null,
  }));
}

export function buildReportData(inputs: ReportInputs) {
  const { results, checks } = inputs;
  const [q3Ref, q4aRef, q4biiRef] = [results.q3, results.q4a, results.q4bii].map((g) => g.runs[0]);
  const q3MeanVal = epochBands(results.q3).valAccuracy.map((b) => b.mean);
  const q3Run = summariseRun(q3Ref);
  const q3 = {
    ...q3Run,
    epochRows: q3Run.epochRows.map((row, i) => ({ ...row, seedMeanValAccuracy: q3MeanVal[i] ?? null })),
  };
  const q4a = summariseRun(q4aRef);
  const q4bii = summariseRun(q4biiRef);
  const seeds = { q3: seedStats(results.q3), q4a: seedStats(results.q4a), q4bii: seedStats(results.q4bii) };
  const gain = pairedBySeed(seeds.q4bii, seeds.q3);
  const tfjs = pairedBySeed(seeds.q4a, seeds.q3);
  const scheduler = schedule(q4biiRef);
  const sweep = sweepStats(results.sweep);
  const epochPairs = q3.epochRows.map((row, i) => ({ q3: row, q4a: q4a.epochRows[i] ?? null }));
  const info = experimentDatasetInfo(q3Ref.spec);
  return {
    splitSeed: (q3Ref.spec.data as { splitSeed?: number }).splitSeed ?? null,
    inputDim: info.featureSize,
    classes: info.classNames.length,
    lnClasses: Math.log(info.classNames.length),
    original: ORIGINAL_REPORTED,
    checks,
    q3,
    q4a,
    seeds,
    perSeed: perSeedRows(seeds.q3, seeds.q4a, seeds.q4bii, gain, tfjs),
    epochPairs,
    comparison: {
      tfjsMinusNabla: tfjs,
      // Test images the two implementations classify differently at most, from the largest accuracy gap.
      maxTestImagesApart: Math.round(tfjs.maxAbsTestDifference * q3.testSize),
      // Rounding counts as "like a change of seed" once the paired sd reaches half the seed sd.
      roundingLikeSeed: tfjs.testAccuracy.sd >= 0.5 * seeds.q3.testAccuracy.sd,
      bestEpochDiffers: seeds.q4a.perSeed.filter(
        (r) => seeds.q3.perSeed.find((q) => q.seed === r.seed)?.bestEpoch !== r.bestEpoch,
      ).length,
      numpyVsQ3: againstSpread(ORIGINAL_REPORTED.numpyTestAccuracy, seeds.q3),
      pytorchVsQ4a: againstSpread(ORIGINAL_REPORTED.pytorchTestAccuracy, seeds.q4a),
      maxTrainLossGap: maxTrainLossGap(results.q3.runs, results.q4a.runs),
    },
    crossCheck: crossCheckData(results.crossCheck),
    q4bii: {
      ...q4bii,
      milestones: scheduler.milestones,
      firstMilestone: scheduler.milestones[0],
      secondMilestone: scheduler.milestones[1],
      epochsBetweenMilestones: scheduler.milestones[1] - scheduler.milestones[0],
      epochsAfterLastMilestone: q4biiRef.spec.epochs - scheduler.milestones[1],
      gamma: scheduler.gamma,
      segments: lrSegments(q4biiRef.metrics.lr),
      evidence: milestoneEvidence(q3MeanVal, scheduler.milestones),
      gain,
      // Training-loss decrease over the first epoch after the first decay, with and without the schedule.
      lossDropAfterFirst: meanLossDrop(results.q4bii.runs, scheduler.milestones[0]),
      q3LossDropSameEpoch: meanLossDrop(results.q3.runs, scheduler.milestones[0]),
    },
    q4biii: {
      ...sweep,
      count: sweep.rows.length,
      lrMin: sweep.rows[0].lr,
      lrMax: sweep.rows[sweep.rows.length - 1].lr,
      smallest: smallestRate(sweep.rows[0]),
      divergedCount: sweep.diverged.length,
      mixedCount: sweep.mixed.length,
    },
    q5: q5Data(inputs.q5, inputs.q5ComputedInProcess),
    compute: computeTime(results),
    environment: {
      node: q3Ref.environment.node,
      cpu: q3Ref.environment.cpu,
      gemm: q3Ref.environment.gemm.kernel,
      tfjsBackend: q4aRef.environment.tfjsBackend ?? results.crossCheck.backend,
      dataSource: q3Ref.spec.data.source,
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

/** The smallest rate of 4.b.i: mean first- and last-epoch training loss over its completed seeds. */
function smallestRate(row: SweepPointStats) {
  const avg = (v: number[]) => (v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length);
  return {
    ...row,
    meanFirstTrainLoss: avg(row.firstTrainLoss),
    meanFinalTrainLoss: row.finalTrainLoss?.mean ?? row.singleFinalTrainLoss,
    meanBestValAccuracy: row.bestValAccuracy?.mean ?? row.singleBestValAccuracy,
  };
}
