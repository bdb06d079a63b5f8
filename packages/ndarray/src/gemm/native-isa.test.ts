import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { platform } from "#platform";

// The native addon picks its micro-kernel once per process, so the AVX2 and scalar kernels (not chosen on an
// AVX-512 machine) are checked in child processes with NABLA_GEMM_ISA capping the choice. Each child compares
// the native kernel with the reference over random shapes, transposes, alpha/beta and strided views.
const dist = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
const script = `
import * as m from ${JSON.stringify(dist)};
const rng = new m.Rng(77);
const view = (r, c, layout) => {
  if (layout === 0) return m.zeros([r, c]);
  if (layout === 1) return m.transpose(m.zeros([c, r]));
  return m.zeros([r, c + 5]).hi(r, c);
};
m.setGemmKernel("native");
let worst = 0;
for (let t = 0; t < 40; t++) {
  const [mm, n, k] = [1 + rng.below(300), 1 + rng.below(300), 1 + rng.below(300)];
  const tA = rng.below(2) === 1, tB = rng.below(2) === 1;
  const A = tA ? view(k, mm, rng.below(3)) : view(mm, k, rng.below(3));
  const B = tB ? view(n, k, rng.below(3)) : view(k, n, rng.below(3));
  const C = view(mm, n, rng.below(3));
  for (const x of [A, B, C]) rng.fillUniform(x, -1, 1);
  const alpha = [1, -0.5, 2][rng.below(3)], beta = [0, 1, -0.25][rng.below(3)];
  const ref = m.toFloat64(C);
  const absA = m.toFloat64(A), absB = m.toFloat64(B), mag = m.toFloat64(C);
  for (const x of [absA.data, absB.data, mag.data]) for (let i = 0; i < x.length; i++) x[i] = Math.abs(x[i]);
  m.gemmReference(tA, tB, alpha, m.toFloat64(A), m.toFloat64(B), beta, ref);
  m.gemmReference(tA, tB, Math.abs(alpha), absA, absB, Math.abs(beta), mag);
  m.gemm(tA, tB, alpha, A, B, beta, C);
  for (let i = 0; i < mm; i++) for (let j = 0; j < n; j++) {
    const e = Math.abs(C.get(i, j) - ref.get(i, j)) / (mag.get(i, j) + 1e-30);
    if (!(e <= worst)) worst = e;
  }
}
const info = m.gemmKernelInfo();
console.log(JSON.stringify({ isa: info.isa, lastKernel: info.lastKernel, worst }));
`;

describe.skipIf(typeof platform.loadNative() === "string")("native micro-kernels below AVX-512", () => {
  for (const isa of ["avx2", "scalar"]) {
    it(`${isa}: matches the reference (relative error <= 1e-5 of the summed magnitudes)`, () => {
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, NABLA_GEMM_ISA: isa },
      });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.isa).toBe(isa);
      expect(out.lastKernel).toBe("native");
      expect(out.worst).toBeLessThanOrEqual(1e-5);
    });
  }
});
