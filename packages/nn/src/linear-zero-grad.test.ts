import { gemmKernelInfo, Rng, setGemmKernel, type Tensor } from "@nabla/ndarray";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { normalTensor, PROPERTY } from "../test/helpers.js";
import { buildSequential, mlpLayers } from "./layers.js";
import { Linear } from "./linear.js";

// Linear.zeroGrad defers zeroing its weight gradient to the next backward, which then writes dW (GEMM beta 0)
// instead of adding to zeros. These tests hold it to the eager semantics: same bits, and never a stale read.

afterEach(() => setGemmKernel("auto"));

function bits(t: Tensor): number[] {
  return Array.from(t.data);
}

describe("Linear's deferred zeroGrad", () => {
  const kernels = gemmKernelInfo().available;

  it("gives the bits of an eager zero then accumulate, on every GEMM kernel and dtype", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(...kernels),
        fc.constantFrom("float32" as const, "float64" as const),
        fc.integer(),
        (rows, inDim, outDim, kernel, dtype, seed) => {
          setGemmKernel(kernel);
          const make = () => new Linear(inDim, outDim, { rng: new Rng(seed), dtype });
          const deferred = make();
          const eager = make();
          const rng = new Rng(seed + 1);
          const x = normalTensor(rng, rows, inDim, dtype);
          const dY = normalTensor(rng, rows, outDim, dtype);
          for (const layer of [deferred, eager]) {
            layer.forward(x);
            layer.backward(dY); // leaves a nonzero gradient for zeroGrad to clear
            layer.zeroGrad();
          }
          // reading the gradient zeroes it now, so eager's next backward adds to zeros (GEMM beta 1)
          expect(eager.weightGrad.data.every((v) => v === 0)).toBe(true);
          for (const layer of [deferred, eager]) {
            layer.forward(x);
            layer.backward(dY);
          }
          expect(bits(deferred.weightGrad)).toEqual(bits(eager.weightGrad));
          expect(bits(deferred.biasGrad)).toEqual(bits(eager.biasGrad));
        },
      ),
      { seed: PROPERTY.seed, numRuns: PROPERTY.numRuns },
    );
  });

  it("shows zeros through weightGrad, parameters() and a Sequential's parameters before any backward", () => {
    const rng = new Rng(3);
    const model = buildSequential(mlpLayers([6], 3), { inputDim: 5, seed: 1 });
    const x = normalTensor(rng, 4, 5, "float32");
    model.forward(x);
    model.backward(normalTensor(rng, 4, 3, "float32"));
    const nonzero = model.parameters().filter((p) => p.grad.data.some((v) => v !== 0));
    expect(nonzero.length).toBeGreaterThan(0);
    model.zeroGrad();
    for (const p of model.parameters()) expect(p.grad.data.every((v) => v === 0)).toBe(true);
  });

  it("hands zeros to an optimizer that holds the parameters and steps after zeroGrad without a backward", () => {
    const rng = new Rng(4);
    const layer = new Linear(8, 3, { rng });
    const params = layer.parameters().slice(); // as an optimizer keeps them
    layer.forward(normalTensor(rng, 2, 8, "float32"));
    layer.backward(normalTensor(rng, 2, 3, "float32"));
    layer.zeroGrad();
    const before = bits(layer.weight);
    for (const p of params) for (let i = 0; i < p.value.size; i++) p.value.data[i] -= 0.5 * p.grad.data[i];
    expect(bits(layer.weight)).toEqual(before);
  });

  it("accumulates over two backwards after one zeroGrad", () => {
    const rng = new Rng(5);
    const layer = new Linear(7, 4, { rng, dtype: "float64" });
    const x = normalTensor(rng, 3, 7, "float64");
    const dY = normalTensor(rng, 3, 4, "float64");
    layer.forward(x);
    layer.backward(dY);
    layer.zeroGrad();
    layer.forward(x);
    layer.backward(dY);
    const once = bits(layer.weightGrad);
    layer.forward(x);
    layer.backward(dY);
    bits(layer.weightGrad).forEach((v, k) => {
      expect(v).toBe(once[k] + once[k]);
    });
  });
});
