// `pnpm bench`: nabla's default MLP training step (native kernels, and WebAssembly in a child process and in
// headless Chromium) against numpy, PyTorch (1 thread and every core) and TF.js's wasm backend (in Node and in
// the same Chromium page) measured in the same run, in interleaved rounds (contenders.mjs); the step's time
// split and its percent of the limit; GEMM GFLOP/s per kernel; and one real CIFAR-10 epoch with the data
// pipeline. Writes bench/out/bench.json. Never part of the tests: the machine is shared, so only ratios within
// one run are meaningful.
import { spawnSync } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BatchLoader, loadCifar10, silentProgress, splitTrainValidation } from "@nabla/cifar";
import { gemmKernelInfo, Rng, setGemmKernel } from "@nabla/ndarray";
import { buildSequential, mlpLayers } from "@nabla/nn";
import { createOptimizer } from "@nabla/optim";
import { nablaModel } from "@nabla/runner";
import { interleave, processContender } from "./contenders.mjs";
import {
  batch,
  dims,
  gemmCall,
  gemmShapes,
  limitGemmContender,
  nablaStepContender,
  stepFlop,
} from "./nabla-step.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const reps = Number(process.env.BENCH_REPS ?? 7);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), samples: xs });
const fmt = (x, d = 0) =>
  x == null ? "—" : x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

/** The python that has torch: $BENCH_TORCH_PYTHON, else Debian's /usr/bin/python3, else python3 on PATH. */
function torchPython() {
  const candidates = [process.env.BENCH_TORCH_PYTHON, "/usr/bin/python3", "python3"].filter(Boolean);
  const reasons = [];
  for (const py of candidates) {
    const probe = spawnSync(py, ["-c", "import torch"], { encoding: "utf8" });
    if (probe.status === 0) return { python: py };
    reasons.push(`${py}: ${probe.error ? "not found" : "no torch module"}`);
  }
  return { skipped: `torch not importable (${reasons.join("; ")})` };
}

/**
 * Every training-step contender of the Node bench, measured in interleaved rounds: nabla native (this
 * process), nabla on the WebAssembly kernels in a child process without the addon (and once more with the
 * engine's relaxed-SIMD flag, which Node 20 needs), numpy, torch with 1 thread and with every core (torch's
 * own default varies by build; the faster is "torch"), and TF.js's wasm backend with the stock matMul and
 * with @nabla/tfjs's explicit-transpose matMul.
 */
async function trainStepContenders() {
  const node = process.execPath;
  const step = join(here, "nabla-step.mjs");
  const wasmEnv = { ...process.env, NABLA_GEMM_NATIVE: "0" };
  const reference = (script) => join(here, "reference", script);
  const native = nablaStepContender();
  const limitGemm = limitGemmContender();
  const torch = torchPython();
  const threadCounts = [...new Set([1, availableParallelism()])];
  const contenders = [
    {
      name: "native",
      start: async () => ({ ready: true }),
      rep: async () => native.rep(),
      finish: async () => native.finish(),
    },
    {
      name: "limitGemm",
      start: async () => ({ ready: true }),
      rep: async () => limitGemm.rep(),
      finish: async () => limitGemm.finish(),
    },
    processContender("wasm", node, [step], wasmEnv),
    processContender("relaxed", node, ["--experimental-wasm-relaxed-simd", step], wasmEnv),
    processContender("numpy", process.env.BENCH_NUMPY_PYTHON ?? "python3", [
      reference("mlp_numpy.py"),
      "0",
      "--serve",
    ]),
    ...(torch.python
      ? threadCounts.map((t) =>
          processContender(`torch${t}`, torch.python, [reference("mlp_torch.py"), "0", String(t), "--serve"]),
        )
      : []),
    processContender("tfjsExplicitTranspose", node, [join(here, "tfjs-step.mjs"), "explicit-transpose"]),
    processContender("tfjsStock", node, [join(here, "tfjs-step.mjs"), "stock"]),
  ];
  const r = await interleave(contenders, reps, (done, all) =>
    process.stderr.write(`\rbench: round ${done}/${all}`),
  );
  process.stderr.write("\n");
  const run = (key) =>
    r[key].skipped ? { skipped: r[key].skipped } : { samplesPerSecond: r[key].rates, ...r[key].final };
  const torchRuns = torch.python
    ? threadCounts.map((t) => ({ python: torch.python, ...run(`torch${t}`) }))
    : [];
  const torchOk = torchRuns.filter((t) => t.samplesPerSecond);
  const torchBest = torchOk.length
    ? {
        ...torchOk.reduce((x, y) => (median(y.samplesPerSecond) > median(x.samplesPerSecond) ? y : x)),
        runs: torchRuns,
      }
    : (torchRuns[0] ?? torch);
  return {
    nablaRun: run("native"),
    limitGemmGflops: r.limitGemm.rates ?? null,
    wasmRun: run("wasm"),
    relaxedRun: run("relaxed"),
    numpy: run("numpy"),
    torch: torchBest,
    tfjs: { explicitTranspose: run("tfjsExplicitTranspose"), stock: run("tfjsStock") },
  };
}

/**
 * The same step in headless Chromium (examples/browser's bench page, cross-origin isolated): nabla on the
 * WebAssembly kernels (the plain SIMD build Node 20 runs, and Chromium's relaxed-SIMD default) beside TF.js's
 * wasm backend in the same page.
 */
function chromiumBench() {
  const script = join(here, "..", "examples", "browser", "scripts", "bench.mjs");
  const result = spawnSync(process.execPath, [script, "--reps", String(reps)], { encoding: "utf8" });
  if (result.status !== 0) {
    const last = (result.stderr || result.error?.message || "").trim().split("\n").at(-1);
    return { skipped: `Chromium bench failed: ${last}` };
  }
  return JSON.parse(result.stdout.trim().split("\n").at(-1));
}

/** GFLOP/s of the default MLP's GEMM shapes for each float32 kernel that loaded here, operands in place. */
function benchGemm() {
  const kernels = gemmKernelInfo().available;
  const rows = [];
  const rng = new Rng(3);
  for (const s of gemmShapes) {
    const row = { shape: s.name, m: s.m, n: s.n, k: s.k, gflops: {} };
    for (const kernel of kernels) {
      setGemmKernel(kernel);
      const { flop, run } = gemmCall(s, rng);
      const iterations = kernel === "reference" ? 2 : Math.max(5, Math.ceil(2e9 / flop));
      run();
      const rates = [];
      for (let r = 0; r < Math.min(reps, 5); r++) {
        const t0 = performance.now();
        for (let i = 0; i < iterations; i++) run();
        rates.push((flop * iterations) / ((performance.now() - t0) / 1000) / 1e9);
      }
      row.gflops[kernel] = median(rates);
    }
    rows.push(row);
  }
  setGemmKernel("auto");
  return { kernels, rows };
}

/**
 * One real epoch: 351 shuffled, normalised batches of 128 through the training step. The best of 4 epochs is
 * the steady state: on these VMs the first second or two after loading the data set (~330 MB of fresh memory)
 * run every step ~1.5x slower (the same with a fixed batch; gone after a 3 s sleep), so the first epoch is
 * reported beside it.
 */
async function benchRealEpoch() {
  let data;
  try {
    data = await loadCifar10({ sources: [], onProgress: silentProgress });
  } catch (error) {
    return { skipped: `CIFAR-10 not in the cache (run \`nabla data fetch\`): ${error.message}` };
  }
  const { train } = splitTrainValidation(data.train, { seed: 42, validationSize: 5000 });
  const loader = new BatchLoader(train, { batchSize: batch, shuffle: true, seed: 42, dropLast: true });
  const model = buildSequential(mlpLayers(dims.slice(1, -1), dims.at(-1)), { inputDim: dims[0], seed: 42 });
  const trainer = nablaModel(model, createOptimizer({ kind: "sgd", lr: 0.1 }, model.parameters()), dims[0]);
  const seconds = [];
  const pipelineSeconds = [];
  for (let epoch = 0; epoch < 4; epoch++) {
    const t0 = performance.now();
    let samples = 0;
    let waiting = 0; // time spent inside the loader (shuffling, gathering, normalising), between steps
    let stepEnd = t0;
    for (const b of loader.epoch(epoch)) {
      waiting += performance.now() - stepEnd;
      // The runner's training step, on the loader's batch buffer itself (no copy), as a training run does.
      trainer.trainStep(b.x, b.y, b.size);
      samples += b.size;
      stepEnd = performance.now();
    }
    seconds.push((performance.now() - t0) / 1000);
    pipelineSeconds.push(waiting / 1000);
    if (samples !== 351 * batch) throw new Error(`expected 351 batches, got ${samples / batch}`);
  }
  const best = seconds.indexOf(Math.min(...seconds));
  return {
    samples: 351 * batch,
    seconds: seconds[best],
    pipelineSeconds: pipelineSeconds[best],
    firstEpochSeconds: seconds[0],
    runs: seconds,
    pipelineRuns: pipelineSeconds,
  };
}

// Other processes skew a 2-core machine: the load average is printed and saved with the numbers.
const loadBefore = loadavg()[0];
const { nablaRun, limitGemmGflops, wasmRun, relaxedRun, numpy, torch, tfjs } = await trainStepContenders();
const nabla = summary(nablaRun.samplesPerSecond);
const nablaWasmRates = wasmRun.samplesPerSecond ? summary(wasmRun.samplesPerSecond) : null;
// Where relaxed SIMD is on by default this is the same kernel as above (both rows then say so).
const relaxedRates = relaxedRun.samplesPerSecond ? summary(relaxedRun.samplesPerSecond) : null;
const chromium = chromiumBench();
const gemmTable = benchGemm();
const epoch = await benchRealEpoch();

const numpyRates = numpy.samplesPerSecond ? summary(numpy.samplesPerSecond) : null;
const torchRates = torch.samplesPerSecond ? summary(torch.samplesPerSecond) : null;
const tfjsRates = (mode) => (tfjs[mode].samplesPerSecond ? summary(tfjs[mode].samplesPerSecond) : null);
const tfjsExplicit = tfjsRates("explicitTranspose");
const tfjsStock = tfjsRates("stock");
const chromiumRates = (key) =>
  chromium[key]?.samplesPerSecond ? summary(chromium[key].samplesPerSecond) : null;
const inChromium = {
  nabla: chromiumRates("nabla"),
  nablaOneThread: chromiumRates("nablaOneThread"),
  nablaRelaxed: chromiumRates("nablaRelaxed"),
  tfjsExplicitTranspose: chromiumRates("tfjsExplicitTranspose"),
  tfjsStock: chromiumRates("tfjsStock"),
};
const info = gemmKernelInfo();
const ratio = (a, b) => (a && b ? a.median / b.median : null);
const x = (r) => (r == null ? "—" : `${r.toFixed(2)}×`);

// The limit: the step's FLOP at the best GFLOP/s this run measured on its GEMM shapes, any implementation.
const flop = stepFlop();
const gflopsSeen = [
  ...gemmTable.rows.flatMap((row) =>
    Object.entries(row.gflops).map(([k, g]) => [`nabla ${k}`, row.shape, g]),
  ),
  ...Object.entries(numpy.gemmGflops ?? {}).map(([shape, g]) => ["numpy", shape, g]),
  ...(torch.runs ?? [torch]).flatMap((r) =>
    Object.entries(r.gemmGflops ?? {}).map(([shape, g]) => [`torch ${r.threads} threads`, shape, g]),
  ),
];
const [bestBy, bestShape, bestGflops] = gflopsSeen.reduce((p, q) => (q[2] > p[2] ? q : p));
const limit = ((bestGflops * 1e9) / flop) * batch;
const percentOfTableLimit = (100 * nabla.median) / limit;
// The figure held to the target: round by round, the step against the limit GEMM rate measured in the same
// round (this machine's speed drifts by a third within minutes, so a rate from the GEMM table, measured
// later, is not a fair reference). If another implementation beat nabla native in the table, the limit is
// raised by that margin.
const samplesAtGflops = (g) => ((g * 1e9) / flop) * batch;
const stepKernel = `nabla ${info.kernel.replace(/^auto:/, "")}`;
const nativeTableBest = Math.max(...gflopsSeen.filter(([by]) => by === stepKernel).map((g) => g[2]));
const othersMargin = Number.isFinite(nativeTableBest) ? Math.max(1, bestGflops / nativeTableBest) : 1;
const roundPercents = limitGemmGflops
  ? nabla.samples.map((rate, r) => (100 * rate) / samplesAtGflops(limitGemmGflops[r]) / othersMargin)
  : null;
const percentOfLimit = roundPercents ? median(roundPercents) : percentOfTableLimit;

// An upper bound on nabla WebAssembly against nabla native: the WebAssembly step takes at least its two layer-1
// GEMMs at this run's 2-thread WebAssembly rates, against the native step's measured time. WebAssembly SIMD is
// 128 bits wide and AVX-512 512, so on an AVX-512 machine this stays low however good the WebAssembly kernel.
const wasmGemmMs = (() => {
  const big = gemmTable.rows.filter((row) => row.k * row.n * row.m >= 1 << 20);
  if (!big.every((row) => row.gflops.parallel)) return null;
  return big.reduce((t, row) => t + (2 * row.m * row.n * row.k) / row.gflops.parallel / 1e6, 0);
})();
const wasmGemmBound = wasmGemmMs === null ? null : (1000 * batch) / nabla.median / wasmGemmMs;

const loadAfter = loadavg()[0];
console.log(
  `\nnabla bench — ${cpus()[0]?.model ?? "unknown CPU"} × ${availableParallelism()}, node ${process.version}, ` +
    `gemm ${info.kernel} (${info.isa}, ${info.threads} threads); load average ${loadBefore.toFixed(2)} → ` +
    `${loadAfter.toFixed(2)}`,
);
console.log(
  `MLP training step ${dims.join("-")}, batch ${batch}, SGD, float32; ${reps} repetitions (median, range)\n`,
);
console.log("| implementation | samples/s median | min – max | vs numpy | vs torch |");
console.log("|---|---|---|---|---|");
const torchName = (r) => `torch ${r.version} CPU, ${r.threads} thread${r.threads === 1 ? "" : "s"}`;
const rows = [
  [`nabla, native (${info.isa}, ${info.threads} threads)`, nabla],
  [`nabla, WebAssembly (\`NABLA_GEMM_NATIVE=0\`, ${wasmRun.gemm?.isa})`, nablaWasmRates],
  [`nabla, WebAssembly (--experimental-wasm-relaxed-simd, ${relaxedRun.gemm?.isa})`, relaxedRates],
  [`numpy ${numpy.version ?? ""}`, numpyRates],
  ...(torch.runs ?? []).map((r) => [torchName(r), r.samplesPerSecond ? summary(r.samplesPerSecond) : null]),
  ["TF.js wasm, explicit-transpose matMul", tfjsExplicit],
  ["TF.js wasm, stock", tfjsStock],
  [
    `nabla, WebAssembly in Chromium ${chromium.chromium ?? ""} (wasm-simd128, ${chromium.gemm?.threads} threads)`,
    inChromium.nabla,
  ],
  ["nabla, WebAssembly in Chromium, 1 thread", inChromium.nablaOneThread],
  ["nabla, WebAssembly in Chromium, relaxed SIMD (its default)", inChromium.nablaRelaxed],
  ["TF.js wasm in Chromium, explicit-transpose matMul", inChromium.tfjsExplicitTranspose],
  ["TF.js wasm in Chromium, stock", inChromium.tfjsStock],
];
for (const [name, r] of rows) {
  if (!r) continue;
  console.log(
    `| ${name} | ${fmt(r.median)} | ${fmt(r.min)} – ${fmt(r.max)} | ${x(ratio(r, numpyRates))} | ${x(ratio(r, torchRates))} |`,
  );
}
for (const [name, r] of [
  ["nabla wasm", wasmRun],
  ["nabla wasm (relaxed SIMD flag)", relaxedRun],
  ["numpy", numpy],
  ["torch", torch],
  ["TF.js explicit-transpose", tfjs.explicitTranspose],
  ["TF.js stock", tfjs.stock],
  ["Chromium", chromium],
])
  if (r.skipped) console.log(`${name} skipped: ${r.skipped}`);
if (torchRates) console.log(`torch's best: ${torch.threads} thread(s) (the "vs torch" column)`);
console.log(`Node rows: ${reps} interleaved rounds, one repetition of each implementation per round`);
console.log(
  `\nnabla native vs torch (best) ${x(ratio(nabla, torchRates))}; nabla wasm vs TF.js wasm explicit-transpose ` +
    `${x(ratio(nablaWasmRates, tfjsExplicit))}, vs TF.js wasm stock ${x(ratio(nablaWasmRates, tfjsStock))}; ` +
    `nabla wasm vs nabla native ${x(ratio(nablaWasmRates, nabla))} (relaxed SIMD: ` +
    `${x(ratio(relaxedRates, nabla))} in Node with the flag, ${x(ratio(inChromium.nablaRelaxed, nabla))} in ` +
    `Chromium); in Chromium nabla wasm vs TF.js wasm ` +
    `explicit-transpose ${x(ratio(inChromium.nabla, inChromium.tfjsExplicitTranspose))}, vs stock ` +
    `${x(ratio(inChromium.nabla, inChromium.tfjsStock))}`,
);
if (roundPercents)
  console.log(
    `limit: ${fmt(flop / 1e6, 1)} MFLOP per step at the faster layer-1 GEMM rate of nabla's large kernel in ` +
      `each round (median ${fmt(median(limitGemmGflops), 1)} GFLOP/s, ${fmt(Math.min(...limitGemmGflops), 1)}` +
      ` – ${fmt(Math.max(...limitGemmGflops), 1)})${othersMargin > 1 ? `, raised ${x(othersMargin)} for ${bestBy}'s table rate` : ""}` +
      `: nabla native is at ${fmt(percentOfLimit, 1)}% of it (median of the rounds, ` +
      `${fmt(Math.min(...roundPercents), 1)} – ${fmt(Math.max(...roundPercents), 1)}%)`,
  );
console.log(
  `limit from the GEMM table: ${fmt(bestGflops, 1)} GFLOP/s (${bestBy}, ${bestShape}) = ${fmt(limit)} ` +
    `samples/s; the step's median is ${fmt(percentOfTableLimit, 1)}% of it`,
);
if (wasmGemmBound !== null)
  console.log(
    `WebAssembly bound: the layer-1 GEMMs alone take ${fmt(wasmGemmMs, 3)} ms at this run's 2-thread ` +
      `WebAssembly rates, against ${fmt((1000 * batch) / nabla.median, 3)} ms for the whole native step: ` +
      `nabla wasm can reach at most ${x(wasmGemmBound)} nabla native`,
  );

console.log("\nstep time split, ms per step (profiled run; GEMMs timed per call)\n");
console.log("| part | native ms | % | WebAssembly ms | % |");
console.log("|---|---|---|---|---|");
const splits = [nablaRun.split, wasmRun.split].filter(Boolean);
const parts = (sp) => [
  ...sp.gemms.map((g) => [`GEMM ${g.shape}`, g.ms]),
  ["element-wise (bias, ReLU, softmax, loss)", sp.elementwiseMs],
  ["optimizer (SGD)", sp.optimizerMs],
  ["other (zeroGrad, calls)", sp.otherMs],
];
const tables = splits.map(parts);
for (let i = 0; i < tables[0].length; i++) {
  const cells = tables.map((t, j) => [fmt(t[i][1], 3), fmt((100 * t[i][1]) / splits[j].stepMs, 1)]);
  console.log(`| ${tables[0][i][0]} | ${cells.flat().join(" | ")} |`);
}
console.log(`| whole step | ${splits.map((sp) => `${fmt(sp.stepMs, 3)} | 100`).join(" | ")} |`);

console.log(`\nGEMM GFLOP/s (float32, median of ${Math.min(reps, 5)})\n`);
console.log(`| shape | m×n×k | ${gemmTable.kernels.join(" | ")} | numpy | torch |`);
console.log(`|---|---|${gemmTable.kernels.map(() => "---").join("|")}|---|---|`);
for (const row of gemmTable.rows) {
  const cells = gemmTable.kernels.map((k) => fmt(row.gflops[k], 1));
  cells.push(fmt(numpy.gemmGflops?.[row.shape], 1), fmt(torch.gemmGflops?.[row.shape], 1));
  console.log(`| ${row.shape} | ${row.m}×${row.n}×${row.k} | ${cells.join(" | ")} |`);
}

if (epoch.skipped) console.log(`\nreal epoch skipped: ${epoch.skipped}`);
else {
  const bound = (45000 / nabla.median) * 1.2;
  console.log(
    `\nreal CIFAR-10 epoch (351 batches of 128, shuffled + normalised): ${epoch.seconds.toFixed(2)} s ` +
      `(data pipeline ${epoch.pipelineSeconds.toFixed(2)} s of it; best of ${epoch.runs.length}, the first took ` +
      `${epoch.firstEpochSeconds.toFixed(2)} s); ` +
      `1.2 × 45,000 / step rate = ${bound.toFixed(2)} s → ${epoch.seconds <= bound ? "within" : "OVER"} budget`,
  );
}

const out = {
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model ?? null,
  cores: availableParallelism(),
  loadAverage: { before: loadBefore, after: loadAfter },
  node: process.version,
  gemm: info,
  trainStep: {
    nabla: nabla.median,
    numpy: numpyRates?.median ?? null,
    torch: torchRates?.median ?? null,
    nablaWasm: nablaWasmRates?.median ?? null,
    nablaWasmRelaxedFlag: relaxedRates?.median ?? null,
    tfjsWasm: { explicitTranspose: tfjsExplicit?.median ?? null, stock: tfjsStock?.median ?? null },
    chromium: Object.fromEntries(Object.entries(inChromium).map(([k, r]) => [k, r?.median ?? null])),
    percentOfLimit,
    percentOfTableLimit,
    wasmGemmBound,
  },
  trainStepDetail: {
    nabla,
    nablaWasm: nablaWasmRates ? { ...nablaWasmRates, isa: wasmRun.gemm.isa } : wasmRun,
    nablaWasmRelaxedFlag: relaxedRates ? { ...relaxedRates, isa: relaxedRun.gemm.isa } : relaxedRun,
    numpy: numpyRates ?? numpy,
    torch: torchRates ? { ...torchRates, threads: torch.threads, runs: torch.runs } : torch,
    tfjsWasm: tfjs,
    chromium,
  },
  split: { native: nablaRun.split, wasm: wasmRun.split ?? null },
  limit: {
    flopPerStep: flop,
    perRound: roundPercents && { gflops: limitGemmGflops, percentOfLimit: roundPercents, othersMargin },
    table: { gflops: bestGflops, by: bestBy, shape: bestShape, samplesPerSecond: limit },
  },
  gemmGflops: gemmTable,
  realEpoch: epoch,
};
const outFile = join(here, "out", "bench.json");
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(`${outFile}.tmp`, `${JSON.stringify(out, null, 2)}\n`);
renameSync(`${outFile}.tmp`, outFile);
console.log(`\nwrote ${outFile}`);
