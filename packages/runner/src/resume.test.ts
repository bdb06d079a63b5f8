// A stopped run resumes after its last completed epoch with results identical to an uninterrupted run's.
// (Real process kills: test/kill.test.ts; full disks and whole pairs: src/pair.test.ts.)
import { copyFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fromTypedArray, Rng } from "@nabla/ndarray";
import { encodeSafetensors } from "@nabla/nn";
import { describe, expect, test } from "vitest";
import { tempDir, tinySpec } from "../test/helpers.js";
import { CancelledError } from "./errors.js";
import { runExperiment } from "./experiment.js";
import type { Results } from "./results.js";
import type { ExperimentSpecInput } from "./spec.js";
import { encodeFloatTensors, trainingStatePath } from "./training-state.js";

/** Everything but what two identical runs may differ in (timings, and the digest that covers them). */
function comparable(r: Results) {
  const { timings: _t, digest: _d, ...rest } = r;
  return JSON.stringify(rest);
}

const cases: [string, ExperimentSpecInput][] = [
  [
    "SGD with momentum and a multistep schedule (best epoch 3 of 5)",
    tinySpec({
      name: "sgdm",
      epochs: 5,
      lr: 0.003,
      seed: 1,
      model: { kind: "mlp", hiddenDims: [8] },
      optimizer: { kind: "sgd", momentum: 0.9 },
      scheduler: { kind: "multistep", milestones: [2, 4], gamma: 0.5 },
    }),
  ],
  [
    "BatchNorm, Dropout, Adam and a per-step one-cycle schedule",
    tinySpec({
      name: "bn",
      epochs: 5,
      seed: 2,
      model: {
        kind: "mlp",
        layers: [{ linear: 8 }, { batchnorm1d: {} }, "relu", { dropout: 0.3 }, { linear: 10 }],
      },
      optimizer: { kind: "adam" },
      scheduler: { kind: "onecycle", maxLr: 0.01 },
    }),
  ],
  [
    "augmentation (random crops and flips)",
    tinySpec({
      name: "aug",
      epochs: 4,
      data: { ...tinySpec().data, augment: [{ randomCrop: { padding: 4 } }, "horizontalFlip"] } as never,
    }),
  ],
  ["the TF.js model", tinySpec({ name: "tf", epochs: 3, model: { kind: "mlp-tfjs", hiddenDims: [16] } })],
];

/** Runs `spec` in `dir` and stops it right after epoch `epoch` (the state of that epoch is saved first). */
async function stopAfter(spec: ExperimentSpecInput, dir: string, epoch: number, force = false) {
  const controller = new AbortController();
  const notes: string[] = [];
  const run = runExperiment(spec, {
    resultsDir: dir,
    force,
    signal: controller.signal,
    onProgress: (e) => {
      if (e.type === "epoch" && e.epoch === epoch) controller.abort();
      if (e.type === "data") notes.push(e.message);
    },
  });
  await expect(run).rejects.toBeInstanceOf(CancelledError);
  return notes;
}

async function rerun(spec: ExperimentSpecInput, dir: string, force = false) {
  const notes: string[] = [];
  const outcome = await runExperiment(spec, {
    resultsDir: dir,
    force,
    onProgress: (e) => {
      if (e.type === "data") notes.push(e.message);
    },
  });
  return { ...outcome, notes };
}

describe("resumable training", () => {
  test.each(cases)(
    "%s: stopped after any epoch, resumed, identical to the uninterrupted run",
    async (_, spec) => {
      const reference = await runExperiment(spec, { resultsDir: tempDir() });
      const referenceCheckpoint = readFileSync(join(reference.file, "..", `${spec.name}.safetensors`));
      const epochs = spec.epochs as number;
      for (let k = 1; k < epochs; k++) {
        const dir = tempDir();
        const state = trainingStatePath(join(dir, `${spec.name}.json`));
        const notes = await stopAfter(spec, dir, k);
        expect(notes.at(-1)).toBe(
          `stopped; the state after epoch ${k} is kept in ${state}: run it again to resume`,
        );
        expect(readdirSync(dir)).toEqual([`.${spec.name}.state.safetensors`]);
        const resumed = await rerun(spec, dir);
        expect(resumed.notes).toContain(`resuming after epoch ${k} of ${epochs} (state in ${state})`);
        expect(comparable(resumed.results)).toBe(comparable(reference.results));
        expect(readFileSync(join(dir, `${spec.name}.safetensors`))).toEqual(referenceCheckpoint);
        expect(resumed.results.timings.resumedAfterEpochs).toEqual([k]);
        expect(resumed.results.timings.epochSeconds).toHaveLength(epochs);
        // The state is gone once the results are in place.
        expect(readdirSync(dir).sort()).toEqual([`${spec.name}.json`, `${spec.name}.safetensors`]);
      }
    },
  );

  test("stopped and resumed twice: still identical; every resume is recorded", async () => {
    const spec = cases[1][1];
    const reference = await runExperiment(spec, { resultsDir: tempDir() });
    const dir = tempDir();
    await stopAfter(spec, dir, 1);
    await stopAfter(spec, dir, 3);
    const resumed = await rerun(spec, dir);
    expect(comparable(resumed.results)).toBe(comparable(reference.results));
    expect(resumed.results.timings.resumedAfterEpochs).toEqual([1, 3]);
  });

  test("a state saved by another spec or code version is ignored and removed", async () => {
    const dir = tempDir();
    const spec = tinySpec({ name: "t", epochs: 3 });
    await stopAfter(spec, dir, 1);
    const changed = { ...spec, lr: 0.02 };
    const { results, notes } = await rerun(changed, dir);
    const state = trainingStatePath(join(dir, "t.json"));
    expect(notes).toContain(
      `ignoring the training state ${state} (saved by another spec or code version): starting at epoch 1`,
    );
    expect(results.timings.resumedAfterEpochs).toBeUndefined();
    const reference = await runExperiment(changed, { resultsDir: tempDir() });
    expect(comparable(results)).toBe(comparable(reference.results));
    expect(existsSync(state)).toBe(false);
  });

  test("a finished run's leftover state is removed by a cache hit and never resumed by --force", async () => {
    const dir = tempDir();
    const spec = tinySpec({ name: "t", epochs: 3 });
    const state = trainingStatePath(join(dir, "t.json"));
    await stopAfter(spec, dir, 2);
    copyFileSync(state, join(dir, "kept"));
    const finished = await rerun(spec, dir);
    // As if the process had been killed between writing the results and removing the state:
    copyFileSync(join(dir, "kept"), state);
    expect((await rerun(spec, dir)).cached).toBe(true);
    expect(existsSync(state)).toBe(false);
    copyFileSync(join(dir, "kept"), state);
    const forced = await rerun(spec, dir, true);
    expect(forced.notes).toContain(
      `ignoring the training state ${state} (left by a run that has finished since): starting at epoch 1`,
    );
    expect(forced.results.timings.resumedAfterEpochs).toBeUndefined();
    expect(comparable(forced.results)).toBe(comparable(finished.results));
  });

  test("a --force rerun that is stopped resumes with --force", async () => {
    const dir = tempDir();
    const spec = tinySpec({ name: "t", epochs: 3 });
    const first = await runExperiment(spec, { resultsDir: dir });
    // Its state names the results file it is replacing, which is still there: it is resumed.
    await stopAfter(spec, dir, 1, true);
    const again = await rerun(spec, dir, true);
    expect(again.notes.some((n) => n.startsWith("resuming after epoch 1 of 3"))).toBe(true);
    expect(comparable(again.results)).toBe(comparable(first.results));
  });

  test("the state's fast encoder writes encodeSafetensors' bytes exactly", () => {
    const rng = new Rng(3);
    const tensors = {
      "b/x": fromTypedArray(
        Float32Array.from({ length: 37 }, () => rng.normal()),
        [37],
      ),
      "a/w": fromTypedArray(
        Float32Array.from({ length: 12 }, () => rng.normal()),
        [3, 4],
      ),
      "c/n": fromTypedArray(Float64Array.from([1, 2, Number.NaN]), [3]),
    };
    const metadata = { format: "x", state: JSON.stringify({ ü: [1, 2] }) };
    expect(encodeFloatTensors(tensors, metadata)).toEqual(encodeSafetensors(tensors, metadata));
  });

  test("an Rng continues its stream from getState() in another Rng", () => {
    const a = new Rng(11);
    a.normal();
    const state = a.getState();
    const b = new Rng(99);
    b.setState(JSON.parse(JSON.stringify(state)));
    expect([b.normal(), b.uniform(), b.nextUint32()]).toEqual([a.normal(), a.uniform(), a.nextUint32()]);
    expect(() => b.setState({ ...state, s: [0, 0, 0, 0] })).toThrow("must not be all zero");
  });
});
