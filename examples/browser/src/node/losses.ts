/**
 * `node dist/node/losses.js --threads 1|2`: the losses check in Node, as JSON on stdout. A child process per
 * variant, because the kernel is chosen from the environment once per process: the test starts it with
 * NABLA_GEMM_NATIVE=0 (the WebAssembly kernels Chromium runs) and, for the relaxed-SIMD variant, with
 * NABLA_WASM_RELAXED=1 and --experimental-wasm-relaxed-simd (Node 20 has relaxed SIMD only behind the flag).
 */
import { runCheck } from "../check/run-check.js";

const threadsFlag = process.argv.indexOf("--threads");
const threads = threadsFlag >= 0 && process.argv[threadsFlag + 1] === "1" ? 1 : 2;
const result = await runCheck({ threads, relaxed: process.env.NABLA_WASM_RELAXED === "1" ? "1" : "0" });
console.log(JSON.stringify(result));
