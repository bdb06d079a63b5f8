/** Batch normalisation over the channels of an [N, C, H, W] input, with PyTorch's semantics. */
import { contiguous, type Tensor } from "@nabla/ndarray";
import { BatchNormBase, type BatchNormOptions } from "./batchnorm-core.js";
import { fail } from "./errors.js";
import { expectBatch, expectDtype, expectSameShape } from "./tensors.js";

/** momentum (default 0.1), eps (1e-5), affine (true) and dtype, as for BatchNorm1d. */
export type BatchNorm2dOptions = BatchNormOptions;

/** True when each [H, W] plane of the 4-D `t` is contiguous, the layout the per-channel loops read. */
function planesContiguous(t: Tensor): boolean {
  const [, , h, w] = t.shape;
  return (w === 1 || t.stride[3] === 1) && (h === 1 || t.stride[2] === w);
}

/**
 * PyTorch's BatchNorm2d: per channel, statistics over the N·H·W values of that channel (batch and both
 * spatial axes); everything else is {@link BatchNormBase}'s, so the state dict ("weight", "bias",
 * "running_mean", "running_var", "num_batches_tracked") loads into torch.nn.BatchNorm2d. Training needs
 * N·H·W ≥ 2 per channel, as in PyTorch (the unbiased variance of one value is undefined).
 *
 * Inputs whose [H, W] planes are not contiguous (a permuted view) are copied first; every layer's output,
 * and so the normal case, is read in place. Backward recomputes x̂ from the input instead of keeping a copy,
 * so forward keeps a reference to it (as the Module contract allows: the input must not change before
 * backward).
 */
export class BatchNorm2d extends BatchNormBase {
  constructor(channels: number, opts: BatchNorm2dOptions = {}) {
    super("BatchNorm2d", channels, opts, "channels");
  }

  forward(x: Tensor): Tensor {
    const where = "BatchNorm2d.forward: input";
    const n = expectBatch(x, where);
    if (x.shape.length !== 4 || x.shape[1] !== this.features) {
      fail(where, `expected a 4-D [N, ${this.features}, H, W] tensor, got shape [${x.shape}]`);
    }
    expectDtype(x, this.dtype, where);
    const plane = x.shape[2] * x.shape[3];
    if (this.training && n * plane < 2) {
      fail(
        "BatchNorm2d.forward",
        `training needs more than 1 value per channel (N·H·W), got shape [${x.shape}]`,
      );
    }
    const src = planesContiguous(x) ? x : contiguous(x);
    return this.normalise(src, n, plane, src.stride[0], src.stride[1], x.shape);
  }

  backward(dY: Tensor): Tensor {
    const y = this.lastOutput("BatchNorm2d.backward");
    expectSameShape(dY, y, "BatchNorm2d.backward", "dY");
    expectDtype(dY, this.dtype, "BatchNorm2d.backward: dY");
    const g = planesContiguous(dY) ? dY : contiguous(dY);
    return this.backpropagate(g, g.stride[0], g.stride[1]);
  }
}
