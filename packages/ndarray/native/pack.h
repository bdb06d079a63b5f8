// Shared types, block sizes and packing routines of the native GEMM (included by gemm.cc only).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace {

constexpr int KC = 256;
constexpr int MC = 144;   // multiple of every MR
constexpr int NC = 3072;  // multiple of every NR

struct Op {
  const float* a;  // op(A)[i][p] = a[i * ars + p * acs]
  long ars, acs;
  const float* b;  // op(B)[p][j] = b[p * brs + j * bcs]
  long brs, bcs;
  float* c;        // C[i][j] = c[i * crs + j * ccs]
  long crs, ccs;
  int m, n, k;
  float alpha, beta;
  // Nonzero: the id of a call split into column chunks, which all share op(A); a thread may then pack an A that
  // fits one block once and reuse it for every chunk of that call it runs.
  uint64_t call = 0;
};

struct Scratch {
  float* packA = nullptr;
  float* packB = nullptr;
  size_t capA = 0, capB = 0;
  uint64_t packedCall = 0;  // the call whose whole op(A) packA holds, or 0
  float* grow(float*& p, size_t& cap, size_t need) {
    if (need > cap) {
      std::free(p);
      p = static_cast<float*>(std::aligned_alloc(64, ((need * 4 + 63) / 64) * 64));
      cap = need;
    }
    return p;
  }
};

bool avx2Transpose = false;  // set at load time when the CPU has AVX2

// 8x8 in-register transpose: d[j * dld + i] = s[i * ld + j] for i, j < 8.
__attribute__((target("avx2"))) inline void transpose8x8(const float* s, long ld, float* d, long dld) {
  const __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ld), r2 = _mm256_loadu_ps(s + 2 * ld),
               r3 = _mm256_loadu_ps(s + 3 * ld), r4 = _mm256_loadu_ps(s + 4 * ld), r5 = _mm256_loadu_ps(s + 5 * ld),
               r6 = _mm256_loadu_ps(s + 6 * ld), r7 = _mm256_loadu_ps(s + 7 * ld);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
               t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
               t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
               u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
               u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
               u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(d + dld, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(d + 2 * dld, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(d + 3 * dld, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(d + 4 * dld, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(d + 5 * dld, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(d + 6 * dld, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(d + 7 * dld, _mm256_permute2f128_ps(u3, u7, 0x31));
}

// dst[p * W + r] = src[r * ld + p] for r < rows, p < kc: packing a sliver whose rows are contiguous in
// memory (row-major A, or B stored transposed). 8x8 register transposes where possible (4x faster than the
// scalar loop measured here), scalar loops for the edges. Only data movement: results are unaffected.
template <int W>
void packTransposed(float* dst, const float* src, long ld, int rows, int kc) {
  int r0 = 0;
  if (avx2Transpose && W % 8 == 0) {
    const int r8 = rows & ~7, p8 = kc & ~7;
    for (int r = 0; r < r8; r += 8) {
      for (int p = 0; p < p8; p += 8) transpose8x8(src + r * ld + p, ld, dst + p * W + r, W);
      for (int p = p8; p < kc; p++)
        for (int q = r; q < r + 8; q++) dst[p * W + q] = src[q * ld + p];
    }
    r0 = r8;
  }
  for (int r = r0; r < rows; r++) {
    const float* s = src + r * ld;
    for (int p = 0; p < kc; p++) dst[p * W + r] = s[p];
  }
}

// Packs rows [0, mc) x inner [0, kc) of op(A) (already offset) into MR-row slivers, zero-padded.
template <int MR>
void packA(float* dst, const float* a, long rs, long cs, int mc, int kc) {
  for (int i = 0; i < mc; i += MR) {
    const int rows = std::min(MR, mc - i);
    if (cs == 1) {
      packTransposed<MR>(dst, a + i * rs, rs, rows, kc);
    } else {
      for (int p = 0; p < kc; p++) {
        const float* src = a + i * rs + p * cs;
        for (int r = 0; r < rows; r++) dst[p * MR + r] = src[r * rs];
      }
    }
    for (int r = rows; r < MR; r++)
      for (int p = 0; p < kc; p++) dst[p * MR + r] = 0.f;
    dst += MR * kc;
  }
}

// 16x16 in-register transpose: d[j * dld + i] = s[i * ld + j] for i, j < 16.
__attribute__((target("avx512f"))) inline void transpose16x16(const float* s, long ld, float* d, long dld) {
  __m512 r[16], t[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(s + i * ld);
#pragma GCC unroll 8
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
#pragma GCC unroll 2
  for (int h = 0; h < 16; h += 8) {
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
      t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
      t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xDD);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; i++) {
    _mm512_storeu_ps(d + i * dld, _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88));
    _mm512_storeu_ps(d + (i + 8) * dld, _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD));
  }
}

// Full 32-wide slivers for the AVX-512 kernel (whose NR is 32, so only ever called on a CPU with AVX-512):
// `rows` (a multiple of 16) columns of op(B) stored contiguously along k, or 32 contiguous columns of each row.
__attribute__((target("avx512f"))) void packTransposed32(float* dst, const float* src, long ld, int kc) {
  const int p16 = kc & ~15;
  for (int r = 0; r < 32; r += 16) {
    for (int p = 0; p < p16; p += 16) transpose16x16(src + r * ld + p, ld, dst + p * 32 + r, 32);
    for (int p = p16; p < kc; p++)
      for (int q = r; q < r + 16; q++) dst[p * 32 + q] = src[q * ld + p];
  }
}

// Row by row across all `slivers` (each row of B read front to back, which the hardware prefetcher follows;
// sliver by sliver, every 128-byte read would be in a new page when B is wide).
__attribute__((target("avx512f"))) void packRows32(float* dst, const float* src, long rs, int kc, int slivers) {
  for (int p = 0; p < kc; p++) {
    const float* row = src + p * rs;
    for (int s = 0; s < slivers; s++) {
      float* d = dst + static_cast<long>(s) * 32 * kc + p * 32;
      _mm512_store_ps(d, _mm512_loadu_ps(row + s * 32));
      _mm512_store_ps(d + 16, _mm512_loadu_ps(row + s * 32 + 16));
    }
  }
}

// Packs inner [0, kc) x columns [0, nc) of op(B) into NR-column slivers, zero-padded.
template <int NR>
void packB(float* dst, const float* b, long rs, long cs, int kc, int nc) {
  int j0 = 0;
  if (NR == 32 && cs == 1 && nc >= 32) {
    j0 = nc / 32 * 32;
    packRows32(dst, b, rs, kc, nc / 32);
    dst += static_cast<long>(j0) * kc;
  }
  for (int j = j0; j < nc; j += NR) {
    const int cols = std::min(NR, nc - j);
    if (NR == 32 && cols == 32 && rs == 1) {
      packTransposed32(dst, b + j * cs, cs, kc);
    } else if (cs == 1) {
      for (int p = 0; p < kc; p++) {
        const float* src = b + p * rs + j;
        int c = 0;
        for (; c < cols; c++) dst[p * NR + c] = src[c];
        for (; c < NR; c++) dst[p * NR + c] = 0.f;
      }
    } else {
      if (rs == 1) {
        packTransposed<NR>(dst, b + j * cs, cs, cols, kc);
      } else {
        for (int c = 0; c < cols; c++) {
          const float* src = b + (j + c) * cs;
          for (int p = 0; p < kc; p++) dst[p * NR + c] = src[p * rs];
        }
      }
      for (int c = cols; c < NR; c++)
        for (int p = 0; p < kc; p++) dst[p * NR + c] = 0.f;
    }
    dst += NR * kc;
  }
}

// C tile update from a row-major MR x NR tile: C = alpha * tile + beta * C (beta == 0: C is not read).
template <int MR, int NR>
void storeTile(const float* tile, float* c, long crs, long ccs, int rows, int cols, float alpha, float beta) {
  for (int r = 0; r < rows; r++) {
    float* row = c + r * crs;
    const float* t = tile + r * NR;
    if (ccs == 1) {  // the common row-major C: unit-stride loops the compiler vectorizes
      if (beta == 0.f) {
        for (int q = 0; q < cols; q++) row[q] = alpha * t[q];
      } else {
        for (int q = 0; q < cols; q++) row[q] = alpha * t[q] + beta * row[q];
      }
    } else if (beta == 0.f) {
      for (int q = 0; q < cols; q++) row[q * ccs] = alpha * t[q];
    } else {
      for (int q = 0; q < cols; q++) row[q * ccs] = alpha * t[q] + beta * row[q * ccs];
    }
  }
}

}  // namespace
