/**
 * `nabla eval`: reloads a run's checkpoint into the model its results file describes and evaluates it on a
 * split. On the test split this reproduces the recorded test accuracy bit for bit (same model, same code path).
 */
import { existsSync } from "node:fs";
import { featureSize } from "@nabla/data";
import { checkpointPath, loadCheckpointInto, readCheckpoint } from "./checkpoint.js";
import { evalLoader, loadExperimentData } from "./data.js";
import { experimentDatasetInfo } from "./datasets.js";
import { UserError } from "./errors.js";
import { buildModule, nablaModel, type TrainableModel, tfjsModel } from "./models.js";
import { loadResults, type Results } from "./results.js";
import { evaluate } from "./train.js";

export interface EvalOutcome {
  results: Results;
  checkpoint: string;
  split: "test" | "validation";
  accuracy: number;
  loss: number;
  count: number;
  /** The recorded accuracy of the same model on the same split (test only), and whether the bits match. */
  recorded?: { accuracy: number | null; loss: number | null; identical: boolean };
}

/** The results file and checkpoint of a path naming either. */
export function resolvePair(path: string): { resultsFile: string; checkpoint: string } {
  if (path.endsWith(".safetensors"))
    return { resultsFile: path.replace(/\.safetensors$/, ".json"), checkpoint: path };
  return { resultsFile: path, checkpoint: checkpointPath(path) };
}

export async function evaluateCheckpoint(
  path: string,
  options: { split?: "test" | "validation"; signal?: AbortSignal } = {},
): Promise<EvalOutcome> {
  const split = options.split ?? "test";
  const { resultsFile, checkpoint } = resolvePair(path);
  if (!existsSync(resultsFile)) {
    throw new UserError(
      `${resultsFile}: no results file beside the checkpoint (it holds the spec to rebuild the model)`,
    );
  }
  const results = loadResults(resultsFile);
  if (!existsSync(checkpoint)) {
    throw new UserError(
      `${checkpoint}: no checkpoint for ${results.name} (checkpoints are outputs, not committed): retrain it with \`nabla run <its spec> --force\`, or the report's experiments with --force, to write one`,
    );
  }
  const { bytes, metadata } = readCheckpoint(checkpoint);
  if (metadata.cacheKey !== results.cacheKey) {
    throw new UserError(
      `${checkpoint}: belongs to another run than ${resultsFile} (cache key ${metadata.cacheKey.slice(0, 12)}… vs ${results.cacheKey.slice(0, 12)}…); retrain to write a matching pair`,
    );
  }
  const spec = results.spec;
  const info = experimentDatasetInfo(spec);
  const inputDim = featureSize(info.featureShape);
  const module = buildModule(spec, info);
  loadCheckpointInto(module, checkpoint, bytes);
  const model: TrainableModel =
    spec.model.kind !== "mlp-tfjs"
      ? nablaModel(module, { step() {} }, info.featureShape)
      : await tfjsModel(spec, module, () => spec.lr, inputDim);
  try {
    const data = await loadExperimentData(spec, undefined, options.signal);
    const loader = evalLoader(spec, data.splits[split]);
    const { accuracy, loss } = await evaluate(model, loader);
    const outcome: EvalOutcome = {
      results,
      checkpoint,
      split,
      accuracy,
      loss,
      count: data.splits[split].size,
    };
    if (split === "test") {
      const m = results.metrics;
      outcome.recorded = {
        accuracy: m.testAccuracy,
        loss: m.testLoss,
        identical: m.testAccuracy === accuracy && (m.testLoss === null || m.testLoss === loss),
      };
    }
    return outcome;
  } finally {
    model.dispose();
  }
}
