/**
 * The example page: pick CIFAR-10 binary files (or use synthetic data), train the homework MLP in a Web
 * Worker, and watch the loss and accuracy charts and the progress line. window.nablaExample mirrors the
 * state for the Chromium test.
 */
import type { ProgressEvent } from "@nabla/runner/training";
import { TrainingCharts } from "./charts.js";
import { pickedFilesProblem } from "./files.js";
import { formatDuration, progressLine } from "./format.js";
import type { DataSource, FromWorker, KernelLine, ToWorker, TrainSettings } from "./messages.js";

const SYNTHETIC = { trainCount: 5000, testCount: 1000 };
const SEED = 42;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fileInput = $<HTMLInputElement>("files");
const trainFiles = $<HTMLButtonElement>("train-files");
const trainSynthetic = $<HTMLButtonElement>("train-synthetic");
const stop = $<HTMLButtonElement>("stop");
const errorLine = $<HTMLParagraphElement>("error");
const kernelLine = $<HTMLParagraphElement>("kernel");
const dataLine = $<HTMLParagraphElement>("data");
const progress = $<HTMLParagraphElement>("progress");

type State = "loading" | "idle" | "training" | "done" | "stopped" | "error";
const mirror = {
  state: "loading" as State,
  lossPoints: 0,
  accuracyPoints: 0,
  kernel: null as KernelLine | null,
};
(globalThis as unknown as { nablaExample: typeof mirror }).nablaExample = mirror;

function setState(state: State): void {
  mirror.state = state;
  const busy = state === "training" || state === "loading";
  trainFiles.disabled = busy;
  trainSynthetic.disabled = busy;
  stop.disabled = state !== "training";
}

function showError(message: string | null): void {
  errorLine.textContent = message ?? "";
  errorLine.hidden = message === null;
}

function describeKernel(info: KernelLine): string {
  const where = info.crossOriginIsolated ? "cross-origin isolated" : "not cross-origin isolated";
  const notes = info.notes.length > 0 ? ` · ${info.notes.join("; ")}` : "";
  return `GEMM kernel: ${info.kernel}, ${info.isa}, ${info.threads} thread${info.threads === 1 ? "" : "s"} · page ${where}${notes}`;
}

/** The settings inputs, or a one-line message naming the bad one. */
function readSettings(): TrainSettings | string {
  const epochs = Number($<HTMLInputElement>("epochs").value);
  const batchSize = Number($<HTMLInputElement>("batch-size").value);
  const lr = Number($<HTMLInputElement>("lr").value);
  if (!(Number.isInteger(epochs) && epochs >= 1 && epochs <= 500))
    return `epochs must be a whole number from 1 to 500`;
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 4096))
    return `batch size must be a whole number from 1 to 4096`;
  if (!(Number.isFinite(lr) && lr > 0 && lr <= 10)) return `learning rate must be a number in (0, 10]`;
  return { epochs, batchSize, lr, seed: SEED };
}

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const charts = await TrainingCharts.create($("loss-chart"), $("accuracy-chart"));
// Chart updates are chained so points arrive in order even while vega renders the previous ones.
let chartWork: Promise<unknown> = Promise.resolve();
const chart = (update: () => Promise<void>) => {
  chartWork = chartWork.then(update).then(() => {
    mirror.lossPoints = charts.lossPoints;
    mirror.accuracyPoints = charts.accuracyPoints;
  });
};
let startedAt = 0;
let lastStep: Extract<ProgressEvent, { type: "step" }> | null = null;

function onProgress(event: ProgressEvent): void {
  if (event.type === "start") {
    startedAt = performance.now();
    lastStep = null;
    chart(() => charts.clear());
  } else if (event.type === "step") {
    lastStep = event;
    progress.textContent = progressLine(event, (performance.now() - startedAt) / 1000);
    const epoch = event.epoch - 1 + event.step / event.stepsPerEpoch;
    chart(() => charts.addLoss([{ epoch, loss: event.loss, series: "train (epoch's running mean)" }]));
  } else if (event.type === "epoch") {
    chart(() => charts.addLoss([{ epoch: event.epoch, loss: event.valLoss, series: "validation" }]));
    chart(() =>
      charts.addAccuracy([{ epoch: event.epoch, accuracy: event.valAccuracy, series: "validation" }]),
    );
  }
}

worker.onmessage = (message: MessageEvent<FromWorker>) => {
  const data = message.data;
  if (data.type === "kernel") {
    mirror.kernel = data.info;
    kernelLine.textContent = describeKernel(data.info);
    if (mirror.state === "loading") setState("idle");
  } else if (data.type === "data") {
    dataLine.textContent = `Training on ${data.summary}`;
  } else if (data.type === "progress") {
    onProgress(data.event);
  } else if (data.type === "done") {
    const head = lastStep
      ? `epoch ${lastStep.epochs}/${lastStep.epochs} · batch ${lastStep.stepsPerEpoch}/${lastStep.stepsPerEpoch} · `
      : "";
    const test =
      data.testAccuracy === null
        ? "no test accuracy"
        : `test accuracy ${(data.testAccuracy * 100).toFixed(1)} % (best epoch ${data.bestEpoch})`;
    const diverged =
      data.status === "diverged" ? " · diverged (loss became NaN/Inf): try a smaller learning rate" : "";
    progress.textContent = `${head}done in ${formatDuration(data.seconds)} · ${test}${diverged}`;
    if (data.testAccuracy !== null && lastStep !== null) {
      const epoch = lastStep.epochs;
      chart(() =>
        charts.addAccuracy([
          { epoch, accuracy: data.testAccuracy as number, series: "test (best epoch's model)" },
        ]),
      );
    }
    void chartWork.then(() => setState("done"));
  } else if (data.type === "stopped") {
    progress.textContent = `stopped${lastStep ? ` at epoch ${lastStep.epoch}/${lastStep.epochs}, batch ${lastStep.step}/${lastStep.stepsPerEpoch}` : ""}`;
    setState("stopped");
  } else {
    showError(data.message);
    setState(mirror.state === "loading" ? "idle" : "error");
  }
};
worker.onerror = (event) => {
  showError(`training worker failed: ${event.message}`);
  setState("error");
};

function start(source: DataSource, transfer: Transferable[] = []): void {
  const settings = readSettings();
  if (typeof settings === "string") {
    showError(settings);
    return;
  }
  showError(null);
  progress.textContent = "starting…";
  setState("training");
  worker.postMessage({ type: "start", source, settings } satisfies ToWorker, transfer);
}

fileInput.addEventListener("change", () => {
  const problem = pickedFilesProblem([...(fileInput.files ?? [])]);
  showError(problem);
  if (problem === null)
    dataLine.textContent = `Picked ${[...(fileInput.files ?? [])].map((f) => f.name).join(", ")}`;
});

trainFiles.addEventListener("click", async () => {
  const files = [...(fileInput.files ?? [])];
  const problem = pickedFilesProblem(files);
  if (problem !== null) {
    showError(problem);
    return;
  }
  const read = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
  start(
    { kind: "files", files: read },
    read.map((f) => f.bytes),
  );
});
trainSynthetic.addEventListener("click", () => start({ kind: "synthetic", ...SYNTHETIC }));
stop.addEventListener("click", () => worker.postMessage({ type: "stop" } satisfies ToWorker));
setState(mirror.kernel ? "idle" : "loading");
