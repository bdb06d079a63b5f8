// Optional native float32 GEMM for @nabla/ndarray (N-API, C API only, no extra dependencies).
//
// C = alpha op(A) op(B) + beta C on JavaScript Float32Arrays in place (no copies), any element strides.
// BLIS-style: pack a KC x NC panel of op(B) into NR-wide slivers and MC x KC blocks of op(A) into MR-tall
// slivers, then a register-tiled micro-kernel. The micro-kernel is chosen once at load time with
// __builtin_cpu_supports: AVX-512F (8x32 tile, 16 zmm accumulators), AVX2+FMA (6x16, 12 ymm), or portable
// scalar code. Work is shared between the calling thread and one persistent helper thread (this machine has
// 2 cores); the call returns only when every chunk is done, so JavaScript sees a synchronous function. A call
// that two threads made slower than one would have (the helper descheduled on a busy machine) sends the next
// calls to the caller alone for a while (see soloLeft).
// Pack buffers are allocated once per thread and only grow, so steady-state calls allocate nothing.
// Each C element is always summed in the same order, so results do not depend on how work is split.

#include <node_api.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "kernels.h"

namespace {

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

}  // namespace

#include "pool.h"  // the helper thread and the work sharing (uses isa, declared above)

namespace {

Pool* pool = nullptr;
Scratch mainScratch;

int ceilDiv(int a, int b) { return (a + b - 1) / b; }

std::mutex busy;  // the pool and mainScratch serve one caller at a time (and guard the two counters below)

// After a two-thread call that was slower than one thread would have been, the next `soloLeft` eligible calls
// run on the caller alone; the window doubles while such calls repeat (a machine whose other core is busy)
// and shrinks back after a call that gained. Results do not depend on the thread count, so this only moves
// time. The window is counted in calls, not time, so it stays small in a training step's rhythm. It starts
// at one call: a single late wake-up (another process had the core for a moment) then costs one call on one
// thread, not a run of them, while a core that stays busy still backs off exponentially.
constexpr int kSoloMin = 1, kSoloMax = 1024;
int soloLeft = 0, soloWindow = kSoloMin;
long stalledCalls = 0;
uint64_t callCount = 0;  // ids for Op::call

// C = A B  <=>  C^T = B^T A^T: the same computation (every element still sums over p in order) with the
// roles of m and n exchanged, which only swaps strides. Used when it wastes much less of the MR x NR tiles,
// e.g. m = 128, n = 10 fills 10 of 32 tile columns, but 10 of 16 tile rows once transposed.
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

// After a two-thread call that was slower than one thread: open (and double) the solo window; otherwise shrink it.
void noteStall(bool stalled) {
  if (stalled) {
    stalledCalls++;
    soloLeft = soloWindow;
    soloWindow = std::min(kSoloMax, 2 * soloWindow);
  } else {
    soloWindow = std::max(kSoloMin, soloWindow / 2);
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
  if (soloLeft > 0) {
    soloLeft--;
    isa.run(op, mainScratch);
    return;
  }
  bool stalled;
  // Chunks of at least 2 tiles (up to 8 chunks) so a descheduled helper delays the call by little.
  auto perChunk = [](int tiles) { return std::max(1, ceilDiv(tiles, std::min(8, std::max(2, tiles / 2)))); };
  if (tn >= 2 && (directA(op).ok || (op.m <= MC && op.k <= KC))) {
    // A is read in place (row-major) or packed once per thread (when it is one block), so splitting columns
    // packs nothing twice: each chunk packs only its own columns of B, which then stay in the cache of the
    // core that uses them. A narrow C (the forward pass, 4 slivers) is cut in two, so each thread reads A
    // once per k block for both of its slivers while A is still in its L2; a wide one (the weight gradient)
    // into chunks of 4 slivers, fine enough that the faster thread takes over the rest.
    const int per = tn <= 8 ? (tn + 1) / 2 : std::max(1, std::min(4, tn / 8));
    Op shared = op;
    shared.call = ++callCount;
    stalled = pool->run(shared, true, per, ceilDiv(tn, per), mainScratch);
  } else if (op.n <= NC && tm >= 2 && 4L * op.m >= op.n) {
    // A is comparable to B or larger: split rows, pack B once for both threads.
    const int per = perChunk(tm);
    stalled = pool->runSharedB(op, per, ceilDiv(tm, per), mainScratch);
  } else if (tn >= 2) {
    // B is much wider than A: split columns; each chunk packs only its own B columns (plus the small A).
    const int per = perChunk(tn);
    stalled = pool->run(op, true, per, ceilDiv(tn, per), mainScratch);
  } else {
    const int per = perChunk(tm);
    stalled = pool->run(op, false, per, ceilDiv(tm, per), mainScratch);
  }
  noteStall(stalled);
}

}  // namespace

// For native/elementwise.cc: runs fn(ctx, i) for every i < n, shared with the helper thread when it is free
// (otherwise all on the caller). Each i must write disjoint memory, so results do not depend on the split.
void nablaParallelFor(void (*fn)(void*, int), void* ctx, int n) {
  // Too short to judge the helper by (one late wake-up would look like a stall): only the GEMMs set soloLeft.
  std::unique_lock<std::mutex> lock(busy, std::try_to_lock);
  if (!lock.owns_lock() || !pool || n < 2 || soloLeft > 0) {
    for (int i = 0; i < n; i++) fn(ctx, i);
    return;
  }
  pool->runTasks(fn, ctx, n, mainScratch);
}

// For native/conv.cc: the same for tasks long enough to judge the helper by (a convolution's samples or sample
// groups), counted in the solo window like a GEMM call: a call the helper made slower sends the next ones, GEMMs
// and these, to the caller alone, and these calls close the window as GEMMs do (a CNN makes few large GEMMs).
void nablaParallelTasks(void (*fn)(void*, int), void* ctx, int n) {
  std::unique_lock<std::mutex> lock(busy, std::try_to_lock);
  if (!lock.owns_lock() || !pool || n < 2) {
    for (int i = 0; i < n; i++) fn(ctx, i);
    return;
  }
  if (soloLeft > 0) {
    soloLeft--;
    for (int i = 0; i < n; i++) fn(ctx, i);
    return;
  }
  noteStall(pool->runTasks(fn, ctx, n, mainScratch));
}

// For native/conv.cc: C = alpha op(A) op(B) + beta C on the calling thread alone (with its own pack buffers),
// called from inside nablaParallelTasks tasks. Oriented as sgemm orients it, and each element is summed in the
// same order, so the bits are sgemm's.
void nablaSgemmSerial(int m, int n, int k, float alpha, const float* a, long ars, long acs, const float* b, long brs,
                      long bcs, float beta, float* c, long crs, long ccs) {
  thread_local Scratch own;
  Op op;
  op.m = m;
  op.n = n;
  op.k = k;
  op.alpha = alpha;
  op.beta = beta;
  op.a = a;
  op.ars = ars;
  op.acs = acs;
  op.b = b;
  op.brs = brs;
  op.bcs = bcs;
  op.c = c;
  op.crs = crs;
  op.ccs = ccs;
  isa.run(5 * paddedArea(n, m) < 4 * paddedArea(m, n) ? transposed(op) : op, own);
}

// For native/conv.cc: whether the micro-kernel sums with fused multiply-adds (AVX-512 or AVX2), and its k block,
// so a kernel that repeats its arithmetic (one FMA chain per k block, then added to C) gives its bits.
bool nablaGemmFma(int* kc) {
  *kc = KC;
  return std::strcmp(isa.name, "scalar") != 0;
}

namespace {

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
  napi_value obj, name, threads, mr, nr, stalls;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_string_utf8(env, isa.name, NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_int32(env, helperCount + 1, &threads));
  CHECK(napi_create_int32(env, isa.mr, &mr));
  CHECK(napi_create_int32(env, isa.nr, &nr));
  CHECK(napi_set_named_property(env, obj, "isa", name));
  CHECK(napi_set_named_property(env, obj, "threads", threads));
  CHECK(napi_set_named_property(env, obj, "mr", mr));
  CHECK(napi_set_named_property(env, obj, "nr", nr));
  CHECK(napi_create_int64(env, stalledCalls, &stalls));
  CHECK(napi_set_named_property(env, obj, "stalledCalls", stalls));
  return obj;
}

}  // namespace

void registerElementwise(napi_env env, napi_value exports);  // native/elementwise.cc
void registerConv(napi_env env, napi_value exports);         // native/conv.cc

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
  registerConv(env, exports);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
