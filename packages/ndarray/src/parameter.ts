import type { Tensor } from "./tensor.js";

/**
 * A trainable tensor and its gradient, the one parameter type shared by @nabla/nn (which creates them) and
 * @nabla/optim (which updates them). It lives here, below both, so neither has to import the other. Both
 * tensors are contiguous with offset 0, so an optimizer may work directly on `value.data` and `grad.data`.
 */
export interface Parameter {
  name: string;
  value: Tensor;
  grad: Tensor;
}
