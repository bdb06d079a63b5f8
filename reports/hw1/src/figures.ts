/**
 * The vega-lite specs of Figures 1–5, built from results. Sizes are in CSS pixels for an A4 column of
 * about 650 px; @nabla/report compiles them to inline SVG.
 */
import { CLASSES, type Results } from "@nabla/runner";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
type Spec = Record<string, unknown>;

/** Categorical colours that stay distinct in print and for common colour-vision deficiencies (Tableau 10). */
const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
];

interface EpochPoint {
  epoch: number;
  value: number;
  series: string;
}

function perEpoch(values: number[], series: string): EpochPoint[] {
  return values.map((value, i) => ({ epoch: i + 1, value, series }));
}

function epochAxis(epochs: number): Spec {
  return {
    field: "epoch",
    type: "quantitative",
    title: "epoch",
    scale: { domain: [1, Math.max(2, epochs)], nice: false },
    axis: { tickMinStep: 1, format: "d" },
  };
}

function lineChart(opts: {
  points: EpochPoint[];
  title: string;
  yTitle: string;
  epochs: number;
  width: number;
  height: number;
  yFormat?: string;
  logY?: boolean;
  seriesOrder?: string[];
  dashed?: string[];
  extraLayers?: Spec[];
  /** Colour of the first series (default: the palette's first). */
  firstColor?: string;
}): Spec {
  const order = opts.seriesOrder ?? [...new Set(opts.points.map((p) => p.series))];
  const range = opts.firstColor
    ? [opts.firstColor, ...PALETTE.slice(1, order.length)]
    : PALETTE.slice(0, order.length);
  const base: Spec = {
    data: { values: opts.points },
    mark: { type: "line", point: { size: 22 }, strokeWidth: 1.6 },
    encoding: {
      x: epochAxis(opts.epochs),
      y: {
        field: "value",
        type: "quantitative",
        title: opts.yTitle,
        scale: opts.logY ? { type: "log" } : { zero: false },
        axis: opts.yFormat ? { format: opts.yFormat } : {},
      },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        scale: { domain: order, range },
        legend: order.length > 1 ? { orient: "bottom", direction: "vertical" } : null,
      },
      strokeDash: {
        field: "series",
        type: "nominal",
        scale: { domain: order, range: order.map((s) => (opts.dashed?.includes(s) ? [5, 3] : [1, 0])) },
        // Same legend settings as colour, so vega-lite merges both into one legend with dashed samples.
        legend: order.length > 1 ? { orient: "bottom", direction: "vertical" } : null,
      },
    },
  };
  return {
    title: opts.title,
    width: opts.width,
    height: opts.height,
    layer: [base, ...(opts.extraLayers ?? [])],
  };
}

/** Adds $schema and config; `independentColors` when the panels of a concat show different series. */
function topLevel(spec: Spec, independentColors = false): Spec {
  const resolve = independentColors
    ? { resolve: { scale: { color: "independent", strokeDash: "independent" } } }
    : {};
  return { $schema: SCHEMA, ...spec, ...resolve, config: { legend: { labelLimit: 320 } } };
}

/** A horizontal dashed rule with a label at its right (or left) end. */
function labelledRule(y: number, label: string, color = "#555", side: "left" | "right" = "right"): Spec {
  return {
    data: { values: [{ y, label }] },
    layer: [
      {
        mark: { type: "rule", strokeDash: [4, 3], color },
        encoding: { y: { field: "y", type: "quantitative" } },
      },
      {
        mark: {
          type: "text",
          align: side,
          baseline: "bottom",
          dy: -2,
          ...(side === "right" ? { x: "width" } : { x: 4 }),
          fontSize: 9,
          color,
        },
        encoding: { y: { field: "y", type: "quantitative" }, text: { field: "label" } },
      },
    ],
  };
}

/** Figure 1: Q3's training and validation loss per epoch, and validation accuracy with the test accuracy. */
export function figure1(q3: Results): Spec {
  const m = q3.metrics;
  const epochs = q3.spec.epochs;
  const test = m.testAccuracy;
  return topLevel(
    {
      hconcat: [
        lineChart({
          points: [
            ...perEpoch(m.trainLoss, "training loss (mean over the epoch)"),
            ...perEpoch(m.valLoss, "validation loss (after the epoch)"),
          ],
          title: "Loss",
          yTitle: "cross-entropy",
          epochs,
          width: 270,
          height: 190,
          dashed: ["validation loss (after the epoch)"],
        }),
        lineChart({
          points: perEpoch(m.valAccuracy, "validation accuracy"),
          firstColor: PALETTE[4],
          title: "Validation accuracy",
          yTitle: "accuracy",
          yFormat: ".0%",
          epochs,
          width: 270,
          height: 190,
          extraLayers:
            test === null
              ? []
              : [
                  labelledRule(
                    test,
                    `test accuracy ${(test * 100).toFixed(2)} % (epoch ${m.bestEpoch} model)`,
                  ),
                ],
        }),
      ],
    },
    true,
  );
}

/** Figure 2: Q4a (TF.js) beside Q3 (nabla): training loss and validation accuracy per epoch. */
export function figure2(q3: Results, q4a: Results): Spec {
  const epochs = Math.max(q3.spec.epochs, q4a.spec.epochs);
  const tf = "TF.js autograd (Q4a)";
  const nb = "nabla explicit backward (Q3)";
  return topLevel({
    hconcat: [
      lineChart({
        points: [...perEpoch(q4a.metrics.trainLoss, tf), ...perEpoch(q3.metrics.trainLoss, nb)],
        title: "Training loss per epoch",
        yTitle: "cross-entropy",
        epochs,
        width: 270,
        height: 190,
        seriesOrder: [tf, nb],
        dashed: [nb],
      }),
      lineChart({
        points: [...perEpoch(q4a.metrics.valAccuracy, tf), ...perEpoch(q3.metrics.valAccuracy, nb)],
        title: "Validation accuracy per epoch",
        yTitle: "accuracy",
        yFormat: ".0%",
        epochs,
        width: 270,
        height: 190,
        seriesOrder: [tf, nb],
        dashed: [nb],
      }),
    ],
  });
}

/** Figure 3: the MultiStepLR schedule and its run against the constant rate of Q3. */
export function figure3(q3: Results, q4bii: Results): Spec {
  const epochs = Math.max(q3.spec.epochs, q4bii.spec.epochs);
  const sched = "MultiStepLR (Q4b.ii)";
  const constant = `constant lr ${q3.spec.lr} (Q3)`;
  const order = [sched, constant];
  return topLevel({
    hconcat: [
      {
        title: "Learning rate per epoch",
        width: 160,
        height: 170,
        data: { values: perEpoch(q4bii.metrics.lr, sched) },
        mark: { type: "line", interpolate: "step-after", point: { size: 22 }, color: PALETTE[0] },
        encoding: {
          x: epochAxis(epochs),
          y: {
            field: "value",
            type: "quantitative",
            title: "learning rate (log scale)",
            scale: { type: "log" },
            axis: { format: "~g", values: [...new Set(q4bii.metrics.lr)] },
          },
        },
      },
      lineChart({
        points: [...perEpoch(q4bii.metrics.trainLoss, sched), ...perEpoch(q3.metrics.trainLoss, constant)],
        title: "Training loss",
        yTitle: "cross-entropy",
        epochs,
        width: 160,
        height: 170,
        seriesOrder: order,
        dashed: [constant],
      }),
      lineChart({
        points: [
          ...perEpoch(q4bii.metrics.valAccuracy, sched),
          ...perEpoch(q3.metrics.valAccuracy, constant),
        ],
        title: "Validation accuracy",
        yTitle: "accuracy",
        yFormat: ".0%",
        epochs,
        width: 160,
        height: 170,
        seriesOrder: order,
        dashed: [constant],
      }),
    ],
  });
}

export function lrLabel(lr: number): string {
  const exponent = Math.log10(lr);
  return Math.abs(exponent - Math.round(exponent)) < 1e-9 ? `1e${Math.round(exponent)}` : lr.toPrecision(3);
}

/** Figure 4: best validation accuracy against the learning rate (log axis); diverged runs marked. */
export function figure4(sweep: Results[]): Spec {
  const points = sweep.map((r) => {
    const best = r.metrics.valAccuracy.length > 0 ? Math.max(...r.metrics.valAccuracy) : null;
    const diverged = r.status === "diverged";
    return {
      lr: r.spec.lr,
      best: best ?? 0,
      status: diverged ? "diverged (NaN/Inf loss)" : "completed",
      label: diverged
        ? `diverged (epoch ${r.metrics.divergedAtEpoch ?? "?"})`
        : `${(best! * 100).toFixed(1)} %`,
    };
  });
  const domain = ["completed", "diverged (NaN/Inf loss)"];
  // 0–60 % fits CIFAR-10 MLPs; generated data (smoke runs) can reach 100 %.
  const yTop = Math.max(0.6, Math.ceil(Math.max(...points.map((p) => p.best)) * 10 + 0.5) / 10);
  return topLevel({
    width: 560,
    height: 250,
    data: { values: points },
    layer: [
      {
        mark: { type: "line", color: "#999", strokeWidth: 1 },
        transform: [{ filter: "datum.status === 'completed'" }],
        encoding: { x: { field: "lr", type: "quantitative" }, y: { field: "best", type: "quantitative" } },
      },
      {
        mark: { type: "point", filled: true, size: 70 },
        encoding: {
          x: {
            field: "lr",
            type: "quantitative",
            title: "learning rate (log scale)",
            scale: { type: "log" },
            axis: { format: "~e", values: points.map((p) => p.lr) },
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
        mark: { type: "text", dy: -10, fontSize: 9, color: "#333" },
        transform: [{ filter: "datum.status === 'completed'" }],
        encoding: {
          x: { field: "lr", type: "quantitative" },
          y: { field: "best", type: "quantitative" },
          text: { field: "label" },
        },
      },
      {
        // Vertical labels: several diverged rates sit next to each other at the same height.
        mark: {
          type: "text",
          angle: 270,
          align: "left",
          baseline: "middle",
          dx: 9,
          fontSize: 9,
          color: "#c0392b",
        },
        transform: [{ filter: "datum.status !== 'completed'" }],
        encoding: {
          x: { field: "lr", type: "quantitative" },
          y: { field: "best", type: "quantitative" },
          text: { field: "label" },
        },
      },
      labelledRule(1 / CLASSES, `chance (${CLASSES} classes)`, "#888", "left"),
    ],
  });
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
export function figure5(sweep: Results[]): Spec {
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
  const color = {
    field: "run",
    type: "nominal",
    title: null,
    scale: { domain: order, range: PALETTE.slice(0, order.length) },
    legend: { orient: "right" },
  };
  return topLevel({
    width: 470,
    height: 260,
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
    ],
  });
}
