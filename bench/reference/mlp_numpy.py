"""Reference for `pnpm bench`: the homework's numpy MLP training step (explicit backward), float32.

Default step: batch 128, 3072-128-10, plain SGD, mean softmax cross-entropy. Synthetic data.
Prints one JSON line: {"samplesPerSecond": [...per repetition...], "version": ..., "gemmGflops": {shape: GFLOP/s}};
--serve for the bench's interleaved rounds (repetitions.py).
"""

import sys

import numpy as np
from gemm_shapes import gemm_gflops
from repetitions import run_repetitions

WARMUP_STEPS = 100
batch, dims, reps = 128, [3072, 128, 10], int(sys.argv[1]) if len(sys.argv) > 1 else 5
rng = np.random.default_rng(42)
x = rng.standard_normal((batch, dims[0]), dtype=np.float32)
labels = rng.integers(0, dims[-1], size=batch)
weights = [rng.standard_normal((o, i), dtype=np.float32) * np.float32(np.sqrt(2.0 / i)) for i, o in zip(dims, dims[1:])]
biases = [np.zeros(o, dtype=np.float32) for o in dims[1:]]
onehot = np.eye(dims[-1], dtype=np.float32)[labels]
lr = np.float32(0.01)


def step():
    # forward: Linear -> ReLU -> Linear -> softmax cross-entropy
    h_pre = x @ weights[0].T + biases[0]
    h = np.maximum(h_pre, 0)
    logits = h @ weights[1].T + biases[1]
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(batch), labels]).mean()
    # backward: (Y - T)/S, then the linear and ReLU backward passes (no dX for the first layer)
    d_logits = (probs - onehot) / batch
    d_w1 = d_logits.T @ h
    d_b1 = d_logits.sum(axis=0)
    d_h = d_logits @ weights[1]
    d_h_pre = d_h * (h_pre > 0)
    d_w0 = d_h_pre.T @ x
    d_b0 = d_h_pre.sum(axis=0)
    for p, g in ((weights[1], d_w1), (biases[1], d_b1), (weights[0], d_w0), (biases[0], d_b0)):
        p -= lr * g
    return loss


# Warm-up as long as every implementation's in the bench (V8 optimises nabla's step only after some steps).
for _ in range(WARMUP_STEPS):
    step()
run_repetitions(step, batch, reps, lambda: {
    "version": np.__version__,
    "gemmGflops": gemm_gflops(lambda r, c: rng.standard_normal((r, c), dtype=np.float32), lambda a, b: a @ b, 5)})
