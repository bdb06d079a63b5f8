/**
 * The BatchLoader's WebAssembly normaliser: one instance (own memory) per loader, running one of the kernels of
 * wasm-kernels.ts, SIMD when the engine validates it, else the scalar table kernel.
 *
 * Memory layout (grown once in create, never afterwards, so the views stay valid):
 *   [0, 4096)             constants: scale/bias (SIMD), the 3 × 256 table at 1024 (scalar)
 *   [ORDER, …)            u32 image indices: the epoch order (resident) or 0, 1, 2, … (staged), plus padding
 *   [out, out + cap4·12288)   the normalised batch, exposed to callers as a Float32Array view
 *   [images, …)           resident: a copy of the whole split's images, taken once in create, so that the SIMD
 *                         kernel gathers the shuffled rows itself, four at a time (25 ms per epoch of 45,000
 *                         images, against 38-42 ms when JavaScript copies each row in per batch); staged: room
 *                         for one batch, copied in per batch (splits too big to copy, or if the copy fails).
 * cap4 is the capacity rounded up to a multiple of 4: the SIMD kernel writes whole groups of four rows.
 */
import type { NormalizationConstants } from "./normalize.js";
import { kernelModuleBytes, type WasmKernel } from "./wasm-kernels.js";

const ORDER = 4096;
const PAGE = 65536;
/** Instances whose memory would exceed this are not made (resident falls back to staged, staged to JS). */
const MAX_BYTES = 1 << 30;

/** The few WebAssembly JS API members used here (the ES2022 lib has no WebAssembly types). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: NormalizeExports };
}
interface NormalizeExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  normalize(order: number, count: number, dst: number, base: number): void;
}

const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
const compiled = new Map<WasmKernel, object | null>();

/** The compiled module of a kernel, or null when this engine cannot run it (no WebAssembly, or no SIMD). */
function wasmModule(kernel: WasmKernel): object | null {
  let module = compiled.get(kernel);
  if (module === undefined) {
    try {
      const bytes = kernelModuleBytes(kernel);
      module = api?.validate(bytes) ? new api.Module(bytes) : null;
    } catch {
      module = null;
    }
    compiled.set(kernel, module);
  }
  return module;
}

/** Whether this engine runs the given kernel (false for "simd" on engines without WebAssembly SIMD). */
export function wasmKernelAvailable(kernel: WasmKernel): boolean {
  return wasmModule(kernel) !== null;
}

const align64 = (n: number) => Math.ceil(n / 64) * 64;

export interface WasmNormalizerOptions {
  kernel: WasmKernel;
  /** Copy the split into WASM memory (if it fits) rather than staging each batch's rows from JavaScript. */
  resident: boolean;
  constants: NormalizationConstants;
  /** normalizationTable of the same mean/std (the scalar kernel's lookup table). */
  table: Float32Array;
  /** Batch capacity (the loader's batchSize). */
  capacity: number;
}

/** A WASM normaliser for batches of up to `capacity` images of one split, or null when it cannot serve it. */
export class WasmNormalizer {
  /** [capacity, 3072] output, a view of the instance's memory. */
  readonly output: Float32Array;
  /** Resident: where the loader writes each epoch's order (a view of the instance's memory); staged: null. */
  readonly epochOrder: Uint32Array | null;
  readonly kernel: WasmKernel;
  private readonly bytes: Uint8Array;
  private readonly run: (order: number, count: number, dst: number, base: number) => void;
  private readonly out: number;
  private readonly base: number;
  /** Staged: the split's images, copied in per batch. */
  private readonly source: Uint8Array;

  private constructor(
    exports: NormalizeExports,
    options: WasmNormalizerOptions,
    images: Uint8Array,
    count: number,
    resident: boolean,
  ) {
    const cap4 = Math.ceil(options.capacity / 4) * 4;
    const orderEntries = resident ? count + 4 : cap4;
    this.kernel = options.kernel;
    this.run = exports.normalize;
    this.out = align64(ORDER + orderEntries * 4);
    this.base = this.out + cap4 * 12288;
    const memory = exports.memory;
    memory.grow(
      Math.ceil(layoutBytes(options.capacity, count, resident) / PAGE) - memory.buffer.byteLength / PAGE,
    );
    const { scale, bias } = options.constants;
    new Float32Array(memory.buffer, 0, 8).set([...scale, 0, ...bias, 0]);
    new Float32Array(memory.buffer, 1024, 768).set(options.table);
    this.bytes = new Uint8Array(memory.buffer);
    this.output = new Float32Array(memory.buffer, this.out, options.capacity * 3072);
    this.source = images;
    if (resident) {
      this.epochOrder = new Uint32Array(memory.buffer, ORDER, count); // the padding after it stays 0
      this.bytes.set(images.subarray(0, count * 3072), this.base);
    } else {
      this.epochOrder = null;
      const identity = new Uint32Array(memory.buffer, ORDER, cap4);
      for (let i = 0; i < cap4; i++) identity[i] = i;
    }
  }

  /** Resident if asked and it fits (else staged); null when this engine or the memory cannot serve it. */
  static create(images: Uint8Array, count: number, options: WasmNormalizerOptions): WasmNormalizer | null {
    const module = wasmModule(options.kernel);
    if (module === null || api === undefined) return null;
    for (const resident of options.resident ? [true, false] : [false]) {
      if (layoutBytes(options.capacity, count, resident) > MAX_BYTES) continue;
      try {
        const instance = new api.Instance(module, {});
        return new WasmNormalizer(instance.exports, options, images, count, resident);
      } catch {
        // e.g. the memory could not grow: try staged, then give up
      }
    }
    return null;
  }

  /**
   * Normalises images order[start .. start + size) into output rows [0, size). Resident: `order` must be
   * `epochOrder` (the kernel reads it in place); staged: the rows are copied in from the split first.
   */
  fill(order: Uint32Array, start: number, size: number): void {
    if (this.epochOrder !== null) {
      this.run(ORDER + start * 4, size, this.out, this.base);
      return;
    }
    const images = this.source;
    for (let i = 0; i < size; i++) {
      const index = order[start + i];
      this.bytes.set(images.subarray(index * 3072, index * 3072 + 3072), this.base + i * 3072);
    }
    this.run(ORDER, size, this.out, this.base);
  }
}

/** Bytes of memory an instance needs (see the layout above). */
function layoutBytes(capacity: number, count: number, resident: boolean): number {
  const cap4 = Math.ceil(capacity / 4) * 4;
  const orderEntries = resident ? count + 4 : cap4;
  return align64(ORDER + orderEntries * 4) + cap4 * 12288 + (resident ? count : cap4) * 3072;
}
