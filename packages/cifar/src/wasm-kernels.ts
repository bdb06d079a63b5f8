/**
 * The BatchLoader's two hand-assembled WebAssembly kernels (no toolchain: the bytes are built here). Both export
 * `memory` and `normalize(order, count, dst, base)`: for i in [0, count), image i of the batch is the 3072 bytes
 * at base + u32[order + 4i] · 3072 (3 planes of 1024 bytes, plane k is channel k), and its normalised values
 * go to the float32 row at dst + i · 12288. Memory layout shared by both (see wasm-normalize.ts):
 *   [0, 12)     scale[3] float32       [16, 28)   bias[3] float32      (the SIMD kernel)
 *   [1024, 4096)  the 3 × 256 float32 table normalizationTable() (the scalar kernel)
 *
 * simd: y = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(byte lanes), splat scale), splat bias), four rows in
 *   lockstep. Per 16 bytes: one v128.load, then per 4 pixels an i8x16.swizzle with a constant mask (zero-extends
 *   bytes 4k..4k+3 into i32 lanes: indices >= 16 select 0), convert, mul, add, v128.store. Deterministic
 *   (not relaxed) SIMD: the same bits as normalizeValue. Measured on a real shuffled epoch (45,000 images):
 *   - convert_i32x4_s rather than _u: the lanes are 0-255, so both are exact, but V8 emits one cvtdq2ps for _s
 *     and a long sequence for _u (44 ms per epoch instead of 25);
 *   - the swizzle rather than the i16x8/i32x4 extend_low/high chain: 25 ms instead of 28;
 *   - four images at once rather than one: with shuffled rows the kernel waits on memory (normalising the same
 *     rows from cache takes ~14 ms), and four independent streams overlap those waits: 25 ms instead of 38
 *     (two rows: 30 ms; six or eight: no better). Software prefetching by touching later rows did not help.
 *   It writes whole groups of four: rows up to the next multiple of 4 past count (the caller provides valid
 *   order entries and room for those rows).
 * scalar (engines without SIMD): per 4 pixels one i32.load, four masked table loads and four f32.stores.
 *
 * SIMD opcodes (prefix 0xfd, LEB128 sub-opcode) as in the WebAssembly SIMD spec, checked with wabt's
 * wat2wasm/wasm-objdump 1.0.39: v128.load 0x00, v128.load32_splat 0x09, v128.store 0x0b, v128.const 0x0c,
 * i8x16.swizzle 0x0e, f32x4.add 0xe4 0x01, f32x4.mul 0xe6 0x01, f32x4.convert_i32x4_s 0xfa 0x01.
 */

/** Signed LEB128 (i32.const immediates). */
function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** Unsigned LEB128 (sizes, memarg offsets). */
function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

const get = (local: number) => [0x20, local];
const set = (local: number) => [0x21, local];
const tee = (local: number) => [0x22, local];
const i32 = (value: number) => [0x41, ...sleb(value)];
const ADD = 0x6a;
const MUL = 0x6c;
const AND = 0x71;
const SHL = 0x74;
const SHR_U = 0x76;
const LT_U = 0x49;
const LOOP = [0x03, 0x40];
const END = 0x0b;
const BR_IF_LOOP = [0x0d, 0];
const RETURN_IF_ZERO = [0x45, 0x04, 0x40, 0x0f, END]; // i32.eqz; if; return; end
const I32 = 0x7f;
const V128 = 0x7b;
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const memarg = (align: number, offset: number) => [align, ...uleb(offset)];

/** Params 0 order, 1 count, 2 dst, 3 base; i32 4 orderEnd. Shared prologue: return if count is 0. */
const PROLOGUE = [...get(1), ...RETURN_IF_ZERO, ...get(0), ...get(1), ...i32(2), SHL, ADD, ...set(4)];

/** Locals: i32 4 orderEnd, 5 p, 6 planeEnd, 7 plane (0, 4, 8), 8-11 the four rows; v128 12 scale, 13 bias, 14 x, 15-18 masks. */
function simdBody(): number[] {
  const masks = [0, 1, 2, 3].flatMap((k) => [
    ...simd(0x0c, ...[0, 1, 2, 3].flatMap((j) => [4 * k + j, 0x80, 0x80, 0x80])), // v128.const
    ...set(15 + k),
  ]);
  const rows = [0, 1, 2, 3].flatMap((r) => [
    ...get(3),
    ...get(0),
    ...[0x28, ...memarg(2, 4 * r)], // i32.load order[r]
    ...i32(3072),
    MUL,
    ADD,
    ...set(8 + r),
  ]);
  const quad = (r: number, k: number) => [
    ...get(2),
    ...get(14),
    ...get(15 + k),
    ...simd(0x0e), // i8x16.swizzle
    ...simd(0xfa), // f32x4.convert_i32x4_s
    ...get(12),
    ...simd(0xe6), // f32x4.mul
    ...get(13),
    ...simd(0xe4), // f32x4.add
    ...simd(0x0b, ...memarg(4, r * 12288 + 16 * k)), // v128.store
  ];
  const sixteen = [0, 1, 2, 3].flatMap((r) => [
    ...get(5),
    ...get(8 + r),
    ADD,
    ...simd(0x00, ...memarg(4, 0)), // v128.load
    ...set(14),
    ...[0, 1, 2, 3].flatMap((k) => quad(r, k)),
  ]);
  const code = [
    ...PROLOGUE,
    ...masks,
    ...LOOP, // groups of four images
    ...rows,
    ...[...i32(0), ...set(5), ...i32(0), ...set(7)],
    ...LOOP, // planes
    ...[...get(7), ...simd(0x09, ...memarg(2, 0)), ...set(12)], // scale = splat(scale[plane])
    ...[...get(7), ...simd(0x09, ...memarg(2, 16)), ...set(13)], // bias = splat(bias[plane])
    ...[...get(5), ...i32(1024), ADD, ...set(6)],
    ...LOOP, // 16 pixels of each of the four rows
    ...sixteen,
    ...[...get(2), ...i32(64), ADD, ...set(2)],
    ...[...get(5), ...i32(16), ADD, ...tee(5), ...get(6), LT_U, ...BR_IF_LOOP, END],
    ...[...get(7), ...i32(4), ADD, ...tee(7), ...i32(12), LT_U, ...BR_IF_LOOP, END],
    ...[...get(2), ...i32(3 * 12288), ADD, ...set(2)], // dst: past the other three rows
    ...[...get(0), ...i32(16), ADD, ...tee(0), ...get(4), LT_U, ...BR_IF_LOOP, END],
    END,
  ];
  return [2, 8, I32, 7, V128, ...code];
}

/** Locals: i32 4 orderEnd, 5 src, 6 table, 7 word, 8 planeEnd. */
function scalarBody(): number[] {
  const lookup = (shift: number, storeOffset: number) => [
    ...get(2),
    ...get(6),
    ...get(7),
    ...(shift === 0
      ? [...i32(255), AND, ...i32(2), SHL] // (w & 255) << 2
      : [...i32(shift), SHR_U, ...i32(1020), AND]), // ((w >>> 8k) & 255) << 2
    ADD,
    ...[0x2a, ...memarg(2, 0)], // f32.load
    ...[0x38, ...memarg(2, storeOffset)], // f32.store
  ];
  const code = [
    ...PROLOGUE,
    ...LOOP, // images
    ...[...get(3), ...get(0), 0x28, ...memarg(2, 0), ...i32(3072), MUL, ADD, ...set(5)], // src = base + order[i]·3072
    ...[...i32(1024), ...set(6)], // table = the red table
    ...LOOP, // planes
    ...[...get(5), ...i32(1024), ADD, ...set(8)],
    ...LOOP, // words
    ...[...get(5), 0x28, ...memarg(2, 0), ...set(7)], // word = i32.load(src)
    ...lookup(0, 0),
    ...lookup(6, 4),
    ...lookup(14, 8),
    ...lookup(22, 12),
    ...[...get(5), ...i32(4), ADD, ...tee(5)],
    ...[...get(2), ...i32(16), ADD, ...set(2)],
    ...[...get(8), LT_U, ...BR_IF_LOOP, END],
    ...[...get(6), ...i32(1024), ADD, ...tee(6), ...i32(4096), LT_U, ...BR_IF_LOOP, END],
    ...[...get(0), ...i32(4), ADD, ...tee(0), ...get(4), LT_U, ...BR_IF_LOOP, END],
    END,
  ];
  return [1, 5, I32, ...code];
}

export type WasmKernel = "simd" | "scalar";

/** The module bytes of a kernel: type (i32 × 4) -> (), one function, one memory (min 1 page), two exports. */
export function kernelModuleBytes(kernel: WasmKernel): Uint8Array {
  const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  const body = kernel === "simd" ? simdBody() : scalarBody();
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 4, I32, I32, I32, I32, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [2, ...name("memory"), 2, 0, ...name("normalize"), 0, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}
