import { describe, expect, it } from "vitest";
import { EW_ADD, nativeAddon, nativeAddRows, nativeColumnSums, nativeElementwise } from "./addon.js";
import { add, addRowVector, axpy, mul, relu, reluBackward, scale, sub } from "./elementwise.js";
import { WasmGemm } from "./gemm/wasm.js";
import { Rng } from "./rng.js";
import { sumAxis0 } from "./rowops.js";
import { fromTypedArray, reshape, sliceRows } from "./tensor.js";

// Long contiguous float32 arrays take the native element-wise kernels when the addon is loaded; they must
// give exactly the bits of the JavaScript loop (float32 rounding of the double-precision expression).
const f = Math.fround;
const N = 50_003;

function random(rng: Rng, n: number): Float32Array {
  const x = new Float32Array(n);
  rng.fillUniform(x, -3, 3);
  return x;
}

describe("element-wise ops on long arrays (native path when available)", () => {
  it("uses the native kernels exactly when the addon is loaded", () => {
    const a = new Float32Array(N);
    expect(nativeElementwise(EW_ADD, N, new Float32Array(N), a, a, 0)).toBe(nativeAddon() !== null);
    expect(nativeElementwise(EW_ADD, 100, new Float32Array(100), a, a, 0)).toBe(false); // short: JS loop
    const f64 = new Float64Array(N);
    expect(nativeElementwise(EW_ADD, N, f64, f64, f64, 0)).toBe(false); // float64 stays in JS
  });

  const cases: [
    string,
    (o: Float32Array, a: Float32Array, b: Float32Array) => void,
    (a: number, b: number, o: number) => number,
  ][] = [
    ["add", (o, a, b) => add(o, a, b), (a, b) => f(a + b)],
    ["sub", (o, a, b) => sub(o, a, b), (a, b) => f(a - b)],
    ["mul", (o, a, b) => mul(o, a, b), (a, b) => f(a * b)],
    ["scale", (o, a) => scale(o, a, 0.1), (a) => f(a * 0.1)],
    ["axpy", (o, a) => axpy(o, -0.037, a), (a, _b, o) => f(o + -0.037 * a)],
    ["relu", (o, a) => relu(o, a), (a) => (a > 0 ? a : 0)],
    ["reluBackward", (o, a, b) => reluBackward(o, a, b), (a, b) => (b > 0 ? a : 0)],
  ];
  for (const [name, run, ref] of cases) {
    it(`${name}: same bits as the naive loop, with offsets and with out aliasing an input`, () => {
      const rng = new Rng(name.length);
      const a = random(rng, N);
      const b = random(rng, N);
      const o = random(rng, N);
      const expected = Array.from(a, (v, i) => ref(v, b[i], o[i]));
      run(o, a, b);
      expect(Array.from(o)).toEqual(expected);
      // Offset views (rows 3.. of a [N/7, 7] matrix) and aliasing out === a.
      const big = random(rng, 7 * 7001);
      const other = random(rng, 7 * 7001);
      const x = sliceRows(reshape(fromTypedArray(big, [7001, 7]), [-1, 7]), 3, 7001);
      const y = sliceRows(fromTypedArray(other, [7001, 7]), 3, 7001);
      const before = Array.from(big.subarray(21));
      const yv = Array.from(other.subarray(21));
      run(
        x.data.subarray(21) as Float32Array,
        x.data.subarray(21) as Float32Array,
        y.data.subarray(21) as Float32Array,
      );
      expect(Array.from(big.subarray(21))).toEqual(before.map((v, i) => ref(v, yv[i], v)));
    });
  }

  it("addRowVector and sumAxis0 on row-major float32 blocks: the naive loops' bits (native when loaded)", () => {
    const rng = new Rng(9);
    expect(
      nativeAddRows(
        128,
        128,
        new Float32Array(16384),
        0,
        new Float32Array(16384),
        0,
        new Float32Array(128),
        0,
      ),
    ).toBe(nativeAddon() !== null);
    expect(nativeColumnSums(128, 128, new Float32Array(16384), 0, new Float64Array(128))).toBe(
      nativeAddon() !== null,
    );
    for (const [rows, cols] of [
      [128, 128],
      [256, 10],
      [33, 3072],
      [1, 5000],
    ]) {
      // rows 2.. of a larger block (a nonzero offset), a bias at an offset, and out === a (Linear's in-place add)
      const data = random(rng, (rows + 2) * cols);
      const a = sliceRows(fromTypedArray(data, [rows + 2, cols]), 2, rows + 2);
      const rowData = random(rng, cols + 1);
      const row = fromTypedArray(rowData.subarray(1), [cols]);
      const sums = new Float64Array(cols);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) sums[j] += data[(i + 2) * cols + j];
      const expectedSums = Float32Array.from(sums);
      const expected = Float32Array.from(data);
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < cols; j++)
          expected[(i + 2) * cols + j] = f(data[(i + 2) * cols + j] + rowData[1 + j]);
      const got = new Float32Array(cols);
      sumAxis0(got, a);
      expect(firstDifference(got, expectedSums)).toBe(-1);
      addRowVector(a, a, row);
      expect(firstDifference(data, expected)).toBe(-1);
    }
  });

  it("partially overlapping out and input fall back to the sequential JavaScript loop", () => {
    const buf = new Float32Array(N + 1).map((_, i) => (i % 1000) * (i % 1000));
    const a = buf.subarray(0, N);
    const out = buf.subarray(1, N + 1); // out[i] = a[i] + 1 reads the value written one step earlier
    add(out, a, new Float32Array(N).fill(1));
    // Sequential semantics: each element is the previous *new* value + 1, so buf[k] = buf[0] + k = k.
    for (let i = 1; i <= 10; i++) expect(buf[i]).toBe(i);
    expect(buf[N]).toBe(N);
  });
});

/** Index of the first element whose bits differ (-1 if none): much faster than toEqual on long arrays. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe("axpy and ReLU backward in the WebAssembly module (no native addon)", () => {
  it("gives the JavaScript loop's bits, with offsets, odd lengths and aliasing", () => {
    const w = new WasmGemm({ relaxed: false });
    const rng = new Rng(5);
    for (const n of [4096, 10_001, 65_537]) {
      const x = random(rng, n + 3);
      const y = random(rng, n + 5);
      const alpha = -0.01 * (1 + rng.below(7));
      const expected = Float32Array.from(y);
      for (let i = 0; i < n; i++) expected[5 + i] = f(expected[5 + i] + alpha * x[3 + i]);
      w.elementwise("axpy", n, y, 5, y, 5, x, 3, alpha);
      expect(firstDifference(y, expected)).toBe(-1);
    }
    const z = random(rng, 5000);
    const doubled = Float32Array.from(z, (v) => f(v + 0.5 * v));
    w.elementwise("axpy", z.length, z, 0, z, 0, z, 0, 0.5);
    expect(firstDifference(z, doubled)).toBe(-1);
    const dy = random(rng, 7001);
    const x = random(rng, 7003);
    x[10] = Number.NaN;
    x[11] = -0;
    const dx = new Float32Array(7002);
    w.elementwise("reluBackward", 7001, dx, 1, dy, 0, x, 2, 0);
    expect(dx).toEqual(
      Float32Array.from({ length: 7002 }, (_, i) => (i > 0 && x[i + 1] > 0 ? dy[i - 1] : 0)),
    );
  });

  it("splits a long resident axpy with the helper thread and keeps the loop's bits", async () => {
    const w = new WasmGemm({ relaxed: false });
    await w.ready();
    expect(w.workerProblem).toBeNull();
    const rng = new Rng(6);
    for (const n of [65_536, 65_541, 100_003, 393_216]) {
      const y = w.residentArray(n + 2) as Float32Array;
      const x = w.residentArray(n + 1) as Float32Array;
      y.set(random(rng, n + 2));
      x.set(random(rng, n + 1));
      const alpha = -0.01 * (1 + rng.below(7));
      const expected = Float32Array.from(y);
      for (let i = 0; i < n; i++) expected[2 + i] = f(expected[2 + i] + alpha * x[1 + i]);
      w.elementwise("axpy", n, y, 2, y, 2, x, 1, alpha, 2);
      expect(firstDifference(y, expected)).toBe(-1);
      // the helper takes GEMM jobs again after an axpy job: two threads give one thread's bits
      const a = fromTypedArray(random(rng, 96 * 80), [96, 80]);
      const two = fromTypedArray(new Float32Array(96 * 96), [96, 96]);
      const one = fromTypedArray(new Float32Array(96 * 96), [96, 96]);
      w.run(false, true, 1, a, a, 0, two, 2);
      w.run(false, true, 1, a, a, 0, one, 1);
      expect(firstDifference(two.data as Float32Array, one.data as Float32Array)).toBe(-1);
      expect(two.data.some((v) => v !== 0)).toBe(true);
    }
  });
});
