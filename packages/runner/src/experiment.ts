import { existsSync, rmSync } from "node:fs";
import { datasetInfo, featureSize } from "@nabla/data";
import { gemmKernelInfo } from "@nabla/ndarray";
import { createOptimizer, createScheduler } from "@nabla/optim";
import { checkpointPath, writeCheckpoint } from "./checkpoint.js";
import { evalLoader, loadExperimentData, trainLoader } from "./data.js";
import { CancelledError, UserError } from "./errors.js";
import { cacheKey, describeEnvironment } from "./fingerprint.js";
import { buildModule, modelLayers, nablaModel, type TrainableModel, tfjsModel } from "./models.js";
import { preflight } from "./preflight.js";
import {
  ensureResultsDir,
  loadResults,
  RESULTS_SCHEMA_VERSION,
  type Results,
  resultsDigest,
  resultsPath,
  writeResults,
} from "./results.js";
import { type ExperimentSpec, parseSpec } from "./spec.js";
import { type ProgressListener, trainLoop } from "./train.js";

export interface RunOptions {
  /** Folder of the results files (`<name>.json`). */
  resultsDir: string;
  /** Rerun even if a results file with the same cache key exists. */
  force?: boolean;
  /** Aborting stops the run at the next step; nothing is written and CancelledError is thrown. */
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface RunOutcome {
  results: Results;
  file: string;
  /** True when the results came from the cache (nothing was trained). */
  cached: boolean;
}

/** Where the results of a spec would be, and whether they are already up to date. */
export function cachedResults(
  spec: ExperimentSpec,
  resultsDir: string,
): { file: string; key: string; results?: Results; distrusted?: string } {
  const gemm = gemmKernelInfo();
  // The instruction set is part of the kernel: AVX-512, AVX2 and WASM kernels may round differently.
  const key = cacheKey(spec, `${gemm.kernel}/${gemm.isa}`);
  const file = resultsPath(resultsDir, spec.name);
  if (!existsSync(file)) return { file, key };
  try {
    const previous = loadResults(file);
    return { file, key, results: previous.cacheKey === key ? previous : undefined };
  } catch (err) {
    // An unreadable or older file is simply recomputed; one whose digest fails is said to be so.
    const message = (err as Error).message;
    return { file, key, distrusted: message.includes("digest does not match") ? message : undefined };
  }
}

/** The outcome and the "done" progress event of an experiment answered from the cache. */
export function cachedOutcome(
  spec: ExperimentSpec,
  cached: { file: string; results: Results },
  seconds: number,
  onProgress?: ProgressListener,
): RunOutcome {
  onProgress?.({
    type: "done",
    name: spec.name,
    status: cached.results.status,
    testAccuracy: cached.results.metrics.testAccuracy,
    bestEpoch: cached.results.metrics.bestEpoch,
    cached: true,
    file: cached.file,
    seconds,
  });
  return { results: cached.results, file: cached.file, cached: true };
}

/**
 * Runs one experiment (or reuses its cached results) and writes `<resultsDir>/<name>.json` atomically.
 * `specInput` is validated with parseSpec (SpecError on bad input). A diverged run is a result (status
 * "diverged"), not an error.
 */
export async function runExperiment(specInput: unknown, options: RunOptions): Promise<RunOutcome> {
  const spec = parseSpec(specInput);
  preflight(spec);
  ensureResultsDir(options.resultsDir);
  const { onProgress, signal } = options;
  const started = performance.now();
  const { file, key, results: cached, distrusted } = cachedResults(spec, options.resultsDir);
  if (distrusted !== undefined) {
    onProgress?.({ type: "data", name: spec.name, message: `${distrusted.split(";")[0]}: recomputing it` });
  }
  if (cached !== undefined && options.force !== true) {
    return cachedOutcome(spec, { file, results: cached }, (performance.now() - started) / 1000, onProgress);
  }
  if (signal?.aborted) throw new CancelledError(`${spec.name}: cancelled`);

  const startedAt = new Date().toISOString();
  // Everything that can be checked without the data is checked (the spec, above) and built first.
  const info = datasetInfo(spec.data);
  const inputDim = featureSize(info.featureShape);
  const module = buildModule(spec, info);
  const optimizer = createOptimizer({ ...spec.optimizer, lr: spec.lr }, module.parameters());
  // Per-step schedulers (one-cycle) need the run's optimizer steps: the train loader drops the last partial batch.
  const totalSteps = spec.epochs * Math.floor(info.splitSizes.train / spec.batchSize);
  const scheduler =
    spec.scheduler === undefined ? undefined : createScheduler(spec.scheduler, optimizer, { totalSteps });
  const data = await loadExperimentData(
    spec,
    (e) =>
      onProgress?.({
        type: "data",
        name: spec.name,
        message: `${spec.data.source} ${e.phase}: ${e.message}`,
        done: e.done,
        total: e.total,
      }),
    signal,
  );
  // For mlp-tfjs the nabla optimizer is never stepped: it only carries the lr the scheduler sets.
  const model: TrainableModel =
    spec.model.kind !== "mlp-tfjs"
      ? nablaModel(module, optimizer, info.featureShape)
      : await tfjsModel(spec, module, () => optimizer.lr, inputDim);
  try {
    const setupSeconds = (performance.now() - started) / 1000;
    const outcome = await trainLoop({
      name: spec.name,
      epochs: spec.epochs,
      model,
      train: trainLoader(spec, data),
      validation: evalLoader(spec, data.splits.validation),
      test: evalLoader(spec, data.splits.test),
      currentLr: () => optimizer.lr,
      endEpoch: () => {
        if (scheduler?.interval === "epoch") scheduler.step();
      },
      endStep: scheduler?.interval === "step" ? () => scheduler.step() : undefined,
      signal,
      onProgress,
    });
    const results: Results = {
      schemaVersion: RESULTS_SCHEMA_VERSION,
      name: spec.name,
      cacheKey: key,
      spec,
      environment: describeEnvironment(spec, gemmKernelInfo(), model.backendName),
      status: outcome.status,
      metrics: outcome.metrics,
      digest: resultsDigest({ cacheKey: key, status: outcome.status, metrics: outcome.metrics }),
      timings: {
        startedAt,
        setupSeconds,
        epochSeconds: outcome.epochSeconds,
        testSeconds: outcome.testSeconds,
        totalSeconds: (performance.now() - started) / 1000,
      },
    };
    // Last chance to honour a Ctrl-C that arrived during the test evaluation; the writes themselves are atomic.
    if (signal?.aborted) throw new CancelledError(`${spec.name}: cancelled`);
    try {
      // The checkpoint first: a results file is never newer than the checkpoint beside it.
      const checkpoint = checkpointPath(file);
      if (outcome.best !== undefined) {
        writeCheckpoint(checkpoint, module, outcome.best.state, {
          name: spec.name,
          cacheKey: key,
          layers: modelLayers(spec, info),
          featureShape: info.featureShape,
          classNames: info.classNames,
          epoch: outcome.best.epoch,
        });
      } else {
        rmSync(checkpoint, { force: true });
      }
      writeResults(file, results);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A results folder that cannot be written (not a folder, no permission, disk full) is the user's to fix.
      if (code === "EEXIST" || code === "ENOTDIR") {
        throw new UserError(`${options.resultsDir}: expected a results folder, found a file`);
      }
      if (code !== undefined) throw new UserError(`${file}: cannot write results (${code})`);
      throw err;
    }
    onProgress?.({
      type: "done",
      name: spec.name,
      status: results.status,
      testAccuracy: results.metrics.testAccuracy,
      bestEpoch: results.metrics.bestEpoch,
      cached: false,
      file,
      seconds: results.timings.totalSeconds,
    });
    return { results, file, cached: false };
  } finally {
    model.dispose();
  }
}
