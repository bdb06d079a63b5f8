// Optional native float32 GEMM for @nabla/ndarray (N-API, C API only, no extra dependencies).
//
// C = alpha op(A) op(B) + beta C on JavaScript Float32Arrays in place (no copies), any element strides.
// BLIS-style: pack a KC x NC panel of op(B) into NR-wide slivers and MC x KC blocks of op(A) into MR-tall
// slivers, then a register-tiled micro-kernel. The micro-kernel is chosen once at load time with
// __builtin_cpu_supports: AVX-512F (8x32 tile, 16 zmm accumulators), AVX2+FMA (6x16, 12 ymm), or portable
// scalar code. Work is shared between the calling thread and one persistent helper thread (this machine has
// 2 cores); the call returns only when every chunk is done, so JavaScript sees a synchronous function.
// Pack buffers are allocated once per thread and only grow, so steady-state calls allocate nothing.
// Each C element is always summed in the same order, so results do not depend on how work is split.

#include <node_api.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

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
};

struct Scratch {
  float* packA = nullptr;
  float* packB = nullptr;
  size_t capA = 0, capB = 0;
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

// Packs inner [0, kc) x columns [0, nc) of op(B) into NR-column slivers, zero-padded.
template <int NR>
void packB(float* dst, const float* b, long rs, long cs, int kc, int nc) {
  for (int j = 0; j < nc; j += NR) {
    const int cols = std::min(NR, nc - j);
    if (cs == 1) {
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
    if (beta == 0.f) {
      for (int q = 0; q < cols; q++) row[q * ccs] = alpha * t[q];
    } else {
      for (int q = 0; q < cols; q++) row[q * ccs] = alpha * t[q] + beta * row[q * ccs];
    }
  }
}

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

struct Isa {
  const char* name;
  int mr, nr;
  void (*run)(const Op&, Scratch&);
  void (*packShared)(const Op&, float*, int, int, int);
  void (*rowsShared)(const Op&, const float*, int, Scratch&);
};

template <int MR, int NR, Kernel K>
Isa makeIsa(const char* name) {
  return {name, MR, NR, gemmBlocked<MR, NR, K>, packSharedB<NR>, gemmRowsSharedB<MR, NR, K>};
}

// The best kernel this CPU supports; NABLA_GEMM_ISA=avx2|scalar caps it (so tests can cover every kernel).
Isa chooseIsa() {
  __builtin_cpu_init();
  avx2Transpose = __builtin_cpu_supports("avx2") && (!std::getenv("NABLA_GEMM_ISA") || std::strcmp(std::getenv("NABLA_GEMM_ISA"), "scalar") != 0);
  const char* cap = std::getenv("NABLA_GEMM_ISA");
  const bool allow512 = !cap || std::strcmp(cap, "avx512") == 0;
  const bool allow2 = allow512 || std::strcmp(cap, "avx2") == 0;
  if (allow512 && __builtin_cpu_supports("avx512f")) return makeIsa<8, 32, kernelAvx512>("avx512");
  if (allow2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return makeIsa<6, 16, kernelAvx2>("avx2");
  return makeIsa<4, 8, kernelScalar>("scalar");
}

Isa isa;
int helperCount = 0;

// Work sharing with one persistent helper thread. A call cuts C into chunks (column or row ranges at tile
// boundaries) that the caller and the helper claim from a shared counter, so if the helper is descheduled
// (a busy machine) the caller simply does more chunks. The claim word packs (generation << 32 | next chunk),
// so a helper that wakes late can never claim a chunk of a newer call with an older call's operands.
struct Pool {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<uint64_t> claim{0};
  std::atomic<int> completed{0};
  std::atomic<uint32_t> posted{0};  // generation of the latest job
  Op op{};
  bool byColumns = true;
  int chunks = 0, chunkTiles = 0;
  // Shared-B mode: chunks [0, packChunks) pack slivers of B, the rest are row chunks that start only after
  // every pack chunk is done (packDone).
  bool sharedB = false;
  int packChunks = 0, slivers = 0, ncPad = 0;
  std::atomic<int> packDone{0};
  float* shared = nullptr;
  size_t sharedCap = 0;
  Scratch scratch;

  void runChunk(const Op& whole, int index, Scratch& s) {
    if (!sharedB) {
      isa.run(chunk(whole, index), s);
      return;
    }
    if (index < packChunks) {
      const int per = ceilDivide(slivers, packChunks);
      isa.packShared(whole, shared, ncPad, index * per, std::min(slivers, (index + 1) * per));
      packDone.fetch_add(1, std::memory_order_acq_rel);
      return;
    }
    for (int spin = 0; packDone.load(std::memory_order_acquire) < packChunks; spin++) {
      if (spin < 4000) _mm_pause(); else std::this_thread::yield();
    }
    isa.rowsShared(chunk(whole, index - packChunks), shared, ncPad, s);
  }

  static int ceilDivide(int a, int b) { return (a + b - 1) / b; }

  Op chunk(const Op& whole, int index) const {
    Op part = whole;
    if (byColumns) {
      const int j0 = index * chunkTiles * isa.nr;
      part.n = std::min(whole.n, j0 + chunkTiles * isa.nr) - j0;
      part.b = whole.b + j0 * whole.bcs;
      part.c = whole.c + j0 * whole.ccs;
    } else {
      const int i0 = index * chunkTiles * isa.mr;
      part.m = std::min(whole.m, i0 + chunkTiles * isa.mr) - i0;
      part.a = whole.a + i0 * whole.ars;
      part.c = whole.c + i0 * whole.crs;
    }
    return part;
  }

  // Claims and runs chunks of generation `gen` until none are left.
  void work(uint32_t gen, const Op& whole, int n, Scratch& s) {
    for (;;) {
      uint64_t cur = claim.load(std::memory_order_acquire);
      for (;;) {
        if (static_cast<uint32_t>(cur >> 32) != gen || static_cast<int>(cur & 0xffffffffu) >= n) return;
        if (claim.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel)) break;
      }
      runChunk(whole, static_cast<int>(cur & 0xffffffffu), s);
      completed.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  void helperLoop() {
    uint32_t seen = 0;
    for (;;) {
      // Spin briefly (the GEMMs of a training step come microseconds apart), then sleep on the condvar.
      for (int spin = 0; spin < 20000 && posted.load(std::memory_order_acquire) == seen; spin++) _mm_pause();
      if (posted.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return posted.load(std::memory_order_acquire) != seen; });
      }
      uint32_t gen;
      Op whole;
      int n;
      {
        std::lock_guard<std::mutex> lock(mu);  // the job fields are written under mu
        gen = posted.load(std::memory_order_acquire);
        whole = op;
        n = chunks;
      }
      seen = gen;
      work(gen, whole, n, scratch);
    }
  }

  // Row chunks over a B packed once and shared (caller holds `busy`, so the buffer is not in use).
  void runSharedB(const Op& whole, int tilesPerChunk, int rowChunks, Scratch& own) {
    slivers = ceilDivide(whole.n, isa.nr);
    ncPad = slivers * isa.nr;
    const size_t need = static_cast<size_t>(whole.k) * ncPad;
    if (need > sharedCap) {
      std::free(shared);
      shared = static_cast<float*>(std::aligned_alloc(64, ((need * 4 + 63) / 64) * 64));
      sharedCap = need;
    }
    packChunks = std::min(slivers, 4);
    packDone.store(0, std::memory_order_relaxed);
    run(whole, false, tilesPerChunk, packChunks + rowChunks, own, true);
  }

  void run(const Op& whole, bool columns, int tilesPerChunk, int n, Scratch& own, bool withSharedB = false) {
    uint32_t gen;
    {
      std::lock_guard<std::mutex> lock(mu);
      op = whole;
      byColumns = columns;
      chunkTiles = tilesPerChunk;
      chunks = n;
      sharedB = withSharedB;
      completed.store(0, std::memory_order_relaxed);
      gen = posted.load(std::memory_order_relaxed) + 1;
      claim.store(static_cast<uint64_t>(gen) << 32, std::memory_order_release);
      posted.store(gen, std::memory_order_release);
    }
    cv.notify_one();
    work(gen, whole, n, own);
    for (int spin = 0; completed.load(std::memory_order_acquire) < n; spin++) {
      if (spin < 4000) _mm_pause(); else std::this_thread::yield();
    }
  }
};

Pool* pool = nullptr;
Scratch mainScratch;

int ceilDiv(int a, int b) { return (a + b - 1) / b; }

std::mutex busy;  // the pool and mainScratch serve one caller at a time

// C = A B  <=>  C^T = B^T A^T: the same computation (every element still sums over p in order) with the
// roles of m and n exchanged, which only swaps strides. Used when it wastes much less of the MR x NR tiles,
// e.g. m = 128, n = 10 fills 10 of 32 tile columns but 10 of 12 tile rows once transposed.
Op transposed(const Op& op) {
  Op t = op;
  t.m = op.n;
  t.n = op.m;
  t.a = op.b;
  t.ars = op.bcs;
  t.acs = op.brs;
  t.b = op.a;
  t.brs = op.acs;
  t.bcs = op.ars;
  t.crs = op.ccs;
  t.ccs = op.crs;
  return t;
}

long paddedArea(int m, int n) {
  return static_cast<long>((m + isa.mr - 1) / isa.mr) * isa.mr * ((n + isa.nr - 1) / isa.nr) * isa.nr;
}

void runGemmOriented(const Op& op, int threads);

void runGemm(const Op& op, int threads) {
  // Only when it saves a lot: transposing makes C's stores strided (C^T is column-major).
  if (5 * paddedArea(op.n, op.m) < 4 * paddedArea(op.m, op.n)) {
    runGemmOriented(transposed(op), threads);
  } else {
    runGemmOriented(op, threads);
  }
}

void runGemmOriented(const Op& op, int threads) {
  std::unique_lock<std::mutex> lock(busy, std::try_to_lock);
  if (!lock.owns_lock()) {  // another JS thread (worker_threads) is mid-call: run alone on private scratch
    thread_local Scratch own;
    isa.run(op, own);
    return;
  }
  const long work = static_cast<long>(op.m) * op.n * op.k;
  const int tm = ceilDiv(op.m, isa.mr), tn = ceilDiv(op.n, isa.nr);
  if (threads < 2 || !pool || work < (1L << 18) || op.k == 0 || (tm < 2 && tn < 2)) {
    isa.run(op, mainScratch);
    return;
  }
  // Chunks of at least 2 tiles (up to 8 chunks) so a descheduled helper delays the call by little.
  auto perChunk = [](int tiles) { return std::max(1, ceilDiv(tiles, std::min(8, std::max(2, tiles / 2)))); };
  if (op.n <= NC && tm >= 2 && 4L * op.m >= op.n) {
    // A is comparable to B or larger: split rows, pack B once for both threads.
    const int per = perChunk(tm);
    pool->runSharedB(op, per, ceilDiv(tm, per), mainScratch);
  } else if (tn >= 2) {
    // B is much wider than A: split columns; each chunk packs only its own B columns (plus the small A).
    const int per = perChunk(tn);
    pool->run(op, true, per, ceilDiv(tn, per), mainScratch);
  } else {
    const int per = perChunk(tm);
    pool->run(op, false, per, ceilDiv(tm, per), mainScratch);
  }
}

// ---- N-API glue ----

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, nullptr, "nabla_gemm: N-API call failed"); \
      return nullptr;                                                 \
    }                                                                 \
  } while (0)

bool getF32(napi_env env, napi_value v, float** data, size_t* length) {
  napi_typedarray_type type;
  size_t len;
  void* ptr;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &len, &ptr, &ab, &off) != napi_ok || type != napi_float32_array) return false;
  *data = static_cast<float*>(ptr);
  *length = len;
  return true;
}

// sgemm(m, n, k, alpha, A, aOffset, ars, acs, B, bOffset, brs, bcs, beta, C, cOffset, crs, ccs, threads)
// Bounds are validated in JavaScript (shapes/strides come from ndarray views); here we check the extremes.
napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 18;
  napi_value argv[18];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 18) {
    napi_throw_type_error(env, nullptr, "nabla_gemm.sgemm: expected 18 arguments");
    return nullptr;
  }
  double d[18];
  float* arrays[3];
  size_t lengths[3];
  const int arrayArg[3] = {4, 8, 13};
  for (int i = 0, t = 0; i < 18; i++) {
    if (t < 3 && i == arrayArg[t]) {
      if (!getF32(env, argv[i], &arrays[t], &lengths[t])) {
        napi_throw_type_error(env, nullptr, "nabla_gemm.sgemm: A, B and C must be Float32Arrays");
        return nullptr;
      }
      t++;
      continue;
    }
    CHECK(napi_get_value_double(env, argv[i], &d[i]));
  }
  Op op;
  op.m = static_cast<int>(d[0]);
  op.n = static_cast<int>(d[1]);
  op.k = static_cast<int>(d[2]);
  op.alpha = static_cast<float>(d[3]);
  op.ars = static_cast<long>(d[6]);
  op.acs = static_cast<long>(d[7]);
  op.brs = static_cast<long>(d[10]);
  op.bcs = static_cast<long>(d[11]);
  op.beta = static_cast<float>(d[12]);
  op.crs = static_cast<long>(d[15]);
  op.ccs = static_cast<long>(d[16]);
  // Each view's first and last addressed element must lie inside its array (strides may be negative).
  auto inside = [](size_t length, long offset, long rows, long rs, long cols, long cs) {
    if (rows == 0 || cols == 0) return true;
    long lo = offset, hi = offset;
    const long dr = (rows - 1) * rs, dc = (cols - 1) * cs;
    lo += std::min(0L, dr) + std::min(0L, dc);
    hi += std::max(0L, dr) + std::max(0L, dc);
    return lo >= 0 && hi < static_cast<long>(length);
  };
  const long aOff = static_cast<long>(d[5]), bOff = static_cast<long>(d[9]), cOff = static_cast<long>(d[14]);
  if (!inside(lengths[0], aOff, op.m, op.ars, op.k, op.acs) || !inside(lengths[1], bOff, op.k, op.brs, op.n, op.bcs) ||
      !inside(lengths[2], cOff, op.m, op.crs, op.n, op.ccs)) {
    napi_throw_range_error(env, nullptr, "nabla_gemm.sgemm: a view reaches outside its array");
    return nullptr;
  }
  op.a = arrays[0] + aOff;
  op.b = arrays[1] + bOff;
  op.c = arrays[2] + cOff;
  runGemm(op, static_cast<int>(d[17]));
  return nullptr;
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, name, threads, mr, nr;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_string_utf8(env, isa.name, NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_int32(env, helperCount + 1, &threads));
  CHECK(napi_create_int32(env, isa.mr, &mr));
  CHECK(napi_create_int32(env, isa.nr, &nr));
  CHECK(napi_set_named_property(env, obj, "isa", name));
  CHECK(napi_set_named_property(env, obj, "threads", threads));
  CHECK(napi_set_named_property(env, obj, "mr", mr));
  CHECK(napi_set_named_property(env, obj, "nr", nr));
  return obj;
}

}  // namespace

void registerElementwise(napi_env env, napi_value exports);  // native/elementwise.cc

namespace {

napi_value Init(napi_env env, napi_value exports) {
  static std::once_flag once;
  std::call_once(once, [] {
    isa = chooseIsa();
    if (std::thread::hardware_concurrency() >= 2) {
      pool = new Pool();
      std::thread([] { pool->helperLoop(); }).detach();  // detached: never keeps the Node process alive
      helperCount = 1;
    }
  });
  napi_value fn;
  CHECK(napi_create_function(env, "sgemm", NAPI_AUTO_LENGTH, Sgemm, nullptr, &fn));
  CHECK(napi_set_named_property(env, exports, "sgemm", fn));
  CHECK(napi_create_function(env, "info", NAPI_AUTO_LENGTH, Info, nullptr, &fn));
  CHECK(napi_set_named_property(env, exports, "info", fn));
  registerElementwise(env, exports);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
