/** Parameter-free activations: ReLU (any shape) and row-wise Softmax. */
import { relu, reluBackward, residentZeros, softmaxRows, type Tensor } from "@nabla/ndarray";
import { NnError } from "./errors.js";
import { ModuleBase } from "./module.js";
import { BufferCache, dtypeOf, expect2d, expectBatch, expectDtype, expectSameShape } from "./tensors.js";

export interface ActivationBuffers {
  y: Tensor;
  dx: Tensor;
}

/** Output and input-gradient buffers per (shape, dtype), shared by the element-wise activations. */
export function activationBuffers(): BufferCache<ActivationBuffers> {
  return new BufferCache((shape, dtype) => ({
    y: residentZeros([...shape], dtype),
    dx: residentZeros([...shape], dtype),
  }));
}

/**
 * ReLU(x) = max(x, 0). Backward: dX = dY ∘ 1[x > 0]. The mask is read from the
 * module's own output (y > 0 exactly when x > 0), so nothing extra is stored and the
 * caller's input may be reused; at x = 0 the gradient is 0, as in PyTorch.
 */
export class ReLU extends ModuleBase {
  private readonly cache = activationBuffers();
  private output: Tensor | null = null;

  forward(x: Tensor): Tensor {
    expectBatch(x, "ReLU.forward: input");
    const { y } = this.cache.get(x.shape, dtypeOf(x, "ReLU.forward: input"));
    relu(y, x);
    this.output = y;
    return y;
  }

  backward(dY: Tensor): Tensor {
    const y = this.output;
    if (y === null) throw new NnError("ReLU.backward: called before forward");
    expectSameShape(dY, y, "ReLU.backward", "dY");
    const dtype = dtypeOf(y, "ReLU.backward");
    expectDtype(dY, dtype, "ReLU.backward: dY");
    const { dx } = this.cache.get(y.shape, dtype);
    reluBackward(dx, dY, y);
    return dx;
  }
}

/**
 * Row-wise softmax Y_ij = exp(x_ij − max_k x_ik) / Σ_k exp(x_ik − max_k x_ik) (the
 * max trick keeps exp from overflowing). Backward is the Jacobian-vector product
 * dX = Y ∘ (dY − rowsum(dY ∘ Y) 1ᵀ), never the full [C×C] Jacobian per row.
 */
export class Softmax extends ModuleBase {
  private readonly cache = activationBuffers();
  private output: Tensor | null = null;

  forward(x: Tensor): Tensor {
    const rows = expect2d(x, "Softmax.forward: input");
    const { y } = this.cache.get([rows, x.shape[1]], dtypeOf(x, "Softmax.forward: input"));
    softmaxRows(y, x);
    this.output = y;
    return y;
  }

  backward(dY: Tensor): Tensor {
    const y = this.output;
    if (y === null) throw new NnError("Softmax.backward: called before forward");
    expectSameShape(dY, y, "Softmax.backward", "dY");
    const dtype = dtypeOf(y, "Softmax.backward");
    expectDtype(dY, dtype, "Softmax.backward: dY");
    const [rows, cols] = y.shape;
    const { dx } = this.cache.get([rows, cols], dtype);
    // y and dx are our own contiguous buffers; dY may be any strided view.
    const yd = y.data;
    const dxd = dx.data;
    const gd = dY.data;
    const [gs0, gs1] = dY.stride;
    for (let i = 0; i < rows; i++) {
      const row = i * cols;
      const g0 = dY.offset + i * gs0;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += gd[g0 + j * gs1] * yd[row + j];
      for (let j = 0; j < cols; j++) dxd[row + j] = yd[row + j] * (gd[g0 + j * gs1] - dot);
    }
    return dx;
  }
}
