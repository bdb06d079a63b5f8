"""GFLOP/s of the default step's GEMM shapes for `pnpm bench`'s limit (imported by the reference scripts).

Each entry: (name, m, n, k) of C = op(A) op(B) as the training step calls it; `matmul` is the library's
product of two float32 arrays/tensors and must return C.
"""

import time

SHAPES = [("layer 1 forward X·W1ᵀ", 128, 128, 3072), ("layer 1 weight grad dYᵀ·X", 128, 3072, 128),
          ("layer 2 input grad dY·W2", 128, 128, 10)]


def gemm_gflops(make, matmul, reps):
    """make(rows, cols) -> array; matmul(a, b) -> a @ b. Median GFLOP/s of `reps` batches per shape."""
    out = {}
    for name, m, n, k in SHAPES:
        a, b = make(m, k), make(k, n)
        flop = 2 * m * n * k
        iterations = max(5, int(2e9 / flop) // 4)
        matmul(a, b)
        rates = []
        for _ in range(reps):
            t0 = time.perf_counter()
            for _ in range(iterations):
                matmul(a, b)
            rates.append(flop * iterations / (time.perf_counter() - t0) / 1e9)
        out[name] = sorted(rates)[len(rates) // 2]
    return out
