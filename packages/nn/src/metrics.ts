/** Classification metrics on logits (or probabilities). */
import type { Tensor } from "@nabla/ndarray";
import { fail } from "./errors.js";
import { expect2d } from "./tensors.js";

/**
 * Number of rows whose argmax equals the label. Ties go to the lowest index (like
 * numpy/PyTorch argmax). A row containing NaN counts as wrong, so a diverged model
 * scores 0 rather than whatever class a NaN comparison happens to favour.
 */
export function countCorrect(logits: Tensor, labels: ArrayLike<number>): number {
  const rows = expect2d(logits, "countCorrect: logits");
  if (labels.length !== rows) fail("countCorrect", `expected ${rows} labels, got ${labels.length}`);
  const cols = logits.shape[1];
  const { data, offset, stride } = logits;
  let correct = 0;
  for (let i = 0; i < rows; i++) {
    const base = offset + i * stride[0];
    let best = 0;
    let bestValue = data[base];
    let nan = Number.isNaN(bestValue);
    for (let j = 1; j < cols && !nan; j++) {
      const v = data[base + j * stride[1]];
      if (Number.isNaN(v)) nan = true;
      else if (v > bestValue) {
        bestValue = v;
        best = j;
      }
    }
    if (!nan && best === labels[i]) correct++;
  }
  return correct;
}

/** Fraction of rows whose argmax equals the label, in [0, 1]. */
export function accuracy(logits: Tensor, labels: ArrayLike<number>): number {
  return countCorrect(logits, labels) / logits.shape[0];
}
