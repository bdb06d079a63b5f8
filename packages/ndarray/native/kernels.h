// Register-tiled micro-kernels and the blocked GEMM loops of the native addon (included by gemm.cc only).
#pragma once

#include <cstring>

#include "pack.h"

namespace {

// The micro-kernels read op(A)'s MR rows at a + r * ra + p * ps: a packed sliver (ra = 1, ps = MR) or a
// row-major op(A) in place (ra = row stride, ps = 1), which saves packing A. The multiply-adds per element of
// C are the same either way.

// 8 x 32 tile: 16 zmm accumulators. 8 rows (rather than 12 or 14) measured as fast on one core and divides
// the batch size 128 evenly, so two threads get equal row shares.
__attribute__((target("avx512f,fma"))) void kernelAvx512(int kc, const float* a, long ra, long ps, const float* pb,
                                                          float* c, long crs, float alpha, float beta) {
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
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) {
    float* row = c + r * crs;
    __m512 y0 = _mm512_mul_ps(va, acc[r][0]), y1 = _mm512_mul_ps(va, acc[r][1]);
    if (beta != 0.f) {
      y0 = _mm512_add_ps(y0, _mm512_mul_ps(vb, _mm512_loadu_ps(row)));
      y1 = _mm512_add_ps(y1, _mm512_mul_ps(vb, _mm512_loadu_ps(row + 16)));
    }
    _mm512_storeu_ps(row, y0);
    _mm512_storeu_ps(row + 16, y1);
  }
}

__attribute__((target("avx2,fma"))) void kernelAvx2(int kc, const float* a, long ra, long ps, const float* pb,
                                                     float* c, long crs, float alpha, float beta) {
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
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
  for (int r = 0; r < MR; r++) {
    float* row = c + r * crs;
    __m256 y0 = _mm256_mul_ps(va, acc[r][0]), y1 = _mm256_mul_ps(va, acc[r][1]);
    if (beta != 0.f) {
      y0 = _mm256_add_ps(y0, _mm256_mul_ps(vb, _mm256_loadu_ps(row)));
      y1 = _mm256_add_ps(y1, _mm256_mul_ps(vb, _mm256_loadu_ps(row + 8)));
    }
    _mm256_storeu_ps(row, y0);
    _mm256_storeu_ps(row + 8, y1);
  }
}

void kernelScalar(int kc, const float* a, long ra, long ps, const float* pb, float* c, long crs, float alpha,
                  float beta) {
  constexpr int MR = 4, NR = 8;
  float acc[MR][NR] = {};
  for (int p = 0; p < kc; p++) {
    for (int r = 0; r < MR; r++)
      for (int q = 0; q < NR; q++) acc[r][q] += a[r * ra + p * ps] * pb[q];
    pb += NR;
  }
  for (int r = 0; r < MR; r++)
    for (int q = 0; q < NR; q++) c[r * crs + q] = beta == 0.f ? alpha * acc[r][q] : alpha * acc[r][q] + beta * c[r * crs + q];
}

// A kernel ends with C = alpha * acc + beta * C on a full tile of a C whose rows are contiguous (beta == 0: C is
// not read), the same operations as storeTile; other tiles go to a scratch tile (alpha 1, beta 0) first.
using Kernel = void (*)(int, const float*, long, long, const float*, float*, long, float, float);

// How the kernels read op(A) in place: row stride `ra` and step `ps` along k, or ok = false when neither of
// A's strides is 1 (then every sliver is packed).
struct DirectA {
  bool ok;
  long ra, ps;
};

// Only row-major A: a column-major A would be read 8 floats per k step at its column stride, and a stride of
// a multiple of 512 bytes (the usual power-of-two widths) puts every line of a tile in a few L1 sets.
inline DirectA directA(const Op& op) {
  if (op.acs == 1) return {true, op.ars, 1};
  return {false, 0, 0};
}

// C rows [ic, ic + mc) x columns [jc, jc + nc) += op(A) rows x the packed KC block `pb` of op(B)'s columns,
// one kc-deep block at pc. Full MR-row tiles read A in place when they can; the rest go through `pa`.
template <int MR, int NR, Kernel K>
void blockTimesPanel(const Op& op, const DirectA& d, int ic, int mc, int jc, int nc, int pc, int kc, const float* pb,
                     float* pa, float beta, bool packed = false) {
  alignas(64) float tile[MR * NR];
  const int fullRows = d.ok ? mc / MR * MR : 0;
  if (fullRows < mc && !packed) packA<MR>(pa, op.a + (ic + fullRows) * op.ars + pc * op.acs, op.ars, op.acs, mc - fullRows, kc);
  for (int jr = 0; jr < nc; jr += NR) {
    const int cols = std::min(NR, nc - jr);
    for (int ir = 0; ir < mc; ir += MR) {
      // The next tile's C rows, which arrive while this tile computes: each is in its own page when C is wide,
      // where the hardware prefetcher, which stays within a page, cannot guess them.
      {
        const int ni = ir + MR < mc ? ir + MR : 0, nj = ir + MR < mc ? jr : jr + NR;
        if (nj < nc) {
          const float* next = op.c + (ic + ni) * op.crs + (jc + nj) * op.ccs;
          const int nrows = std::min(MR, mc - ni);
          for (int r = 0; r < nrows; r++) {
            __builtin_prefetch(next + r * op.crs, 1);
            if (op.ccs == 1) __builtin_prefetch(next + r * op.crs + NR - 1, 1);
          }
        }
      }
      const float* a = ir < fullRows ? op.a + (ic + ir) * op.ars + pc * op.acs : pa + (ir - fullRows) * kc;
      const long ra = ir < fullRows ? d.ra : 1, ps = ir < fullRows ? d.ps : MR;
      float* c = op.c + (ic + ir) * op.crs + (jc + jr) * op.ccs;
      const int rows = std::min(MR, mc - ir);
      if (op.ccs == 1 && rows == MR && cols == NR) {
        K(kc, a, ra, ps, pb + jr * kc, c, op.crs, op.alpha, beta);
      } else {
        K(kc, a, ra, ps, pb + jr * kc, tile, NR, 1.f, 0.f);
        storeTile<MR, NR>(tile, c, op.crs, op.ccs, rows, cols, op.alpha, beta);
      }
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
  const bool oneBlock = op.call != 0 && op.m <= MC && op.k <= KC;
  for (int jc = 0; jc < op.n; jc += NC) {
    const int nc = std::min(NC, op.n - jc);
    for (int pc = 0; pc < op.k; pc += KC) {
      const int kc = std::min(KC, op.k - pc);
      const float beta = pc == 0 ? op.beta : 1.f;
      packB<NR>(pb, op.b + pc * op.brs + jc * op.bcs, op.brs, op.bcs, kc, nc);
      for (int ic = 0; ic < op.m; ic += MC) {
        const bool packed = oneBlock && s.packedCall == op.call;
        blockTimesPanel<MR, NR, K>(op, d, ic, std::min(MC, op.m - ic), jc, nc, pc, kc, pb, pa, beta, packed);
        s.packedCall = oneBlock ? op.call : 0;
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
