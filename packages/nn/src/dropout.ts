/** Inverted dropout with a mask drawn from a seeded Rng. */
import type { Rng, Tensor } from "@nabla/ndarray";
import { zeros } from "@nabla/ndarray";
import { check, NnError } from "./errors.js";
import { ModuleBase } from "./module.js";
import {
  asRows,
  BufferCache,
  dtypeOf,
  expectBatch,
  expectDtype,
  expectSameShape,
  inShapeOf,
} from "./tensors.js";

export interface DropoutOptions {
  /** Source of the masks; each training forward draws one `rng.uniform()` per element, row-major. */
  rng: Rng;
}

interface DropoutBuffers {
  y: Tensor;
  dx: Tensor;
  /** 1/(1−p) where kept, 0 where dropped. */
  scale: Tensor;
}

/**
 * Training: y = x ∘ m / (1 − p) with m_ij = 1[u_ij ≥ p], u uniform in [0, 1), so each element is kept
 * with probability 1 − p and the expected output equals x (PyTorch's inverted dropout). Eval, and p = 0,
 * are the identity: x and dY are passed through and no random number is drawn.
 */
export class Dropout extends ModuleBase {
  readonly p: number;
  /** The mask stream; public so a resumed run can save and restore its position (Rng.getState/setState). */
  readonly rng: Rng;
  private readonly cache = new BufferCache<DropoutBuffers>((shape, dtype) => ({
    y: zeros([...shape], dtype),
    dx: zeros([...shape], dtype),
    scale: zeros([...shape], dtype),
  }));
  /** The scale tensor of the last masked forward, or null when that forward was the identity. */
  private lastScale: Tensor | null = null;
  private forwarded = false;

  constructor(p: number, opts: DropoutOptions) {
    super();
    check(p >= 0 && p < 1, "Dropout", `p must be in [0, 1), got ${p}`);
    check(opts?.rng !== undefined, "Dropout", "opts.rng (an Rng from @nabla/ndarray) is required");
    this.p = p;
    this.rng = opts.rng;
  }

  forward(input: Tensor): Tensor {
    expectBatch(input, "Dropout.forward: input");
    const x = asRows(input);
    const rows = x.shape[0];
    const dtype = dtypeOf(x, "Dropout.forward: input");
    this.forwarded = true;
    if (!this.training || this.p === 0) {
      this.lastScale = null;
      return input;
    }
    const { scale } = this.cache.get([rows, x.shape[1]], dtype);
    const s = scale.data;
    const keep = 1 / (1 - this.p);
    for (let i = 0; i < s.length; i++) s[i] = this.rng.uniform() >= this.p ? keep : 0;
    return inShapeOf(this.applyScale(x, scale), input);
  }

  /**
   * A training forward with a given 0/1 `mask` (same shape as x) instead of a drawn one: for comparing with
   * another implementation and for gradient checks, which need the same mask on every evaluation.
   */
  forwardWithMask(input: Tensor, maskInput: Tensor): Tensor {
    expectBatch(input, "Dropout.forwardWithMask: input");
    expectSameShape(maskInput, input, "Dropout.forwardWithMask", "mask");
    const x = asRows(input);
    const mask = asRows(maskInput);
    const rows = x.shape[0];
    const dtype = dtypeOf(x, "Dropout.forwardWithMask: input");
    const { scale } = this.cache.get([rows, x.shape[1]], dtype);
    const keep = 1 / (1 - this.p);
    const cols = x.shape[1];
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const m = mask.data[mask.offset + i * mask.stride[0] + j * mask.stride[1]];
        if (m !== 0 && m !== 1)
          throw new NnError(`Dropout.forwardWithMask: mask entries must be 0 or 1, got ${m}`);
        scale.data[i * cols + j] = m * keep;
      }
    }
    this.forwarded = true;
    return inShapeOf(this.applyScale(x, scale), input);
  }

  private applyScale(x: Tensor, scale: Tensor): Tensor {
    const [rows, cols] = x.shape;
    const { y } = this.cache.get([rows, cols], scale.data instanceof Float64Array ? "float64" : "float32");
    const [s0, s1] = x.stride;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        y.data[i * cols + j] = x.data[x.offset + i * s0 + j * s1] * scale.data[i * cols + j];
      }
    }
    this.lastScale = scale;
    return y;
  }

  backward(upstream: Tensor): Tensor {
    if (!this.forwarded) throw new NnError("Dropout.backward: called before forward");
    const scale = this.lastScale;
    if (scale === null) return upstream;
    expectBatch(upstream, "Dropout.backward: dY");
    const dY = asRows(upstream);
    expectSameShape(dY, scale, "Dropout.backward", "dY");
    const dtype = dtypeOf(scale, "Dropout.backward");
    expectDtype(dY, dtype, "Dropout.backward: dY");
    const [rows, cols] = scale.shape;
    const { dx } = this.cache.get([rows, cols], dtype);
    const [s0, s1] = dY.stride;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        dx.data[i * cols + j] = dY.data[dY.offset + i * s0 + j * s1] * scale.data[i * cols + j];
      }
    }
    return inShapeOf(dx, upstream);
  }
}
