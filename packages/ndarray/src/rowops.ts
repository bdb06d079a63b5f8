import { nativeColumnSums } from "./addon.js";
import { fail } from "./errors.js";
import { dataOf, expect2d, flat2, offsetOf, sizeOf } from "./strided.js";
import { asTensor, type FloatArray, isFloatArray, type Tensor, type TensorLike } from "./tensor.js";

// Row operations on a 2-D tensor a [n, m] with any strides. Reductions accumulate in float64 (JS numbers)
// and are written to `out` (a 1-D tensor or typed array) which is returned.

/** Checks a 1-D output without allocating; returns its element stride (1 for typed arrays). */
function outVector(fn: string, out: TensorLike, length: number): number {
  if (isFloatArray(out)) {
    if (out.length !== length) fail(fn, `out must be 1-D of length ${length}, got ${out.length} values`);
    return 1;
  }
  if (out.shape.length !== 1 || out.size !== length) {
    fail(fn, `out must be 1-D of length ${length}, got shape [${out.shape.join(", ")}]`);
  }
  return out.stride[0];
}

export function rowMax<O extends TensorLike>(out: O, a: Tensor): O {
  expect2d("rowMax", "a", a);
  const [n, m] = a.shape;
  if (m === 0) fail("rowMax", "a has no columns");
  const os = outVector("rowMax", out, n);
  const od = dataOf(out);
  const oo = offsetOf(out);
  const ad = a.data,
    s0 = a.stride[0],
    s1 = a.stride[1];
  for (let i = 0; i < n; i++) {
    let p = a.offset + i * s0;
    let best = ad[p];
    for (let j = 1; j < m; j++) {
      p += s1;
      if (ad[p] > best) best = ad[p];
    }
    od[oo + i * os] = best;
  }
  return out;
}

export function rowSum<O extends TensorLike>(out: O, a: Tensor): O {
  return sumAxis1(out, a);
}

/** out[i] = log(sum_j exp(a[i, j])), computed as max + log(sum exp(a - max)) so large logits do not overflow. */
export function rowLogSumExp<O extends TensorLike>(out: O, a: Tensor): O {
  expect2d("rowLogSumExp", "a", a);
  const [n, m] = a.shape;
  const os = outVector("rowLogSumExp", out, n);
  const od = dataOf(out);
  const oo = offsetOf(out);
  const ad = a.data,
    s0 = a.stride[0],
    s1 = a.stride[1];
  for (let i = 0; i < n; i++) {
    const base = a.offset + i * s0;
    let best = -Infinity;
    for (let j = 0, p = base; j < m; j++, p += s1) if (ad[p] > best) best = ad[p];
    let value: number;
    if (best === -Infinity || best === Infinity) {
      value = best;
    } else {
      let sum = 0;
      for (let j = 0, p = base; j < m; j++, p += s1) sum += Math.exp(ad[p] - best);
      value = best + Math.log(sum);
    }
    od[oo + i * os] = value;
  }
  return out;
}

/**
 * out[i, :] = softmax(a[i, :]) with the row max subtracted first; out may alias a. With `lse`, also writes
 * lse[i] = log(sum_j exp(a[i, j])), bit for bit what rowLogSumExp gives, from the same exponentials: a fused
 * softmax cross-entropy then needs one pass of exp per row instead of two.
 */
export function softmaxRows(out: Tensor, a: Tensor, lse?: TensorLike): Tensor {
  expect2d("softmaxRows", "a", a);
  expect2d("softmaxRows", "out", out);
  const [n, m] = a.shape;
  if (out.shape[0] !== n || out.shape[1] !== m) {
    fail("softmaxRows", `out has shape [${out.shape.join(", ")}] but a has [${n}, ${m}]`);
  }
  const ls = lse === undefined ? 0 : outVector("softmaxRows", lse, n);
  const ld = lse === undefined ? null : dataOf(lse);
  const lo = lse === undefined ? 0 : offsetOf(lse);
  const ad = a.data,
    od = out.data,
    as0 = a.stride[0],
    as1 = a.stride[1],
    os0 = out.stride[0],
    os1 = out.stride[1];
  for (let i = 0; i < n; i++) {
    const ab = a.offset + i * as0;
    const ob = out.offset + i * os0;
    let best = -Infinity;
    for (let j = 0, p = ab; j < m; j++, p += as1) if (ad[p] > best) best = ad[p];
    let sum = 0;
    for (let j = 0, p = ab, q = ob; j < m; j++, p += as1, q += os1) {
      const e = Math.exp(ad[p] - best);
      od[q] = e;
      sum += e;
    }
    // rowLogSumExp's sum is this one (the same exponentials added in the same order)
    if (ld !== null) ld[lo + i * ls] = best === -Infinity || best === Infinity ? best : best + Math.log(sum);
    const inv = 1 / sum;
    for (let j = 0, q = ob; j < m; j++, q += os1) od[q] *= inv;
  }
  return out;
}

/** out[i] = index of the first maximum of row i. */
export function argmaxRows(out: Int32Array, a: Tensor): Int32Array {
  expect2d("argmaxRows", "a", a);
  const [n, m] = a.shape;
  if (!(out instanceof Int32Array) || out.length !== n)
    fail("argmaxRows", `out must be an Int32Array of length ${n}`);
  if (m === 0) fail("argmaxRows", "a has no columns");
  const ad = a.data,
    s0 = a.stride[0],
    s1 = a.stride[1];
  for (let i = 0; i < n; i++) {
    let p = a.offset + i * s0;
    let best = ad[p];
    let arg = 0;
    for (let j = 1; j < m; j++) {
      p += s1;
      if (ad[p] > best) {
        best = ad[p];
        arg = j;
      }
    }
    out[i] = arg;
  }
  return out;
}

let columnScratch = new Float64Array(0);

/** out[j] = sum_i a[i, j] (length m), e.g. the bias gradient of a batch. */
export function sumAxis0<O extends TensorLike>(out: O, a: Tensor): O {
  expect2d("sumAxis0", "a", a);
  const [n, m] = a.shape;
  const os = outVector("sumAxis0", out, m);
  const od = dataOf(out);
  const oo = offsetOf(out);
  if (columnScratch.length < m) columnScratch = new Float64Array(m); // pooled: grows once, then reused
  const acc = columnScratch;
  const ad = a.data,
    s0 = a.stride[0],
    s1 = a.stride[1];
  // Row-major a (a layer's dY, for its bias gradient): native, or the same sums without the strides.
  if (s1 === 1 && (s0 === m || n === 1)) {
    if (!nativeColumnSums(n, m, ad, a.offset, acc)) columnSums(acc, ad, a.offset, n, m);
  } else {
    acc.fill(0, 0, m);
    for (let i = 0; i < n; i++) {
      for (let j = 0, p = a.offset + i * s0; j < m; j++, p += s1) acc[j] += ad[p];
    }
  }
  for (let j = 0; j < m; j++) od[oo + j * os] = acc[j];
  return out;
}

/** acc[j] = Σ_i a[ao + i m + j], rows in order (the strided loop's sums, for a row-major block). */
function columnSums(acc: Float64Array, a: FloatArray, ao: number, n: number, m: number): void {
  acc.fill(0, 0, m);
  for (let i = 0; i < n; i++) {
    const base = ao + i * m;
    for (let j = 0; j < m; j++) acc[j] += a[base + j];
  }
}

/** out[i] = sum_j a[i, j] (length n). */
export function sumAxis1<O extends TensorLike>(out: O, a: Tensor): O {
  expect2d("sumAxis1", "a", a);
  const [n, m] = a.shape;
  const os = outVector("sumAxis1", out, n);
  const od = dataOf(out);
  const oo = offsetOf(out);
  const ad = a.data,
    s0 = a.stride[0],
    s1 = a.stride[1];
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0, p = a.offset + i * s0; j < m; j++, p += s1) sum += ad[p];
    od[oo + i * os] = sum;
  }
  return out;
}

function flatPair(fn: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const x = asTensor(a);
  const y = asTensor(b);
  if (x.shape.length !== y.shape.length || x.shape.some((d, i) => d !== y.shape[i])) {
    fail(fn, `shapes differ: [${x.shape.join(", ")}] vs [${y.shape.join(", ")}]`);
  }
  return [x, y];
}

/** Sum of a * b over all elements (any equal shapes), accumulated in float64. */
export function dot(a: TensorLike, b: TensorLike): number {
  let sum = 0;
  if (flat2(a, b)) {
    const xd = dataOf(a),
      yd = dataOf(b),
      xo = offsetOf(a),
      yo = offsetOf(b);
    for (let i = 0, n = sizeOf(a); i < n; i++) sum += xd[xo + i] * yd[yo + i];
    return sum;
  }
  const [x, y] = flatPair("dot", a, b);
  walk2(x, y, (p, q) => {
    sum += x.data[p] * y.data[q];
  });
  return sum;
}

/** Euclidean (Frobenius) norm sqrt(sum a^2), accumulated in float64. */
export function norm(a: TensorLike): number {
  let sum = 0;
  if (flat2(a, a)) {
    const xd = dataOf(a),
      xo = offsetOf(a);
    for (let i = 0, n = sizeOf(a); i < n; i++) sum += xd[xo + i] * xd[xo + i];
    return Math.sqrt(sum);
  }
  const x = asTensor(a);
  walk2(x, x, (p) => {
    const v = x.data[p];
    sum += v * v;
  });
  return Math.sqrt(sum);
}

function walk2(x: Tensor, y: Tensor, visit: (p: number, q: number) => void): void {
  const dims = x.shape.length;
  const idx = new Array<number>(dims).fill(0);
  for (let k = 0, n = x.size; k < n; k++) {
    let p = x.offset;
    let q = y.offset;
    for (let d = 0; d < dims; d++) {
      p += idx[d] * x.stride[d];
      q += idx[d] * y.stride[d];
    }
    visit(p, q);
    for (let d = dims - 1; d >= 0; d--) {
      if (++idx[d] < x.shape[d]) break;
      idx[d] = 0;
    }
  }
}
