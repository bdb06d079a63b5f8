import ops from "ndarray-ops";
import { fail } from "./errors.js";
import { expect2d, forEachIndex, prepare } from "./strided.js";
import { asTensor, type Tensor, type TensorLike } from "./tensor.js";

// Every function writes into `out` (which may alias an input, element for element) and returns it, so a
// training loop allocates nothing. Contiguous views take flat loops; strided views go through ndarray-ops
// (or a generic strided walk where ndarray-ops has no matching operation).

export function add<O extends TensorLike>(out: O, a: TensorLike, b: TensorLike): O {
  const { ts, flat } = prepare("add", ["out", "a", "b"], [out, a, b]);
  const [o, x, y] = ts;
  if (!flat) {
    ops.add(o, x, y);
    return out;
  }
  const od = o.data,
    xd = x.data,
    yd = y.data,
    oo = o.offset,
    xo = x.offset,
    yo = y.offset;
  for (let i = 0, n = o.size; i < n; i++) od[oo + i] = xd[xo + i] + yd[yo + i];
  return out;
}

export function sub<O extends TensorLike>(out: O, a: TensorLike, b: TensorLike): O {
  const { ts, flat } = prepare("sub", ["out", "a", "b"], [out, a, b]);
  const [o, x, y] = ts;
  if (!flat) {
    ops.sub(o, x, y);
    return out;
  }
  const od = o.data,
    xd = x.data,
    yd = y.data,
    oo = o.offset,
    xo = x.offset,
    yo = y.offset;
  for (let i = 0, n = o.size; i < n; i++) od[oo + i] = xd[xo + i] - yd[yo + i];
  return out;
}

export function mul<O extends TensorLike>(out: O, a: TensorLike, b: TensorLike): O {
  const { ts, flat } = prepare("mul", ["out", "a", "b"], [out, a, b]);
  const [o, x, y] = ts;
  if (!flat) {
    ops.mul(o, x, y);
    return out;
  }
  const od = o.data,
    xd = x.data,
    yd = y.data,
    oo = o.offset,
    xo = x.offset,
    yo = y.offset;
  for (let i = 0, n = o.size; i < n; i++) od[oo + i] = xd[xo + i] * yd[yo + i];
  return out;
}

/** out = a * s */
export function scale<O extends TensorLike>(out: O, a: TensorLike, s: number): O {
  const { ts, flat } = prepare("scale", ["out", "a"], [out, a]);
  const [o, x] = ts;
  if (!flat) {
    ops.muls(o, x, s);
    return out;
  }
  const od = o.data,
    xd = x.data,
    oo = o.offset,
    xo = x.offset;
  for (let i = 0, n = o.size; i < n; i++) od[oo + i] = xd[xo + i] * s;
  return out;
}

/** y += alpha * x (BLAS axpy); returns y. */
export function axpy<O extends TensorLike>(y: O, alpha: number, x: TensorLike): O {
  const { ts, flat } = prepare("axpy", ["y", "x"], [y, x]);
  const [o, v] = ts;
  const od = o.data,
    vd = v.data;
  if (!flat) {
    forEachIndex([o, v], (k) => {
      od[k[0]] += alpha * vd[k[1]];
    });
    return y;
  }
  const oo = o.offset,
    vo = v.offset;
  for (let i = 0, n = o.size; i < n; i++) od[oo + i] += alpha * vd[vo + i];
  return y;
}

/** out = max(x, 0) */
export function relu<O extends TensorLike>(out: O, x: TensorLike): O {
  const { ts, flat } = prepare("relu", ["out", "x"], [out, x]);
  const [o, v] = ts;
  if (!flat) {
    ops.maxs(o, v, 0);
    return out;
  }
  const od = o.data,
    vd = v.data,
    oo = o.offset,
    vo = v.offset;
  for (let i = 0, n = o.size; i < n; i++) {
    const t = vd[vo + i];
    od[oo + i] = t > 0 ? t : 0;
  }
  return out;
}

/** dx = dy where x > 0, else 0 (the ReLU mask applied to the upstream gradient). */
export function reluBackward<O extends TensorLike>(dx: O, dy: TensorLike, x: TensorLike): O {
  const { ts, flat } = prepare("reluBackward", ["dx", "dy", "x"], [dx, dy, x]);
  const [o, g, v] = ts;
  const od = o.data,
    gd = g.data,
    vd = v.data;
  if (!flat) {
    forEachIndex([o, g, v], (k) => {
      od[k[0]] = vd[k[2]] > 0 ? gd[k[1]] : 0;
    });
    return dx;
  }
  const oo = o.offset,
    go = g.offset,
    vo = v.offset;
  for (let i = 0, n = o.size; i < n; i++) od[oo + i] = vd[vo + i] > 0 ? gd[go + i] : 0;
  return dx;
}

export function exp<O extends TensorLike>(out: O, x: TensorLike): O {
  const { ts, flat } = prepare("exp", ["out", "x"], [out, x]);
  const [o, v] = ts;
  if (!flat) {
    ops.exp(o, v);
    return out;
  }
  const od = o.data,
    vd = v.data,
    oo = o.offset,
    vo = v.offset;
  for (let i = 0, n = o.size; i < n; i++) od[oo + i] = Math.exp(vd[vo + i]);
  return out;
}

export function log<O extends TensorLike>(out: O, x: TensorLike): O {
  const { ts, flat } = prepare("log", ["out", "x"], [out, x]);
  const [o, v] = ts;
  if (!flat) {
    ops.log(o, v);
    return out;
  }
  const od = o.data,
    vd = v.data,
    oo = o.offset,
    vo = v.offset;
  for (let i = 0, n = o.size; i < n; i++) od[oo + i] = Math.log(vd[vo + i]);
  return out;
}

/** out = min(max(x, lo), hi) */
export function clamp<O extends TensorLike>(out: O, x: TensorLike, lo: number, hi: number): O {
  if (!(lo <= hi)) fail("clamp", `need lo <= hi, got lo=${lo} hi=${hi}`);
  const { ts, flat } = prepare("clamp", ["out", "x"], [out, x]);
  const [o, v] = ts;
  if (!flat) {
    ops.maxs(o, v, lo);
    ops.minseq(o, hi);
    return out;
  }
  const od = o.data,
    vd = v.data,
    oo = o.offset,
    vo = v.offset;
  for (let i = 0, n = o.size; i < n; i++) {
    const t = vd[vo + i];
    od[oo + i] = t < lo ? lo : t > hi ? hi : t;
  }
  return out;
}

/** out = 1 where a > b else 0; b is a same-shaped tensor or a scalar. */
export function greater<O extends TensorLike>(out: O, a: TensorLike, b: TensorLike | number): O {
  if (typeof b === "number") {
    const { ts, flat } = prepare("greater", ["out", "a"], [out, a]);
    const [o, x] = ts;
    if (!flat) {
      ops.gts(o, x, b);
      return out;
    }
    const od = o.data,
      xd = x.data,
      oo = o.offset,
      xo = x.offset;
    for (let i = 0, n = o.size; i < n; i++) od[oo + i] = xd[xo + i] > b ? 1 : 0;
    return out;
  }
  const { ts, flat } = prepare("greater", ["out", "a", "b"], [out, a, b]);
  const [o, x, y] = ts;
  if (!flat) {
    ops.gt(o, x, y);
    return out;
  }
  const od = o.data,
    xd = x.data,
    yd = y.data,
    oo = o.offset,
    xo = x.offset,
    yo = y.offset;
  for (let i = 0, n = o.size; i < n; i++) od[oo + i] = xd[xo + i] > yd[yo + i] ? 1 : 0;
  return out;
}

/** out[i, j] = a[i, j] + row[j] for 2-D a [n, m] and a length-m row (broadcast bias add). */
export function addRowVector(out: Tensor, a: Tensor, row: TensorLike): Tensor {
  expect2d("addRowVector", "a", a);
  const r = asTensor(row);
  const [n, m] = a.shape;
  if (r.size !== m || r.shape.length !== 1) {
    fail("addRowVector", `row must be 1-D of length ${m} (columns of a), got shape [${r.shape.join(", ")}]`);
  }
  prepare("addRowVector", ["out", "a"], [out, a]);
  const od = out.data,
    ad = a.data,
    rd = r.data;
  const os0 = out.stride[0],
    os1 = out.stride[1],
    as0 = a.stride[0],
    as1 = a.stride[1],
    rs = r.stride[0];
  for (let i = 0; i < n; i++) {
    let oi = out.offset + i * os0;
    let ai = a.offset + i * as0;
    let ri = r.offset;
    for (let j = 0; j < m; j++, oi += os1, ai += as1, ri += rs) od[oi] = ad[ai] + rd[ri];
  }
  return out;
}
