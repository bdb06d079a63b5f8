import fc from "fast-check";
import ndarray from "ndarray";
import { afterEach, describe, expect, it } from "vitest";
import { type Layout, layouts, randomMatrix } from "../../test/helpers.js";
import { axpy, fill, relu, reluBackward } from "../elementwise.js";
import { Rng } from "../rng.js";
import type { Tensor } from "../tensor.js";
import { gemm, residentZeros, setGemmKernel } from "./index.js";
import { WasmGemm } from "./wasm.js";

const layoutArb = fc.constantFrom<Layout>(...layouts);

/** The same view (shape, strides, offset, every element of its storage) over a resident array of `kernel`. */
function resident(kernel: WasmGemm, t: Tensor): Tensor {
  const data = kernel.residentArray(t.data.length);
  if (!data) throw new Error("expected a resident array");
  data.set(t.data);
  return ndarray(data, t.shape.slice(), t.stride.slice(), t.offset);
}

const bits = (t: Tensor) => {
  const out: number[] = [];
  for (let i = 0; i < t.shape[0]; i++) for (let j = 0; j < t.shape[1]; j++) out.push(t.get(i, j));
  return new Uint32Array(Float32Array.from(out).buffer);
};

describe("resident operands of the WebAssembly GEMM", () => {
  const kernel = new WasmGemm({ relaxed: false });

  it("give the bits of copied operands, for any mix of resident A, B, C, layout, beta and threads", () => {
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 40 }),
          n: fc.integer({ min: 1, max: 40 }),
          k: fc.integer({ min: 1, max: 600 }),
          tA: fc.boolean(),
          tB: fc.boolean(),
          la: layoutArb,
          lb: layoutArb,
          lc: layoutArb,
          ra: fc.boolean(),
          rb: fc.boolean(),
          rc: fc.boolean(),
          beta: fc.constantFrom(0, 1, 0.5),
          threads: fc.constantFrom(1, 2),
          seed: fc.integer(),
        }),
        ({ m, n, k, tA, tB, la, lb, lc, ra, rb, rc, beta, threads, seed }) => {
          const rng = new Rng(seed);
          const A = tA ? randomMatrix(rng, k, m, la) : randomMatrix(rng, m, k, la);
          const B = tB ? randomMatrix(rng, n, k, lb) : randomMatrix(rng, k, n, lb);
          const C = randomMatrix(rng, m, n, lc);
          const Ar = ra ? resident(kernel, A) : A;
          const Br = rb ? resident(kernel, B) : B;
          const Cr = rc ? resident(kernel, C) : randomMatrix(new Rng(0), m, n, lc);
          if (!rc) Cr.data.set(C.data);
          kernel.run(tA, tB, 1, A, B, beta, C, threads);
          kernel.run(tA, tB, 1, Ar, Br, beta, Cr, threads);
          expect(bits(Cr)).toEqual(bits(C));
          // The resident inputs are read, never written.
          expect(Array.from(Ar.data)).toEqual(Array.from(A.data));
          expect(Array.from(Br.data)).toEqual(Array.from(B.data));
        },
      ),
      { numRuns: 120 },
    );
  });

  it("keep their values while the operand region moves and the memory grows around them", () => {
    const rng = new Rng(3);
    const kept = resident(kernel, randomMatrix(rng, 64, 96, "contiguous"));
    const before = Array.from(kept.data);
    // Operands far larger than any before: the region moves above `kept` and the memory grows.
    const A = randomMatrix(rng, 300, 700, "contiguous");
    const B = randomMatrix(rng, 700, 200, "contiguous");
    const C = randomMatrix(rng, 300, 200, "contiguous");
    kernel.run(false, false, 1, A, B, 0, C, 2);
    const more = Array.from({ length: 8 }, () => kernel.residentArray(1 << 20));
    expect(more.every((a) => a?.every((v) => v === 0))).toBe(true);
    expect(Array.from(kept.data)).toEqual(before);
    // An array handed out before the growth still works in place.
    const W = randomMatrix(rng, 96, 32, "contiguous");
    const out1 = randomMatrix(rng, 64, 32, "contiguous");
    const out2 = resident(kernel, out1);
    kernel.run(false, false, 1, kept, W, 0, out1, 2);
    kernel.run(false, false, 1, kept, W, 0, out2, 2);
    expect(bits(out2)).toEqual(bits(out1));
  });

  it("run axpy and the ReLU loops in place with the bits of the copying path", () => {
    const rng = new Rng(5);
    const n = 50_003;
    const make = () => {
      const a = new Float32Array(n);
      rng.fillNormal(a);
      return a;
    };
    const [y, x, g] = [make(), make(), make()];
    const [yr, xr, gr] = [y, x, g].map((a) => {
      const r = kernel.residentArray(n) as Float32Array;
      r.set(a);
      return r;
    });
    kernel.elementwise("axpy", n, y, 0, y, 0, x, 0, -0.01);
    kernel.elementwise("axpy", n, yr, 0, yr, 0, xr, 0, -0.01);
    expect(new Uint32Array(yr.buffer, yr.byteOffset, n)).toEqual(new Uint32Array(y.buffer));
    const dx = new Float32Array(n);
    const dxr = kernel.residentArray(n) as Float32Array;
    kernel.elementwise("reluBackward", n, dx, 0, g, 0, x, 0, 0);
    kernel.elementwise("reluBackward", n, dxr, 0, gr, 0, xr, 0, 0);
    expect(Array.from(dxr)).toEqual(Array.from(dx));
    expect(kernel.zeroResident(n - 7, yr, 7)).toBe(true);
    expect(yr.subarray(7).every((v) => v === 0) && yr[6] === y[6]).toBe(true);
    expect(kernel.zeroResident(n, y, 0)).toBe(false);
  });

  it("are not offered on an unshared memory (growing it would detach them)", () => {
    expect(new WasmGemm({ shared: false }).residentArray(4096)).toBeNull();
  });
});

describe("residentZeros", () => {
  afterEach(() => setGemmKernel("auto"));

  it("is in the WebAssembly memory when that kernel runs large GEMMs, and plain zeros otherwise", () => {
    setGemmKernel("parallel");
    const t = residentZeros([128, 3072]);
    expect(t.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(t.shape).toEqual([128, 3072]);
    expect(t.data.every((v) => v === 0)).toBe(true);
    expect(residentZeros([8, 8]).data.buffer).toBeInstanceOf(ArrayBuffer); // small: cheap to copy
    expect(residentZeros([64, 64], "float64").data).toBeInstanceOf(Float64Array);
    setGemmKernel("reference");
    expect(residentZeros([128, 3072]).data.buffer).toBeInstanceOf(ArrayBuffer);
    expect(() => residentZeros([2, -1])).toThrow(/zeros/);
  });

  it("gives a training step's ops the same bits as ordinary arrays", () => {
    setGemmKernel("parallel");
    const rng = new Rng(11);
    const plain = () => randomMatrix(rng, 128, 300, "contiguous");
    const X = plain();
    const W = plain();
    const Wr = residentZeros([128, 300]);
    Wr.data.set(W.data);
    const Y = randomMatrix(rng, 128, 128, "contiguous");
    const Yr = residentZeros([128, 128]);
    gemm(false, true, 1, X, W, 0, Y);
    gemm(false, true, 1, X, Wr, 0, Yr);
    expect(bits(Yr)).toEqual(bits(Y));
    relu(Y, Y);
    relu(Yr, Yr);
    const G = randomMatrix(rng, 128, 128, "contiguous");
    const D = randomMatrix(rng, 128, 128, "contiguous");
    const Dr = residentZeros([128, 128]);
    reluBackward(D, G, Y);
    reluBackward(Dr, G, Yr);
    expect(bits(Dr)).toEqual(bits(D));
    const dW = randomMatrix(rng, 128, 300, "contiguous");
    const dWr = residentZeros([128, 300]);
    dWr.data.set(dW.data);
    gemm(true, false, 1, D, X, 1, dW);
    gemm(true, false, 1, Dr, X, 1, dWr);
    axpy(W, -0.05, dW);
    axpy(Wr, -0.05, dWr);
    expect(bits(Wr)).toEqual(bits(W));
    fill(dWr, 0);
    expect(dWr.data.every((v) => v === 0)).toBe(true);
  });
});
