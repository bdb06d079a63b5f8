// Register-tiled micro-kernels and the blocked GEMM loops of the native addon (included by gemm.cc only).
#pragma once

#include <cstring>

#include "pack.h"

namespace {

// The micro-kernels read op(A)'s MR rows at a + r * ra + p * ps: a packed sliver (ra = 1, ps = MR) or op(A) in
// place when one of its strides is 1 (row-major: ra = row stride, ps = 1; column-major: ra = 1, ps = column
// stride), which saves packing A. The multiply-adds per element of C are the same in every case.

// 8 x 32 tile: 16 zmm accumulators. 8 rows (rather than 12 or 14) measured as fast on one core and divides
// the batch size 128 evenly, so two threads get equal row shares.
__attribute__((target("avx512f,fma"))) void kernelAvx512(int kc, const float* a, long ra, long ps, const float* pb,
                                                          float* tile) {
  constexpr int MR = 8;
  const float* row[MR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) row[r] = a + r * ra;
  __m512 acc[MR][2];
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  long off = 0;
  for (int p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_load_ps(pb);
    const __m512 b1 = _mm512_load_ps(pb + 16);
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      const __m512 x = _mm512_set1_ps(row[r][off]);
      acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);
    }
    off += ps;
    pb += 32;
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) {
    _mm512_store_ps(tile + r * 32, acc[r][0]);
    _mm512_store_ps(tile + r * 32 + 16, acc[r][1]);
  }
}

__attribute__((target("avx2,fma"))) void kernelAvx2(int kc, const float* a, long ra, long ps, const float* pb,
                                                     float* tile) {
  constexpr int MR = 6;
  const float* row[MR];
#pragma GCC unroll 6
  for (int r = 0; r < MR; r++) row[r] = a + r * ra;
  __m256 acc[MR][2];
#pragma GCC unroll 6
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  long off = 0;
  for (int p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_load_ps(pb);
    const __m256 b1 = _mm256_load_ps(pb + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
      const __m256 x = _mm256_broadcast_ss(row[r] + off);
      acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
    }
    off += ps;
    pb += 16;
  }
#pragma GCC unroll 6
  for (int r = 0; r < MR; r++) {
    _mm256_store_ps(tile + r * 16, acc[r][0]);
    _mm256_store_ps(tile + r * 16 + 8, acc[r][1]);
  }
}

void kernelScalar(int kc, const float* a, long ra, long ps, const float* pb, float* tile) {
  constexpr int MR = 4, NR = 8;
  float acc[MR][NR] = {};
  for (int p = 0; p < kc; p++) {
    for (int r = 0; r < MR; r++)
      for (int q = 0; q < NR; q++) acc[r][q] += a[r * ra + p * ps] * pb[q];
    pb += NR;
  }
  std::memcpy(tile, acc, sizeof acc);
}

using Kernel = void (*)(int, const float*, long, long, const float*, float*);

// How the kernels read op(A) in place: row stride `ra` and step `ps` along k, or ok = false when neither of
// A's strides is 1 (then every sliver is packed).
struct DirectA {
  bool ok;
  long ra, ps;
};

inline DirectA directA(const Op& op) {
  if (op.acs == 1) return {true, op.ars, 1};
  if (op.ars == 1) return {true, 1, op.acs};
  return {false, 0, 0};
}

// C rows [ic, ic + mc) x columns [jc, jc + nc) += op(A) rows x the packed KC block `pb` of op(B)'s columns,
// one kc-deep block at pc. Full MR-row tiles read A in place when they can; the rest go through `pa`.
template <int MR, int NR, Kernel K>
void blockTimesPanel(const Op& op, const DirectA& d, int ic, int mc, int jc, int nc, int pc, int kc, const float* pb,
                     float* pa, float beta) {
  alignas(64) float tile[MR * NR];
  const int fullRows = d.ok ? mc / MR * MR : 0;
  if (fullRows < mc) packA<MR>(pa, op.a + (ic + fullRows) * op.ars + pc * op.acs, op.ars, op.acs, mc - fullRows, kc);
  for (int jr = 0; jr < nc; jr += NR) {
    const int cols = std::min(NR, nc - jr);
    for (int ir = 0; ir < mc; ir += MR) {
      if (ir < fullRows) {
        K(kc, op.a + (ic + ir) * op.ars + pc * op.acs, d.ra, d.ps, pb + jr * kc, tile);
      } else {
        K(kc, pa + (ir - fullRows) * kc, 1, MR, pb + jr * kc, tile);
      }
      float* c = op.c + (ic + ir) * op.crs + (jc + jr) * op.ccs;
      storeTile<MR, NR>(tile, c, op.crs, op.ccs, std::min(MR, mc - ir), cols, op.alpha, beta);
    }
  }
}

template <int MR, int NR, Kernel K>
void gemmBlocked(const Op& op, Scratch& s) {
  float* pa = s.grow(s.packA, s.capA, static_cast<size_t>(MC) * KC);
  float* pb = s.grow(s.packB, s.capB, static_cast<size_t>(KC) * NC);
  if (op.k == 0) {
    for (int i = 0; i < op.m; i++)
      for (int j = 0; j < op.n; j++) {
        float& c = op.c[i * op.crs + j * op.ccs];
        c = op.beta == 0.f ? 0.f : op.beta * c;
      }
    return;
  }
  const DirectA d = directA(op);
  for (int jc = 0; jc < op.n; jc += NC) {
    const int nc = std::min(NC, op.n - jc);
    for (int pc = 0; pc < op.k; pc += KC) {
      const int kc = std::min(KC, op.k - pc);
      const float beta = pc == 0 ? op.beta : 1.f;
      packB<NR>(pb, op.b + pc * op.brs + jc * op.bcs, op.brs, op.bcs, kc, nc);
      for (int ic = 0; ic < op.m; ic += MC) {
        blockTimesPanel<MR, NR, K>(op, d, ic, std::min(MC, op.m - ic), jc, nc, pc, kc, pb, pa, beta);
      }
    }
  }
}

// Shared-B mode (used by two threads when op(B) is at most NC wide): op(B) is packed once for the whole k
// into a buffer laid out [KC block][sliver][kc][NR] (block pc starts at pc * ncPad), the threads splitting the
// slivers; then each thread multiplies its own rows against it. This avoids packing B once per thread.
template <int NR>
void packSharedB(const Op& op, float* shared, int ncPad, int s0, int s1) {
  const int j0 = s0 * NR, j1 = std::min(op.n, s1 * NR);
  for (int pc = 0; pc < op.k; pc += KC) {
    const int kc = std::min(KC, op.k - pc);
    packB<NR>(shared + static_cast<long>(pc) * ncPad + static_cast<long>(j0) * kc, op.b + pc * op.brs + j0 * op.bcs,
              op.brs, op.bcs, kc, j1 - j0);
  }
}

template <int MR, int NR, Kernel K>
void gemmRowsSharedB(const Op& op, const float* shared, int ncPad, Scratch& s) {
  float* pa = s.grow(s.packA, s.capA, static_cast<size_t>(MC) * KC);
  const DirectA d = directA(op);
  for (int pc = 0; pc < op.k; pc += KC) {
    const int kc = std::min(KC, op.k - pc);
    const float beta = pc == 0 ? op.beta : 1.f;
    const float* block = shared + static_cast<long>(pc) * ncPad;
    for (int ic = 0; ic < op.m; ic += MC) {
      blockTimesPanel<MR, NR, K>(op, d, ic, std::min(MC, op.m - ic), 0, op.n, pc, kc, block, pa, beta);
    }
  }
}

}  // namespace
