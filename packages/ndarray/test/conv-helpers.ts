/** Geometries, inputs and one full pass of the convolution, shared by the conv tests. */
import fc from "fast-check";
import {
  type Conv2dPlan,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
  conv2dOutputSize,
  conv2dPlan,
} from "../src/conv.js";
import { Rng } from "../src/rng.js";
import { type DType, fromArray, type Tensor, zeros } from "../src/tensor.js";

export interface Geometry {
  n: number;
  c: number;
  o: number;
  h: number;
  w: number;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  bias: boolean;
  seed: number;
}

export const pairArb = (min: number, max: number) =>
  fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })) as fc.Arbitrary<[number, number]>;

/** Random geometries whose kernel fits: batch 1..4, channels 1..6, sides 1..12, kernels up to 4, strides, padding, dilation up to 3. */
export const geometryArb: fc.Arbitrary<Geometry> = fc
  .record({
    n: fc.integer({ min: 1, max: 4 }),
    c: fc.integer({ min: 1, max: 6 }),
    o: fc.integer({ min: 1, max: 6 }),
    h: fc.integer({ min: 1, max: 12 }),
    w: fc.integer({ min: 1, max: 12 }),
    kernel: pairArb(1, 4),
    stride: pairArb(1, 3),
    padding: pairArb(0, 2),
    dilation: pairArb(1, 3),
    bias: fc.boolean(),
    seed: fc.nat(),
  })
  .filter(
    (g) =>
      conv2dOutputSize(g.h, g.kernel[0], g.stride[0], g.padding[0], g.dilation[0]) > 0 &&
      conv2dOutputSize(g.w, g.kernel[1], g.stride[1], g.padding[1], g.dilation[1]) > 0,
  );

export const PROPERTY = { seed: 20_261_208, numRuns: 40 } as const;

export function planOf(g: Geometry): Conv2dPlan {
  return conv2dPlan({
    inShape: [g.c, g.h, g.w],
    outChannels: g.o,
    kernel: g.kernel,
    stride: g.stride,
    padding: g.padding,
    dilation: g.dilation,
  });
}

export function uniform(rng: Rng, shape: number[], dtype: DType): Tensor {
  const t = zeros(shape, dtype);
  rng.fillUniform(t, -1, 1);
  return t;
}

export function abs(t: Tensor): Tensor {
  return fromArray(Array.from(t.data, Math.abs), t.shape.slice(), "float64");
}

export interface Inputs {
  plan: Conv2dPlan;
  x: Tensor;
  w: Tensor;
  b: Tensor | null;
  dy: Tensor;
}

export function inputs(g: Geometry, dtype: DType): Inputs {
  const plan = planOf(g);
  const rng = new Rng(g.seed);
  return {
    plan,
    x: uniform(rng, [g.n, g.c, g.h, g.w], dtype),
    w: uniform(rng, [g.o, g.c, ...g.kernel], dtype),
    b: g.bias ? uniform(rng, [g.o], dtype) : null,
    dy: uniform(rng, [g.n, ...plan.outShape], dtype),
  };
}

/** Forward, and the gradients: written, or (beta 1) added to `start`'s when given. */
export function run(p: Inputs, start?: { dx: Tensor; dw: Tensor; db: Tensor }) {
  const dtype = p.x.data instanceof Float64Array ? "float64" : "float32";
  const y = conv2dForward(p.plan, p.x, p.w, p.b, zeros([p.x.shape[0], ...p.plan.outShape], dtype));
  const dx = conv2dBackwardInput(
    p.plan,
    p.dy,
    p.w,
    start ? start.dx : zeros(p.x.shape, dtype),
    start ? 1 : 0,
  );
  const dw = start ? start.dw : zeros(p.w.shape, dtype);
  const db = start ? start.db : zeros([p.w.shape[0]], dtype);
  conv2dBackwardWeight(p.plan, p.x, p.dy, dw, db, start ? 1 : 0);
  return { y, dx, dw, db };
}
