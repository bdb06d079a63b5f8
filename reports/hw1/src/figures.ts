/**
 * The vega-lite specs of Figures 1–3 (and the helpers of sweep-figures.ts), built from results. Sizes are in CSS pixels for an A4 column of
 * about 650 px; @nabla/report compiles them to inline SVG.
 */
import type { Results } from "@nabla/runner";
import type { SeedRuns } from "./results.js";

export const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
export type Spec = Record<string, unknown>;

/** Categorical colours that stay distinct in print and for common colour-vision deficiencies (Tableau 10). */
export const PALETTE = [
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

interface BandPoint {
  epoch: number;
  lo: number;
  hi: number;
  series: string;
}

/** Min and max over the seeds of one metric per epoch: the band drawn behind the reference seed's line. */
function band(group: SeedRuns, pick: (r: Results) => number[], series: string): BandPoint[] {
  const epochs = Math.min(...group.runs.map((r) => pick(r).length));
  return Array.from({ length: epochs }, (_, i) => {
    const values = group.runs.map((r) => pick(r)[i]);
    return { epoch: i + 1, lo: Math.min(...values), hi: Math.max(...values), series };
  });
}

/** "seed 42; band: min–max of 5 seeds" for the legends. */
function seedNote(group: SeedRuns): string {
  return `seed ${group.runs[0].spec.seed}; band: ${group.runs.length} seeds`;
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
  /** Min–max bands over the seeds, coloured like their series. */
  bands?: BandPoint[];
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
  // One layer per series with a fixed colour: an encoded colour (or fill) would take part in the legend.
  const bands: Spec[] = order.flatMap((series, i) => {
    const values = (opts.bands ?? []).filter((b) => b.series === series);
    if (values.length === 0) return [];
    return [
      {
        data: { values },
        mark: { type: "area", opacity: 0.2, color: range[i] },
        encoding: {
          x: { field: "epoch", type: "quantitative" },
          y: { field: "lo", type: "quantitative" },
          y2: { field: "hi" },
        },
      },
    ];
  });
  return {
    title: opts.title,
    width: opts.width,
    height: opts.height,
    layer: [...bands, base, ...(opts.extraLayers ?? [])],
  };
}

/** Adds $schema and config; `independentColors` when the panels of a concat show different series. */
export function topLevel(spec: Spec, independentColors = false): Spec {
  const resolve = independentColors
    ? { resolve: { scale: { color: "independent", strokeDash: "independent" } } }
    : {};
  return { $schema: SCHEMA, ...spec, ...resolve, config: { legend: { labelLimit: 320 } } };
}

/** A horizontal dashed rule with a label at its right (or left) end. */
export function labelledRule(
  y: number,
  label: string,
  color = "#555",
  side: "left" | "right" = "right",
): Spec {
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
          // Below the line: a test accuracy above every validation point would put the label on the title.
          baseline: "top",
          dy: 3,
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
export function figure1(group: SeedRuns): Spec {
  const q3 = group.runs[0];
  const m = q3.metrics;
  const epochs = q3.spec.epochs;
  const test = m.testAccuracy;
  const train = "training loss (mean over the epoch)";
  const val = "validation loss (after the epoch)";
  const acc = "validation accuracy";
  return topLevel(
    {
      hconcat: [
        lineChart({
          points: [...perEpoch(m.trainLoss, train), ...perEpoch(m.valLoss, val)],
          bands: [
            ...band(group, (r) => r.metrics.trainLoss, train),
            ...band(group, (r) => r.metrics.valLoss, val),
          ],
          title: `Loss (${seedNote(group)})`,
          yTitle: "cross-entropy",
          epochs,
          width: 270,
          height: 190,
          dashed: [val],
        }),
        lineChart({
          points: perEpoch(m.valAccuracy, acc),
          bands: band(group, (r) => r.metrics.valAccuracy, acc),
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
                    `test accuracy ${(test * 100).toFixed(2)} % (seed ${q3.spec.seed}, epoch ${m.bestEpoch} model)`,
                  ),
                ],
        }),
      ],
    },
    true,
  );
}

/** Figure 2: Q4a (TF.js) beside Q3 (nabla): training loss and validation accuracy per epoch. */
export function figure2(q3Group: SeedRuns, q4aGroup: SeedRuns): Spec {
  const [q3, q4a] = [q3Group.runs[0], q4aGroup.runs[0]];
  const epochs = Math.max(q3.spec.epochs, q4a.spec.epochs);
  const tf = "TF.js autograd (Q4a)";
  const nb = "nabla explicit backward (Q3)";
  const panel = (pick: (r: Results) => number[], title: string, yTitle: string, yFormat?: string) =>
    lineChart({
      points: [...perEpoch(pick(q4a), tf), ...perEpoch(pick(q3), nb)],
      bands: [...band(q4aGroup, pick, tf), ...band(q3Group, pick, nb)],
      title,
      yTitle,
      yFormat,
      epochs,
      width: 270,
      height: 190,
      seriesOrder: [tf, nb],
      dashed: [nb],
    });
  return topLevel({
    hconcat: [
      panel((r) => r.metrics.trainLoss, `Training loss per epoch (${seedNote(q3Group)})`, "cross-entropy"),
      panel((r) => r.metrics.valAccuracy, "Validation accuracy per epoch", "accuracy", ".0%"),
    ],
  });
}

/** Figure 3: the MultiStepLR schedule and its run against the constant rate of Q3. */
export function figure3(q3Group: SeedRuns, q4biiGroup: SeedRuns): Spec {
  const [q3, q4bii] = [q3Group.runs[0], q4biiGroup.runs[0]];
  const epochs = Math.max(q3.spec.epochs, q4bii.spec.epochs);
  const sched = "MultiStepLR (Q4b.ii)";
  const constant = `constant lr ${q3.spec.lr} (Q3)`;
  const order = [sched, constant];
  const panel = (pick: (r: Results) => number[], title: string, yTitle: string, yFormat?: string) =>
    lineChart({
      points: [...perEpoch(pick(q4bii), sched), ...perEpoch(pick(q3), constant)],
      bands: [...band(q4biiGroup, pick, sched), ...band(q3Group, pick, constant)],
      title,
      yTitle,
      yFormat,
      epochs,
      width: 160,
      height: 170,
      seriesOrder: order,
      dashed: [constant],
    });
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
      panel((r) => r.metrics.trainLoss, `Training loss (${seedNote(q4biiGroup)})`, "cross-entropy"),
      panel((r) => r.metrics.valAccuracy, "Validation accuracy", "accuracy", ".0%"),
    ],
  });
}
