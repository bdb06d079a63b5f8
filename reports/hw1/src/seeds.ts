/**
 * The seed spread of the report's experiments: per-seed values, mean ± sd and t-intervals of each headline
 * number, the paired comparisons by seed, and the sweep's points over their seeds. Every formatted string the
 * text prints is made here, so the tests can look for exactly it in the PDF.
 */
import type { Results } from "@nabla/runner";
import type { SeedRuns, SweepPoint } from "./results.js";
import { pairedDifference, type Summary, studentTQuantile, summarise } from "./stats.js";
import { lrLabel } from "./sweep-figures.js";

/** A summary with the strings the templates print: "0.5012 ± 0.0061" and "[0.4937, 0.5088]". */
export interface ShownSummary extends Summary {
  meanSd: string;
  interval: string;
}

/** toFixed with a typographic minus (the PDF's other negative numbers use it too). */
function signed(v: number, digits: number): string {
  const text = Math.abs(v).toFixed(digits);
  return v < 0 && Number(text) !== 0 ? `−${text}` : text;
}

export function show(s: Summary, digits = 4): ShownSummary {
  return {
    ...s,
    meanSd: `${signed(s.mean, digits)} ± ${s.sd.toFixed(digits)}`,
    interval: `[${signed(s.lo, digits)}, ${signed(s.hi, digits)}]`,
  };
}

/** Percentage points, signed: "+2.85 ± 0.40" and "[+2.35, +3.35]" for a difference of accuracies. */
export function showPoints(s: Summary, digits = 2): ShownSummary {
  const p = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(v * 100).toFixed(digits)}`;
  return {
    ...s,
    meanSd: `${p(s.mean)} ± ${(s.sd * 100).toFixed(digits)}`,
    interval: `[${p(s.lo)}, ${p(s.hi)}]`,
  };
}

function lastLoss(r: Results): number {
  return r.metrics.trainLoss[r.metrics.trainLoss.length - 1];
}

function bestVal(r: Results): number | null {
  return r.metrics.valAccuracy.length > 0 ? Math.max(...r.metrics.valAccuracy) : null;
}

function byEpoch(runs: Results[], pick: (r: Results) => number[]) {
  const epochs = Math.min(...runs.map((r) => pick(r).length));
  return Array.from({ length: epochs }, (_, i) => {
    const values = runs.map((r) => pick(r)[i]);
    return {
      epoch: i + 1,
      min: Math.min(...values),
      max: Math.max(...values),
      mean: values.reduce((a, b) => a + b, 0) / values.length,
    };
  });
}

/** Mean, min and max over the seeds of each epoch's value (the figures' bands). */
export function epochBands(group: SeedRuns) {
  return {
    trainLoss: byEpoch(group.runs, (r) => r.metrics.trainLoss),
    valLoss: byEpoch(group.runs, (r) => r.metrics.valLoss),
    valAccuracy: byEpoch(group.runs, (r) => r.metrics.valAccuracy),
  };
}

/** An experiment over its seeds (all runs completed): per-seed rows and the three headline summaries. */
export function seedStats(group: SeedRuns) {
  const perSeed = group.runs.map((r) => ({
    seed: r.spec.seed,
    name: r.name,
    testAccuracy: r.metrics.testAccuracy as number,
    finalTrainLoss: lastLoss(r),
    bestValAccuracy: bestVal(r) as number,
    bestEpoch: r.metrics.bestEpoch,
  }));
  const n = perSeed.length;
  const testAccuracy = show(summarise(perSeed.map((s) => s.testAccuracy)));
  return {
    name: group.name,
    n,
    seeds: perSeed.map((s) => s.seed),
    seedList: perSeed.map((s) => s.seed).join(", "),
    referenceSeed: perSeed[0].seed,
    perSeed,
    testAccuracy,
    finalTrainLoss: show(summarise(perSeed.map((s) => s.finalTrainLoss))),
    bestValAccuracy: show(summarise(perSeed.map((s) => s.bestValAccuracy))),
    /** 95 % prediction interval of one further run's test accuracy: mean ± t·sd·√(1 + 1/n). */
    testPrediction: predictionInterval(testAccuracy),
  };
}
export type SeedStats = ReturnType<typeof seedStats>;

function predictionInterval(s: Summary) {
  const half = studentTQuantile(1 - (1 - s.level) / 2, s.n - 1) * s.sd * Math.sqrt(1 + 1 / s.n);
  return {
    lo: s.mean - half,
    hi: s.mean + half,
    text: `[${(s.mean - half).toFixed(4)}, ${(s.mean + half).toFixed(4)}]`,
  };
}

const seedMap = (stats: SeedStats, pick: (row: SeedStats["perSeed"][number]) => number) =>
  new Map(stats.perSeed.map((row) => [row.seed, pick(row)]));

/** a − b by seed, for the test accuracy (percentage points) and the final training loss. */
export function pairedBySeed(a: SeedStats, b: SeedStats) {
  const test = pairedDifference(
    seedMap(a, (r) => r.testAccuracy),
    seedMap(b, (r) => r.testAccuracy),
  );
  const loss = pairedDifference(
    seedMap(a, (r) => r.finalTrainLoss),
    seedMap(b, (r) => r.finalTrainLoss),
  );
  return {
    n: test.seeds.length,
    rows: test.seeds.map((seed, i) => ({
      seed,
      testDifference: test.differences[i],
      lossDifference: loss.differences[i],
    })),
    testAccuracy: showPoints(test.summary),
    finalTrainLoss: show(loss.summary),
    /** True when the interval of the mean difference excludes zero. */
    testExcludesZero: test.summary.lo > 0 || test.summary.hi < 0,
    maxAbsTestDifference: Math.max(...test.differences.map(Math.abs)),
    maxAbsLossDifference: Math.max(...loss.differences.map(Math.abs)),
  };
}
export type Paired = ReturnType<typeof pairedBySeed>;

/** A reported accuracy against our seed spread: how many sds away, and inside the prediction interval or not. */
export function againstSpread(reported: number, stats: SeedStats) {
  const z = (reported - stats.testAccuracy.mean) / stats.testAccuracy.sd;
  return {
    reported,
    sds: Math.abs(z),
    direction: z < 0 ? "below" : "above",
    insidePrediction: reported >= stats.testPrediction.lo && reported <= stats.testPrediction.hi,
    belowMin: reported < stats.testAccuracy.min,
    gapPoints: Math.abs(reported - stats.testAccuracy.mean) * 100,
  };
}

/** One learning rate over its seeds: which diverged, and the spread of the completed ones. */
export function sweepPointStats(point: SweepPoint) {
  const runs = point.runs;
  const completed = runs.filter((r) => r.status !== "diverged");
  const diverged = runs.filter((r) => r.status === "diverged");
  const summary = (values: number[]) => (values.length >= 2 ? show(summarise(values)) : null);
  const best = completed.map((r) => bestVal(r) as number);
  const divergedEpochs = [...new Set(diverged.map((r) => r.metrics.divergedAtEpoch ?? 0))].sort(
    (a, b) => a - b,
  );
  const single = (values: number[]) => (values.length === 1 ? values[0] : null);
  const status =
    diverged.length === 0
      ? "completed"
      : diverged.length === runs.length
        ? "diverged"
        : "diverged for some seeds";
  return {
    lr: point.lr,
    lrLabel: lrLabel(point.lr),
    n: runs.length,
    seedList: runs.map((r) => r.spec.seed).join(", "),
    status,
    allCompleted: diverged.length === 0,
    allDiverged: completed.length === 0,
    mixed: diverged.length > 0 && completed.length > 0,
    completedCount: completed.length,
    divergedCount: diverged.length,
    divergedSeeds: diverged.map((r) => ({ seed: r.spec.seed, epoch: r.metrics.divergedAtEpoch ?? null })),
    divergedEpochs,
    divergedEpochsText: divergedEpochs.join("/"),
    bestValAccuracy: summary(best),
    singleBestValAccuracy: single(best),
    testAccuracy: summary(completed.map((r) => r.metrics.testAccuracy as number)),
    finalTrainLoss: summary(completed.map(lastLoss)),
    singleFinalTrainLoss: single(completed.map(lastLoss)),
    firstTrainLoss: completed.length > 0 ? completed.map((r) => r.metrics.trainLoss[0]) : [],
    perSeed: runs.map((r) => ({
      seed: r.spec.seed,
      diverged: r.status === "diverged",
      divergedAtEpoch: r.metrics.divergedAtEpoch ?? null,
      bestValAccuracy: bestVal(r),
      testAccuracy: r.metrics.testAccuracy,
    })),
  };
}
export type SweepPointStats = ReturnType<typeof sweepPointStats>;

/**
 * The sweep over its seeds. The best rate is the one with the highest mean best-validation accuracy among the
 * rates whose every seed completed (a rate that diverges for some seeds is not a rate to recommend).
 */
export function sweepStats(points: SweepPoint[]) {
  const rows = points.map(sweepPointStats);
  const eligible = rows.filter((r) => r.allCompleted && r.bestValAccuracy !== null);
  const ranked = [...eligible].sort(
    (a, b) => (b.bestValAccuracy?.mean ?? 0) - (a.bestValAccuracy?.mean ?? 0),
  );
  const best = ranked[0] ?? null;
  const runnerUp = ranked[1] ?? null;
  let bestMinusRunnerUp: (ShownSummary & { excludesZero: boolean }) | null = null;
  if (best !== null && runnerUp !== null) {
    const map = (r: SweepPointStats) =>
      new Map(r.perSeed.map((s) => [s.seed, s.bestValAccuracy as number] as [number, number]));
    const d = pairedDifference(map(best), map(runnerUp));
    if (d.seeds.length >= 2) {
      bestMinusRunnerUp = { ...showPoints(d.summary), excludesZero: d.summary.lo > 0 || d.summary.hi < 0 };
    }
  }
  return {
    rows: rows.map((r) => ({ ...r, isBest: r === best })),
    best,
    runnerUp,
    bestMinusRunnerUp,
    diverged: rows.filter((r) => r.allDiverged),
    mixed: rows.filter((r) => r.mixed),
    anyDiverged: rows.some((r) => r.divergedCount > 0),
    seedsPerRate: Math.max(...rows.map((r) => r.n)),
  };
}
