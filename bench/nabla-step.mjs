// nabla's default training step for `pnpm bench`: samples/s per repetition and the step's time split.
// Run as a script it is a contender of run.mjs's interleaved rounds (contenders.mjs), so the WebAssembly kernels
// are measured in a child process started with NABLA_GEMM_NATIVE=0 (the addon cannot be unloaded).
import { fileURLToPath } from "node:url";
import { fromTypedArray, gemmKernelInfo, gemmProfile, Rng, setGemmProfiling } from "@nabla/ndarray";
import { buildSequential, mlpLayers, SoftmaxCrossEntropy } from "@nabla/nn";
import { createOptimizer } from "@nabla/optim";
import { nablaModel } from "@nabla/runner";
import { repetitions, serve } from "./contenders.mjs";

export const batch = 128;
export const dims = [3072, 128, 10];
/** Steps before timing, the same in the numpy and torch scripts: V8 optimises the step only after a few dozen. */
const warmupSteps = 100;

/** Floating-point operations of one step: forward and weight gradient of every layer, dX of all but the first. */
export function stepFlop() {
  let flop = 0;
  for (let l = 0; l + 1 < dims.length; l++) flop += 2 * batch * dims[l] * dims[l + 1] * (l === 0 ? 2 : 3);
  return flop;
}

/** The runner's model of the default spec, its SGD from @nabla/optim's registry, and one fixed batch. */
function makeModel() {
  const rng = new Rng(7);
  const data = new Float32Array(batch * dims[0]);
  rng.fillNormal(data, 0, 1);
  const labels = Int32Array.from({ length: batch }, () => rng.nextUint32() % dims.at(-1));
  const model = buildSequential(mlpLayers(dims.slice(1, -1), dims.at(-1)), { inputDim: dims[0], seed: 42 });
  const optimizer = createOptimizer({ kind: "sgd", lr: 0.01 }, model.parameters());
  const trainer = nablaModel(model, optimizer, dims[0]);
  return { data, x: fromTypedArray(data, [batch, dims[0]]), labels, model, optimizer, trainer };
}

/** The runner's training step (what every training run executes), warmed up: one repetition per rep(). */
export function nablaStepContender() {
  const { data, x, labels, model, optimizer, trainer } = makeModel();
  const step = () => trainer.trainStep(data, labels, batch);
  for (let i = 0; i < warmupSteps; i++) step();
  return {
    rep: repetitions(step, batch),
    /** The step's time split (after the timed repetitions, so they are not slowed by the profiler). */
    finish: () => ({ split: splitStep(step, model, optimizer, x, labels), gemm: gemmKernelInfo() }),
  };
}

/**
 * Where a step's time goes, ms per step over `steps` steps: each GEMM (by shape, from the gemm profile),
 * element-wise (forward, loss and backward minus their GEMMs: bias, ReLU, softmax), the optimizer, and
 * other (zeroGrad and the rest of the wall time). Timers around each phase add ~1 µs of the total.
 */
function splitStep(step, model, optimizer, x, labels, steps = 200) {
  // The same pieces the runner's step calls, timed one by one (the step itself cannot be timed inside).
  const loss = new SoftmaxCrossEntropy();
  for (let i = 0; i < 10; i++) step();
  const phase = { zeroGrad: 0, passes: 0, optimizer: 0 };
  setGemmProfiling(true);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const a = performance.now();
    model.zeroGrad();
    const b = performance.now();
    loss.forward(model.forward(x), labels);
    model.backward(loss.backward());
    const c = performance.now();
    optimizer.step();
    const d = performance.now();
    phase.zeroGrad += b - a;
    phase.passes += c - b;
    phase.optimizer += d - c;
  }
  const wall = performance.now() - t0;
  const gemms = gemmProfile().map((g) => ({
    shape: `${g.transA ? "Aᵀ" : "A"}·${g.transB ? "Bᵀ" : "B"} ${g.m}×${g.n}×${g.k}`,
    kernel: g.kernel,
    ms: g.ms / steps,
    gflops: (2 * g.m * g.n * g.k * g.calls) / (g.ms / 1000) / 1e9,
  }));
  setGemmProfiling(false);
  const gemmMs = gemms.reduce((s, g) => s + g.ms, 0);
  return {
    stepMs: wall / steps,
    gemms,
    elementwiseMs: phase.passes / steps - gemmMs,
    optimizerMs: phase.optimizer / steps,
    otherMs: (wall - phase.passes - phase.optimizer) / steps,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await serve(nablaStepContender());
