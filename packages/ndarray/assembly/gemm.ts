// f32 GEMM kernel for WebAssembly SIMD (128-bit), compiled by AssemblyScript.
//
// BLIS-style blocking: for each KC-deep slab of the inner dimension, a KC x n panel of op(B) is packed into
// NR-wide column slivers, then MC x KC blocks of op(A) are packed into MR-tall row slivers, and a 4x8
// register-tiled micro-kernel (8 f32x4 accumulators) multiplies sliver pairs. 4x8 rather than 4x16: the
// engines' x64 code has 16 xmm registers, and a 4x16 tile (16 accumulators + 4 B vectors + A) spills in its
// inner loop; every C element still sums over p in the same order, so the tile shape does not change bits.
// Packing zero-pads the edges, so the micro-kernel never branches; partial tiles go through a scratch tile.
// All buffers live in memory owned and laid out by the JavaScript caller (no allocation here), which is
// shared between threads: each thread calls gemm() on its own block of C with its own pack buffers.

export { axpy, reluBackward, zero } from "./elementwise";

export const MR: i32 = 4;
export const NR: i32 = 8;
export const KC: i32 = 256;
export const MC: i32 = 96;
export const NC: i32 = 1536;

/** First free byte after this module's static data; the caller places its buffers above it. */
export function heapBase(): usize {
  return __heap_base;
}

/** Bytes of pack-A scratch one thread needs. */
export function packASize(): i32 {
  return MC * KC * 4;
}

/** Bytes of pack-B scratch one thread needs (plus one MR x NR scratch tile). */
export function packBSize(): i32 {
  return KC * NC * 4 + MR * NR * 4;
}

// dst[q] = lane q of the 4x4 transpose of rows r0..r3 (lane l of dst[q] = lane q of row l): four vectors.
function storeTransposed4(dst: usize, step: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(dst + step, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * step, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * step, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

// Packs rows i0..i0+mc of op(A), inner indices p0..p0+kc, as MR-row slivers: dst[s][p][r] (r fastest).
// Full slivers of row-major A (cs == 1) go through 4x4 register transposes and of column-major A (rs == 1)
// are plain vector copies; only data moves, so the results do not depend on which path packed them.
function packA(dst: usize, a: usize, rs: i32, cs: i32, mc: i32, kc: i32): void {
  for (let i = 0; i < mc; i += MR) {
    const rows = min(MR, mc - i);
    let p = 0;
    if (rows == MR && cs == 1) {
      const row = (<usize>rs) << 2;
      for (; p + 4 <= kc; p += 4) {
        const src = a + ((<usize>(i * rs + p)) << 2);
        const d = dst + ((<usize>(p * MR)) << 2);
        storeTransposed4(
          d,
          MR << 2,
          v128.load(src),
          v128.load(src + row),
          v128.load(src + 2 * row),
          v128.load(src + 3 * row),
        );
      }
    } else if (rows == MR && rs == 1) {
      for (; p < kc; p++)
        v128.store(dst + ((<usize>(p * MR)) << 2), v128.load(a + ((<usize>(i + p * cs)) << 2)));
    }
    for (; p < kc; p++) {
      const src = a + ((<usize>(i * rs + p * cs)) << 2);
      const d = dst + ((<usize>(p * MR)) << 2);
      let r = 0;
      for (; r < rows; r++) store<f32>(d + ((<usize>r) << 2), load<f32>(src + ((<usize>(r * rs)) << 2)));
      for (; r < MR; r++) store<f32>(d + ((<usize>r) << 2), 0);
    }
    dst += (<usize>(MR * kc)) << 2;
  }
}

// Packs inner indices p0..p0+kc, columns j0..j0+nc of op(B) as NR-column slivers: dst[s][p][c] (c fastest).
// Full slivers of row-major op(B) are vector copies, of op(B) = Wᵀ (rs == 1) 4x4 register transposes.
function packB(dst: usize, b: usize, rs: i32, cs: i32, kc: i32, nc: i32): void {
  for (let j = 0; j < nc; j += NR) {
    const cols = min(NR, nc - j);
    let p = 0;
    if (cols == NR && cs == 1) {
      for (; p < kc; p++) {
        const src = b + ((<usize>(p * rs + j)) << 2);
        const d = dst + ((<usize>(p * NR)) << 2);
        for (let q = 0; q < NR; q += 4) v128.store(d + ((<usize>q) << 2), v128.load(src + ((<usize>q) << 2)));
      }
    } else if (cols == NR && rs == 1) {
      const col = (<usize>cs) << 2;
      for (; p + 4 <= kc; p += 4) {
        for (let q = 0; q < NR; q += 4) {
          const src = b + ((<usize>(p + (j + q) * cs)) << 2);
          const d = dst + ((<usize>(p * NR + q)) << 2);
          storeTransposed4(
            d,
            NR << 2,
            v128.load(src),
            v128.load(src + col),
            v128.load(src + 2 * col),
            v128.load(src + 3 * col),
          );
        }
      }
    }
    for (; p < kc; p++) {
      const src = b + ((<usize>(p * rs + j * cs)) << 2);
      const d = dst + ((<usize>(p * NR)) << 2);
      let c = 0;
      for (; c < cols; c++) store<f32>(d + ((<usize>c) << 2), load<f32>(src + ((<usize>(c * cs)) << 2)));
      for (; c < NR; c++) store<f32>(d + ((<usize>c) << 2), 0);
    }
    dst += (<usize>(NR * kc)) << 2;
  }
}

// c + a * b: rounded twice (mul, then add) in the plain SIMD build; in the relaxed-SIMD build (built with
// --enable relaxed-simd, ASC_FEATURE_RELAXED_SIMD) the engine's f32x4.relaxed_madd, which is one fused
// multiply-add on x64 with FMA and ARM64, so that build rounds differently (once per term) but is just as
// deterministic on a given machine.
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// tile[MR][NR] = sum over kc of packed A sliver (MR) outer packed B sliver (NR).
function microKernel(kc: i32, pa: usize, pb: usize, tile: usize): void {
  let c0_0: v128 = f32x4.splat(0);
  let c0_1: v128 = f32x4.splat(0);
  let c1_0: v128 = f32x4.splat(0);
  let c1_1: v128 = f32x4.splat(0);
  let c2_0: v128 = f32x4.splat(0);
  let c2_1: v128 = f32x4.splat(0);
  let c3_0: v128 = f32x4.splat(0);
  let c3_1: v128 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb, 0);
    const b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa, 0);
    c0_0 = madd(a0, b0, c0_0);
    c0_1 = madd(a0, b1, c0_1);
    const a1 = v128.load32_splat(pa, 4);
    c1_0 = madd(a1, b0, c1_0);
    c1_1 = madd(a1, b1, c1_1);
    const a2 = v128.load32_splat(pa, 8);
    c2_0 = madd(a2, b0, c2_0);
    c2_1 = madd(a2, b1, c2_1);
    const a3 = v128.load32_splat(pa, 12);
    c3_0 = madd(a3, b0, c3_0);
    c3_1 = madd(a3, b1, c3_1);
    pa += MR << 2;
    pb += NR << 2;
  }
  v128.store(tile, c0_0, 0);
  v128.store(tile, c0_1, 16);
  v128.store(tile, c1_0, 32);
  v128.store(tile, c1_1, 48);
  v128.store(tile, c2_0, 64);
  v128.store(tile, c2_1, 80);
  v128.store(tile, c3_0, 96);
  v128.store(tile, c3_1, 112);
}

// C[r][c] = alpha * tile[r][c] + beta * C[r][c] for the valid rows x cols of a tile (beta == 0: C not read).
function storeTile(c: usize, ldc: i32, tile: usize, rows: i32, cols: i32, alpha: f32, beta: f32): void {
  if (cols == NR) {
    const va = f32x4.splat(alpha);
    const vb = f32x4.splat(beta);
    for (let r = 0; r < rows; r++) {
      const dst = c + ((<usize>(r * ldc)) << 2);
      const src = tile + ((<usize>(r * NR)) << 2);
      for (let q = 0; q < NR; q += 4) {
        let x = f32x4.mul(va, v128.load(src + ((<usize>q) << 2)));
        if (beta != 0) x = f32x4.add(x, f32x4.mul(vb, v128.load(dst + ((<usize>q) << 2))));
        v128.store(dst + ((<usize>q) << 2), x);
      }
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      const dst = c + ((<usize>(r * ldc + q)) << 2);
      const v = alpha * load<f32>(tile + ((<usize>(r * NR + q)) << 2));
      store<f32>(dst, beta != 0 ? v + beta * load<f32>(dst) : v);
    }
  }
}

/**
 * C = alpha op(A) op(B) + beta C for an m x n block of C (row-major, leading dimension ldc).
 * op(A)[i][p] is at a + 4 (i ars + p acs); op(B)[p][j] is at b + 4 (p brs + j bcs); transposes are just
 * swapped strides. packABuf/packBBuf point at this thread's scratch (packASize(), packBSize() bytes).
 */
export function gemm(
  m: i32,
  n: i32,
  k: i32,
  alpha: f32,
  beta: f32,
  a: usize,
  ars: i32,
  acs: i32,
  b: usize,
  brs: i32,
  bcs: i32,
  c: usize,
  ldc: i32,
  packABuf: usize,
  packBBuf: usize,
): void {
  const tile = packBBuf + <usize>(KC * NC * 4);
  if (k == 0) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const dst = c + ((<usize>(i * ldc + j)) << 2);
        store<f32>(dst, beta != 0 ? beta * load<f32>(dst) : 0);
      }
    }
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const betaHere: f32 = pc == 0 ? beta : 1;
      packB(packBBuf, b + ((<usize>(pc * brs + jc * bcs)) << 2), brs, bcs, kc, nc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(packABuf, a + ((<usize>(ic * ars + pc * acs)) << 2), ars, acs, mc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const pb = packBBuf + ((<usize>(jr * kc)) << 2);
          const cols = min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const pa = packABuf + ((<usize>(ir * kc)) << 2);
            microKernel(kc, pa, pb, tile);
            const cij = c + ((<usize>((ic + ir) * ldc + jc + jr)) << 2);
            storeTile(cij, ldc, tile, min(MR, mc - ir), cols, alpha, betaHere);
          }
        }
      }
    }
  }
}
