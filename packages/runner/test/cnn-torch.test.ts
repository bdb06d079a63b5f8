// A CNN checkpoint written by a run loads in PyTorch (packages/nn/scripts/safetensors-torch.py, an independent
// safetensors reader) and gives nabla's eval-mode logits, within 1e-4, on the first 64 real CIFAR-10 test
// images normalised as nabla batches them. Skips, saying why, without the verified data or without torch.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveCacheDir, silentProgress, verifyCifar10 } from "@nabla/cifar";
import { loadDataset } from "@nabla/data";
import { type DType, fromArray } from "@nabla/ndarray";
import { buildSequential, loadSafetensors } from "@nabla/nn";
import { describe, expect, test } from "vitest";
import { checkpointPath, readCheckpoint } from "../src/checkpoint.js";
import { ensureBuiltinDatasets } from "../src/datasets.js";
import { runExperiment } from "../src/experiment.js";
import { tempDir, tinySpec } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("../../nn/scripts/safetensors-torch.py", import.meta.url));
const COUNT = 64;

const torchProbe = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
const noTorch =
  torchProbe.status === 0
    ? ""
    : `${PYTHON} cannot import torch (${(torchProbe.error?.message ?? torchProbe.stderr).trim().split("\n").pop()})`;
const report = await verifyCifar10({ onProgress: silentProgress });
const noData = report.ok
  ? ""
  : `real CIFAR-10 not verified in ${resolveCacheDir()} (${report.problem ?? report.files.find((f) => !f.ok)?.problem})`;
const reason = noTorch || noData;
if (reason) console.warn(`skipping the CNN checkpoint vs PyTorch test: ${reason}`);

const layers = [
  { conv2d: { out: 8, kernel: 3, padding: 1 } },
  "batchnorm2d",
  "relu",
  { maxpool2d: 2 },
  { conv2d: { out: 16, kernel: 3, padding: 1 } },
  "batchnorm2d",
  "relu",
  "adaptiveavgpool2d",
  "flatten",
  { linear: 10 },
];

describe.skipIf(reason !== "")("a CNN checkpoint in PyTorch", () => {
  test("gives nabla's eval logits on 64 real CIFAR-10 test images within 1e-4", async () => {
    const dir = tempDir();
    const spec = tinySpec({ name: "cnn", epochs: 1, lr: 0.05, model: { kind: "sequential", layers } });
    const { results, file } = await runExperiment(spec, { resultsDir: dir });
    expect(results.status).toBe("ok");
    const checkpoint = checkpointPath(file);
    const { bytes, metadata } = readCheckpoint(checkpoint);
    // the parsed spec's layer list (normalised forms such as { maxpool2d: { kernel: 2 } }), which the script reads
    expect(JSON.parse(metadata.layers)).toEqual(
      results.spec.model.kind === "sequential" ? results.spec.model.layers : null,
    );
    const featureShape = JSON.parse(metadata.featureShape) as number[];
    expect(featureShape).toEqual([3, 32, 32]);

    // The real test images, as the cifar10 source batches them (per-channel normalisation), in order.
    ensureBuiltinDatasets();
    const data = await loadDataset({ source: "cifar10" });
    const stream = data.splits.test.batches({ batchSize: COUNT, shuffle: false, dropLast: false });
    const first = stream.epoch(0)[Symbol.iterator]().next().value;
    if (first === undefined) throw new Error("the CIFAR-10 test split gave no batch");
    expect(first.size).toBe(COUNT);
    const x = Float32Array.from(first.x);
    const size = x.length / COUNT;

    const model = buildSequential(JSON.parse(metadata.layers), {
      inputShape: featureShape,
      seed: 0,
      dtype: metadata.dtype as DType,
    });
    loadSafetensors(model, bytes, { strict: true });
    model.eval();
    const logits = model.forward(fromArray(x, [COUNT, ...featureShape], metadata.dtype as DType));
    const nabla = Array.from(logits.data);

    const inputs = join(dir, "inputs.json");
    const rows = Array.from({ length: COUNT }, (_, i) => Array.from(x.subarray(i * size, (i + 1) * size)));
    writeFileSync(inputs, JSON.stringify(rows));
    const run = spawnSync(PYTHON, [SCRIPT, checkpoint, inputs], { encoding: "utf8", maxBuffer: 1 << 26 });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const torch = (JSON.parse(run.stdout) as number[][]).flat();
    expect(torch.length).toBe(COUNT * 10);
    let worst = 0;
    for (let i = 0; i < torch.length; i++) worst = Math.max(worst, Math.abs(nabla[i] - torch[i]));
    console.log(
      `CNN checkpoint: max |nabla - torch| logit over ${COUNT} CIFAR-10 test images: ${worst.toExponential(2)}`,
    );
    expect(worst).toBeLessThan(1e-4);
    // Not a degenerate net: the logits vary across images.
    expect(new Set(nabla.map((v) => v.toFixed(4))).size).toBeGreaterThan(COUNT);
  }, 120_000);
});
