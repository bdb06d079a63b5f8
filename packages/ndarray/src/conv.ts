/**
 * 2-D convolution (NCHW, PyTorch's Conv2d semantics: cross-correlation, weight [out, in, kh, kw]): forward,
 * input gradient and weight/bias gradients, float32 and float64, over the package's GEMM.
 *
 * The JavaScript loop (conv-js.ts) cuts each sample into tiles of whole output rows and runs im2col + one
 * GEMM per tile: forward Y = W·cols straight into the NCHW output (no transposition; the bias written first
 * and added by the GEMM), weight gradient dY·colsᵀ summed over the tiles of a fixed group of samples (the
 * groups then added in order), input gradient Wᵀ·dY then col2im, or, with stride 1, as the forward pass of dY
 * through the flipped weights. Tiles and groups are functions of the shapes only, so a GEMM kernel gives the
 * same bits on every run and for every thread count. Where gemm would run every tile on the native kernel,
 * native/conv.cc does the whole pass on both cores, reading each padded sample in place where it can, with
 * exactly those bits.
 */
import { nativeConv } from "./addon.js";
import { backwardInputJs, backwardWeightJs, biasGradJs, flipWeights, forwardJs } from "./conv-js.js";
import { type Conv2dPlan, WEIGHT_GROUPS } from "./conv-plan.js";
import { fail } from "./errors.js";
import { type DType, dtypeOf, isContiguous, type Tensor } from "./tensor.js";

export {
  type Conv2dPair,
  Conv2dPlan,
  type Conv2dPlanOptions,
  conv2dOutputSize,
  conv2dPlan,
  setConvNative,
} from "./conv-plan.js";

function shapeText(t: Tensor): string {
  return `[${t.shape.join(", ")}]`;
}

/**
 * Checks a contiguous tensor of the given dtype and shape [d0, d1, d2, d3] (d0 = -1: any batch; d1 = -1: a
 * 1-D [d0]) and returns its first dimension. Separate numbers, not an array: it runs on every pass.
 */
function expect(
  fn: string,
  name: string,
  t: Tensor,
  dtype: DType,
  d0: number,
  d1 = -1,
  d2 = -1,
  d3 = -1,
): number {
  if (t === null || typeof t !== "object" || !Array.isArray(t.shape)) fail(fn, `${name} must be a tensor`);
  const s = t.shape;
  const ok =
    d1 === -1
      ? s.length === 1 && s[0] === d0
      : s.length === 4 && (d0 === -1 || s[0] === d0) && s[1] === d1 && s[2] === d2 && s[3] === d3;
  if (!ok) {
    const want = d1 === -1 ? `${d0}` : `${d0 === -1 ? "N" : d0}, ${d1}, ${d2}, ${d3}`;
    fail(fn, `${name} must have shape [${want}], got ${shapeText(t)}`);
  }
  if (dtypeOf(t) !== dtype) fail(fn, `${name} is ${dtypeOf(t)} but the input is ${dtype}`);
  if (!isContiguous(t)) fail(fn, `${name} must be contiguous (row-major); copy it with contiguous() first`);
  return s[0];
}

function expectInput(fn: string, name: string, p: Conv2dPlan, t: Tensor, dtype: DType, n = -1): number {
  return expect(fn, name, t, dtype, n, p.inChannels, p.inHeight, p.inWidth);
}

function expectOutput(fn: string, name: string, p: Conv2dPlan, t: Tensor, dtype: DType, n = -1): number {
  return expect(fn, name, t, dtype, n, p.outChannels, p.outHeight, p.outWidth);
}

function expectWeight(fn: string, name: string, p: Conv2dPlan, t: Tensor, dtype: DType): void {
  expect(fn, name, t, dtype, p.outChannels, p.inChannels, p.kernelHeight, p.kernelWidth);
}

/** Throws unless `out` shares no memory with `other` (both contiguous). */
function disjoint(fn: string, outName: string, out: Tensor, name: string, other: Tensor | null): void {
  if (other === null || out.data.buffer !== other.data.buffer || out.size === 0 || other.size === 0) return;
  const a = out.data.byteOffset / out.data.BYTES_PER_ELEMENT + out.offset;
  const b = other.data.byteOffset / other.data.BYTES_PER_ELEMENT + other.offset;
  if (a < b + other.size && b < a + out.size)
    fail(fn, `${outName} overlaps ${name} in memory; use a separate buffer`);
}

/** The storage of a float32 tensor, for the native calls. */
function f(t: Tensor): Float32Array {
  return t.data as Float32Array;
}

function checkBeta(fn: string, beta: number): boolean {
  if (beta !== 0 && beta !== 1) fail(fn, `beta must be 0 (overwrite) or 1 (accumulate), got ${beta}`);
  return beta === 1;
}

/**
 * out = conv2d(x, weight) + bias: x [N, C, H, W], weight [O, C, kh, kw], bias [O] or null, out [N, O, OH, OW],
 * all contiguous with x's dtype; returns out.
 */
export function conv2dForward(
  plan: Conv2dPlan,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  out: Tensor,
): Tensor {
  const fn = "conv2dForward";
  const dtype = dtypeOf(x);
  const n = expectInput(fn, "x", plan, x, dtype);
  expectWeight(fn, "weight", plan, weight, dtype);
  if (bias !== null) expect(fn, "bias", bias, dtype, plan.outChannels);
  expectOutput(fn, "out", plan, out, dtype, n);
  disjoint(fn, "out", out, "x", x);
  disjoint(fn, "out", out, "weight", weight);
  disjoint(fn, "out", out, "bias", bias);
  if (n > 0) runForward(plan, n, x, weight, bias, out, false);
  return out;
}

/** The forward pass on the native code or the JavaScript loop (checked arguments; accumulate without a bias). */
function runForward(
  plan: Conv2dPlan,
  n: number,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  out: Tensor,
  accumulate: boolean,
): void {
  const dtype = dtypeOf(x);
  const g = plan.nativeGeometry(n, dtype);
  const lib = nativeConv();
  if (g !== null && lib !== null) {
    const b = bias ?? weight;
    lib.convForward(
      g,
      f(x),
      x.offset,
      f(weight),
      weight.offset,
      f(b),
      b.offset,
      bias !== null,
      f(out),
      out.offset,
      accumulate,
    );
  } else {
    forwardJs(plan, plan.workspace(dtype), n, x, weight, bias, out, accumulate);
  }
}

/**
 * dx = (beta = 0) or += (beta = 1) the gradient of conv2dForward's output with respect to x, given
 * dy [N, O, OH, OW] and weight; returns dx [N, C, H, W].
 */
export function conv2dBackwardInput(
  plan: Conv2dPlan,
  dy: Tensor,
  weight: Tensor,
  dx: Tensor,
  beta: 0 | 1 = 0,
): Tensor {
  const fn = "conv2dBackwardInput";
  const dtype = dtypeOf(dy);
  const accumulate = checkBeta(fn, beta);
  const n = expectOutput(fn, "dy", plan, dy, dtype);
  expectWeight(fn, "weight", plan, weight, dtype);
  expectInput(fn, "dx", plan, dx, dtype, n);
  disjoint(fn, "dx", dx, "dy", dy);
  disjoint(fn, "dx", dx, "weight", weight);
  if (n === 0) return dx;
  const transposed = plan.transposed();
  if (transposed !== null) {
    // A stride-1 input gradient is the forward pass of dy through the flipped weights (the direct kernel).
    runForward(transposed, n, dy, flipWeights(plan, plan.workspace(dtype), weight), null, dx, accumulate);
    return dx;
  }
  const g = plan.nativeGeometry(n, dtype);
  const lib = nativeConv();
  if (g !== null && lib !== null) {
    lib.convBackwardInput(g, f(dy), dy.offset, f(weight), weight.offset, f(dx), dx.offset, accumulate);
  } else {
    backwardInputJs(plan, plan.workspace(dtype), n, dy, weight, dx, accumulate);
  }
  return dx;
}

/**
 * The parameter gradients of conv2dForward: dweight [O, C, kh, kw] and dbias [O] (either may be null to skip
 * it) get the gradient added (beta = 1, the default, as PyTorch's .grad accumulates) or written (beta = 0,
 * so a caller can skip zeroing them), given the forward's input x and the output gradient dy.
 */
export function conv2dBackwardWeight(
  plan: Conv2dPlan,
  x: Tensor,
  dy: Tensor,
  dweight: Tensor | null,
  dbias: Tensor | null,
  beta: 0 | 1 = 1,
): void {
  const fn = "conv2dBackwardWeight";
  const dtype = dtypeOf(x);
  const accumulate = checkBeta(fn, beta);
  const n = expectInput(fn, "x", plan, x, dtype);
  expectOutput(fn, "dy", plan, dy, dtype, n);
  if (dweight !== null) {
    expectWeight(fn, "dweight", plan, dweight, dtype);
    disjoint(fn, "dweight", dweight, "x", x);
    disjoint(fn, "dweight", dweight, "dy", dy);
  }
  if (dbias !== null) {
    expect(fn, "dbias", dbias, dtype, plan.outChannels);
    disjoint(fn, "dbias", dbias, "dy", dy);
    if (dweight !== null) disjoint(fn, "dbias", dbias, "dweight", dweight);
  }
  const g = plan.nativeGeometry(n, dtype);
  const lib = nativeConv();
  if (g !== null && lib !== null) {
    const ws = plan.workspace(dtype);
    if (dweight !== null) {
      lib.convBackwardWeight(
        g,
        f(x),
        x.offset,
        f(dy),
        dy.offset,
        f(dweight),
        dweight.offset,
        ws.partials as Float32Array,
        accumulate,
      );
    }
    if (dbias !== null) lib.convBiasGrad(g, f(dy), dy.offset, f(dbias), dbias.offset, accumulate);
    return;
  }
  const ws = plan.workspace(dtype);
  if (dweight !== null) backwardWeightJs(plan, ws, n, Math.min(n, WEIGHT_GROUPS), x, dy, dweight, accumulate);
  if (dbias !== null) biasGradJs(plan, ws, n, dy, dbias, accumulate);
}
