/**
 * The GEMM helper thread's loop, as source text so each platform can start it the same way from dist/, from
 * vitest running TypeScript sources and from a bundle (a worker from a file would need that file's URL, which
 * bundlers rewrite differently). Given `module`, `memory` and `control`, it instantiates the shared GEMM module
 * over the shared memory, signals ready, then loops: wait until the job flag is 1, run its job, set the flag
 * to 2. Control block (Int32 slots at `control`): 0 state (0 idle, 1 job, 2 done), 1 ready, JOB_SLOT the job
 * (JOB_GEMM: gemm() on its block, with arguments in 2..16, alpha/beta as float32 bits; JOB_AXPY: axpy(n, y, x)
 * with n, y, x in 2..4 and its scalar in float64 slot AXPY_SCALAR_F64_SLOT).
 */
export const JOB_SLOT = 17;
export const JOB_GEMM = 0;
export const JOB_AXPY = 1;
/** Float64 slot (byte 96) of axpy's scalar, clear of the gemm arguments. */
export const AXPY_SCALAR_F64_SLOT = 12;

export const gemmLoopSource = `
const instance = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error("gemm wasm abort"); } } });
const { gemm, axpy } = instance.exports;
const I = new Int32Array(memory.buffer, control, 32);
const F = new Float32Array(memory.buffer, control, 32);
const D = new Float64Array(memory.buffer, control, 16);
const SPIN_MS = 0.3;
Atomics.store(I, 1, 1);
Atomics.notify(I, 1);
for (;;) {
  let state = Atomics.load(I, 0);
  // Spin a little before sleeping: a training step posts its jobs a fraction of a millisecond apart, and
  // waking a thread blocked in Atomics.wait takes longer than that on a virtual machine.
  for (let spin = 0, until = 0; state !== 1; spin++) {
    if ((spin & 1023) === 0) {
      const now = performance.now();
      if (until === 0) until = now + SPIN_MS;
      else if (now > until) break;
    }
    state = Atomics.load(I, 0);
  }
  while (state !== 1) {
    Atomics.wait(I, 0, state);
    state = Atomics.load(I, 0);
  }
  if (I[${JOB_SLOT}] === ${JOB_AXPY}) axpy(I[2], I[3], I[4], D[${AXPY_SCALAR_F64_SLOT}]);
  else gemm(I[2], I[3], I[4], F[5], F[6], I[7], I[8], I[9], I[10], I[11], I[12], I[13], I[14], I[15], I[16]);
  Atomics.store(I, 0, 2);
  Atomics.notify(I, 0);
}
`;
