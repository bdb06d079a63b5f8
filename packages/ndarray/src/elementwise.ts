import ops from "ndarray-ops";
import {
  EW_ADD,
  EW_AXPY,
  EW_MUL,
  EW_RELU,
  EW_RELU_BACKWARD,
  EW_SCALE,
  EW_SUB,
  nativeAddRows,
  nativeElementwise,
} from "./addon.js";
import { fail } from "./errors.js";
import { zeroIfResident } from "./gemm/index.js";
import { dataOf, expect2d, flat2, flat3, forEachIndex, offsetOf, prepare, sizeOf } from "./strided.js";
import { asTensor, type FloatArray, type Tensor, type TensorLike } from "./tensor.js";

// Every function writes into `out` (which may alias an input, element for element) and returns it, so a
// training loop allocates nothing. Contiguous views take one flat loop (checked without allocating); long
// contiguous float32 arrays of add/sub/mul/scale/axpy/relu/reluBackward go to the native addon when it is
// loaded (same bits as the loop: see addon.ts), axpy, relu and reluBackward to the WebAssembly module when
// it is not; strided views go through ndarray-ops (or a generic strided
// walk where ndarray-ops has no such operation). The flat loops are written out per operation on purpose:
// a shared loop taking the operation as a callback is polymorphic at its call site, which V8 does not inline.

export function add<O extends TensorLike>(out: O, a: TensorLike, b: TensorLike): O {
  if (flat3(out, a, b)) {
    if (nativeElementwise(EW_ADD, sizeOf(out), out, a, b, 0)) return out;
    const od = dataOf(out),
      xd = dataOf(a),
      yd = dataOf(b);
    const oo = offsetOf(out),
      xo = offsetOf(a),
      yo = offsetOf(b);
    for (let i = 0, n = sizeOf(out); i < n; i++) od[oo + i] = xd[xo + i] + yd[yo + i];
    return out;
  }
  const { ts } = prepare("add", ["out", "a", "b"], [out, a, b]);
  ops.add(ts[0], ts[1], ts[2]);
  return out;
}

export function sub<O extends TensorLike>(out: O, a: TensorLike, b: TensorLike): O {
  if (flat3(out, a, b)) {
    if (nativeElementwise(EW_SUB, sizeOf(out), out, a, b, 0)) return out;
    const od = dataOf(out),
      xd = dataOf(a),
      yd = dataOf(b);
    const oo = offsetOf(out),
      xo = offsetOf(a),
      yo = offsetOf(b);
    for (let i = 0, n = sizeOf(out); i < n; i++) od[oo + i] = xd[xo + i] - yd[yo + i];
    return out;
  }
  const { ts } = prepare("sub", ["out", "a", "b"], [out, a, b]);
  ops.sub(ts[0], ts[1], ts[2]);
  return out;
}

export function mul<O extends TensorLike>(out: O, a: TensorLike, b: TensorLike): O {
  if (flat3(out, a, b)) {
    if (nativeElementwise(EW_MUL, sizeOf(out), out, a, b, 0)) return out;
    const od = dataOf(out),
      xd = dataOf(a),
      yd = dataOf(b);
    const oo = offsetOf(out),
      xo = offsetOf(a),
      yo = offsetOf(b);
    for (let i = 0, n = sizeOf(out); i < n; i++) od[oo + i] = xd[xo + i] * yd[yo + i];
    return out;
  }
  const { ts } = prepare("mul", ["out", "a", "b"], [out, a, b]);
  ops.mul(ts[0], ts[1], ts[2]);
  return out;
}

/** out = a * s */
export function scale<O extends TensorLike>(out: O, a: TensorLike, s: number): O {
  if (flat2(out, a)) {
    if (nativeElementwise(EW_SCALE, sizeOf(out), out, a, a, s)) return out;
    const od = dataOf(out),
      xd = dataOf(a),
      oo = offsetOf(out),
      xo = offsetOf(a);
    for (let i = 0, n = sizeOf(out); i < n; i++) od[oo + i] = xd[xo + i] * s;
    return out;
  }
  const { ts } = prepare("scale", ["out", "a"], [out, a]);
  ops.muls(ts[0], ts[1], s);
  return out;
}

/** out = value everywhere (what zeroGrad uses: a resident array is zeroed by the WebAssembly module). */
export function fill<O extends TensorLike>(out: O, value: number): O {
  if (flat2(out, out)) {
    const od = dataOf(out),
      oo = offsetOf(out),
      n = sizeOf(out);
    if (!(value === 0 && !Object.is(value, -0) && zeroIfResident(n, od, oo))) od.fill(value, oo, oo + n);
    return out;
  }
  const { ts } = prepare("fill", ["out"], [out]);
  ops.assigns(ts[0], value);
  return out;
}

/** y += alpha * x (BLAS axpy); returns y. */
export function axpy<O extends TensorLike>(y: O, alpha: number, x: TensorLike): O {
  if (flat2(y, x)) {
    if (nativeElementwise(EW_AXPY, sizeOf(y), y, x, x, alpha)) return y;
    const od = dataOf(y),
      vd = dataOf(x),
      oo = offsetOf(y),
      vo = offsetOf(x);
    for (let i = 0, n = sizeOf(y); i < n; i++) od[oo + i] += alpha * vd[vo + i];
    return y;
  }
  const { ts } = prepare("axpy", ["y", "x"], [y, x]);
  const od = ts[0].data,
    vd = ts[1].data;
  forEachIndex(ts, (k) => {
    od[k[0]] += alpha * vd[k[1]];
  });
  return y;
}

/** out = max(x, 0) */
export function relu<O extends TensorLike>(out: O, x: TensorLike): O {
  if (flat2(out, x)) {
    if (nativeElementwise(EW_RELU, sizeOf(out), out, x, x, 0)) return out;
    const od = dataOf(out),
      vd = dataOf(x),
      oo = offsetOf(out),
      vo = offsetOf(x);
    for (let i = 0, n = sizeOf(out); i < n; i++) {
      const t = vd[vo + i];
      od[oo + i] = t > 0 ? t : 0;
    }
    return out;
  }
  const { ts } = prepare("relu", ["out", "x"], [out, x]);
  ops.maxs(ts[0], ts[1], 0);
  return out;
}

/** dx = dy where x > 0, else 0 (the ReLU mask applied to the upstream gradient). */
export function reluBackward<O extends TensorLike>(dx: O, dy: TensorLike, x: TensorLike): O {
  if (flat3(dx, dy, x)) {
    if (nativeElementwise(EW_RELU_BACKWARD, sizeOf(dx), dx, dy, x, 0)) return dx;
    const od = dataOf(dx),
      gd = dataOf(dy),
      vd = dataOf(x);
    const oo = offsetOf(dx),
      go = offsetOf(dy),
      vo = offsetOf(x);
    for (let i = 0, n = sizeOf(dx); i < n; i++) od[oo + i] = vd[vo + i] > 0 ? gd[go + i] : 0;
    return dx;
  }
  const { ts } = prepare("reluBackward", ["dx", "dy", "x"], [dx, dy, x]);
  const od = ts[0].data,
    gd = ts[1].data,
    vd = ts[2].data;
  forEachIndex(ts, (k) => {
    od[k[0]] = vd[k[2]] > 0 ? gd[k[1]] : 0;
  });
  return dx;
}

export function exp<O extends TensorLike>(out: O, x: TensorLike): O {
  if (flat2(out, x)) {
    const od = dataOf(out),
      vd = dataOf(x),
      oo = offsetOf(out),
      vo = offsetOf(x);
    for (let i = 0, n = sizeOf(out); i < n; i++) od[oo + i] = Math.exp(vd[vo + i]);
    return out;
  }
  const { ts } = prepare("exp", ["out", "x"], [out, x]);
  ops.exp(ts[0], ts[1]);
  return out;
}

export function log<O extends TensorLike>(out: O, x: TensorLike): O {
  if (flat2(out, x)) {
    const od = dataOf(out),
      vd = dataOf(x),
      oo = offsetOf(out),
      vo = offsetOf(x);
    for (let i = 0, n = sizeOf(out); i < n; i++) od[oo + i] = Math.log(vd[vo + i]);
    return out;
  }
  const { ts } = prepare("log", ["out", "x"], [out, x]);
  ops.log(ts[0], ts[1]);
  return out;
}

/** out = min(max(x, lo), hi) */
export function clamp<O extends TensorLike>(out: O, x: TensorLike, lo: number, hi: number): O {
  if (!(lo <= hi)) fail("clamp", `need lo <= hi, got lo=${lo} hi=${hi}`);
  if (flat2(out, x)) {
    const od = dataOf(out),
      vd = dataOf(x),
      oo = offsetOf(out),
      vo = offsetOf(x);
    for (let i = 0, n = sizeOf(out); i < n; i++) {
      const t = vd[vo + i];
      od[oo + i] = t < lo ? lo : t > hi ? hi : t;
    }
    return out;
  }
  const { ts } = prepare("clamp", ["out", "x"], [out, x]);
  ops.maxs(ts[0], ts[1], lo);
  ops.minseq(ts[0], hi);
  return out;
}

/** out = 1 where a > b else 0; b is a same-shaped tensor or a scalar. */
export function greater<O extends TensorLike>(out: O, a: TensorLike, b: TensorLike | number): O {
  if (typeof b === "number") {
    if (flat2(out, a)) {
      const od = dataOf(out),
        xd = dataOf(a),
        oo = offsetOf(out),
        xo = offsetOf(a);
      for (let i = 0, n = sizeOf(out); i < n; i++) od[oo + i] = xd[xo + i] > b ? 1 : 0;
      return out;
    }
    const { ts } = prepare("greater", ["out", "a"], [out, a]);
    ops.gts(ts[0], ts[1], b);
    return out;
  }
  if (flat3(out, a, b)) {
    const od = dataOf(out),
      xd = dataOf(a),
      yd = dataOf(b);
    const oo = offsetOf(out),
      xo = offsetOf(a),
      yo = offsetOf(b);
    for (let i = 0, n = sizeOf(out); i < n; i++) od[oo + i] = xd[xo + i] > yd[yo + i] ? 1 : 0;
    return out;
  }
  const { ts } = prepare("greater", ["out", "a", "b"], [out, a, b]);
  ops.gt(ts[0], ts[1], ts[2]);
  return out;
}

/** out[i, j] = a[i, j] + row[j] for 2-D a [n, m] and a length-m row (broadcast bias add). */
export function addRowVector(out: Tensor, a: Tensor, row: TensorLike): Tensor {
  expect2d("addRowVector", "a", a);
  expect2d("addRowVector", "out", out);
  const [n, m] = a.shape;
  const rowLength = sizeOf(row);
  if (
    rowLength !== m ||
    (!(row instanceof Float32Array || row instanceof Float64Array) && row.shape.length !== 1)
  ) {
    fail("addRowVector", `row must be 1-D of length ${m} (columns of a), got ${rowLength} values`);
  }
  if (out.shape[0] !== n || out.shape[1] !== m) {
    fail("addRowVector", `out has shape [${out.shape.join(", ")}] but a has [${n}, ${m}]`);
  }
  const r = row instanceof Float32Array || row instanceof Float64Array ? null : asTensor(row);
  const rd = dataOf(row),
    ro = offsetOf(row),
    rs = r ? r.stride[0] : 1;
  const od = out.data,
    ad = a.data;
  const os0 = out.stride[0],
    os1 = out.stride[1],
    as0 = a.stride[0],
    as1 = a.stride[1];
  // Row-major out and a with a contiguous row (a layer's bias): native, or the same additions without strides.
  if ((rs === 1 || m === 1) && os1 === 1 && as1 === 1 && ((os0 === m && as0 === m) || n === 1)) {
    if (!nativeAddRows(n, m, od, out.offset, ad, a.offset, rd, ro))
      addRows(od, out.offset, ad, a.offset, rd, ro, n, m);
    return out;
  }
  for (let i = 0; i < n; i++) {
    let oi = out.offset + i * os0;
    let ai = a.offset + i * as0;
    let ri = ro;
    for (let j = 0; j < m; j++, oi += os1, ai += as1, ri += rs) od[oi] = ad[ai] + rd[ri];
  }
  return out;
}

/** o[i, j] = a[i, j] + r[j] for row-major n×m blocks at offsets oo and ao. */
function addRows(
  o: FloatArray,
  oo: number,
  a: FloatArray,
  ao: number,
  r: FloatArray,
  ro: number,
  n: number,
  m: number,
) {
  for (let i = 0; i < n; i++) {
    const oi = oo + i * m;
    const ai = ao + i * m;
    for (let j = 0; j < m; j++) o[oi + j] = a[ai + j] + r[ro + j];
  }
}
