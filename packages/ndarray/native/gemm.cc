// Optional native float32 GEMM for @nabla/ndarray (N-API, C API only, no extra dependencies).
//
// C = alpha op(A) op(B) + beta C on JavaScript Float32Arrays in place (no copies), any element strides.
// BLIS-style: pack a KC x NC panel of op(B) into NR-wide slivers and MC x KC blocks of op(A) into MR-tall
// slivers, then a register-tiled micro-kernel. The micro-kernel is chosen once at load time with
// __builtin_cpu_supports: AVX-512F (12x32 tile, 24 zmm accumulators), AVX2+FMA (6x16, 12 ymm), or portable
// scalar code. Work is split over the calling thread plus one persistent helper thread (this machine has
// 2 cores); the call returns only when both halves are done, so JavaScript sees a synchronous function.
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

// Packs rows [0, mc) x inner [0, kc) of op(A) (already offset) into MR-row slivers, zero-padded.
template <int MR>
void packA(float* dst, const float* a, long rs, long cs, int mc, int kc) {
  for (int i = 0; i < mc; i += MR) {
    const int rows = std::min(MR, mc - i);
    if (cs == 1) {
      for (int r = 0; r < rows; r++) {
        const float* src = a + (i + r) * rs;
        for (int p = 0; p < kc; p++) dst[p * MR + r] = src[p];
      }
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
      for (int c = 0; c < cols; c++) {
        const float* src = b + (j + c) * cs;
        for (int p = 0; p < kc; p++) dst[p * NR + c] = src[p * rs];
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

__attribute__((target("avx512f,fma"))) void kernelAvx512(int kc, const float* pa, const float* pb, float* tile) {
  constexpr int MR = 12;
  __m512 acc[MR][2];
#pragma GCC unroll 12
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_load_ps(pb);
    const __m512 b1 = _mm512_load_ps(pb + 16);
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) {
      const __m512 a = _mm512_set1_ps(pa[r]);
      acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
    }
    pa += MR;
    pb += 32;
  }
#pragma GCC unroll 12
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

struct Isa {
  const char* name;
  int mr, nr;
  void (*run)(const Op&, Scratch&);
};

Isa chooseIsa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {"avx512", 12, 32, gemmBlocked<12, 32, kernelAvx512>};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {"avx2", 6, 16, gemmBlocked<6, 16, kernelAvx2>};
  return {"scalar", 4, 8, gemmBlocked<4, 8, kernelScalar>};
}

Isa isa;
int helperCount = 0;

// One persistent helper thread: the caller posts a job, runs its own half, then waits for `done`.
struct Helper {
  std::mutex mu;
  std::condition_variable cv;
  Op job{};
  std::atomic<int> state{0};  // 0 idle, 1 job posted, 2 done
  Scratch scratch;
  std::thread thread;

  void loop() {
    for (;;) {
      // Spin briefly (consecutive GEMMs of a training step arrive within microseconds), then sleep.
      for (int spin = 0; spin < 20000 && state.load(std::memory_order_acquire) != 1; spin++) _mm_pause();
      if (state.load(std::memory_order_acquire) != 1) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return state.load(std::memory_order_acquire) == 1; });
      }
      isa.run(job, scratch);
      state.store(2, std::memory_order_release);
    }
  }
  void post(const Op& op) {
    job = op;
    {
      std::lock_guard<std::mutex> lock(mu);
      state.store(1, std::memory_order_release);
    }
    cv.notify_one();
  }
  void wait() {
    while (state.load(std::memory_order_acquire) != 2) _mm_pause();
    state.store(0, std::memory_order_relaxed);
  }
};

Helper* helper = nullptr;
Scratch mainScratch;

int ceilDiv(int a, int b) { return (a + b - 1) / b; }

std::mutex busy;  // the helper thread and mainScratch serve one caller at a time

void runGemm(const Op& op, int threads) {
  std::unique_lock<std::mutex> lock(busy, std::try_to_lock);
  if (!lock.owns_lock()) {  // another JS thread (worker_threads) is mid-call: run alone on private scratch
    thread_local Scratch own;
    isa.run(op, own);
    return;
  }
  const long work = static_cast<long>(op.m) * op.n * op.k;
  if (threads < 2 || !helper || work < (1L << 18)) {
    isa.run(op, mainScratch);
    return;
  }
  // Split C into two parts along the side whose tile count halves more evenly.
  const int tm = ceilDiv(op.m, isa.mr), tn = ceilDiv(op.n, isa.nr);
  const long costRows = static_cast<long>(ceilDiv(tm, 2)) * tn;
  const long costCols = static_cast<long>(ceilDiv(tn, 2)) * tm;
  Op first = op, second = op;
  if (costCols <= costRows && tn >= 2) {
    const int n0 = ceilDiv(tn, 2) * isa.nr;
    first.n = n0;
    second.n = op.n - n0;
    second.b = op.b + n0 * op.bcs;
    second.c = op.c + n0 * op.ccs;
  } else if (tm >= 2) {
    const int m0 = ceilDiv(tm, 2) * isa.mr;
    first.m = m0;
    second.m = op.m - m0;
    second.a = op.a + m0 * op.ars;
    second.c = op.c + m0 * op.crs;
  } else {
    isa.run(op, mainScratch);
    return;
  }
  helper->post(second);
  isa.run(first, mainScratch);
  helper->wait();
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

napi_value Init(napi_env env, napi_value exports) {
  if (!helper && isa.run == nullptr) {
    isa = chooseIsa();
    if (std::thread::hardware_concurrency() >= 2) {
      helper = new Helper();
      helper->thread = std::thread([] { helper->loop(); });
      helper->thread.detach();  // a detached thread does not keep the Node process alive
      helperCount = 1;
    }
  }
  napi_value fn;
  CHECK(napi_create_function(env, "sgemm", NAPI_AUTO_LENGTH, Sgemm, nullptr, &fn));
  CHECK(napi_set_named_property(env, exports, "sgemm", fn));
  CHECK(napi_create_function(env, "info", NAPI_AUTO_LENGTH, Info, nullptr, &fn));
  CHECK(napi_set_named_property(env, exports, "info", fn));
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
