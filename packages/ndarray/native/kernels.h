// Register-tiled micro-kernels and the blocked GEMM loops of the native addon (included by gemm.cc only).
#pragma once

#include <cstring>

#include "pack.h"

namespace {

// 8 x 32 tile: 16 zmm accumulators. 8 rows (rather than 12 or 14) measured as fast on one core and divides
// the batch size 128 evenly, so two threads get equal row shares.
__attribute__((target("avx512f,fma"))) void kernelAvx512(int kc, const float* pa, const float* pb, float* tile) {
  constexpr int MR = 8;
  __m512 acc[MR][2];
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_load_ps(pb);
    const __m512 b1 = _mm512_load_ps(pb + 16);
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      const __m512 a = _mm512_set1_ps(pa[r]);
      acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
    }
    pa += MR;
    pb += 32;
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) {
    _mm512_store_ps(tile + r * 32, acc[r][0]);
    _mm512_store_ps(tile + r * 32 + 16, acc[r][1]);
  }
}

__attribute__((target("avx2,fma"))) void kernelAvx2(int kc, const float* pa, const float* pb, float* tile) {
  constexpr int MR = 6;
  __m256 acc[MR][2];
#pragma GCC unroll 6
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_load_ps(pb);
    const __m256 b1 = _mm256_load_ps(pb + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
      const __m256 a = _mm256_broadcast_ss(pa + r);
      acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
    }
    pa += MR;
    pb += 16;
  }
#pragma GCC unroll 6
  for (int r = 0; r < MR; r++) {
    _mm256_store_ps(tile + r * 16, acc[r][0]);
    _mm256_store_ps(tile + r * 16 + 8, acc[r][1]);
  }
}

void kernelScalar(int kc, const float* pa, const float* pb, float* tile) {
  constexpr int MR = 4, NR = 8;
  float acc[MR][NR] = {};
  for (int p = 0; p < kc; p++) {
    for (int r = 0; r < MR; r++)
      for (int q = 0; q < NR; q++) acc[r][q] += pa[r] * pb[q];
    pa += MR;
    pb += NR;
  }
  std::memcpy(tile, acc, sizeof acc);
}

using Kernel = void (*)(int, const float*, const float*, float*);

template <int MR, int NR, Kernel K>
void gemmBlocked(const Op& op, Scratch& s) {
  alignas(64) float tile[MR * NR];
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
  for (int jc = 0; jc < op.n; jc += NC) {
    const int nc = std::min(NC, op.n - jc);
    for (int pc = 0; pc < op.k; pc += KC) {
      const int kc = std::min(KC, op.k - pc);
      const float beta = pc == 0 ? op.beta : 1.f;
      packB<NR>(pb, op.b + pc * op.brs + jc * op.bcs, op.brs, op.bcs, kc, nc);
      for (int ic = 0; ic < op.m; ic += MC) {
        const int mc = std::min(MC, op.m - ic);
        packA<MR>(pa, op.a + ic * op.ars + pc * op.acs, op.ars, op.acs, mc, kc);
        for (int jr = 0; jr < nc; jr += NR) {
          const int cols = std::min(NR, nc - jr);
          for (int ir = 0; ir < mc; ir += MR) {
            K(kc, pa + ir * kc, pb + jr * kc, tile);
            float* c = op.c + (ic + ir) * op.crs + (jc + jr) * op.ccs;
            storeTile<MR, NR>(tile, c, op.crs, op.ccs, std::min(MR, mc - ir), cols, op.alpha, beta);
          }
        }
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
  alignas(64) float tile[MR * NR];
  float* pa = s.grow(s.packA, s.capA, static_cast<size_t>(MC) * KC);
  for (int pc = 0; pc < op.k; pc += KC) {
    const int kc = std::min(KC, op.k - pc);
    const float beta = pc == 0 ? op.beta : 1.f;
    const float* block = shared + static_cast<long>(pc) * ncPad;
    for (int ic = 0; ic < op.m; ic += MC) {
      const int mc = std::min(MC, op.m - ic);
      packA<MR>(pa, op.a + ic * op.ars + pc * op.acs, op.ars, op.acs, mc, kc);
      for (int jr = 0; jr < op.n; jr += NR) {
        const int cols = std::min(NR, op.n - jr);
        for (int ir = 0; ir < mc; ir += MR) {
          K(kc, pa + ir * kc, block + jr * kc, tile);
          float* c = op.c + (ic + ir) * op.crs + jr * op.ccs;
          storeTile<MR, NR>(tile, c, op.crs, op.ccs, std::min(MR, mc - ir), cols, op.alpha, beta);
        }
      }
    }
  }
}

}  // namespace
