/**
 * The WebAssembly memory above the module's statics and scratch: one region the GEMM copies operands into,
 * and resident blocks — float32 arrays that live in the memory itself, so the kernels read and write them in
 * place instead of copying them in and out. Resident blocks exist only on a shared memory: growing it keeps
 * every earlier view valid (an unshared memory detaches them). A block is reused, zeroed, once the array it
 * was handed out as is garbage-collected. Keep that array (or a tensor over it) alive while any view of its
 * elements is in use; a `subarray` of it does not keep the block.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

const PAGE = 65536;
export const MAX_PAGES = 32768; // must match --maximumMemory in scripts/build-wasm.mjs
/**
 * Resident blocks stop here and later arrays are ordinary ones: the garbage collector does not see the
 * WebAssembly memory, so nothing would otherwise bound blocks whose arrays are unreachable but not yet freed.
 */
const RESIDENT_LIMIT_BYTES = 512 * 1024 * 1024;

export const align = (x: number) => Math.ceil(x / 64) * 64;

export class WasmHeap {
  /** Float32 view of the whole memory (renewed when the memory grows). */
  heap = new Float32Array(0);
  /** Byte address of the operand region and its size. */
  operands: number;
  private operandBytes = 0;
  /** First byte above every block and the operand region. */
  private top: number;
  private residentBytes = 0;
  private readonly freeBlocks = new Map<number, number[]>();
  private readonly residentBuffers = new WeakSet<object>();
  private readonly released = new FinalizationRegistry<[number, number]>(([address, bytes]) => {
    this.residentBytes -= bytes;
    const list = this.freeBlocks.get(bytes);
    if (list) list.push(address);
    else this.freeBlocks.set(bytes, [address]);
  });

  constructor(
    private readonly memory: WasmMemory,
    base: number,
    private readonly shared: boolean,
  ) {
    this.operands = align(base);
    this.top = this.operands;
    this.ensure(this.top);
  }

  /** Makes the operand region at least `bytes` long (moving it to the top when a block sits above it). */
  reserve(bytes: number): void {
    if (bytes <= this.operandBytes) return;
    if (this.operands + this.operandBytes !== this.top) this.operands = this.top;
    this.operandBytes = align(bytes);
    this.top = this.operands + this.operandBytes;
    this.ensure(this.top);
  }

  /** A zeroed resident array of n float32s, or null where there is none (unshared memory, over the limit). */
  residentArray(n: number): Float32Array | null {
    const bytes = align(n * 4);
    if (!this.shared || n === 0 || this.residentBytes + bytes > RESIDENT_LIMIT_BYTES) return null;
    let address = this.freeBlocks.get(bytes)?.pop();
    if (address === undefined) {
      address = this.top;
      this.top += bytes;
      this.ensure(this.top);
    } else {
      this.heap.fill(0, address >> 2, (address + bytes) >> 2);
    }
    this.residentBytes += bytes;
    const view = new Float32Array(this.memory.buffer, address, n);
    this.residentBuffers.add(view.buffer);
    this.released.register(view, [address, bytes]);
    return view;
  }

  /** Byte address of element `offset` of `data` when `data` is a resident array (or a view of one), else -1. */
  addressOf(data: ArrayLike<number>, offset: number): number {
    if (!(data instanceof Float32Array) || !this.residentBuffers.has(data.buffer)) return -1;
    return data.byteOffset + offset * 4;
  }

  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      const pages = Math.ceil((bytes - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        throw new Error(`@nabla/ndarray gemm: ${bytes} bytes needed, over the 2 GiB WebAssembly limit`);
      }
      this.memory.grow(pages);
    }
    if (this.heap.length * 4 !== this.memory.buffer.byteLength)
      this.heap = new Float32Array(this.memory.buffer);
  }
}
