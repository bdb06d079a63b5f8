// Loops of the native convolution (included by conv.cc only): im2col / col2im over a tile of output rows, and
// the direct kernels that read a zero-padded sample in place: the forward pass (stride 1 along the width, so
// 8 neighbouring outputs read 8 neighbouring inputs) and the weight gradient (any stride).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace {

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// The geometry array's layout, shared with src/conv.ts (Conv2dPlan's geometry).
enum { kN, kC, kH, kW, kO, kKh, kKw, kSh, kSw, kPh, kPw, kDh, kDw, kOh, kOw, kRows, kGroups, kThreads, kFields };

struct Geometry {
  long n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, rows, groups, threads;
  long k() const { return c * kh * kw; }
  long p() const { return oh * ow; }
  long in() const { return c * h * w; }
  long tiles() const { return (oh + rows - 1) / rows; }
  // The zero-padded input of the direct kernel: rows of wp floats, hp rows per channel.
  long wp() const { return w + 2 * pw; }
  long hp() const { return h + 2 * ph; }
};

// A per-thread buffer that only grows (the caller and the GEMM helper each keep their own), one per slot.
template <typename T, int Slot>
T* threadBuffer(size_t n) {
  thread_local T* data = nullptr;
  thread_local size_t cap = 0;
  if (n > cap) {
    std::free(data);
    data = static_cast<T*>(std::aligned_alloc(64, ((n * sizeof(T) + 63) / 64) * 64));
    cap = n;
  }
  return data;
}

// Output columns [lo, hi) of kernel column j whose input column lies inside the image (stride 1 only).
inline void span(const Geometry& g, long j, long* lo, long* hi) {
  const long iw0 = j * g.dw - g.pw;
  *lo = 0;
  *hi = g.ow;
  if (g.sw == 1) {
    *lo = std::min(g.ow, std::max(0L, -iw0));
    *hi = std::max(*lo, std::min(g.ow, g.w - iw0));
  }
}

// cols[k][t] for output rows [oh0, oh1) of one sample x[c][h][w]; k = (c, i, j), t = (oh - oh0, ow).
void im2col(const Geometry& g, const float* x, long oh0, long oh1, float* cols) {
  const long T = (oh1 - oh0) * g.ow;
  // Output rows map to consecutive input rows of the same width: one copy per kernel tap, then the columns
  // that fall in the padding (which the copy took from the neighbouring row) are zeroed.
  const bool rowsRun = g.sw == 1 && g.sh == 1 && g.ow == g.w;
  for (long c = 0; c < g.c; c++) {
    for (long i = 0; i < g.kh; i++) {
      for (long j = 0; j < g.kw; j++) {
        float* row = cols + ((c * g.kh + i) * g.kw + j) * T;
        const long iw0 = j * g.dw - g.pw;
        long lo, hi;
        span(g, j, &lo, &hi);
        if (rowsRun) {
          const long ihFirst = oh0 - g.ph + i * g.dh;
          const long a = std::min(oh1, std::max(oh0, -ihFirst + oh0)), b = std::max(a, std::min(oh1, g.h - ihFirst + oh0));
          std::memset(row, 0, (a - oh0) * g.ow * sizeof(float));
          if (b > a) {
            // Elements [first, last) of the copy lie inside this channel's image; the rest are padding.
            const long start = (c * g.h + ihFirst + (a - oh0)) * g.w + iw0, len = (b - a) * g.ow;
            const long first = std::max(0L, c * g.h * g.w - start), last = std::min(len, (c + 1) * g.h * g.w - start);
            float* dst = row + (a - oh0) * g.ow;
            std::memset(dst, 0, first * sizeof(float));
            if (last > first) std::memcpy(dst + first, x + start + first, (last - first) * sizeof(float));
            std::memset(dst + std::max(first, last), 0, (len - std::max(first, last)) * sizeof(float));
            for (long r = 0; r < b - a; r++) {
              for (long t = 0; t < lo; t++) dst[r * g.ow + t] = 0.f;
              for (long t = hi; t < g.ow; t++) dst[r * g.ow + t] = 0.f;
            }
          }
          std::memset(row + (b - oh0) * g.ow, 0, (oh1 - b) * g.ow * sizeof(float));
          continue;
        }
        for (long oh = oh0; oh < oh1; oh++, row += g.ow) {
          const long ih = oh * g.sh - g.ph + i * g.dh;
          if (ih < 0 || ih >= g.h) {
            std::memset(row, 0, g.ow * sizeof(float));
            continue;
          }
          const float* src = x + (c * g.h + ih) * g.w;
          if (g.sw == 1) {
            for (long t = 0; t < lo; t++) row[t] = 0.f;
            std::memcpy(row + lo, src + iw0 + lo, (hi - lo) * sizeof(float));
            for (long t = hi; t < g.ow; t++) row[t] = 0.f;
          } else {
            for (long ow = 0; ow < g.ow; ow++) {
              const long iw = ow * g.sw + iw0;
              row[ow] = iw >= 0 && iw < g.w ? src[iw] : 0.f;
            }
          }
        }
      }
    }
  }
}

CLONES void addRow(float* __restrict dst, const float* __restrict src, long n) {
  for (long i = 0; i < n; i++) dst[i] += src[i];
}

// dx[c][ih][iw] += cols[k][t], the adjoint of im2col, k outer and t inner (src/conv-js.ts's order).
void col2im(const Geometry& g, const float* cols, long oh0, long oh1, float* dx) {
  const long T = (oh1 - oh0) * g.ow;
  for (long c = 0; c < g.c; c++) {
    for (long i = 0; i < g.kh; i++) {
      for (long j = 0; j < g.kw; j++) {
        const float* row = cols + ((c * g.kh + i) * g.kw + j) * T;
        const long iw0 = j * g.dw - g.pw;
        long lo, hi;
        span(g, j, &lo, &hi);
        for (long oh = oh0; oh < oh1; oh++, row += g.ow) {
          const long ih = oh * g.sh - g.ph + i * g.dh;
          if (ih < 0 || ih >= g.h) continue;
          float* dst = dx + (c * g.h + ih) * g.w;
          if (g.sw == 1) {
            addRow(dst + iw0 + lo, row + lo, hi - lo);
          } else {
            for (long ow = 0; ow < g.ow; ow++) {
              const long iw = ow * g.sw + iw0;
              if (iw >= 0 && iw < g.w) dst[iw] += row[ow];
            }
          }
        }
      }
    }
  }
}

// ---- the direct kernel (stride 1 along the width) ----
//
// y[o][oh][ow] = Σ_p w[o][p] · xpad[off[p] + oh·sh·wp + ow] over p = (c, i, j) with off[p] = (c·hp + i·dh)·wp
// + j·dw in the zero-padded input: the im2col matrix's entries, read where they lie instead of copied, and
// no packing of them either. Each output is summed exactly as the GEMM sums cols (an FMA chain from zero per
// k block of kc, added to the output after each block, the bias or accumulated output first), so the bits
// are the tile path's.

constexpr int kDirectRows = 6;  // output channels per register tile; 2 vectors of 8 positions

// Weight rows [6b, 6b + 6) as [k][6] (zero rows past o) for every block b.
void packWeights(const float* w, long o, long k, float* dst) {
  for (long b = 0; b < o; b += kDirectRows) {
    float* d = dst + b * k;
    for (long p = 0; p < k; p++)
      for (int r = 0; r < kDirectRows; r++) d[p * kDirectRows + r] = b + r < o ? w[(b + r) * k + p] : 0.f;
  }
}

void tapOffsets(const Geometry& g, long* off) {
  for (long c = 0, p = 0; c < g.c; c++)
    for (long i = 0; i < g.kh; i++)
      for (long j = 0; j < g.kw; j++, p++) off[p] = (c * g.hp() + i * g.dh) * g.wp() + j * g.dw;
}

// The padded copy of one sample, with 8 floats of slack at the end for the last row's partial vector.
void padSample(const Geometry& g, const float* x, float* xp) {
  const long wp = g.wp(), hp = g.hp();
  for (long c = 0; c < g.c; c++) {
    float* plane = xp + c * hp * wp;
    std::memset(plane, 0, g.ph * wp * sizeof(float));
    for (long h = 0; h < g.h; h++) {
      float* row = plane + (g.ph + h) * wp;
      std::memset(row, 0, g.pw * sizeof(float));
      std::memcpy(row + g.pw, x + (c * g.h + h) * g.w, g.w * sizeof(float));
      std::memset(row + g.pw + g.w, 0, g.pw * sizeof(float));
    }
    std::memset(plane + (g.ph + g.h) * wp, 0, g.ph * wp * sizeof(float));
  }
  std::memset(xp + g.c * hp * wp, 0, 8 * sizeof(float));
}

__attribute__((target("avx2"))) inline __m256i laneMask(int lanes) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Output channels [0, rows) of a weight block × two vectors of output positions (xpad bases b0 and b1, outputs
// y0 and y1 with lanes0 and lanes1 valid lanes; lanes1 = 0 for none). `init`: 0 none, 1 the bias, 2 the output.
__attribute__((target("avx2,fma"))) void directTile(const float* wb, const float* xp, const long* off, long k, int kc,
                                                    long b0, long b1, float* y0, float* y1, int lanes0, int lanes1,
                                                    int rows, long ystride, const float* bias, int init) {
  const __m256i m0 = laneMask(lanes0), m1 = laneMask(lanes1);
  for (long kb = 0; kb < k; kb += kc) {
    const long ke = std::min(k, kb + kc);
    __m256 acc[kDirectRows][2];
#pragma GCC unroll 6
    for (int r = 0; r < kDirectRows; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    const float* a = wb + kb * kDirectRows;
    for (long p = kb; p < ke; p++, a += kDirectRows) {
      const __m256 x0 = _mm256_loadu_ps(xp + b0 + off[p]);
      const __m256 x1 = _mm256_loadu_ps(xp + b1 + off[p]);
#pragma GCC unroll 6
      for (int r = 0; r < kDirectRows; r++) {
        const __m256 wv = _mm256_broadcast_ss(a + r);
        acc[r][0] = _mm256_fmadd_ps(wv, x0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(wv, x1, acc[r][1]);
      }
    }
    // Constant indices (the guard inside), so that the accumulators stay in registers.
#pragma GCC unroll 6
    for (int r = 0; r < kDirectRows; r++) {
      if (r >= rows) break;
      float* c0 = y0 + r * ystride;
      float* c1 = y1 + r * ystride;
      __m256 v0 = acc[r][0], v1 = acc[r][1];
      if (kb > 0 || init == 2) {
        v0 = _mm256_add_ps(v0, _mm256_maskload_ps(c0, m0));
        if (lanes1) v1 = _mm256_add_ps(v1, _mm256_maskload_ps(c1, m1));
      } else if (init == 1) {
        v0 = _mm256_add_ps(v0, _mm256_set1_ps(bias[r]));
        v1 = _mm256_add_ps(v1, _mm256_set1_ps(bias[r]));
      }
      if (lanes0 == 8) _mm256_storeu_ps(c0, v0); else _mm256_maskstore_ps(c0, m0, v0);
      if (lanes1 == 8) _mm256_storeu_ps(c1, v1); else if (lanes1) _mm256_maskstore_ps(c1, m1, v1);
    }
  }
}

// One sample: y[o][oh][ow] for every output, from its padded copy xp and the packed weights.
void directSample(const Geometry& g, const float* wpk, const float* xp, const long* off, int kc, const float* bias,
                  int init, float* y) {
  const long k = g.k(), P = g.p(), perRow = (g.ow + 7) / 8, vectors = g.oh * perRow;
  const long wp = g.wp();
  for (long b = 0; b < g.o; b += kDirectRows) {
    const int rows = static_cast<int>(std::min<long>(kDirectRows, g.o - b));
    for (long v = 0; v < vectors; v += 2) {
      const long oh0 = v / perRow, q0 = (v % perRow) * 8;
      const bool two = v + 1 < vectors;
      const long oh1 = two ? (v + 1) / perRow : oh0, q1 = two ? ((v + 1) % perRow) * 8 : q0;
      directTile(wpk + b * k, xp, off, k, kc, oh0 * g.sh * wp + q0, oh1 * g.sh * wp + q1, y + b * P + oh0 * g.ow + q0,
                 y + b * P + oh1 * g.ow + q1, static_cast<int>(std::min(8L, g.ow - q0)),
                 two ? static_cast<int>(std::min(8L, g.ow - q1)) : 0, rows, P, bias ? bias + b : nullptr, init);
    }
  }
}

// ---- the direct weight-gradient kernel (any stride) ----
//
// partialᵀ[k][o] (+)= Σ_t cols[k][t] · dy[o][t] over the positions t of one tile, cols[k][t] read in place
// from the padded sample (broadcast, so the stride does not matter) and dy's tile transposed once ([t][o],
// zero columns up to a multiple of 16). Summed as the GEMM sums a tile of the weight gradient: an FMA chain
// from zero per kc positions, added to the partial after each (written, for the group's first).

__attribute__((target("avx2"))) inline void transpose8(const float* s, long ld, float* d, long dld) {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(s + i * ld);
  for (int i = 0; i < 4; i++) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; i++) {
    r[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    r[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    r[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    r[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int i = 0; i < 4; i++) {
    _mm256_storeu_ps(d + i * dld, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(d + (i + 4) * dld, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}

// dyT[t][o] for the positions of output rows [oh0, oh1) of one sample's dy[o][p], o padded with zeros to ldo.
__attribute__((target("avx2"))) void transposeTile(const Geometry& g, const float* dy, long oh0, long oh1, long ldo,
                                                   float* dyT) {
  const long T = (oh1 - oh0) * g.ow, P = g.p(), t8 = T / 8 * 8, o8 = g.o / 8 * 8;
  const float* src = dy + oh0 * g.ow;
  for (long t = 0; t < t8; t += 8)
    for (long o = 0; o < o8; o += 8) transpose8(src + o * P + t, P, dyT + t * ldo + o, ldo);
  for (long t = 0; t < T; t++) {
    float* row = dyT + t * ldo;
    for (long o = t < t8 ? o8 : 0; o < g.o; o++) row[o] = src[o * P + t];
    for (long o = g.o; o < ldo; o++) row[o] = 0.f;
  }
}

// The FMA chains of one block of positions: acc[r][v] += cols[k0 + r][t] · dyT[t][o0 + 8v], the positions
// walked as runs within output rows (SW: the stride along the width, 0 for one only known at run time).
template <int SW>
__attribute__((target("avx2,fma"), always_inline)) inline void weightRuns(const Geometry& g, const float* const* a,
                                                                         const float* b, long ldo, long t, long te,
                                                                         long& oh, long& ow, __m256 (&acc)[kDirectRows][2]) {
  const long sw = SW ? SW : g.sw, rowStep = g.sh * g.wp();
  while (t < te) {
    const long count = std::min(te - t, g.ow - ow), pos = oh * rowStep + ow * sw;
    const float *a0 = a[0] + pos, *a1 = a[1] + pos, *a2 = a[2] + pos, *a3 = a[3] + pos, *a4 = a[4] + pos,
                *a5 = a[5] + pos;
    for (long q = 0; q < count; q++, b += ldo) {
      const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
      const long i = q * sw;
      __m256 x = _mm256_broadcast_ss(a0 + i);
      acc[0][0] = _mm256_fmadd_ps(x, b0, acc[0][0]);
      acc[0][1] = _mm256_fmadd_ps(x, b1, acc[0][1]);
      x = _mm256_broadcast_ss(a1 + i);
      acc[1][0] = _mm256_fmadd_ps(x, b0, acc[1][0]);
      acc[1][1] = _mm256_fmadd_ps(x, b1, acc[1][1]);
      x = _mm256_broadcast_ss(a2 + i);
      acc[2][0] = _mm256_fmadd_ps(x, b0, acc[2][0]);
      acc[2][1] = _mm256_fmadd_ps(x, b1, acc[2][1]);
      x = _mm256_broadcast_ss(a3 + i);
      acc[3][0] = _mm256_fmadd_ps(x, b0, acc[3][0]);
      acc[3][1] = _mm256_fmadd_ps(x, b1, acc[3][1]);
      x = _mm256_broadcast_ss(a4 + i);
      acc[4][0] = _mm256_fmadd_ps(x, b0, acc[4][0]);
      acc[4][1] = _mm256_fmadd_ps(x, b1, acc[4][1]);
      x = _mm256_broadcast_ss(a5 + i);
      acc[5][0] = _mm256_fmadd_ps(x, b0, acc[5][0]);
      acc[5][1] = _mm256_fmadd_ps(x, b1, acc[5][1]);
    }
    t += count;
    ow += count;
    if (ow == g.ow) {
      ow = 0;
      oh++;
    }
  }
}

// Rows [k0, k0 + rows) × output channels [o0, o0 + lanes) of the partial, over the tile of output rows
// [oh0, oh1). `fresh`: the group's first tile, whose first block writes the partial.
__attribute__((target("avx2,fma"))) void weightTile(const Geometry& g, const float* xp, const long* off, long k0,
                                                    int rows, const float* dyT, long ldo, long o0, int lanes,
                                                    long oh0, long oh1, int kc, bool fresh, float* partial) {
  const long T = (oh1 - oh0) * g.ow;
  const float* a[kDirectRows];
  for (int r = 0; r < kDirectRows; r++) a[r] = xp + off[k0 + std::min(r, rows - 1)];
  const __m256i m0 = laneMask(std::min(lanes, 8)), m1 = laneMask(lanes - 8);
  long oh = oh0, ow = 0;
  for (long tb = 0; tb < T; tb += kc) {
    const long te = std::min(T, tb + kc);
    __m256 acc[kDirectRows][2];
#pragma GCC unroll 6
    for (int r = 0; r < kDirectRows; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    if (g.sw == 1) {
      weightRuns<1>(g, a, dyT + tb * ldo + o0, ldo, tb, te, oh, ow, acc);
    } else {
      weightRuns<0>(g, a, dyT + tb * ldo + o0, ldo, tb, te, oh, ow, acc);
    }
    // Constant indices (the guard inside), so that the accumulators stay in registers.
#pragma GCC unroll 6
    for (int r = 0; r < kDirectRows; r++) {
      if (r >= rows) break;
      float* c = partial + (k0 + r) * g.o + o0;
      __m256 v0 = acc[r][0], v1 = acc[r][1];
      // Masked stores are slow (microcoded on AMD): only for a ragged last block of channels.
      if (lanes == 16) {
        if (!fresh || tb > 0) {
          v0 = _mm256_add_ps(v0, _mm256_loadu_ps(c));
          v1 = _mm256_add_ps(v1, _mm256_loadu_ps(c + 8));
        }
        _mm256_storeu_ps(c, v0);
        _mm256_storeu_ps(c + 8, v1);
        continue;
      }
      if (!fresh || tb > 0) {
        v0 = _mm256_add_ps(v0, _mm256_maskload_ps(c, m0));
        v1 = _mm256_add_ps(v1, _mm256_maskload_ps(c + 8, m1));
      }
      _mm256_maskstore_ps(c, m0, v0);
      _mm256_maskstore_ps(c + 8, m1, v1);
    }
  }
}

}  // namespace
