/**
 * The naive 2-D convolution every fast path is tested against: the direct seven-loop sum per output (and
 * per gradient entry), accumulated in float64 and rounded once into the result's dtype. Independent of
 * im2col, of the GEMM and of the tiling.
 */
import { Conv2dPlan, type Conv2dPlanOptions } from "./conv.js";
import { fail } from "./errors.js";
import { dtypeOf, type Tensor, zeros } from "./tensor.js";

/** The convolution's settings without the input shape, which the reference reads from x. */
export type Conv2dReferenceOptions = Omit<Conv2dPlanOptions, "inShape" | "outChannels" | "kernel">;

function planFor(fn: string, x: Tensor, weight: Tensor, opts: Conv2dReferenceOptions): Conv2dPlan {
  if (x.shape.length !== 4) fail(fn, `x must be [N, C, H, W], got [${x.shape.join(", ")}]`);
  if (weight.shape.length !== 4 || weight.shape[1] !== x.shape[1]) {
    fail(fn, `weight must be [O, ${x.shape[1]}, kh, kw], got [${weight.shape.join(", ")}]`);
  }
  return new Conv2dPlan({
    ...opts,
    inShape: x.shape.slice(1),
    outChannels: weight.shape[0],
    kernel: [weight.shape[2], weight.shape[3]],
  });
}

/** Calls visit(n, o, oh, ow, c, i, j, ih, iw) for every term of every output that lies inside the input. */
function forEachTerm(
  p: Conv2dPlan,
  batch: number,
  visit: (
    n: number,
    o: number,
    oh: number,
    ow: number,
    c: number,
    i: number,
    j: number,
    ih: number,
    iw: number,
  ) => void,
): void {
  for (let n = 0; n < batch; n++)
    for (let o = 0; o < p.outChannels; o++)
      for (let oh = 0; oh < p.outHeight; oh++)
        for (let ow = 0; ow < p.outWidth; ow++)
          for (let c = 0; c < p.inChannels; c++)
            for (let i = 0; i < p.kernelHeight; i++)
              for (let j = 0; j < p.kernelWidth; j++) {
                const ih = oh * p.strideHeight - p.paddingHeight + i * p.dilationHeight;
                const iw = ow * p.strideWidth - p.paddingWidth + j * p.dilationWidth;
                if (ih >= 0 && ih < p.inHeight && iw >= 0 && iw < p.inWidth)
                  visit(n, o, oh, ow, c, i, j, ih, iw);
              }
}

/** y[n, o, oh, ow] = bias[o] + Σ_{c,i,j} weight[o, c, i, j] · x[n, c, oh·s − p + i·d, ow·s − p + j·d]. */
export function conv2dReference(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  opts: Conv2dReferenceOptions = {},
): Tensor {
  const p = planFor("conv2dReference", x, weight, opts);
  const N = x.shape[0];
  const sums = new Float64Array(N * p.outChannels * p.outHeight * p.outWidth);
  forEachTerm(p, N, (n, o, oh, ow, c, i, j, ih, iw) => {
    const at = ((n * p.outChannels + o) * p.outHeight + oh) * p.outWidth + ow;
    sums[at] += weight.get(o, c, i, j) * x.get(n, c, ih, iw);
  });
  const y = zeros([N, ...p.outShape], dtypeOf(x));
  for (let k = 0; k < sums.length; k++) {
    const o = Math.floor(k / (p.outHeight * p.outWidth)) % p.outChannels;
    y.data[k] = sums[k] + (bias === null ? 0 : bias.get(o));
  }
  return y;
}

/** dL/dx, dL/dweight and dL/dbias of conv2dReference for the output gradient dy (all in x's dtype). */
export function conv2dReferenceBackward(
  x: Tensor,
  weight: Tensor,
  dy: Tensor,
  opts: Conv2dReferenceOptions = {},
): { dx: Tensor; dweight: Tensor; dbias: Tensor } {
  const p = planFor("conv2dReferenceBackward", x, weight, opts);
  const N = x.shape[0];
  const [C, H, W] = [p.inChannels, p.inHeight, p.inWidth];
  const [O, KH, KW] = [p.outChannels, p.kernelHeight, p.kernelWidth];
  const dxSums = new Float64Array(N * C * H * W);
  const dwSums = new Float64Array(O * C * KH * KW);
  const dbSums = new Float64Array(O);
  forEachTerm(p, N, (n, o, oh, ow, c, i, j, ih, iw) => {
    const g = dy.get(n, o, oh, ow);
    dxSums[((n * C + c) * H + ih) * W + iw] += g * weight.get(o, c, i, j);
    dwSums[((o * C + c) * KH + i) * KW + j] += g * x.get(n, c, ih, iw);
  });
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let oh = 0; oh < p.outHeight; oh++)
        for (let ow = 0; ow < p.outWidth; ow++) dbSums[o] += dy.get(n, o, oh, ow);
  const dtype = dtypeOf(x);
  const fromSums = (sums: Float64Array, shape: number[]) => {
    const t = zeros(shape, dtype);
    t.data.set(sums);
    return t;
  };
  return {
    dx: fromSums(dxSums, [N, C, H, W]),
    dweight: fromSums(dwSums, [O, C, KH, KW]),
    dbias: fromSums(dbSums, [O]),
  };
}
