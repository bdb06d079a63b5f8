// Linear's bias passes are plain loops over its contiguous buffers; they must give the same bits as
// @nabla/ndarray's generic addRowVector and sumAxis0 + add, which they replace, and the strided-dY fallback must
// agree with them too.
import {
  add,
  addRowVector,
  type DType,
  gemm,
  Rng,
  sumAxis0,
  type Tensor,
  transpose,
  zeros,
} from "@nabla/ndarray";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Linear } from "./linear.js";

function randomTensor(rng: Rng, rows: number, cols: number, dtype: DType): Tensor {
  const t = zeros([rows, cols], dtype);
  rng.fillNormal(t, 0, 3);
  return t;
}

function sameBits(a: Tensor, b: Tensor): boolean {
  return Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer));
}

describe("Linear bias passes against ndarray's kernels", () => {
  it("forward Y and backward db (accumulated twice) equal gemm + addRowVector and sumAxis0 + add, bit for bit", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom<DType>("float32", "float64"),
        fc.integer({ min: 0, max: 1e6 }),
        (rows, inDim, outDim, dtype, seed) => {
          const rng = new Rng(seed);
          const layer = new Linear(inDim, outDim, { rng, dtype });
          rng.fillNormal(layer.bias, 0, 1);
          const x = randomTensor(rng, rows, inDim, dtype);
          const expectedY = zeros([rows, outDim], dtype);
          gemm(false, true, 1, x, layer.weight, 0, expectedY);
          addRowVector(expectedY, expectedY, layer.bias);
          expect(sameBits(layer.forward(x), expectedY)).toBe(true);

          const expectedDb = zeros([outDim], dtype);
          const scratch = zeros([outDim], dtype);
          for (let pass = 0; pass < 2; pass++) {
            const dY = randomTensor(rng, rows, outDim, dtype);
            layer.backward(dY);
            sumAxis0(scratch, dY);
            add(expectedDb, expectedDb, scratch);
          }
          expect(sameBits(layer.biasGrad, expectedDb)).toBe(true);
        },
      ),
      { numRuns: 120 },
    );
  });

  it("a strided dY (a transposed view) takes the generic path with the same result", () => {
    const rng = new Rng(4);
    const layer = new Linear(6, 5, { rng, dtype: "float32" });
    const x = randomTensor(rng, 7, 6, "float32");
    layer.forward(x);
    const dYt = randomTensor(rng, 5, 7, "float32");
    const dY = transpose(dYt); // [7, 5] with strides [1, 7]
    layer.backward(dY);
    const expected = zeros([5], "float32");
    sumAxis0(expected, dY);
    expect(Array.from(layer.biasGrad.data)).toEqual(Array.from(expected.data));
  });
});
