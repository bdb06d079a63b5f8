import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { type Geometry, inputs, run } from "../test/conv-helpers.js";
import { setConvNative } from "./conv.js";
import { type GemmKernel, gemmKernelInfo, setGemmKernel, setGemmThreads } from "./gemm/index.js";

describe("conv2d bits", () => {
  afterAll(() => {
    setGemmKernel("auto");
    setGemmThreads(2);
    setConvNative(true);
  });
  const g: Geometry = {
    n: 7,
    c: 16,
    o: 24,
    h: 18,
    w: 18,
    kernel: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    bias: true,
    seed: 5,
  };
  const bits = (r: ReturnType<typeof run>) =>
    [r.y, r.dx, r.dw, r.db].map((t) => Array.from(new Uint32Array(t.data.buffer)));

  it("the same inputs give the same bits every time, on every kernel", () => {
    for (const kernel of ["auto", ...gemmKernelInfo().available] as GemmKernel[]) {
      setGemmKernel(kernel);
      const p = inputs(g, "float32");
      const first = bits(run(p));
      for (let k = 0; k < 3; k++) expect(bits(run(p)), kernel).toEqual(first);
    }
  });

  it.skipIf(!gemmKernelInfo().available.includes("native"))(
    "native/conv.cc gives the JavaScript loop's bits on the native kernel, on 1 and 2 threads",
    () => {
      for (const kernel of ["native", "auto"] as GemmKernel[]) {
        for (const geometry of [
          g,
          { ...g, n: 3, stride: [2, 1], dilation: [1, 2], padding: [0, 2] } as Geometry,
          // k over the GEMM's k block both ways, partial and odd position vectors, a ragged channel block
          { ...g, n: 2, c: 40, o: 31, h: 11, w: 7 },
        ]) {
          setGemmKernel(kernel);
          const p = inputs(geometry, "float32");
          setConvNative(false);
          const js = bits(run(p));
          setConvNative(true);
          for (const threads of [1, 2]) {
            setGemmThreads(threads);
            expect(bits(run(p)), `${kernel}, ${threads} threads`).toEqual(js);
          }
        }
      }
    },
  );

  it.skipIf(!gemmKernelInfo().available.includes("native"))(
    "a batch with more tiles than the native code runs at once (rounds) gives the JavaScript loop's bits",
    () => {
      setGemmKernel("native");
      const big: Geometry = {
        ...g,
        n: 17000,
        c: 1,
        o: 2,
        h: 2,
        w: 2,
        kernel: [1, 1],
        padding: [0, 0],
        bias: true,
      };
      const p = inputs(big, "float32");
      setConvNative(false);
      const js = bits(run(p));
      setConvNative(true);
      expect(bits(run(p))).toEqual(js);
    },
  );
});

// The addon picks its GEMM micro-kernel once per process: below the best one (AVX2 on an AVX-512 machine, and
// the scalar kernel, without fused multiply-adds, where the direct kernel must not run) in child processes.
const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const childScript = `
import * as m from ${JSON.stringify(`${dist}index.js`)};
import { setConvNative } from ${JSON.stringify(`${dist}conv.js`)};
m.setGemmKernel("native");
const rng = new m.Rng(8);
const cases = [[5, 12, 20, 9, 11, 1, 1], [3, 40, 31, 11, 7, 1, 1], [4, 6, 9, 13, 12, 2, 0]];
let same = true;
for (const [n, c, o, h, w, stride, padding] of cases) {
  const plan = m.conv2dPlan({ inShape: [c, h, w], outChannels: o, kernel: 3, stride, padding });
  const t = (shape) => { const x = m.zeros(shape); rng.fillUniform(x, -1, 1); return x; };
  const x = t([n, c, h, w]), wt = t([o, c, 3, 3]), b = t([o]), dy = t([n, ...plan.outShape]);
  const pass = () => {
    const y = m.conv2dForward(plan, x, wt, b, m.zeros([n, ...plan.outShape]));
    const dx = m.conv2dBackwardInput(plan, dy, wt, m.zeros(x.shape));
    const dw = m.zeros(wt.shape), db = m.zeros([o]);
    m.conv2dBackwardWeight(plan, x, dy, dw, db, 0);
    return [y, dx, dw, db].map((v) => Array.from(new Uint32Array(v.data.buffer)).join());
  };
  setConvNative(false);
  const js = pass();
  setConvNative(true);
  same = same && pass().every((v, i) => v === js[i]);
}
console.log(JSON.stringify({ isa: m.gemmKernelInfo().isa, same }));
`;

describe.skipIf(!gemmKernelInfo().available.includes("native"))(
  "native convolution below the best micro-kernel",
  () => {
    for (const isa of ["avx2", "scalar"]) {
      it(`${isa}: native/conv.cc gives the JavaScript loop's bits`, () => {
        const r = spawnSync(process.execPath, ["--input-type=module", "-e", childScript], {
          encoding: "utf8",
          timeout: 60_000,
          env: { ...process.env, NABLA_GEMM_ISA: isa },
        });
        expect(r.status, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toEqual({ isa, same: true });
      });
    }
  },
);
