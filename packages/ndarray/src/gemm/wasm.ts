import { platform } from "#platform";
import type { HelperThread } from "../platform/types.js";
import type { Tensor } from "../tensor.js";
import { chooseWasmBuild, type WasmGemmOptions } from "./wasm-builds.js";
import { columnMajorInHeap, copyIn, copyOut, heapStrides } from "./wasm-copy.js";
import { align, MAX_PAGES, WasmHeap, type WasmMemory } from "./wasm-heap.js";
import { AXPY_SCALAR_F64_SLOT, JOB_AXPY, JOB_GEMM, JOB_SLOT } from "./worker-source.js";

/** The few WebAssembly JS API members used here (the ES2022 lib has no WebAssembly types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface GemmExports {
  gemm(
    m: number,
    n: number,
    k: number,
    alpha: number,
    beta: number,
    a: number,
    ars: number,
    acs: number,
    b: number,
    brs: number,
    bcs: number,
    c: number,
    ldc: number,
    packA: number,
    packB: number,
  ): void;
  axpy(n: number, y: number, x: number, s: number): void;
  reluBackward(n: number, dx: number, dy: number, x: number): void;
  zero(n: number, p: number): void;
  heapBase(): number;
  packASize(): number;
  packBSize(): number;
  MR: { value: number };
  NR: { value: number };
}

const CONTROL_BYTES = 128;
const WORKER_READY_TIMEOUT_MS = 10_000;

/** Element-wise loops run block by block, so each block's copies in and out stay in the core's cache. */
const ELEMENTWISE_CHUNK = 16384;
/** A resident axpy this long is shared with the helper thread (the optimizer's update of a large layer). */
const SHARED_AXPY_MIN = 1 << 16;
/** How long the caller spins for the helper's part before it blocks. */
const HELPER_SPIN_MS = 1;

/**
 * The WebAssembly SIMD GEMM (assembly/gemm.ts) over one shared WebAssembly.Memory, plus an optional helper
 * thread. Layout of the memory: [module statics][control blocks][pack scratch per thread], then the operand
 * region and resident blocks (wasm-heap.ts). Operands are copied in (row by row when a view has unit stride in
 * either dimension, so transposed and padded views are copied as-is and the kernel reads them through strides)
 * and C is copied out, except resident ones, which are used in place. The memory only grows, so after warm-up
 * a call allocates no scratch; only small typed-array views for the copies.
 */
export class WasmGemm {
  readonly memory: WasmMemory;
  private readonly module: object;
  private readonly wasm: GemmExports;
  /** The operand region and the resident blocks. */
  private readonly heap: WasmHeap;
  private readonly control: number;
  private readonly scratch: number[] = [];
  private readonly packA: number;
  private readonly packB: number;
  readonly mr: number;
  readonly nr: number;
  private worker: HelperThread | null = null;
  /** Started but not yet ready (a browser's main thread cannot wait for it). */
  private pending: HelperThread | null = null;
  private workerControl: Int32Array | null = null;
  private workerFloat: Float32Array | null = null;
  private workerDouble: Float64Array | null = null;
  /** Why the helper thread is unavailable, if it is. */
  workerProblem: string | null = null;
  readonly maxThreads: number;
  /** "wasm-relaxed-simd" or "wasm-simd128": which build of assembly/gemm.ts runs. */
  readonly isa: string;
  /** Whether the memory is shared (needed for the helper thread). */
  readonly shared: boolean;

  constructor(options: WasmGemmOptions = {}) {
    const { isa, shared, bytes } = chooseWasmBuild(options);
    this.isa = isa;
    this.shared = shared;
    this.module = new WA.Module(bytes);
    this.memory = new WA.Memory({ initial: 64, maximum: MAX_PAGES, shared });
    const instance = new WA.Instance(this.module, {
      env: {
        memory: this.memory,
        abort: () => {
          throw new Error("@nabla/ndarray gemm: WebAssembly kernel aborted");
        },
      },
    });
    this.wasm = instance.exports as unknown as GemmExports;
    this.mr = this.wasm.MR.value;
    this.nr = this.wasm.NR.value;
    this.maxThreads = shared ? Math.max(1, Math.min(2, platform.parallelism())) : 1;
    if (!shared) this.workerProblem = platform.threadsProblem() ?? "unshared memory requested";
    this.packA = this.wasm.packASize();
    this.packB = this.wasm.packBSize();
    let at = align(this.wasm.heapBase());
    this.control = at;
    at += CONTROL_BYTES;
    for (let t = 0; t < 2; t++) {
      this.scratch.push(at);
      at = align(at + this.packA + this.packB);
    }
    this.heap = new WasmHeap(this.memory, at, shared);
  }

  /** A zeroed float32 array inside the module's memory, which its loops use in place; null where none. */
  residentArray(n: number): Float32Array | null {
    return this.heap.residentArray(n);
  }

  /**
   * An element-wise loop of the module with the JavaScript loop's bits: "axpy" out += scalar a (b = out),
   * "reluBackward" out = b > 0 ? a : 0. When out, a and b are resident it runs on them in place; otherwise a
   * and b are copied in, the result is written over a's copy and copied to out (the copies take most of the
   * time), a cache-sized block at a time. With `threads` 2, a long resident axpy is split with the helper
   * thread (each element is computed the same way wherever it runs).
   */
  elementwise(
    op: "axpy" | "reluBackward",
    n: number,
    out: Float32Array,
    oo: number,
    a: Float32Array,
    ao: number,
    b: Float32Array,
    bo: number,
    scalar: number,
    threads = 1,
  ) {
    const mem = this.heap;
    const outAt = mem.addressOf(out, oo);
    const aAt = mem.addressOf(a, ao);
    const bAt = mem.addressOf(b, bo);
    if (outAt >= 0 && aAt >= 0 && bAt >= 0 && (op !== "axpy" || outAt === aAt)) {
      if (op === "reluBackward") this.wasm.reluBackward(n, outAt, aAt, bAt);
      else if (n >= SHARED_AXPY_MIN && threads > 1 && this.ensureWorker())
        this.sharedAxpy(n, aAt, bAt, scalar);
      else this.wasm.axpy(n, aAt, bAt, scalar);
      return;
    }
    const chunk = Math.min(n, ELEMENTWISE_CHUNK);
    const bytes = align(chunk * 4);
    mem.reserve(2 * bytes);
    const h = mem.heap;
    const at = mem.operands;
    for (let i = 0; i < n; i += chunk) {
      const len = Math.min(chunk, n - i);
      h.set(a.subarray(ao + i, ao + i + len), at >> 2);
      h.set(b.subarray(bo + i, bo + i + len), (at + bytes) >> 2);
      if (op === "axpy") this.wasm.axpy(len, at, at + bytes, scalar);
      else this.wasm.reluBackward(len, at, at, at + bytes);
      out.set(h.subarray(at >> 2, (at >> 2) + len), oo + i);
    }
  }

  /** y[i] += s x[i] for i < n (byte addresses y, x): the first half here, the rest on the helper thread. */
  private sharedAxpy(n: number, y: number, x: number, s: number): void {
    const I = this.workerControl as Int32Array;
    const n0 = Math.ceil(n / 8) * 4; // whole vectors of 4 on this side
    I[2] = n - n0;
    I[3] = y + n0 * 4;
    I[4] = x + n0 * 4;
    (this.workerDouble as Float64Array)[AXPY_SCALAR_F64_SLOT] = s;
    I[JOB_SLOT] = JOB_AXPY;
    Atomics.store(I, 0, 1);
    Atomics.notify(I, 0);
    this.wasm.axpy(n0, y, x, s);
    this.waitForHelper(I);
  }

  /** Sets n elements of a resident array from `offset` to +0; false (nothing done) when it is not resident. */
  zeroResident(n: number, data: Float32Array, offset: number): boolean {
    const at = this.heap.addressOf(data, offset);
    if (at < 0) return false;
    this.wasm.zero(n, at);
    return true;
  }

  /**
   * Starts the helper thread once; returns whether it is ready. In Node it waits for the helper to boot; in a
   * browser (main thread or worker) it returns false until the helper has signalled ready, and those calls
   * run on one thread (with the same bits).
   */
  private ensureWorker(): boolean {
    if (this.worker) return true;
    if (this.workerProblem) return false;
    const I = new Int32Array(this.memory.buffer, this.control, 32);
    if (!this.pending) {
      try {
        Atomics.store(I, 0, 0);
        Atomics.store(I, 1, 0);
        this.pending = platform.startHelper(
          { module: this.module, memory: this.memory, control: this.control },
          (message) => {
            this.workerProblem = `gemm worker failed: ${message}`;
            this.worker = null;
          },
        );
      } catch (e) {
        this.workerProblem = `gemm worker unavailable: ${(e as Error).message}`;
        return false;
      }
      if (this.bootBlocks && Atomics.wait(I, 1, 0, WORKER_READY_TIMEOUT_MS) === "timed-out") {
        if (Atomics.load(I, 1) !== 1) {
          this.workerProblem = "gemm worker did not start within 10 s";
          this.pending.terminate();
          this.pending = null;
          return false;
        }
      }
    }
    if (Atomics.load(I, 1) !== 1) return false;
    this.worker = this.pending;
    this.pending = null;
    this.workerControl = I;
    this.workerFloat = new Float32Array(this.memory.buffer, this.control, 32);
    this.workerDouble = new Float64Array(this.memory.buffer, this.control, 16);
    return true;
  }

  /** Resolves once the helper thread is ready, or has failed (then calls run on one thread). */
  async ready(timeoutMs = WORKER_READY_TIMEOUT_MS): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.maxThreads > 1 && !this.ensureWorker() && !this.workerProblem) {
      if (Date.now() > until) {
        this.workerProblem = `gemm worker did not start within ${timeoutMs / 1000} s`;
        this.pending?.terminate();
        this.pending = null;
        return;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /**
   * C = alpha op(A) op(B) + beta C on float32 views, split across `threads` (1 or 2) threads: the longer side
   * of C is cut at a tile boundary, the helper takes the second part. When C is split by rows, the helper's
   * operands are copied in first and it starts before this thread copies the rest, and this thread copies its
   * rows of C out while the helper may still be working. The order of copies never changes the arithmetic.
   */
  run(
    transA: boolean,
    transB: boolean,
    alpha: number,
    A: Tensor,
    B: Tensor,
    beta: number,
    C: Tensor,
    threads: number,
  ) {
    const [m, n] = C.shape;
    const k = transA ? A.shape[0] : A.shape[1];
    const mem = this.heap;
    // A resident operand is read in place through its own strides; C is written in place when its rows are
    // contiguous. Only the others are copied (the kernel's arithmetic does not depend on where they are).
    const aAt = inPlaceAddress(mem, A);
    const bAt = inPlaceAddress(mem, B);
    const cAt = C.stride[1] === 1 || n === 1 ? inPlaceAddress(mem, C) : -1;
    const aBytes = aAt >= 0 ? 0 : align(A.size * 4);
    const bBytes = bAt >= 0 ? 0 : align(B.size * 4);
    mem.reserve(aBytes + bBytes + (cAt >= 0 ? 0 : m * n * 4));
    const heap = mem.heap;
    const a = aAt >= 0 ? aAt : mem.operands;
    const b = bAt >= 0 ? bAt : mem.operands + aBytes;
    const c = cAt >= 0 ? cAt : mem.operands + aBytes + bBytes;
    const ldc = cAt >= 0 && m > 1 ? C.stride[0] : n;
    const aCol = columnMajorInHeap(A, false);
    const bCol = columnMajorInHeap(B, false);
    const [a0, a1] = aAt >= 0 ? A.stride : heapStrides(A, aCol);
    const [b0, b1] = bAt >= 0 ? B.stride : heapStrides(B, bCol);
    // op(X) strides: (row, inner) for A and (inner, column) for B; a transpose swaps them.
    const ars = transA ? a1 : a0;
    const acs = transA ? a0 : a1;
    const brs = transB ? b1 : b0;
    const bcs = transB ? b0 : b1;
    const [ar, ac] = A.shape;
    const [br, bc] = B.shape;
    const inA = (r0: number, r1: number, c0: number, c1: number) => {
      if (aAt < 0) copyIn(heap, A, a >> 2, aCol, r0, r1, c0, c1);
    };
    const inB = () => {
      if (bAt < 0) copyIn(heap, B, b >> 2, bCol, 0, br, 0, bc);
    };
    const inC = (r0: number, r1: number) => {
      if (beta !== 0 && cAt < 0) copyIn(heap, C, c >> 2, false, r0, r1, 0, n); // the kernel writes C row-major
    };
    const outC = (r0: number, r1: number) => {
      if (cAt < 0) copyOut(heap, C, c >> 2, r0, r1, 0, n);
    };
    const s0 = this.scratch[0];
    if (!(threads > 1 && this.ensureWorker())) {
      inA(0, ar, 0, ac);
      inB();
      inC(0, m);
      this.wasm.gemm(m, n, k, alpha, beta, a, ars, acs, b, brs, bcs, c, ldc, s0, s0 + this.packA);
      outC(0, m);
      return C;
    }
    const I = this.workerControl as Int32Array;
    const F = this.workerFloat as Float32Array;
    const s = this.scratch[1];
    if (m >= n) {
      // Rows [m0, m) of C for the helper: its rows of op(A) (columns of A when transposed), all of op(B).
      const m0 = Math.min(m, Math.ceil(m / 2 / this.mr) * this.mr);
      if (transA) inA(0, ar, m0, m);
      else inA(m0, m, 0, ac);
      inB();
      inC(m0, m);
      const ah = a + m0 * ars * 4;
      this.post(I, F, m - m0, n, k, alpha, beta, ah, ars, acs, b, brs, bcs, c + m0 * ldc * 4, ldc, s);
      inA(0, transA ? ar : m0, 0, transA ? m0 : ac);
      inC(0, m0);
      this.wasm.gemm(m0, n, k, alpha, beta, a, ars, acs, b, brs, bcs, c, ldc, s0, s0 + this.packA);
      outC(0, m0);
      this.waitForHelper(I);
      outC(m0, m);
    } else {
      // Columns [n0, n) of C for the helper. Copied whole before it starts: copying the other columns of the
      // same rows while it works (false sharing on C, strided halves of B) measured slower than waiting.
      const n0 = Math.min(n, Math.ceil(n / 2 / this.nr) * this.nr);
      inA(0, ar, 0, ac);
      inB();
      inC(0, m);
      const bh = b + n0 * bcs * 4;
      this.post(I, F, m, n - n0, k, alpha, beta, a, ars, acs, bh, brs, bcs, c + n0 * 4, ldc, s);
      this.wasm.gemm(m, n0, k, alpha, beta, a, ars, acs, b, brs, bcs, c, ldc, s0, s0 + this.packA);
      this.waitForHelper(I);
      outC(0, m);
    }
    return C;
  }

  private waitForHelper(I: Int32Array): void {
    let state = Atomics.load(I, 0);
    if (this.blocking) {
      // The helper's part usually ends within a fraction of a millisecond of this thread's: spin first, as
      // waking from Atomics.wait takes longer than that on a virtual machine.
      const until = performance.now() + HELPER_SPIN_MS;
      for (let spin = 1; state !== 2; spin++) {
        if ((spin & 255) === 0 && performance.now() > until) break;
        state = Atomics.load(I, 0);
      }
      while (state !== 2) {
        Atomics.wait(I, 0, state);
        state = Atomics.load(I, 0);
      }
    } else {
      while (state !== 2) state = Atomics.load(I, 0); // a browser's main thread may only spin
    }
    Atomics.store(I, 0, 0);
  }

  private readonly blocking = platform.canBlock();
  /** Whether ensureWorker may wait for the helper to boot (see Platform.helperBootsWhileBlocked). */
  private readonly bootBlocks = platform.helperBootsWhileBlocked && platform.canBlock();

  private post(
    I: Int32Array,
    F: Float32Array,
    m: number,
    n: number,
    k: number,
    alpha: number,
    beta: number,
    a: number,
    ars: number,
    acs: number,
    b: number,
    brs: number,
    bcs: number,
    c: number,
    ldc: number,
    scratch: number,
  ): void {
    I[2] = m;
    I[3] = n;
    I[4] = k;
    F[5] = alpha;
    F[6] = beta;
    I[7] = a;
    I[8] = ars;
    I[9] = acs;
    I[10] = b;
    I[11] = brs;
    I[12] = bcs;
    I[13] = c;
    I[14] = ldc;
    I[15] = scratch;
    I[16] = scratch + this.packA;
    I[JOB_SLOT] = JOB_GEMM;
    Atomics.store(I, 0, 1);
    Atomics.notify(I, 0);
  }
}

/** Where the kernel can read `t` in place: its byte address when resident with non-negative strides, else -1. */
function inPlaceAddress(mem: WasmHeap, t: Tensor): number {
  if (t.stride[0] < 0 || t.stride[1] < 0) return -1;
  return mem.addressOf(t.data, t.offset);
}
