// Native float32 2-D convolution of the addon (NCHW input, weight [out][in][kh][kw]), run from src/conv.ts when
// the native GEMM kernel is the one gemm() would use. Work is shared with the GEMM's helper thread
// (nablaParallelTasks): samples for the forward pass (and the stride-1 input gradient, which src/conv.ts runs as
// a forward pass with flipped weights) and for col2im, fixed groups of samples for the weight gradient. With a
// fused multiply-add GEMM kernel the forward pass and the weight gradient read a zero-padded copy of each
// sample in place (conv-kernels.h's direct kernels); otherwise, and for col2im, im2col writes a tile of output
// rows into a per-thread buffer that the GEMM's micro-kernels (nablaSgemmSerial) read while it is still in
// that core's cache.
//
// Every result has the bits of src/conv-js.ts's loop calling gemm() on the native kernel: the same sums in the
// same order (a GEMM's sums do not depend on the orientation, thread or tile that computes them) and the same
// order of every addition outside the GEMMs (col2im, the groups' partial sums, the bias-gradient sums). The
// file is compiled with -ffp-contract=off, so no addition here is fused into an FMA.

#include <node_api.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

void nablaParallelTasks(void (*fn)(void*, int), void* ctx, int n);  // native/gemm.cc
void nablaSgemmSerial(int m, int n, int k, float alpha, const float* a, long ars, long acs, const float* b, long brs,
                      long bcs, float beta, float* c, long crs, long ccs);  // native/gemm.cc
bool nablaGemmFma(int* kc);                                                    // native/gemm.cc

#include "conv-kernels.h"

namespace {

struct Job {
  Geometry g;
  long base;  // index of the round's first task (a round has at most kRoundTasks)
  const float* x;
  const float* w;
  const float* bias;
  const float* dy;
  float* out;
  float* partials;
  bool accumulate;
  // The direct forward kernel's packed weights and tap offsets (the caller's, read by both threads), and the
  // GEMM's k block.
  const float* packed;
  const long* off;
  int kc;
};

// The pool counts claimed tasks in 16 bits, so a large evaluation batch runs in rounds.
constexpr long kRoundTasks = 1L << 14;

void runTasks(Job& job, void (*fn)(void*, int), long n) {
  for (job.base = 0; job.base < n; job.base += kRoundTasks) {
    const int count = static_cast<int>(std::min(kRoundTasks, n - job.base));
    if (job.g.threads > 1 && count > 1) {
      nablaParallelTasks(fn, &job, count);
    } else {
      for (int i = 0; i < count; i++) fn(&job, i);
    }
  }
}

// Task i: sample i through the direct kernel (its padded copy in this thread's buffer).
void forwardDirect(void* ctx, int task) {
  const Job& j = *static_cast<const Job*>(ctx);
  const Geometry& g = j.g;
  const long s = j.base + task;
  float* xp = threadBuffer<float, 1>(g.c * g.hp() * g.wp() + 8);
  padSample(g, j.x + s * g.in(), xp);
  directSample(g, j.packed, xp, j.off, j.kc, j.bias, j.bias ? 1 : j.accumulate ? 2 : 0, j.out + s * g.o * g.p());
}

// Task i: tile i % tiles of sample i / tiles. y = W cols (+ bias, written first and added by the GEMM).
void forwardTile(void* ctx, int task) {
  const Job& j = *static_cast<const Job*>(ctx);
  const Geometry& g = j.g;
  const long index = j.base + task;
  const long s = index / g.tiles(), oh0 = (index % g.tiles()) * g.rows, oh1 = std::min(g.oh, oh0 + g.rows);
  const long T = (oh1 - oh0) * g.ow, K = g.k(), P = g.p();
  float* cols = threadBuffer<float, 0>(K * T);
  im2col(g, j.x + s * g.in(), oh0, oh1, cols);
  float* y = j.out + s * g.o * P + oh0 * g.ow;
  if (j.bias)
    for (long o = 0; o < g.o; o++) std::fill(y + o * P, y + o * P + T, j.bias[o]);
  nablaSgemmSerial(g.o, T, K, 1.f, j.w, K, 1, cols, T, 1, j.bias || j.accumulate ? 1.f : 0.f, y, P, 1);
}

// Task i: sample i. Per tile dcols = Wᵀ dy, then col2im into dx (zeroed first unless accumulating).
void inputSample(void* ctx, int task) {
  const Job& j = *static_cast<const Job*>(ctx);
  const Geometry& g = j.g;
  const long s = j.base + task;
  const long K = g.k(), P = g.p();
  float* dx = j.out + s * g.in();
  if (!j.accumulate) std::memset(dx, 0, g.in() * sizeof(float));
  float* cols = threadBuffer<float, 0>(K * std::min(g.rows, g.oh) * g.ow);
  for (long oh0 = 0; oh0 < g.oh; oh0 += g.rows) {
    const long oh1 = std::min(g.oh, oh0 + g.rows), T = (oh1 - oh0) * g.ow;
    nablaSgemmSerial(K, T, g.o, 1.f, j.w, 1, K, j.dy + s * g.o * P + oh0 * g.ow, P, 1, 0.f, cols, T, 1);
    col2im(g, cols, oh0, oh1, dx);
  }
}

// Task i: group i of the samples. Its partial sum, over its samples and tiles in order, of dy_tile colsᵀ, kept
// transposed ([k][o]) so that the GEMM reads the columns in place and packs only the (smaller) dy tile.
void weightGroup(void* ctx, int task) {
  const Job& j = *static_cast<const Job*>(ctx);
  const Geometry& g = j.g;
  const long group = j.base + task;
  const long K = g.k(), P = g.p();
  const long s0 = group * g.n / g.groups, s1 = (group + 1) * g.n / g.groups;
  float* partial = j.partials + group * g.o * K;
  float* cols = threadBuffer<float, 0>(K * std::min(g.rows, g.oh) * g.ow);
  bool first = true;
  for (long s = s0; s < s1; s++) {
    for (long oh0 = 0; oh0 < g.oh; oh0 += g.rows) {
      const long oh1 = std::min(g.oh, oh0 + g.rows), T = (oh1 - oh0) * g.ow;
      im2col(g, j.x + s * g.in(), oh0, oh1, cols);
      nablaSgemmSerial(K, g.o, T, 1.f, cols, T, 1, j.dy + s * g.o * P + oh0 * g.ow, 1, P, first ? 0.f : 1.f, partial,
                       g.o, 1);
      first = false;
    }
  }
}

// Task i: group i through the direct kernel: per sample its padded copy, per tile dy transposed, then every
// 6 × 16 block of the transposed partial.
void weightGroupDirect(void* ctx, int task) {
  const Job& j = *static_cast<const Job*>(ctx);
  const Geometry& g = j.g;
  const long group = j.base + task;
  const long K = g.k(), P = g.p(), ldo = (g.o + 15) / 16 * 16;
  const long s0 = group * g.n / g.groups, s1 = (group + 1) * g.n / g.groups;
  float* partial = j.partials + group * g.o * K;
  float* xp = threadBuffer<float, 1>(g.c * g.hp() * g.wp() + 8);
  float* dyT = threadBuffer<float, 0>(std::min(g.rows, g.oh) * g.ow * ldo);
  bool fresh = true;
  for (long s = s0; s < s1; s++) {
    padSample(g, j.x + s * g.in(), xp);
    for (long oh0 = 0; oh0 < g.oh; oh0 += g.rows) {
      const long oh1 = std::min(g.oh, oh0 + g.rows);
      transposeTile(g, j.dy + s * g.o * P, oh0, oh1, ldo, dyT);
      for (long k0 = 0; k0 < K; k0 += kDirectRows) {
        const int rows = static_cast<int>(std::min<long>(kDirectRows, K - k0));
        for (long o0 = 0; o0 < g.o; o0 += 16) {
          const int lanes = static_cast<int>(std::min<long>(16, g.o - o0));
          weightTile(g, xp, j.off, k0, rows, dyT, ldo, o0, lanes, oh0, oh1, j.kc, fresh, partial);
        }
      }
      fresh = false;
    }
  }
}

CLONES void addInto(float* __restrict dst, const float* __restrict src, long n) {
  for (long i = 0; i < n; i++) dst[i] += src[i];
}

CLONES void sumSamples(double* __restrict sums, const float* __restrict dy, long n, long stride, long p) {
  for (long t = 0; t < p; t++) sums[t] = 0;
  for (long s = 0; s < n; s++) {
    const float* row = dy + s * stride;
    for (long t = 0; t < p; t++) sums[t] += static_cast<double>(row[t]);
  }
}

constexpr int kBiasTasks = 8;

// Task i: channels [i O / 8, (i + 1) O / 8). db[o] (+)= Σ_t (Σ_s dy[s][o][t]), samples summed per position
// first (a loop that vectorises across positions), all in double, rounded once.
void biasChannels(void* ctx, int task) {
  const Job& j = *static_cast<const Job*>(ctx);
  const Geometry& g = j.g;
  const long P = g.p();
  double* sums = threadBuffer<double, 2>(P);
  for (long o = task * g.o / kBiasTasks; o < (task + 1) * g.o / kBiasTasks; o++) {
    sumSamples(sums, j.dy + o * P, g.n, g.o * P, P);
    double total = 0;
    for (long t = 0; t < P; t++) total += sums[t];
    const float rounded = static_cast<float>(total);
    j.out[o] = j.accumulate ? j.out[o] + rounded : rounded;
  }
}

// ---- N-API glue ----

// A Float32Array argument with `offset` elements before the view and at least `need` after it.
bool floatArg(napi_env env, napi_value v, napi_value off, int64_t need, float** data) {
  napi_typedarray_type type;
  size_t length;
  void* ptr;
  napi_value ab;
  size_t byteOffset;
  int64_t offset;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, &ab, &byteOffset) != napi_ok ||
      type != napi_float32_array || napi_get_value_int64(env, off, &offset) != napi_ok || offset < 0 ||
      offset + need > static_cast<int64_t>(length))
    return false;
  *data = static_cast<float*>(ptr) + offset;
  return true;
}

bool geometryArg(napi_env env, napi_value v, Geometry* g) {
  napi_typedarray_type type;
  size_t length;
  void* ptr;
  napi_value ab;
  size_t byteOffset;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, &ab, &byteOffset) != napi_ok ||
      type != napi_int32_array || length < kFields)
    return false;
  const int32_t* f = static_cast<const int32_t*>(ptr);
  *g = {f[kN], f[kC], f[kH], f[kW], f[kO], f[kKh], f[kKw], f[kSh], f[kSw], f[kPh], f[kPw],
        f[kDh], f[kDw], f[kOh], f[kOw], f[kRows], f[kGroups], f[kThreads]};
  // The extents JavaScript derived must be the ones the loops assume (an output position reads inside the
  // padded image), so no index can leave its array.
  const bool positive = g->n >= 0 && g->c > 0 && g->h > 0 && g->w > 0 && g->o > 0 && g->kh > 0 && g->kw > 0 &&
                        g->sh > 0 && g->sw > 0 && g->ph >= 0 && g->pw >= 0 && g->dh > 0 && g->dw > 0 &&
                        g->rows > 0 && g->groups >= 0 && g->groups <= std::max(1L, g->n);
  const long spanH = g->h + 2 * g->ph - g->dh * (g->kh - 1) - 1, spanW = g->w + 2 * g->pw - g->dw * (g->kw - 1) - 1;
  return positive && spanH >= 0 && spanW >= 0 && g->oh == spanH / g->sh + 1 && g->ow == spanW / g->sw + 1;
}

bool getArgs(napi_env env, napi_callback_info info, size_t want, napi_value* argv, const char* name) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != want) {
    napi_throw_type_error(env, nullptr, name);
    return false;
  }
  return true;
}

bool flag(napi_env env, napi_value v) {
  bool b = false;
  napi_get_value_bool(env, v, &b);
  return b;
}

napi_value bad(napi_env env, const char* message) {
  napi_throw_range_error(env, nullptr, message);
  return nullptr;
}

// convForward(geometry, x, xOff, w, wOff, bias, bOff, hasBias, y, yOff, accumulate): y = conv(x, w) + bias, or
// y += conv(x, w) when accumulating (without a bias).
napi_value ConvForward(napi_env env, napi_callback_info info) {
  napi_value a[11];
  if (!getArgs(env, info, 11, a, "nabla_gemm.convForward: expected 11 arguments")) return nullptr;
  Job j{};
  float *x, *w, *b = nullptr, *y;
  if (!geometryArg(env, a[0], &j.g)) return bad(env, "nabla_gemm.convForward: bad geometry");
  const Geometry& g = j.g;
  const bool hasBias = flag(env, a[7]);
  if (!floatArg(env, a[1], a[2], g.n * g.in(), &x) || !floatArg(env, a[3], a[4], g.o * g.k(), &w) ||
      (hasBias && !floatArg(env, a[5], a[6], g.o, &b)) || !floatArg(env, a[8], a[9], g.n * g.o * g.p(), &y))
    return bad(env, "nabla_gemm.convForward: an array is not a Float32Array or too short");
  j.x = x;
  j.w = w;
  j.bias = b;
  j.out = y;
  j.accumulate = flag(env, a[10]) && !hasBias;
  if (g.sw == 1 && nablaGemmFma(&j.kc)) {
    float* packed = threadBuffer<float, 3>((g.o + kDirectRows - 1) / kDirectRows * kDirectRows * g.k());
    long* off = threadBuffer<long, 4>(g.k());
    packWeights(w, g.o, g.k(), packed);
    tapOffsets(g, off);
    j.packed = packed;
    j.off = off;
    runTasks(j, forwardDirect, g.n);
  } else {
    runTasks(j, forwardTile, g.n * g.tiles());
  }
  return nullptr;
}

// convBackwardInput(geometry, dy, dyOff, w, wOff, dx, dxOff, accumulate)
napi_value ConvBackwardInput(napi_env env, napi_callback_info info) {
  napi_value a[8];
  if (!getArgs(env, info, 8, a, "nabla_gemm.convBackwardInput: expected 8 arguments")) return nullptr;
  Job j{};
  float *dy, *w, *dx;
  if (!geometryArg(env, a[0], &j.g)) return bad(env, "nabla_gemm.convBackwardInput: bad geometry");
  const Geometry& g = j.g;
  if (!floatArg(env, a[1], a[2], g.n * g.o * g.p(), &dy) || !floatArg(env, a[3], a[4], g.o * g.k(), &w) ||
      !floatArg(env, a[5], a[6], g.n * g.c * g.h * g.w, &dx))
    return bad(env, "nabla_gemm.convBackwardInput: an array is not a Float32Array or too short");
  j.dy = dy;
  j.w = w;
  j.out = dx;
  j.accumulate = flag(env, a[7]);
  runTasks(j, inputSample, g.n);
  return nullptr;
}

// convBackwardWeight(geometry, x, xOff, dy, dyOff, dw, dwOff, partials, accumulate): dw (+)= the sum over the
// groups of their partials, added in group order.
napi_value ConvBackwardWeight(napi_env env, napi_callback_info info) {
  napi_value a[9];
  if (!getArgs(env, info, 9, a, "nabla_gemm.convBackwardWeight: expected 9 arguments")) return nullptr;
  Job j{};
  float *x, *dy, *dw, *partials;
  napi_value zero;
  napi_create_int32(env, 0, &zero);
  if (!geometryArg(env, a[0], &j.g)) return bad(env, "nabla_gemm.convBackwardWeight: bad geometry");
  const Geometry& g = j.g;
  const long size = g.o * g.k();
  if (!floatArg(env, a[1], a[2], g.n * g.c * g.h * g.w, &x) || !floatArg(env, a[3], a[4], g.n * g.o * g.p(), &dy) ||
      !floatArg(env, a[5], a[6], size, &dw) || !floatArg(env, a[7], zero, g.groups * size, &partials))
    return bad(env, "nabla_gemm.convBackwardWeight: an array is not a Float32Array or too short");
  j.x = x;
  j.dy = dy;
  j.partials = partials;
  if (nablaGemmFma(&j.kc)) {
    long* off = threadBuffer<long, 4>(g.k());
    tapOffsets(g, off);
    j.off = off;
    runTasks(j, weightGroupDirect, g.groups);
  } else {
    runTasks(j, weightGroup, g.groups);
  }
  for (long group = 1; group < g.groups; group++) addInto(partials, partials + group * size, size);
  const bool accumulate = flag(env, a[8]);
  if (g.groups == 0) {
    if (!accumulate) std::memset(dw, 0, size * sizeof(float));
    return nullptr;
  }
  // The sum is kept [k][o]; dw is [o][k].
  const long K = g.k();
  for (long o = 0; o < g.o; o++)
    for (long k = 0; k < K; k++) dw[o * K + k] = accumulate ? dw[o * K + k] + partials[k * g.o + o] : partials[k * g.o + o];
  return nullptr;
}

// convBiasGrad(geometry, dy, dyOff, db, dbOff, accumulate)
napi_value ConvBiasGrad(napi_env env, napi_callback_info info) {
  napi_value a[6];
  if (!getArgs(env, info, 6, a, "nabla_gemm.convBiasGrad: expected 6 arguments")) return nullptr;
  Job j{};
  float *dy, *db;
  if (!geometryArg(env, a[0], &j.g)) return bad(env, "nabla_gemm.convBiasGrad: bad geometry");
  const Geometry& g = j.g;
  if (!floatArg(env, a[1], a[2], g.n * g.o * g.p(), &dy) || !floatArg(env, a[3], a[4], g.o, &db))
    return bad(env, "nabla_gemm.convBiasGrad: an array is not a Float32Array or too short");
  j.dy = dy;
  j.out = db;
  j.accumulate = flag(env, a[5]);
  runTasks(j, biasChannels, kBiasTasks);
  return nullptr;
}

}  // namespace

void registerConv(napi_env env, napi_value exports) {
  const struct {
    const char* name;
    napi_callback fn;
  } functions[] = {{"convForward", ConvForward},
                   {"convBackwardInput", ConvBackwardInput},
                   {"convBackwardWeight", ConvBackwardWeight},
                   {"convBiasGrad", ConvBiasGrad}};
  for (const auto& f : functions) {
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &fn) == napi_ok) {
      napi_set_named_property(env, exports, f.name, fn);
    }
  }
}
