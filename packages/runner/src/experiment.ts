import { existsSync } from "node:fs";
import { type DatasetInfo, datasetInfo, featureSize } from "@nabla/data";
import { InputTooLargeError, readFileBounded } from "@nabla/io";
import { gemmKernelInfo } from "@nabla/ndarray";
import { createOptimizer, createScheduler } from "@nabla/optim";
import { encodeCheckpoint, settlePair, sha256Hex } from "./checkpoint.js";
import { evalLoader, loadExperimentData, trainLoader } from "./data.js";
import { CancelledError, UserError } from "./errors.js";
import { cacheKey, describeEnvironment } from "./fingerprint.js";
import { buildModule, modelLayers, nablaModel, type TrainableModel, tfjsModel } from "./models.js";
import { preflight } from "./preflight.js";
import {
  ensureResultsDir,
  loadResults,
  MAX_RESULTS_BYTES,
  RESULTS_SCHEMA_VERSION,
  type Results,
  resultsPath,
  writeResults,
} from "./results.js";
import { type ExperimentSpec, parseSpec } from "./spec.js";
import { type ProgressListener, type TrainOutcome, type TrainProgress, trainLoop } from "./train.js";
import {
  applyTrainingState,
  type CarriedTimings,
  type RunParts,
  readTrainingState,
  removeTrainingState,
  type StateOwner,
  saveTrainingState,
  trainingStatePath,
} from "./training-state.js";

export interface RunOptions {
  /** Folder of the results files (`<name>.json`). */
  resultsDir: string;
  /** Rerun even if a results file with the same cache key exists. */
  force?: boolean;
  /**
   * Aborting stops the run at the next step and throws CancelledError; no results are written, and the state
   * of its last completed epoch stays beside them, so running it again resumes there.
   */
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

/**
 * The outcome and the "done" progress event of an experiment answered from the cache. The run is done: an
 * interrupted commit of its pair is finished, and a training state nobody will resume is removed.
 */
export function cachedOutcome(
  spec: ExperimentSpec,
  cached: { file: string; results: Results },
  seconds: number,
  onProgress?: ProgressListener,
): RunOutcome {
  settlePair(cached.file, cached.results.checkpoint?.sha256);
  removeTrainingState(trainingStatePath(cached.file));
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

/** The model, optimizer and scheduler of a spec, untrained (the TF.js model needs the data loaded first). */
function buildParts(spec: ExperimentSpec, info: DatasetInfo): Omit<RunParts, "model"> {
  const module = buildModule(spec, info);
  const optimizer = createOptimizer({ ...spec.optimizer, lr: spec.lr }, module.parameters());
  // Per-step schedulers (one-cycle) need the run's optimizer steps: the train loader drops the last partial batch.
  const totalSteps = spec.epochs * Math.floor(info.splitSizes.train / spec.batchSize);
  const scheduler =
    spec.scheduler === undefined ? undefined : createScheduler(spec.scheduler, optimizer, { totalSteps });
  return { module, optimizer, scheduler };
}

async function withModel(spec: ExperimentSpec, info: DatasetInfo, parts: Omit<RunParts, "model">) {
  const { module, optimizer } = parts;
  // For mlp-tfjs the nabla optimizer is never stepped: it only carries the lr the scheduler sets.
  const model: TrainableModel =
    spec.model.kind !== "mlp-tfjs"
      ? nablaModel(module, optimizer, info.featureShape)
      : await tfjsModel(spec, module, () => optimizer.lr, featureSize(info.featureShape));
  return { ...parts, model };
}

/** The sha-256 of the results file a run will replace (null if none): a training state is tied to it. */
function previousResultsSha(file: string): string | null {
  if (!existsSync(file)) return null;
  try {
    return sha256Hex(readFileBounded(file, MAX_RESULTS_BYTES, "results file"));
  } catch (err) {
    if (err instanceof InputTooLargeError) throw new UserError(err.message);
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new UserError(`${file}: cannot write results (${code})`);
  }
}

/**
 * Runs one experiment (or reuses its cached results) and writes `<resultsDir>/<name>.json` atomically, with its
 * checkpoint as a pair. After every epoch the run's state is saved beside them, so a run stopped in any way
 * resumes after its last completed epoch when run again, with results identical to an uninterrupted run's.
 * `specInput` is validated with parseSpec (SpecError on bad input). A diverged run is a result (status
 * "diverged"), not an error.
 */
export async function runExperiment(specInput: unknown, options: RunOptions): Promise<RunOutcome> {
  const spec = parseSpec(specInput);
  preflight(spec);
  ensureResultsDir(options.resultsDir);
  const { onProgress, signal } = options;
  const note = (message: string) => onProgress?.({ type: "data", name: spec.name, message });
  const started = performance.now();
  const { file, key, results: cached, distrusted } = cachedResults(spec, options.resultsDir);
  const stateFile = trainingStatePath(file);
  if (distrusted !== undefined) note(`${distrusted.split(";")[0]}: recomputing it`);
  if (cached !== undefined && options.force !== true) {
    return cachedOutcome(spec, { file, results: cached }, (performance.now() - started) / 1000, onProgress);
  }
  if (signal?.aborted) throw new CancelledError(`${spec.name}: cancelled`);

  const startedAt = new Date().toISOString();
  // Everything that can be checked without the data is checked (the spec, above) and built first.
  const info = datasetInfo(spec.data);
  const built = buildParts(spec, info);
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
  let parts: RunParts = await withModel(spec, info, built);
  const owner: StateOwner = {
    cacheKey: key,
    supersedes: previousResultsSha(file),
    stepsPerEpoch: Math.floor(info.splitSizes.train / spec.batchSize),
    epochs: spec.epochs,
  };
  let resumed: { progress: TrainProgress; timings: CarriedTimings } | undefined;
  const saved = readTrainingState(stateFile, owner);
  if (saved.ignored !== undefined) {
    note(`ignoring the training state ${stateFile} (${saved.ignored}): starting at epoch 1`);
    removeTrainingState(stateFile);
  } else if (saved.state !== undefined) {
    try {
      resumed = await applyTrainingState(saved.state, parts);
      note(`resuming after epoch ${resumed.progress.epoch} of ${spec.epochs} (state in ${stateFile})`);
    } catch (err) {
      note(`cannot resume from ${stateFile} (${(err as Error).message}): starting at epoch 1`);
      removeTrainingState(stateFile);
      parts.model.dispose();
      parts = await withModel(spec, info, buildParts(spec, info));
    }
  }
  const { module, optimizer, scheduler, model } = parts;
  try {
    const setupSeconds = (performance.now() - started) / 1000;
    const carried: CarriedTimings = resumed?.timings ?? {
      startedAt,
      setupSeconds,
      elapsedSeconds: 0,
      resumedAfterEpochs: [],
    };
    if (resumed !== undefined) carried.resumedAfterEpochs.push(resumed.progress.epoch);
    const elapsed = () => carried.elapsedSeconds + (performance.now() - started) / 1000;
    let savedEpoch = resumed?.progress.epoch ?? 0;
    let saveFailed = false;
    const keptState = () => {
      if (savedEpoch > 0)
        note(`stopped; the state after epoch ${savedEpoch} is kept in ${stateFile}: run it again to resume`);
    };
    let outcome: TrainOutcome;
    try {
      outcome = await trainLoop({
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
        resume: resumed?.progress,
        // Between epochs only: the steps never wait for a write.
        afterEpoch: async (progress) => {
          try {
            await saveTrainingState(stateFile, parts, progress, owner, {
              ...carried,
              elapsedSeconds: elapsed(),
            });
            savedEpoch = progress.epoch;
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code === undefined) throw err;
            // Training needs no disk; the older state (if any) is still a correct place to resume from.
            if (!saveFailed)
              note(
                `cannot save the training state (${code}); if stopped, it resumes after epoch ${savedEpoch}`,
              );
            saveFailed = true;
          }
        },
      });
    } catch (err) {
      if (err instanceof CancelledError) keptState();
      throw err;
    }
    const results: Results = {
      schemaVersion: RESULTS_SCHEMA_VERSION,
      name: spec.name,
      cacheKey: key,
      spec,
      environment: describeEnvironment(spec, gemmKernelInfo(), model.backendName),
      status: outcome.status,
      metrics: outcome.metrics,
      checkpoint: undefined,
      timings: {
        startedAt: carried.startedAt,
        setupSeconds: carried.setupSeconds,
        epochSeconds: outcome.epochSeconds,
        testSeconds: outcome.testSeconds,
        totalSeconds: elapsed(),
        resumedAfterEpochs: carried.resumedAfterEpochs.length > 0 ? carried.resumedAfterEpochs : undefined,
      },
      digest: "",
    };
    // Last chance to honour a Ctrl-C that arrived during the test evaluation; the writes themselves are atomic.
    if (signal?.aborted) {
      keptState();
      throw new CancelledError(`${spec.name}: cancelled`);
    }
    const checkpoint =
      outcome.best === undefined
        ? null
        : encodeCheckpoint(module, outcome.best.state, {
            name: spec.name,
            cacheKey: key,
            layers: modelLayers(spec, info),
            featureShape: info.featureShape,
            classNames: info.classNames,
            epoch: outcome.best.epoch,
          });
    try {
      writeResults(file, results, checkpoint);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A results folder that cannot be written (not a folder, no permission, disk full) is the user's to fix.
      if (code === "EEXIST" || code === "ENOTDIR") {
        throw new UserError(`${options.resultsDir}: expected a results folder, found a file`);
      }
      if (code !== undefined) throw new UserError(`${file}: cannot write results (${code})`);
      throw err;
    }
    // After the commit: until then the state is what a rerun (after freeing the disk, say) resumes from.
    removeTrainingState(stateFile);
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
