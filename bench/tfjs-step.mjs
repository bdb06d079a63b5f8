// TF.js's wasm backend training the default MLP, for run.mjs's interleaved rounds (contenders.mjs):
// `node bench/tfjs-step.mjs explicit-transpose|stock`. The weights are nabla's initial ones, as in @nabla/tfjs's
// cross-check; one fixed batch, as in nabla-step.mjs.
import { Rng } from "@nabla/ndarray";
import { MLP } from "@nabla/nn";
import { createTfjsMlp, nablaMlpWeights } from "@nabla/tfjs";
import { repetitions, serve } from "./contenders.mjs";
import { batch, dims } from "./nabla-step.mjs";

const wasmMatMul = process.argv[2];
if (wasmMatMul !== "explicit-transpose" && wasmMatMul !== "stock") {
  console.error(`tfjs-step.mjs: expected explicit-transpose or stock, got ${JSON.stringify(wasmMatMul)}`);
  process.exit(2);
}
const layers = nablaMlpWeights(new MLP(dims[0], dims.slice(1, -1), dims.at(-1), { seed: 0 }));
const mlp = await createTfjsMlp({ layers, backend: "wasm", wasmMatMul });
const rng = new Rng(1);
const x = new Float32Array(batch * dims[0]);
rng.fillNormal(x);
const labels = Int32Array.from({ length: batch }, () => rng.nextUint32() % dims.at(-1));
const step = () => mlp.trainStep(x, labels, batch, 0.01);
for (let i = 0; i < 10; i++) step();
await serve({
  rep: repetitions(step, batch),
  finish: () => ({ backend: mlp.backendName, simd: mlp.simd }),
});
