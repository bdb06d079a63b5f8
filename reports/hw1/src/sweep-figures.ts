/**
 * Figures 4 and 5: the learning-rate sweep of Question 4b.iii–iv (vega-lite specs, see figures.ts).
 */
import { experimentDatasetInfo, type Results } from "@nabla/runner";
import { labelledRule, PALETTE, type Spec, topLevel } from "./figures.js";

export function lrLabel(lr: number): string {
  const exponent = Math.log10(lr);
  return Math.abs(exponent - Math.round(exponent)) < 1e-9 ? `1e${Math.round(exponent)}` : lr.toPrecision(3);
}

/** Figure 4: best validation accuracy against the learning rate (log axis); diverged runs marked. */
export function figure4(sweep: Results[]): Spec {
  const classes = experimentDatasetInfo(sweep[0].spec).classNames.length;
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
      labelledRule(1 / classes, `chance (${classes} classes)`, "#888", "left"),
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
                    label: `diverged: ${sweep
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
