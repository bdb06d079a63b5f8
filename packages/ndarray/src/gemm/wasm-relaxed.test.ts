import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Which WebAssembly build runs is fixed per process (V8 flags, NABLA_WASM_RELAXED), so the relaxed-SIMD build
// is checked in child processes: on Node 20 relaxed SIMD needs --experimental-wasm-relaxed-simd, from Node 22 it
// is on by default. Each child compares the wasm kernels (1 and 2 threads) with the reference over random
// shapes, transposes, alpha/beta and strided views, and checks that thread count does not change bits.
const dist = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
const script = `
import * as m from ${JSON.stringify(dist)};
const rng = new m.Rng(91);
const view = (r, c, layout) => {
  if (layout === 0) return m.zeros([r, c]);
  if (layout === 1) return m.transpose(m.zeros([c, r]));
  return m.zeros([r, c + 5]).hi(r, c);
};
let worst = 0, sameAcrossThreads = true;
for (let t = 0; t < 16; t++) {
  const [mm, n, k] = [1 + rng.below(120), 1 + rng.below(120), 1 + rng.below(400)];
  const tA = rng.below(2) === 1, tB = rng.below(2) === 1;
  const A = tA ? view(k, mm, rng.below(3)) : view(mm, k, rng.below(3));
  const B = tB ? view(n, k, rng.below(3)) : view(k, n, rng.below(3));
  const C = view(mm, n, rng.below(3));
  for (const x of [A, B, C]) rng.fillUniform(x, -1, 1);
  const alpha = [1, -0.5, 2][rng.below(3)], beta = [0, 1, -0.25][rng.below(3)];
  const ref = m.toFloat64(C), C2 = m.toFloat64(C);
  const absA = m.toFloat64(A), absB = m.toFloat64(B), mag = m.toFloat64(C);
  for (const x of [absA.data, absB.data, mag.data]) for (let i = 0; i < x.length; i++) x[i] = Math.abs(x[i]);
  m.gemmReference(tA, tB, alpha, m.toFloat64(A), m.toFloat64(B), beta, ref);
  m.gemmReference(tA, tB, Math.abs(alpha), absA, absB, Math.abs(beta), mag);
  const again = m.zeros([mm, n]);
  for (let i = 0; i < mm; i++) for (let j = 0; j < n; j++) again.set(i, j, C2.get(i, j));
  m.setGemmKernel("wasm");
  m.gemm(tA, tB, alpha, A, B, beta, C);
  m.setGemmKernel("parallel");
  m.gemm(tA, tB, alpha, A, B, beta, again);
  for (let i = 0; i < mm; i++) for (let j = 0; j < n; j++) {
    const e = Math.abs(C.get(i, j) - ref.get(i, j)) / (mag.get(i, j) + 1e-30);
    if (!(e <= worst)) worst = e;
    if (!Object.is(C.get(i, j), again.get(i, j))) sameAcrossThreads = false;
  }
}
console.log(JSON.stringify({ isa: m.gemmKernelInfo().isa, worst, sameAcrossThreads }));
`;

/** Runs the script in a child (asynchronously: the test worker must stay responsive on a busy machine). */
function child(flags: string[], env: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...flags, "--input-type=module", "-e", script],
      { encoding: "utf8", timeout: 100_000, env: { ...process.env, NABLA_GEMM_NATIVE: "0", ...env } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split("\n").at(-1) as string));
      },
    );
  });
}

describe("wasm gemm builds", () => {
  it("relaxed SIMD (fused multiply-add): matches the reference, same bits on 1 and 2 threads", async () => {
    const out = await child(["--experimental-wasm-relaxed-simd"], {});
    expect(out.isa).toBe("wasm-relaxed-simd");
    expect(out.worst).toBeLessThanOrEqual(1e-5);
    expect(out.sameAcrossThreads).toBe(true);
  });

  it("NABLA_WASM_RELAXED=0 keeps the plain SIMD build, which matches the reference too", async () => {
    const out = await child(["--experimental-wasm-relaxed-simd"], { NABLA_WASM_RELAXED: "0" });
    expect(out.isa).toBe("wasm-simd128");
    expect(out.worst).toBeLessThanOrEqual(1e-5);
    expect(out.sameAcrossThreads).toBe(true);
  });
});
