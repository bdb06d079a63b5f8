/** The module contract shared by every layer, and the loss contract. */
import type { Tensor } from "@nabla/ndarray";

/**
 * A trainable tensor and its gradient. Both are contiguous with offset 0, so an
 * optimizer may work directly on `value.data` and `grad.data`.
 */
export interface Parameter {
  name: string;
  value: Tensor;
  grad: Tensor;
}

/**
 * A layer with an explicit backward pass.
 *
 * - `forward(x)` returns the output and remembers what `backward` needs (a reference
 *   to `x` or to its own output). The returned tensor is a buffer owned by the module
 *   and is overwritten by the next `forward` with the same batch shape; copy it if you
 *   need to keep it. The caller must not modify `x` between `forward` and `backward`.
 * - `backward(dY)` takes dL/dY for the last forward, ACCUMULATES dL/dθ into each
 *   parameter's `grad` (like PyTorch: call `zeroGrad()` before each step), and returns
 *   dL/dX, or null when the module was told not to compute it.
 */
export interface Module {
  forward(x: Tensor): Tensor;
  backward(dY: Tensor): Tensor | null;
  parameters(): Parameter[];
  zeroGrad(): void;
}

/**
 * A loss on a 2-D [batch, classes] input and integer class labels. `forward` returns
 * the mean loss over the batch; `backward()` returns dL/dinput for that forward.
 */
export interface Loss {
  forward(input: Tensor, labels: ArrayLike<number>): number;
  backward(): Tensor;
}
