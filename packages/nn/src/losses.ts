/** Cross-entropy losses: on probabilities, and fused with softmax on logits. */
import { type DType, scale, softmaxRows, type Tensor, zeros } from "@nabla/ndarray";
import { fail, NnError } from "./errors.js";
import type { Loss } from "./module.js";
import { BufferCache, dtypeOf, expect2d } from "./tensors.js";

/**
 * Probabilities below this are clamped before the log in {@link CrossEntropy}: the
 * per-sample loss is at most −ln(1e-12) ≈ 27.63 and the gradient at most 1e12/S in
 * magnitude, so p = 0 (e.g. an underflowed softmax) gives finite numbers instead of
 * Infinity/NaN. 1e-12 is far below any probability a float32 softmax produces for the
 * true class in a sensible run, so the clamp does not change normal results.
 */
export const CROSS_ENTROPY_EPSILON = 1e-12;

/** Checks labels against a [rows, classes] input: right length, integers in [0, classes). */
function checkLabels(labels: ArrayLike<number>, rows: number, classes: number, where: string): void {
  if (labels.length !== rows) fail(where, `expected ${rows} labels (one per row), got ${labels.length}`);
  for (let i = 0; i < rows; i++) {
    const c = labels[i];
    if (!(Number.isInteger(c) && c >= 0 && c < classes)) {
      throw new NnError(`${where}: label ${i} is ${c}, expected an integer in [0, ${classes})`);
    }
  }
}

interface GradBuffers {
  dx: Tensor;
  lse: Tensor;
}

function gradBuffers(): BufferCache<GradBuffers> {
  return new BufferCache((shape: readonly number[], dtype: DType) => ({
    dx: zeros([...shape], dtype),
    lse: zeros([shape[0]], dtype),
  }));
}

/**
 * Cross-entropy of probabilities P [S, C] against integer labels t:
 * L = −(1/S) Σ_i ln max(P[i, t_i], ε), the MEAN over the batch, ε = {@link CROSS_ENTROPY_EPSILON}.
 * Backward: dL/dP = −(1/S) T ⊘ P, i.e. −1/(S·max(P[i,t_i], ε)) at the label entries and
 * 0 elsewhere. (Below ε the clamped function is flat; we keep the −1/(Sε) slope on
 * purpose so that a zero probability still pushes upward instead of stalling.)
 */
export class CrossEntropy implements Loss {
  private readonly buffers = gradBuffers();
  private probabilities: Tensor | null = null;
  private labels: ArrayLike<number> | null = null;

  forward(probabilities: Tensor, labels: ArrayLike<number>): number {
    const rows = expect2d(probabilities, "CrossEntropy.forward: probabilities");
    checkLabels(labels, rows, probabilities.shape[1], "CrossEntropy.forward: labels");
    const { data, offset, stride } = probabilities;
    let total = 0;
    for (let i = 0; i < rows; i++) {
      const p = data[offset + i * stride[0] + labels[i] * stride[1]];
      total -= Math.log(Math.max(p, CROSS_ENTROPY_EPSILON));
    }
    this.probabilities = probabilities;
    this.labels = labels;
    return total / rows;
  }

  backward(): Tensor {
    const p = this.probabilities;
    const labels = this.labels;
    if (p === null || labels === null) throw new NnError("CrossEntropy.backward: called before forward");
    const [rows, cols] = p.shape;
    const { dx } = this.buffers.get([rows, cols], dtypeOf(p, "CrossEntropy.backward"));
    dx.data.fill(0);
    for (let i = 0; i < rows; i++) {
      const pi = p.data[p.offset + i * p.stride[0] + labels[i] * p.stride[1]];
      dx.data[i * cols + labels[i]] = -1 / (rows * Math.max(pi, CROSS_ENTROPY_EPSILON));
    }
    return dx;
  }
}

/**
 * Softmax followed by cross-entropy, on logits Z [S, C] — what training uses.
 * Forward: L = (1/S) Σ_i (logsumexp(Z_i) − Z[i, t_i]) with the stable log-sum-exp
 * m + ln Σ_k exp(Z_ik − m), m = max_k Z_ik: finite for any finite logits (±1e4 included).
 * Backward: dL/dZ = (softmax(Z) − T)/S, T the one-hot labels.
 */
export class SoftmaxCrossEntropy implements Loss {
  private readonly buffers = new BufferCache((shape: readonly number[], dtype: DType) => ({
    dx: zeros([...shape], dtype),
    probabilities: zeros([...shape], dtype),
    lse: zeros([shape[0]], dtype),
  }));
  private logits: Tensor | null = null;
  private labels: ArrayLike<number> | null = null;
  /** The softmax of `logits`, computed by forward alongside the log-sum-exp (one exp per logit per step). */
  private probabilities: Tensor | null = null;

  forward(logits: Tensor, labels: ArrayLike<number>): number {
    const rows = expect2d(logits, "SoftmaxCrossEntropy.forward: logits");
    const cols = logits.shape[1];
    checkLabels(labels, rows, cols, "SoftmaxCrossEntropy.forward: labels");
    const { lse, probabilities } = this.buffers.get(
      [rows, cols],
      dtypeOf(logits, "SoftmaxCrossEntropy.forward: logits"),
    );
    softmaxRows(probabilities, logits, lse);
    const { data, offset, stride } = logits;
    let total = 0;
    for (let i = 0; i < rows; i++) {
      total += lse.data[i] - data[offset + i * stride[0] + labels[i] * stride[1]];
    }
    this.logits = logits;
    this.labels = labels;
    this.probabilities = probabilities;
    return total / rows;
  }

  backward(): Tensor {
    const z = this.logits;
    const labels = this.labels;
    const y = this.probabilities;
    if (z === null || labels === null || y === null)
      throw new NnError("SoftmaxCrossEntropy.backward: called before forward");
    const [rows, cols] = z.shape;
    const { dx } = this.buffers.get([rows, cols], dtypeOf(z, "SoftmaxCrossEntropy.backward"));
    dx.data.set(y.data); // Y (both are our own contiguous buffers of the same shape)
    for (let i = 0; i < rows; i++) dx.data[i * cols + labels[i]] -= 1; // Y − T
    scale(dx, dx, 1 / rows); // (Y − T)/S
    return dx;
  }
}
