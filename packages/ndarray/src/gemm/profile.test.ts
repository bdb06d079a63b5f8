import { afterEach, describe, expect, it } from "vitest";
import { zeros } from "../tensor.js";
import { gemm } from "./index.js";
import { gemmProfile, setGemmProfiling } from "./profile.js";

describe("gemm profiling", () => {
  afterEach(() => setGemmProfiling(false));

  it("records calls per shape only while on, and leaves results alone", () => {
    const a = zeros([8, 16]);
    a.data.fill(1);
    const b = zeros([4, 16]);
    b.data.fill(2);
    const c = zeros([8, 4]);
    gemm(false, true, 1, a, b, 0, c);
    expect(gemmProfile()).toEqual([]);
    setGemmProfiling(true);
    gemm(false, true, 1, a, b, 0, c);
    gemm(false, true, 1, a, b, 0, c);
    gemm(true, false, 1, a, a, 0, zeros([16, 16]));
    const p = gemmProfile();
    expect(p.map((e) => [e.transA, e.transB, e.m, e.n, e.k, e.calls])).toEqual([
      [false, true, 8, 4, 16, 2],
      [true, false, 16, 16, 8, 1],
    ]);
    expect(p[0].ms).toBeGreaterThanOrEqual(0);
    expect(c.data.every((v) => v === 32)).toBe(true);
    setGemmProfiling(false);
    expect(gemmProfile()).toEqual([]);
  });
});
