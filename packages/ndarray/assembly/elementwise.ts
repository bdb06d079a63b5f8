// Element-wise loops for the JavaScript side when the native addon is not loaded (exported by gemm.ts, so they
// share its module and memory). Each gives exactly the bits of the JavaScript loop it replaces.

// y[i] = f32(f64(y[i]) + s * f64(x[i])): the JavaScript `y[i] += s * x[i]` on Float32Arrays, two lanes of
// double at a time (promote, multiply, add, demote: the same operations in the same order, one rounding).
export function axpy(n: i32, y: usize, x: usize, s: f64): void {
  const vs = f64x2.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    const yv = v128.load(y + o);
    const xv = v128.load(x + o);
    const lo = f64x2.add(f64x2.promote_low_f32x4(yv), f64x2.mul(vs, f64x2.promote_low_f32x4(xv)));
    const yh = i32x4.shuffle(yv, yv, 2, 3, 0, 1);
    const xh = i32x4.shuffle(xv, xv, 2, 3, 0, 1);
    const hi = f64x2.add(f64x2.promote_low_f32x4(yh), f64x2.mul(vs, f64x2.promote_low_f32x4(xh)));
    v128.store(y + o, i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(y + o, <f32>(<f64>load<f32>(y + o) + s * <f64>load<f32>(x + o)));
  }
}

// dx[i] = x[i] > 0 ? dy[i] : 0, as a lane select (NaN x gives 0, as the JavaScript comparison does).
export function reluBackward(n: i32, dx: usize, dy: usize, x: usize): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(dx + o, v128.bitselect(v128.load(dy + o), zero, f32x4.gt(v128.load(x + o), zero)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(dx + o, load<f32>(x + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

// Sets n float32s at p to +0 with bulk memory's fill (TypedArray.prototype.fill takes a slow element-wise path
// on a SharedArrayBuffer in V8).
export function zero(n: i32, p: usize): void {
  memory.fill(p, 0, (<usize>n) << 2);
}
