/**
 * Figures 4 and 5: the learning-rate sweep of Question 4b.iii–iv (vega-lite specs, see figures.ts).
 */
import { experimentDatasetInfo } from "@nabla/runner";
import { labelledRule, PALETTE, type Spec, topLevel } from "./figures.js";
import type { SweepPoint } from "./results.js";

export function lrLabel(lr: number): string {
  const exponent = Math.log10(lr);
  return Math.abs(exponent - Math.round(exponent)) < 1e-9 ? `1e${Math.round(exponent)}` : lr.toPrecision(3);
}

/** Figure 4: best validation accuracy against the learning rate (log axis): every seed, the mean ± sd, divergences. */
export function figure4(sweep: SweepPoint[]): Spec {
  const classes = experimentDatasetInfo(sweep[0].runs[0].spec).classNames.length;
  const seeds = sweep.flatMap((p) =>
    p.runs.map((r) => {
      const best = r.metrics.valAccuracy.length > 0 ? Math.max(...r.metrics.valAccuracy) : 0;
      return { lr: p.lr, best, status: r.status === "diverged" ? DIVERGED : COMPLETED };
    }),
  );
  const means = sweep.flatMap((p) => {
    const best = seeds.filter((s) => s.lr === p.lr && s.status === COMPLETED).map((s) => s.best);
    if (best.length === 0) return [];
    const m = best.reduce((a, b) => a + b, 0) / best.length;
    const sd =
      best.length > 1 ? Math.sqrt(best.reduce((a, b) => a + (b - m) ** 2, 0) / (best.length - 1)) : 0;
    const all = best.length === p.runs.length;
    return [
      {
        lr: p.lr,
        mean: m,
        lo: m - sd,
        hi: m + sd,
        all,
        label: all
          ? `${(m * 100).toFixed(1)} %`
          : `${(m * 100).toFixed(1)} % (${best.length} of ${p.runs.length})`,
      },
    ];
  });
  const divergedLabels = sweep.flatMap((p) => {
    const d = p.runs.filter((r) => r.status === "diverged");
    if (d.length === 0) return [];
    const epochs = [...new Set(d.map((r) => r.metrics.divergedAtEpoch ?? "?"))].join("/");
    // From the axis up, right of the points: a mixed rate's mean label sits above its completed seeds.
    return [{ lr: p.lr, best: 0, label: `diverged ${d.length}/${p.runs.length} (epoch ${epochs})` }];
  });
  const domain = [COMPLETED, DIVERGED];
  // 0–60 % fits CIFAR-10 MLPs; generated data (smoke runs) can reach 100 %.
  const yTop = Math.max(0.6, Math.ceil(Math.max(...seeds.map((p) => p.best)) * 10 + 0.5) / 10);
  const x = { field: "lr", type: "quantitative" };
  return topLevel({
    width: 560,
    height: 250,
    layer: [
      {
        data: { values: means.filter((m) => m.all) },
        mark: { type: "line", color: "#999", strokeWidth: 1 },
        encoding: { x, y: { field: "mean", type: "quantitative" } },
      },
      {
        data: { values: means },
        mark: { type: "rule", color: "#222", strokeWidth: 1.5 },
        encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
      },
      {
        data: { values: means },
        mark: { type: "tick", color: "#222", orient: "horizontal", size: 14, thickness: 1.5 },
        encoding: { x, y: { field: "mean", type: "quantitative" } },
      },
      {
        data: { values: seeds },
        mark: { type: "point", size: 40, opacity: 0.75, strokeWidth: 1.5 },
        encoding: {
          x: {
            ...x,
            title: "learning rate (log scale)",
            scale: { type: "log" },
            axis: { format: "~e", values: sweep.map((p) => p.lr) },
          },
          y: {
            field: "best",
            type: "quantitative",
            title: "best validation accuracy",
            axis: { format: ".0%" },
            scale: { domain: [0, yTop] },
          },
          color: {
            field: "status",
            type: "nominal",
            title: null,
            scale: { domain, range: [PALETTE[0], "#c0392b"] },
            legend: { orient: "bottom" },
          },
          shape: { field: "status", type: "nominal", scale: { domain, range: ["circle", "cross"] } },
        },
      },
      {
        data: { values: means },
        mark: { type: "text", dy: -12, fontSize: 9, color: "#333" },
        encoding: { x, y: { field: "hi", type: "quantitative" }, text: { field: "label" } },
      },
      {
        // Vertical labels: several diverged rates sit next to each other at the same height.
        data: { values: divergedLabels },
        mark: {
          type: "text",
          angle: 270,
          align: "left",
          baseline: "middle",
          dx: 9,
          fontSize: 9,
          color: "#c0392b",
        },
        encoding: { x, y: { field: "best", type: "quantitative" }, text: { field: "label" } },
      },
      labelledRule(1 / classes, `chance (${classes} classes)`, "#888", "left"),
    ],
  });
}

const COMPLETED = "seed completed (one point per seed)";
const DIVERGED = "seed diverged (NaN/Inf loss)";

/**
 * Nine distinct hues for Figure 5's lines, in the order of the rates (category10 without its grey, which
 * reads as "disabled"); the lines are labelled at their ends as well.
 */
export const SWEEP_PALETTE = [
  "#1f77b4",
  "#17becf",
  "#2ca02c",
  "#bcbd22",
  "#ff7f0e",
  "#d62728",
  "#e377c2",
  "#9467bd",
  "#8c564b",
];

/**
 * Spreads labels apart vertically (in the axis' log space) so none is closer than `gap` to the next, keeping
 * their order; returns the adjusted log-values in the input order.
 */
export function spreadLabels(values: number[], gap: number): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  let prev = Number.NEGATIVE_INFINITY;
  for (const [v, i] of order) {
    prev = Math.max(v, prev + gap);
    out[i] = prev;
  }
  return out;
}

/** Blocks of consecutive entries averaged, skipping nulls; returns [index of the block's middle, mean]. */
function blockMeans(values: (number | null)[], block: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < values.length; start += block) {
    let sum = 0;
    let n = 0;
    for (let i = start; i < Math.min(values.length, start + block); i++) {
      const v = values[i];
      if (v !== null && Number.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    if (n > 0) out.push([start + (Math.min(values.length, start + block) - start) / 2, sum / n]);
  }
  return out;
}

/** Figure 5: training loss over training time for every learning rate (means of 1/10-epoch blocks, log y). */
export function figure5(sweepPoints: SweepPoint[]): Spec {
  // One seed's curve per rate (the reference seed, first in each point): nine lines stay readable, 27 would not.
  const sweep = sweepPoints.map((p) => p.runs[0]);
  const order = sweep.map((r) => `lr ${lrLabel(r.spec.lr)}${r.status === "diverged" ? " (diverged)" : ""}`);
  const points: { epoch: number; loss: number; run: string }[] = [];
  const ends: { epoch: number; loss: number; run: string }[] = [];
  sweep.forEach((r, k) => {
    const m = r.metrics;
    const stepsPerPoint = m.trainLossPerStepStride;
    const block = Math.max(1, Math.round(m.stepsPerEpoch / 10 / stepsPerPoint));
    const curve = blockMeans(m.trainLossPerStep, block).map(([i, loss]) => ({
      epoch: (i * stepsPerPoint) / m.stepsPerEpoch,
      loss,
      run: order[k],
    }));
    points.push(...curve);
    if (r.status === "diverged" && curve.length > 0) ends.push(curve[curve.length - 1]);
  });
  const epochs = Math.max(...sweep.map((r) => r.spec.epochs));
  // A diverging run's loss explodes (up to 1e30 and more) before it becomes NaN; the axis stops at twice the
  // largest loss of the completed runs (at least 2 ln 10) and the explosion is clipped at the top.
  const completedLosses = points.filter((p) => !p.run.endsWith("(diverged)")).map((p) => p.loss);
  const top = 2 * Math.max(Math.log(10), ...completedLosses);
  const bottom = 0.9 * Math.min(...points.map((p) => p.loss).filter((l) => l > 0), top / 4);
  for (const end of ends) end.loss = Math.min(end.loss, top);
  const height = 260;
  // Direct labels at the right end of the completed runs' lines, pushed apart by at least 11 px.
  const lastOf = (run: string) => points.filter((p) => p.run === run).at(-1);
  const finals = order.filter((run) => !run.endsWith("(diverged)") && lastOf(run) !== undefined);
  const logRange = Math.log(top) - Math.log(bottom);
  const spread = spreadLabels(
    finals.map((run) => Math.log(Math.min(top, (lastOf(run) as { loss: number }).loss))),
    (11 / height) * logRange,
  );
  const labels = finals.map((run, i) => ({
    epoch: epochs,
    loss: Math.exp(spread[i]),
    label: run.replace(/^lr /, ""),
    run,
  }));
  const range = order.map((_, i) => SWEEP_PALETTE[i % SWEEP_PALETTE.length]);
  const color = {
    field: "run",
    type: "nominal",
    title: null,
    scale: { domain: order, range },
    legend: { orient: "bottom", columns: 5, symbolType: "stroke", symbolStrokeWidth: 3 },
  };
  return topLevel({
    width: 500,
    height,
    layer: [
      {
        data: { values: points },
        mark: { type: "line", strokeWidth: 1.4, clip: true },
        encoding: {
          x: {
            field: "epoch",
            type: "quantitative",
            title: "epoch",
            scale: { domain: [0, epochs], nice: false },
          },
          y: {
            field: "loss",
            type: "quantitative",
            title: "training loss (log scale)",
            scale: { type: "log", domain: [bottom, top], nice: false },
            axis: { format: "~g" },
          },
          color,
        },
      },
      {
        data: { values: ends },
        mark: { type: "point", shape: "cross", size: 90, filled: true, clip: false },
        encoding: {
          x: { field: "epoch", type: "quantitative" },
          y: { field: "loss", type: "quantitative" },
          color,
        },
      },
      {
        data: { values: labels },
        mark: {
          type: "text",
          align: "left",
          baseline: "middle",
          dx: 5,
          fontSize: 9,
          fontWeight: "bold",
          clip: false,
        },
        encoding: {
          x: { field: "epoch", type: "quantitative" },
          y: { field: "loss", type: "quantitative" },
          text: { field: "label" },
          color,
        },
      },
      // Diverging runs blow up within a few steps, so their crosses coincide: name them in words too.
      ...(ends.length === 0
        ? []
        : [
            {
              data: {
                values: [
                  {
                    epoch: Math.min(...ends.map((e) => e.epoch)),
                    loss: top,
                    label: `diverged (seed ${sweep[0].spec.seed}): ${sweep
                      .filter((r) => r.status === "diverged")
                      .map((r) => `lr ${lrLabel(r.spec.lr)} (epoch ${r.metrics.divergedAtEpoch ?? "?"})`)
                      .join(", ")}`,
                  },
                ],
              },
              mark: {
                type: "text",
                align: "left",
                baseline: "top",
                dx: 10,
                dy: 4,
                fontSize: 9,
                color: "#c0392b",
              },
              encoding: {
                x: { field: "epoch", type: "quantitative" },
                y: { field: "loss", type: "quantitative" },
                text: { field: "label" },
              },
            },
          ]),
    ],
  });
}
