/**
 * What comparing this package's MLP with nabla's needs: nabla's weights in this package's layout, and the
 * norm-wise difference measure. The cross-check itself (reports/hw1) trains nabla's side with the runner.
 */
import { toFloat32 } from "@nabla/ndarray";
import type { MLP } from "@nabla/nn";
import { TfjsMlpError } from "./errors.js";
import type { TfjsLayerWeights } from "./mlp.js";

/** max |a-b| / max |b| (norm-wise relative difference; elementwise would blow up near zero entries). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new TfjsMlpError(`maxRelDiff: lengths ${a.length} and ${b.length} differ`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

/** The parameters of a nabla MLP in the layer layout createTfjsMlp takes (copies, float32). */
export function nablaMlpWeights(mlp: MLP): TfjsLayerWeights[] {
  return mlp.layers.map((layer) => {
    const [outDim, inDim] = layer.weight.shape;
    return {
      weight: toFloat32(layer.weight).data.slice(),
      bias: toFloat32(layer.bias).data.slice(),
      inDim,
      outDim,
    };
  });
}
