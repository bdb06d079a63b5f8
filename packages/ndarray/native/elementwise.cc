// Element-wise float32 kernels of the native addon, for large contiguous arrays (a plain JavaScript loop
// runs at ~1.5 ns per element here; these are memory-bound). Each result is bit-identical to the JavaScript
// loop it replaces: add/sub/mul in float32 equal the double computation rounded once (double rounding is
// innocuous for these operations), and scale/axpy, whose scalar is a double in JavaScript, compute in double
// and round once. The file is compiled with -ffp-contract=off so y + s*x is never fused into an FMA.
// target_clones builds AVX-512, AVX2 and baseline versions, picked by the loader on the running CPU.

#include <node_api.h>

#include <algorithm>
#include <cstdint>

void nablaParallelFor(void (*fn)(void*, int), void* ctx, int n);  // native/gemm.cc

namespace {

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

CLONES void ewAdd(float* o, const float* a, const float* b, long n) {
  for (long i = 0; i < n; i++) o[i] = a[i] + b[i];
}
CLONES void ewSub(float* o, const float* a, const float* b, long n) {
  for (long i = 0; i < n; i++) o[i] = a[i] - b[i];
}
CLONES void ewMul(float* o, const float* a, const float* b, long n) {
  for (long i = 0; i < n; i++) o[i] = a[i] * b[i];
}
CLONES void ewScale(float* o, const float* a, double s, long n) {
  for (long i = 0; i < n; i++) o[i] = static_cast<float>(static_cast<double>(a[i]) * s);
}
CLONES void ewAxpy(float* y, const float* x, double s, long n) {
  for (long i = 0; i < n; i++) y[i] = static_cast<float>(static_cast<double>(y[i]) + s * static_cast<double>(x[i]));
}
CLONES void ewRelu(float* o, const float* a, long n) {
  for (long i = 0; i < n; i++) o[i] = a[i] > 0.f ? a[i] : 0.f;
}
// ReLU backward, dx = x > 0 ? dy : 0: a masked select, so no branch to mispredict on the sign of x (the
// JavaScript loop's ternary compiles to one, which half of random activations miss).
CLONES void ewReluBackward(float* o, const float* dy, const float* x, long n) {
  for (long i = 0; i < n; i++) o[i] = x[i] > 0.f ? dy[i] : 0.f;
}

// o[i][j] = a[i][j] + row[j] over rows x cols row-major (o may be a): float32 addition, the JavaScript loop's
// bits (the double sum of two floats, rounded once to float, is the float sum).
CLONES void ewAddRows(float* o, const float* a, const float* row, long rows, long cols) {
  for (long i = 0; i < rows; i++) {
    float* oi = o + i * cols;
    const float* ai = a + i * cols;
    for (long j = 0; j < cols; j++) oi[j] = ai[j] + row[j];
  }
}

// sums[j] = sum over i of a[i][j] in double, rows added in order (so each column's sum is the JavaScript
// loop's): vectorised across columns, never reassociated along a column.
CLONES void ewColumnSums(double* sums, const float* a, long rows, long cols) {
  for (long j = 0; j < cols; j++) sums[j] = 0;
  for (long i = 0; i < rows; i++) {
    const float* ai = a + i * cols;
    for (long j = 0; j < cols; j++) sums[j] += static_cast<double>(ai[j]);
  }
}

void run(int32_t op, float* o, const float* a, const float* b, double s, long n) {
  switch (op) {
    case 0: ewAdd(o, a, b, n); break;
    case 1: ewSub(o, a, b, n); break;
    case 2: ewMul(o, a, b, n); break;
    case 3: ewScale(o, a, s, n); break;
    case 4: ewAxpy(o, a, s, n); break;
    case 5: ewRelu(o, a, n); break;
    case 6: ewReluBackward(o, a, b, n); break;
  }
}

// Arrays this long are split into ranges shared with the GEMM's helper thread: on its own core the helper
// brings a second core's caches and memory bandwidth (the optimizer's update streams the weights and their
// gradients). Each element is computed exactly as on one thread.
constexpr long kParallelMin = 1L << 16, kPartMin = 1L << 15;

struct Job {
  int32_t op;
  float* o;
  const float* a;
  const float* b;
  double s;
  long n, per;
};

void runPart(void* ctx, int i) {
  const Job& j = *static_cast<const Job*>(ctx);
  const long lo = i * j.per, hi = std::min(j.n, lo + j.per);
  if (lo < hi) run(j.op, j.o + lo, j.a + lo, j.b + lo, j.s, hi - lo);
}

// A typed array of element type E (napi type T): its data and length, or false.
template <typename E, napi_typedarray_type T>
bool typedArray(napi_env env, napi_value v, E** data, size_t* length) {
  napi_typedarray_type type;
  void* ptr;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, &ab, &off) != napi_ok || type != T) return false;
  *data = static_cast<E*>(ptr);
  return true;
}
constexpr auto f32 = typedArray<float, napi_float32_array>;
constexpr auto f64 = typedArray<double, napi_float64_array>;

// ew(op, n, out, outOffset, a, aOffset, b, bOffset, scalar); op: 0 add, 1 sub, 2 mul, 3 scale, 4 axpy
// (out += scalar * a), 5 relu, 6 relu backward (out = b > 0 ? a : 0). b is ignored by the unary ops (pass a).
napi_value Ew(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 9) {
    napi_throw_type_error(env, nullptr, "nabla_gemm.ew: expected 9 arguments");
    return nullptr;
  }
  int32_t op;
  int64_t n, oOff, aOff, bOff;
  double s;
  float *o, *a, *b;
  size_t oLen, aLen, bLen;
  if (napi_get_value_int32(env, argv[0], &op) != napi_ok || napi_get_value_int64(env, argv[1], &n) != napi_ok ||
      napi_get_value_int64(env, argv[3], &oOff) != napi_ok || napi_get_value_int64(env, argv[5], &aOff) != napi_ok ||
      napi_get_value_int64(env, argv[7], &bOff) != napi_ok || napi_get_value_double(env, argv[8], &s) != napi_ok ||
      !f32(env, argv[2], &o, &oLen) || !f32(env, argv[4], &a, &aLen) || !f32(env, argv[6], &b, &bLen)) {
    napi_throw_type_error(env, nullptr, "nabla_gemm.ew: bad arguments (arrays must be Float32Arrays)");
    return nullptr;
  }
  auto fits = [n](int64_t off, size_t len) { return off >= 0 && n >= 0 && off + n <= static_cast<int64_t>(len); };
  if (!fits(oOff, oLen) || !fits(aOff, aLen) || !fits(bOff, bLen)) {
    napi_throw_range_error(env, nullptr, "nabla_gemm.ew: range outside an array");
    return nullptr;
  }
  o += oOff;
  a += aOff;
  b += bOff;
  if (op < 0 || op > 6) {
    napi_throw_range_error(env, nullptr, "nabla_gemm.ew: unknown op");
    return nullptr;
  }
  if (n < kParallelMin) {
    run(op, o, a, b, s, n);
    return nullptr;
  }
  const int parts = static_cast<int>(std::min<int64_t>(8, n / kPartMin));
  Job job{op, o, a, b, s, n, ((n + parts - 1) / parts + 15) / 16 * 16};  // multiples of 16 elements
  nablaParallelFor(runPart, &job, parts);
  return nullptr;
}

// rows x cols (non-negative int64s), all ranges checked against their arrays.
bool dims(napi_env env, napi_value r, napi_value c, int64_t* rows, int64_t* cols) {
  return napi_get_value_int64(env, r, rows) == napi_ok && napi_get_value_int64(env, c, cols) == napi_ok &&
         *rows >= 0 && *cols >= 0 && *rows <= (int64_t{1} << 31) && *cols <= (int64_t{1} << 31);
}

bool fitsIn(int64_t off, int64_t n, size_t len) { return off >= 0 && off + n <= static_cast<int64_t>(len); }

// addRows(rows, cols, out, outOffset, a, aOffset, row, rowOffset): out = a + row broadcast down the rows.
napi_value AddRows(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  int64_t rows, cols, oOff, aOff, rOff;
  float *o, *a, *row;
  size_t oLen, aLen, rLen;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 8 ||
      !dims(env, argv[0], argv[1], &rows, &cols) || napi_get_value_int64(env, argv[3], &oOff) != napi_ok ||
      napi_get_value_int64(env, argv[5], &aOff) != napi_ok || napi_get_value_int64(env, argv[7], &rOff) != napi_ok ||
      !f32(env, argv[2], &o, &oLen) || !f32(env, argv[4], &a, &aLen) || !f32(env, argv[6], &row, &rLen)) {
    napi_throw_type_error(env, nullptr, "nabla_gemm.addRows: bad arguments (arrays must be Float32Arrays)");
    return nullptr;
  }
  if (!fitsIn(oOff, rows * cols, oLen) || !fitsIn(aOff, rows * cols, aLen) || !fitsIn(rOff, cols, rLen)) {
    napi_throw_range_error(env, nullptr, "nabla_gemm.addRows: range outside an array");
    return nullptr;
  }
  ewAddRows(o + oOff, a + aOff, row + rOff, rows, cols);
  return nullptr;
}

// columnSums(rows, cols, a, aOffset, sums): sums[j] = sum over i of a[i][j] (float64 sums of float32 values).
napi_value ColumnSums(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int64_t rows, cols, aOff;
  float* a;
  double* sums;
  size_t aLen, sLen;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 5 ||
      !dims(env, argv[0], argv[1], &rows, &cols) || napi_get_value_int64(env, argv[3], &aOff) != napi_ok ||
      !f32(env, argv[2], &a, &aLen) || !f64(env, argv[4], &sums, &sLen)) {
    napi_throw_type_error(env, nullptr, "nabla_gemm.columnSums: bad arguments (a Float32Array and a Float64Array)");
    return nullptr;
  }
  if (!fitsIn(aOff, rows * cols, aLen) || !fitsIn(0, cols, sLen)) {
    napi_throw_range_error(env, nullptr, "nabla_gemm.columnSums: range outside an array");
    return nullptr;
  }
  ewColumnSums(sums, a + aOff, rows, cols);
  return nullptr;
}

}  // namespace

void registerElementwise(napi_env env, napi_value exports) {
  const struct {
    const char* name;
    napi_callback fn;
  } functions[] = {{"ew", Ew}, {"addRows", AddRows}, {"columnSums", ColumnSums}};
  for (const auto& f : functions) {
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &fn) == napi_ok) {
      napi_set_named_property(env, exports, f.name, fn);
    }
  }
}
