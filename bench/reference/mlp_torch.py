"""Reference for `pnpm bench`: the same MLP training step in PyTorch on CPU (autograd), float32.

Run with an interpreter that has torch (Debian: /usr/bin/python3 with python3-torch).
Arguments: repetitions, then the thread count (default: torch's own), and --serve for the bench's interleaved
rounds (repetitions.py). Prints one JSON line:
{"samplesPerSecond": [...], "version": ..., "threads": n, "gemmGflops": {shape: GFLOP/s}}.
"""

import sys

import torch
from gemm_shapes import gemm_gflops
from repetitions import run_repetitions

WARMUP_STEPS = 100
batch, dims, reps = 128, [3072, 128, 10], int(sys.argv[1]) if len(sys.argv) > 1 else 5
if len(sys.argv) > 2:
    torch.set_num_threads(int(sys.argv[2]))
torch.manual_seed(42)
x = torch.randn(batch, dims[0])
labels = torch.randint(0, dims[-1], (batch,))
model = torch.nn.Sequential(torch.nn.Linear(dims[0], dims[1]), torch.nn.ReLU(), torch.nn.Linear(dims[1], dims[2]))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
loss_fn = torch.nn.CrossEntropyLoss()


def step():
    optimizer.zero_grad(set_to_none=False)
    loss = loss_fn(model(x), labels)
    loss.backward()
    optimizer.step()


# Warm-up as long as every implementation's in the bench (V8 optimises nabla's step only after some steps).
for _ in range(WARMUP_STEPS):
    step()
run_repetitions(step, batch, reps, lambda: {
    "version": torch.__version__, "threads": torch.get_num_threads(),
    "gemmGflops": gemm_gflops(lambda r, c: torch.randn(r, c), torch.mm, 5)})
