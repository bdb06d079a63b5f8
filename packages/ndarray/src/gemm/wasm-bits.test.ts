import { describe, expect, it } from "vitest";
import { layouts, randomMatrix } from "../../test/helpers.js";
import { Rng } from "../rng.js";
import { type Tensor, zeros } from "../tensor.js";
import { WasmGemm } from "./wasm.js";

const KC = 256; // assembly/gemm.ts

/**
 * The exact float32 arithmetic the WebAssembly kernel promises, independent of its tiling: each C element sums
 * a[i,p]·b[p,j] in p order, rounding after every multiply and add, restarting at each KC block, and each block
 * is folded into C as alpha·sum + beta·C (beta = 1 after the first block). Any tile shape must give these bits.
 */
function blockedFloat32(
  tA: boolean,
  tB: boolean,
  alpha: number,
  A: Tensor,
  B: Tensor,
  beta: number,
  C0: Tensor,
) {
  const f = Math.fround;
  const [m, n] = C0.shape;
  const k = tA ? A.shape[0] : A.shape[1];
  const a = (i: number, p: number) => (tA ? A.get(p, i) : A.get(i, p));
  const b = (p: number, j: number) => (tB ? B.get(j, p) : B.get(p, j));
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let c = C0.get(i, j);
      for (let pc = 0; pc < k; pc += KC) {
        let acc = 0;
        for (let p = pc; p < Math.min(k, pc + KC); p++) acc = f(acc + f(a(i, p) * b(p, j)));
        const bt = pc === 0 ? f(beta) : 1;
        c = bt === 0 ? f(f(alpha) * acc) : f(f(f(alpha) * acc) + f(bt * c));
      }
      out[i * n + j] = c;
    }
  return out;
}

function filled(rng: Rng, rows: number, cols: number): Tensor {
  const t = zeros([rows, cols]);
  rng.fillNormal(t);
  return t;
}

describe("plain-SIMD wasm gemm bits", () => {
  const kernel = new WasmGemm({ relaxed: false });

  it.each([
    [false, true, 37, 29, 600, 0],
    [true, false, 21, 70, 300, 1],
    [false, false, 13, 9, 5, 0.5],
    [true, true, 5, 40, 257, -2],
  ])(
    "transA %s transB %s %ix%ix%i beta %s: exactly the blocked float32 sums (1 and 2 threads)",
    (tA, tB, m, n, k, beta) => {
      const rng = new Rng(m * 7 + n);
      const A = tA ? filled(rng, k, m) : filled(rng, m, k);
      const B = tB ? filled(rng, n, k) : filled(rng, k, n);
      const C0 = filled(rng, m, n);
      const expected = blockedFloat32(tA, tB, 0.75, A, B, beta, C0);
      for (const threads of [1, 2]) {
        const C = zeros([m, n]);
        C.data.set(C0.data);
        kernel.run(tA, tB, 0.75, A, B, beta, C, threads);
        expect(C.data).toEqual(expected);
      }
    },
  );
});

describe("wasm gemm split across two threads", () => {
  it("gives the one-thread bits for every layout, transpose and beta (row and column splits)", () => {
    const kernel = new WasmGemm({ relaxed: false });
    const rng = new Rng(17);
    for (const layout of layouts)
      for (const [m, n, k] of [
        [70, 21, 300],
        [21, 70, 300],
      ])
        for (const tA of [false, true])
          for (const tB of [false, true]) {
            const A = tA ? randomMatrix(rng, k, m, layout) : randomMatrix(rng, m, k, layout);
            const B = tB ? randomMatrix(rng, n, k, layout) : randomMatrix(rng, k, n, layout);
            const C1 = randomMatrix(rng, m, n, layout);
            const C2 = zeros([m, n]);
            for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) C2.set(i, j, C1.get(i, j));
            kernel.run(tA, tB, -1.25, A, B, 0.5, C1, 1);
            kernel.run(tA, tB, -1.25, A, B, 0.5, C2, 2);
            for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) expect(C2.get(i, j)).toBe(C1.get(i, j));
          }
  });
});
