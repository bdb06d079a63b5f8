// Distribution of the gradient-check error over many random cases: how far below the 1e-6
// bar each module's backward sits, and how often the elementwise relative error (ill-conditioned
// for tiny gradient entries) exceeds it. Run after `tsc -b`:
//   node bench/gradcheck-error.mjs [cases]    → table on stdout, bench/out/gradcheck-error.json
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng, softmaxRows, zeros } from "@nabla/ndarray";
import {
  CrossEntropy,
  checkLossGradients,
  checkModuleGradients,
  checkNetworkGradients,
  Linear,
  MLP,
  ReLU,
  Softmax,
  SoftmaxCrossEntropy,
} from "../dist/index.js";

function closestToKink(mlp, x) {
  let closest = Number.POSITIVE_INFINITY;
  let h = x;
  for (let k = 0; k < mlp.layers.length; k++) {
    h = mlp.layers[k].forward(h);
    if (k < mlp.activations.length) {
      for (let i = 0; i < h.size; i++) closest = Math.min(closest, Math.abs(h.data[i]));
      h = mlp.activations[k].forward(h);
    }
  }
  return closest;
}

const cases = Number(process.argv[2] ?? 2000);
const stats = new Map();
const record = (key, error) => {
  const s = stats.get(key) ?? { errors: [] };
  s.errors.push(error);
  stats.set(key, s);
};
const normal = (rng, rows, cols) => {
  const t = zeros([rows, cols], "float64");
  rng.fillNormal(t, 0, 1);
  return t;
};
const labelsFor = (rng, n, classes) => Int32Array.from({ length: n }, () => rng.nextUint32() % classes);

for (let seed = 0; seed < cases; seed++) {
  const rng = new Rng(seed);
  const batch = 1 + (rng.nextUint32() % 6);
  const inDim = 1 + (rng.nextUint32() % 7);
  const outDim = 1 + (rng.nextUint32() % 7);
  const x = normal(rng, batch, inDim);
  const linear = new Linear(inDim, outDim, { rng, dtype: "float64" });
  rng.fillNormal(linear.bias, 0, 1);
  for (const c of checkModuleGradients(linear, x, { seed })) record(`Linear ${c.wrt}`, c.maxRelativeError);
  const away = normal(rng, batch, inDim);
  for (let i = 0; i < away.data.length; i++) away.data[i] += away.data[i] >= 0 ? 1e-3 : -1e-3;
  record("ReLU input", checkModuleGradients(new ReLU(), away, { seed })[0].maxRelativeError);
  record("Softmax input", checkModuleGradients(new Softmax(), x, { seed })[0].maxRelativeError);
  const labels = labelsFor(rng, batch, inDim);
  const p = zeros([batch, inDim], "float64");
  softmaxRows(p, x);
  record("CrossEntropy input", checkLossGradients(new CrossEntropy(), p, labels).maxRelativeError);
  record(
    "SoftmaxCrossEntropy input",
    checkLossGradients(new SoftmaxCrossEntropy(), x, labels).maxRelativeError,
  );
  const mlp = new MLP(inDim, [outDim, 4], 3, { seed, dtype: "float64" });
  for (const layer of mlp.layers) rng.fillNormal(layer.bias, 0, 0.5);
  let worst = 0;
  for (const c of checkNetworkGradients(mlp, new SoftmaxCrossEntropy(), x, labelsFor(rng, batch, 3))) {
    worst = Math.max(worst, c.maxRelativeError);
  }
  // Finite differences are meaningless when a ReLU input lies within ~h·|x| of the kink.
  const nearKink = closestToKink(mlp, x) < 1e-3;
  record(
    nearKink ? "MLP params, a ReLU input < 1e-3 from 0" : "MLP params, ReLU inputs ≥ 1e-3 from 0",
    worst,
  );
}

const rows = [...stats].map(([name, { errors }]) => {
  errors.sort((a, b) => a - b);
  const q = (f) => errors[Math.min(errors.length - 1, Math.floor(f * errors.length))];
  return {
    name,
    cases: errors.length,
    median: q(0.5),
    p99: q(0.99),
    max: errors[errors.length - 1],
    over1e6: errors.filter((e) => e > 1e-6).length,
  };
});
console.log(`${cases} random cases (batch 1–6, widths 1–7, float64, h = 1e-5)`);
console.log("| check | median | p99 | max | cases > 1e-6 |");
console.log("|---|---|---|---|---|");
const f = (v) => v.toExponential(1);
for (const r of rows)
  console.log(`| ${r.name} | ${f(r.median)} | ${f(r.p99)} | ${f(r.max)} | ${r.over1e6} |`);
const outFile = join(dirname(fileURLToPath(import.meta.url)), "out", "gradcheck-error.json");
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(`${outFile}.tmp`, JSON.stringify({ cases, rows }, null, 2));
renameSync(`${outFile}.tmp`, outFile);
