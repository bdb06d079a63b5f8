/** PyTorch's nn.Flatten (start_dim 1): [N, d1, d2, …] → [N, d1·d2·…], the bridge from images to Linear. */
import { copyInto, type DType, isContiguous, reshape, type Tensor, zeros } from "@nabla/ndarray";
import { fail, NnError } from "./errors.js";
import { ModuleBase } from "./module.js";
import { BufferCache, dtypeOf, expectBatch, expectDtype } from "./tensors.js";

/**
 * Forward returns a view of the input and backward a view of dY in the input's shape, so neither copies
 * nor allocates a buffer: every layer's output and input gradient is contiguous. Only a strided tensor (a
 * transposed view, say) is copied, into a buffer kept per shape. A [N, features] input passes through.
 */
export class Flatten extends ModuleBase {
  private readonly copies = new BufferCache<Tensor>((shape, dtype) => zeros([...shape], dtype));
  private readonly gradCopies = new BufferCache<Tensor>((shape, dtype) => zeros([...shape], dtype));
  /** Shape and dtype of the last forward's input, which backward restores. */
  private inShape: number[] | null = null;
  private dtype: DType = "float32";

  forward(x: Tensor): Tensor {
    const where = "Flatten.forward: input";
    const n = expectBatch(x, where);
    this.dtype = dtypeOf(x, where);
    // Kept as a copy (the caller owns x.shape), replaced only when the shape changes.
    if (this.inShape === null || !sameDims(this.inShape, x.shape)) this.inShape = [...x.shape];
    const src = isContiguous(x) ? x : copyInto(this.copies.get(x.shape, this.dtype), x);
    return x.shape.length === 2 ? src : reshape(src, [n, src.size / n]);
  }

  backward(dY: Tensor): Tensor {
    const where = "Flatten.backward";
    const inShape = this.inShape;
    if (inShape === null) throw new NnError(`${where}: called before forward`);
    const features = inShape.reduce((p, d, i) => (i === 0 ? p : p * d), 1);
    if (!(dY.shape.length === 2 && dY.shape[0] === inShape[0] && dY.shape[1] === features)) {
      fail(where, `dY must have shape [${inShape[0]},${features}], got [${dY.shape}]`);
    }
    expectDtype(dY, this.dtype, `${where}: dY`);
    const g = isContiguous(dY) ? dY : copyInto(this.gradCopies.get(dY.shape, this.dtype), dY);
    return inShape.length === 2 ? g : reshape(g, inShape);
  }
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
