/**
 * Test-only float64 reference for the MLP: a plain-loop forward pass and mean softmax cross-entropy,
 * plus central finite differences for gradients. Independent of TF.js and of @nabla/nn.
 */
import type { TfjsLayerWeights } from "../src/index.js";

/** mulberry32: a tiny seeded PRNG so fixtures are deterministic without other packages. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Layers with weights uniform in ±sqrt(3/in)·scale and small random biases. */
export function randomLayers(dims: number[], seed: number, scale = 1): TfjsLayerWeights[] {
  const rand = prng(seed);
  const layers: TfjsLayerWeights[] = [];
  for (let i = 0; i + 1 < dims.length; i++) {
    const inDim = dims[i];
    const outDim = dims[i + 1];
    const bound = Math.sqrt(3 / inDim) * scale;
    const weight = Float32Array.from({ length: inDim * outDim }, () => (2 * rand() - 1) * bound);
    const bias = Float32Array.from({ length: outDim }, () => (2 * rand() - 1) * 0.1);
    layers.push({ weight, bias, inDim, outDim });
  }
  return layers;
}

export function randomBatch(
  inDim: number,
  classes: number,
  batchSize: number,
  seed: number,
): { x: Float32Array; labels: Int32Array } {
  const rand = prng(seed);
  const x = Float32Array.from({ length: batchSize * inDim }, () => 2 * rand() - 1);
  const labels = Int32Array.from({ length: batchSize }, () => Math.floor(rand() * classes));
  return { x, labels };
}

export interface Layer64 {
  weight: Float64Array;
  bias: Float64Array;
  inDim: number;
  outDim: number;
}

export function toLayers64(layers: TfjsLayerWeights[]): Layer64[] {
  return layers.map((l) => ({ ...l, weight: Float64Array.from(l.weight), bias: Float64Array.from(l.bias) }));
}

/** Float64 logits, row-major batchSize×classes. */
export function logits64(layers: Layer64[], x: ArrayLike<number>, batchSize: number): Float64Array {
  let h = Float64Array.from({ length: batchSize * layers[0].inDim }, (_, i) => x[i]);
  layers.forEach((l, li) => {
    const out = new Float64Array(batchSize * l.outDim);
    for (let b = 0; b < batchSize; b++) {
      for (let o = 0; o < l.outDim; o++) {
        let s = l.bias[o];
        for (let k = 0; k < l.inDim; k++) s += h[b * l.inDim + k] * l.weight[o * l.inDim + k];
        out[b * l.outDim + o] = li < layers.length - 1 ? Math.max(0, s) : s;
      }
    }
    h = out;
  });
  return h;
}

/** Summed cross-entropy (log-sum-exp form) and the count of first-argmax hits. */
export function evaluate64(
  layers: Layer64[],
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  batchSize: number,
): { lossSum: number; correct: number } {
  const classes = layers[layers.length - 1].outDim;
  const z = logits64(layers, x, batchSize);
  let lossSum = 0;
  let correct = 0;
  for (let b = 0; b < batchSize; b++) {
    const row = z.subarray(b * classes, (b + 1) * classes);
    let max = Number.NEGATIVE_INFINITY;
    let arg = 0;
    row.forEach((v, c) => {
      if (v > max) {
        max = v;
        arg = c;
      }
    });
    let s = 0;
    for (const v of row) s += Math.exp(v - max);
    lossSum += max + Math.log(s) - row[labels[b]];
    if (arg === labels[b]) correct++;
  }
  return { lossSum, correct };
}

export function meanLoss64(
  layers: Layer64[],
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  n: number,
): number {
  return evaluate64(layers, x, labels, n).lossSum / n;
}

/** Central finite-difference gradient of the mean loss w.r.t. every parameter, in float64. */
export function finiteDifferenceGrads(
  layers: Layer64[],
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  batchSize: number,
  h = 1e-6,
): { weight: Float64Array; bias: Float64Array }[] {
  const f = () => meanLoss64(layers, x, labels, batchSize);
  const diff = (arr: Float64Array) =>
    Float64Array.from(arr, (_, i) => {
      const keep = arr[i];
      arr[i] = keep + h;
      const up = f();
      arr[i] = keep - h;
      const down = f();
      arr[i] = keep;
      return (up - down) / (2 * h);
    });
  return layers.map((l) => ({ weight: diff(l.weight), bias: diff(l.bias) }));
}

/** max |a-b| / max(max |b|, tiny): a norm-wise relative difference. */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relDiff: lengths ${a.length} and ${b.length} differ`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-30);
}
