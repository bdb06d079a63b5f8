/** Batch normalisation over the batch axis of a [batch, features] input, with PyTorch's semantics. */
import type { Tensor } from "@nabla/ndarray";
import { BatchNormBase, type BatchNormOptions } from "./batchnorm-core.js";
import { fail } from "./errors.js";
import { expect2d, expectDtype, expectSameShape } from "./tensors.js";

/** momentum (default 0.1), eps (1e-5), affine (true) and dtype. */
export type BatchNorm1dOptions = BatchNormOptions;

/** Batch normalisation of each feature of a [batch, features] input over the batch (see {@link BatchNormBase}). */
export class BatchNorm1d extends BatchNormBase {
  constructor(features: number, opts: BatchNorm1dOptions = {}) {
    super("BatchNorm1d", features, opts, "features");
  }

  forward(x: Tensor): Tensor {
    const rows = expect2d(x, "BatchNorm1d.forward: input", this.features);
    expectDtype(x, this.dtype, "BatchNorm1d.forward: input");
    if (this.training && rows < 2) {
      fail("BatchNorm1d.forward", `training needs more than 1 row per feature, got shape [${x.shape}]`);
    }
    return this.normalise(x, rows, 1, x.stride[0], x.stride[1], [rows, this.features]);
  }

  backward(dY: Tensor): Tensor {
    const y = this.lastOutput("BatchNorm1d.backward");
    expectSameShape(dY, y, "BatchNorm1d.backward", "dY");
    expectDtype(dY, this.dtype, "BatchNorm1d.backward: dY");
    return this.backpropagate(dY, dY.stride[0], dY.stride[1]);
  }
}
