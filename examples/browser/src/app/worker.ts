/**
 * The example's training worker: parses the picked files (or makes synthetic data), trains the homework MLP
 * with the runner's loop (src/training/homework-mlp.ts) and posts progress. Training here, not on the page's
 * main thread, keeps the page responsive, and a worker may block in Atomics.wait while the GEMM helper
 * thread works, where the main thread could only spin.
 */
import { type CifarSplit, splitTrainValidation, syntheticCifar10 } from "@nabla/cifar/portable";
import { gemmReady } from "@nabla/ndarray";
import { trainHomeworkMlp } from "../training/homework-mlp.js";
import { setNablaEnv } from "../training/nabla-env.js";
import { parsePickedFiles } from "./files.js";
import type { DataSource, FromWorker, ToWorker } from "./messages.js";

const scope = globalThis as unknown as {
  onmessage: ((event: { data: ToWorker }) => void) | null;
  postMessage(message: FromWorker): void;
};
const post = (message: FromWorker) => scope.postMessage(message);

/** A tenth of the training images for validation (and for the test when no test_batch.bin was picked). */
const HOLD_OUT = 0.1;

// The page shows the kernel itself, so the console notice about it is not needed.
setNablaEnv({ NABLA_KERNEL_NOTICE: "0" });

let running: AbortController | null = null;

function loadData(
  source: DataSource,
  seed: number,
): { train: CifarSplit; test: CifarSplit; summary: string } {
  if (source.kind === "synthetic") {
    const data = syntheticCifar10({ trainCount: source.trainCount, testCount: source.testCount, seed });
    return { ...data, summary: `synthetic CIFAR-10 (seed ${seed})` };
  }
  const parsed = parsePickedFiles(source.files);
  const names = source.files.map((f) => f.name).join(", ");
  if (parsed.test !== null) return { train: parsed.train, test: parsed.test, summary: names };
  const held = splitTrainValidation(parsed.train, {
    seed: seed + 1,
    validationSize: Math.max(1, Math.round(parsed.train.count * HOLD_OUT)),
  });
  return {
    train: held.train,
    test: held.validation,
    summary: `${names} (no test_batch.bin: test images held out)`,
  };
}

async function train(source: DataSource, settings: Extract<ToWorker, { type: "start" }>["settings"]) {
  const abort = new AbortController();
  running = abort;
  const started = performance.now();
  try {
    const { train, test, summary } = loadData(source, settings.seed);
    const validationSize = Math.max(1, Math.round(train.count * HOLD_OUT));
    if (train.count - validationSize < 1) {
      throw new Error(
        `${summary}: ${train.count} training image(s) are too few to hold out a validation set`,
      );
    }
    const count = (n: number) => n.toLocaleString("en-US");
    post({
      type: "data",
      summary:
        `${summary}: ${count(train.count - validationSize)} train, ${count(validationSize)} validation, ` +
        `${count(test.count)} test images`,
    });
    const outcome = await trainHomeworkMlp({
      ...settings,
      train,
      test,
      validationSize,
      signal: abort.signal,
      onProgress: (event) => post({ type: "progress", event }),
    });
    post({
      type: "done",
      seconds: (performance.now() - started) / 1000,
      testAccuracy: outcome.metrics.testAccuracy,
      bestEpoch: outcome.metrics.bestEpoch,
      status: outcome.status,
    });
  } catch (error) {
    if (abort.signal.aborted) post({ type: "stopped" });
    else post({ type: "error", message: error instanceof Error ? error.message : String(error) });
  } finally {
    running = null;
  }
}

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === "stop") running?.abort();
  else if (running === null) void train(message.source, message.settings);
};

gemmReady().then(
  (info) =>
    post({
      type: "kernel",
      info: {
        kernel: info.kernel,
        isa: info.isa,
        threads: info.threads,
        notes: info.notes,
        crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
      },
    }),
  (error: unknown) => post({ type: "error", message: `GEMM kernel: ${String(error)}` }),
);
