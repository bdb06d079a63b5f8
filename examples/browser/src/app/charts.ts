/**
 * The live loss and accuracy charts: two vega-lite line charts (vega-embed, SVG renderer) whose named data
 * sets grow as the worker reports steps and epochs. Points are inserted into the running vega view, never
 * re-embedded, so an update costs one small changeset.
 */
import embed, { type VisualizationSpec } from "vega-embed";

type View = Awaited<ReturnType<typeof embed>>["view"];

export interface LossPoint {
  epoch: number;
  loss: number;
  series: string;
}
export interface AccuracyPoint {
  epoch: number;
  accuracy: number;
  series: string;
}

function lineChart(data: string, y: string, title: string, yFormat: string): VisualizationSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: "container",
    height: 220,
    title,
    data: { name: data },
    mark: { type: "line", point: true, tooltip: true },
    encoding: {
      x: { field: "epoch", type: "quantitative", title: "epoch" },
      y: { field: y, type: "quantitative", title: y, axis: { format: yFormat } },
      color: { field: "series", type: "nominal", title: null, legend: { orient: "bottom" } },
    },
  };
}

export class TrainingCharts {
  lossPoints = 0;
  accuracyPoints = 0;

  private constructor(
    private readonly loss: View,
    private readonly accuracy: View,
  ) {}

  static async create(lossElement: HTMLElement, accuracyElement: HTMLElement): Promise<TrainingCharts> {
    // No actions menu: its links lead to the online vega editor, and this page works offline.
    const options = { actions: false, renderer: "svg" } as const;
    const [loss, accuracy] = await Promise.all([
      embed(lossElement, lineChart("loss", "loss", "Loss", ".2f"), options),
      embed(accuracyElement, lineChart("accuracy", "accuracy", "Accuracy", ".0%"), options),
    ]);
    return new TrainingCharts(loss.view, accuracy.view);
  }

  async clear(): Promise<void> {
    this.lossPoints = 0;
    this.accuracyPoints = 0;
    await Promise.all([
      this.loss.remove("loss", () => true).runAsync(),
      this.accuracy.remove("accuracy", () => true).runAsync(),
    ]);
  }

  async addLoss(points: LossPoint[]): Promise<void> {
    this.lossPoints += points.length;
    await this.loss.insert("loss", points).runAsync();
  }

  async addAccuracy(points: AccuracyPoint[]): Promise<void> {
    this.accuracyPoints += points.length;
    await this.accuracy.insert("accuracy", points).runAsync();
  }
}
