// Times the layers' part of a training step (zeroGrad, forward, fused loss, backward — no optimizer:
// that is @nabla/optim's, and the whole step, with the runner's nablaModel, is the root `pnpm bench`) of
// the homework's default MLP: 3072 → 128 → 10, batch 128, float32. Run with `pnpm --filter @nabla/nn bench`.
// Also times the same pass with the first layer's dX computed, to measure what skipping it saves, and a
// float64 pass. Prints a table and writes bench/out/layer-pass.json.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromTypedArray, gemmKernelInfo, Rng } from "@nabla/ndarray";
import { MLP, SoftmaxCrossEntropy } from "../dist/index.js";

const batch = 128;
const inputDim = 3072;
const hidden = [128];
const classes = 10;
const warmup = 20;
const steps = Number(process.env.NN_BENCH_STEPS ?? 200);

function makeBatch(dtype) {
  const rng = new Rng(1);
  const data = dtype === "float64" ? new Float64Array(batch * inputDim) : new Float32Array(batch * inputDim);
  rng.fillNormal(data, 0, 1);
  const labels = Int32Array.from({ length: batch }, () => rng.nextUint32() % classes);
  return { x: fromTypedArray(data, [batch, inputDim]), labels };
}

function timeSteps(name, dtype, computeInputGrad) {
  const mlp = new MLP(inputDim, hidden, classes, { seed: 42, dtype, computeInputGrad });
  const loss = new SoftmaxCrossEntropy();
  const { x, labels } = makeBatch(dtype);
  const step = () => {
    mlp.zeroGrad();
    const value = loss.forward(mlp.forward(x), labels);
    mlp.backward(loss.backward());
    return value;
  };
  for (let i = 0; i < warmup; i++) step();
  const times = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    const t0 = process.hrtime.bigint();
    step();
    times[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  times.sort();
  const median = times[Math.floor(steps / 2)];
  // Multiply-adds of the step's GEMMs: forward X·Wᵀ per layer, dW per layer, dX for all but (optionally) layer 0.
  const dims = [inputDim, ...hidden, classes];
  let flops = 0;
  for (let k = 0; k + 1 < dims.length; k++) {
    const gemms = k === 0 && !computeInputGrad ? 2 : 3;
    flops += gemms * 2 * batch * dims[k] * dims[k + 1];
  }
  return {
    name,
    dtype,
    computeInputGrad,
    medianMs: median,
    p10Ms: times[Math.floor(steps * 0.1)],
    p90Ms: times[Math.floor(steps * 0.9)],
    gflops: flops / (median * 1e6),
    epochSeconds351: (median * 351) / 1000,
  };
}

const results = [
  timeSteps("default step (first-layer dX skipped)", "float32", false),
  timeSteps("with first-layer dX", "float32", true),
  timeSteps("float64, first-layer dX skipped", "float64", false),
];
const info = gemmKernelInfo();
console.log(
  `MLP ${inputDim}→${hidden.join("→")}→${classes}, batch ${batch}, ${steps} timed steps, gemm kernel ${info.kernel}`,
);
console.log("| step | dtype | median ms | p10–p90 ms | GEMM GFLOP/s | 351-step epoch s |");
console.log("|---|---|---|---|---|---|");
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.dtype} | ${r.medianMs.toFixed(2)} | ${r.p10Ms.toFixed(2)}–${r.p90Ms.toFixed(2)} | ${r.gflops.toFixed(1)} | ${r.epochSeconds351.toFixed(1)} |`,
  );
}
const saving = 1 - results[0].medianMs / results[1].medianMs;
console.log(`skipping the first layer's dX saves ${(saving * 100).toFixed(1)} % of the step time`);

const outFile = join(dirname(fileURLToPath(import.meta.url)), "out", "layer-pass.json");
mkdirSync(dirname(outFile), { recursive: true });
const payload = JSON.stringify(
  { gemm: info, node: process.version, batch, inputDim, hidden, classes, steps, results },
  null,
  2,
);
writeFileSync(`${outFile}.tmp`, payload);
renameSync(`${outFile}.tmp`, outFile);
