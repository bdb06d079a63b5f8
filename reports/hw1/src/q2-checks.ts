/**
 * Question 2's verification table: every implemented backward pass against central differences, through
 * @nabla/nn's generic gradient checks (checkModuleGradients, checkLossGradients, checkNetworkGradients).
 */
import { Rng, softmaxRows, zeros } from "@nabla/ndarray";
import {
  CrossEntropy,
  checkLossGradients,
  checkModuleGradients,
  checkNetworkGradients,
  type GradientCheck,
  Linear,
  MLP,
  ReLU,
  Softmax,
  SoftmaxCrossEntropy,
} from "@nabla/nn";

function randomLabels(rng: Rng, count: number, classes: number): Int32Array {
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = Math.min(classes - 1, Math.floor(rng.uniform() * classes));
  return labels;
}

/**
 * The Question 2 verification table: every module's backward against central
 * differences, in float64, on a batch of 4 with 5 input features and 3 outputs:
 * Linear (weight, bias, input), ReLU (inputs kept ≥ 0.01 away from the kink, where the
 * derivative is undefined), Softmax, CrossEntropy on softmax probabilities, fused
 * SoftmaxCrossEntropy on logits, and an MLP 5→4→3 under SoftmaxCrossEntropy (every
 * parameter). Inputs are standard normal from `new Rng(seed)`.
 */
export function checkQ2Gradients(opts: { seed?: number } = {}): GradientCheck[] {
  const seed = opts.seed ?? 0;
  const rng = new Rng(seed);
  const batch = 4;
  const inDim = 5;
  const outDim = 3;
  const normal = (rows: number, cols: number) => {
    const t = zeros([rows, cols], "float64");
    rng.fillNormal(t, 0, 1);
    return t;
  };
  const results: GradientCheck[] = [];

  const linear = new Linear(inDim, outDim, { rng, dtype: "float64" });
  // Non-zero bias so the check does not start from the trivial initial value.
  rng.fillNormal(linear.bias, 0, 1);
  results.push(...checkModuleGradients(linear, normal(batch, inDim), { seed, name: "Linear" }));

  const reluInput = normal(batch, inDim);
  const rd = reluInput.data;
  for (let i = 0; i < rd.length; i++) rd[i] = rd[i] >= 0 ? rd[i] + 0.01 : rd[i] - 0.01;
  results.push(...checkModuleGradients(new ReLU(), reluInput, { seed, name: "ReLU" }));

  results.push(...checkModuleGradients(new Softmax(), normal(batch, inDim), { seed, name: "Softmax" }));

  const probabilities = zeros([batch, inDim], "float64");
  softmaxRows(probabilities, normal(batch, inDim));
  const labels = randomLabels(rng, batch, inDim);
  results.push(checkLossGradients(new CrossEntropy(), probabilities, labels, { name: "CrossEntropy" }));

  results.push(
    checkLossGradients(new SoftmaxCrossEntropy(), normal(batch, inDim), labels, {
      name: "SoftmaxCrossEntropy",
    }),
  );

  const mlp = new MLP(inDim, [4], outDim, { seed, dtype: "float64" });
  for (const layer of mlp.layers) rng.fillNormal(layer.bias, 0, 0.1);
  results.push(
    ...checkNetworkGradients(
      mlp,
      new SoftmaxCrossEntropy(),
      normal(batch, inDim),
      randomLabels(rng, batch, outDim),
      {
        name: "MLP + SoftmaxCrossEntropy",
      },
    ),
  );
  return results;
}
