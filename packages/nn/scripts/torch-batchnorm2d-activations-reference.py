"""Writes test/fixtures/torch-batchnorm2d-activations.json, float64: PyTorch's BatchNorm2d over three
training steps (outputs, input/weight/bias gradients, running statistics and num_batches_tracked after
each), then eval, for the default options and for affine=False with other momentum/eps; the state-dict
keys; Tanh, Sigmoid, LeakyReLU (default and 0.2 slope) and GELU (approximate='none') forward and input
gradient; and erf at points across every branch of nabla's erf, correctly rounded from mpmath at 50
digits. Tensors are stored flat (row-major) with their shape. The nn tests feed the same inputs and must
reproduce every number. Run with a Python that has torch and mpmath:
    /usr/bin/python3 scripts/torch-batchnorm2d-activations-reference.py
"""
import json
import os

import mpmath
import numpy as np
import torch

rng = np.random.default_rng(2028)


def flat(t):
    return t.detach().reshape(-1).numpy().tolist()


def batchnorm_case(shape, steps, **options):
    n, c, h, w = shape
    bn = torch.nn.BatchNorm2d(c, **options).double()
    if bn.affine:
        with torch.no_grad():
            bn.weight.copy_(torch.tensor(rng.standard_normal(c) * 0.5 + 1))
            bn.bias.copy_(torch.tensor(rng.standard_normal(c) * 0.3))
    initial = {"weight": flat(bn.weight), "bias": flat(bn.bias)} if bn.affine else None
    # channels get their own offset and scale, so a mix-up of channels or axes shows
    offset = rng.standard_normal((1, c, 1, 1)) * 2
    scale = rng.uniform(0.5, 3, (1, c, 1, 1))

    def run(shift):
        x = torch.tensor(rng.standard_normal(shape) * scale + offset + shift, requires_grad=True)
        upstream = rng.standard_normal(shape)
        bn.zero_grad()
        y = bn(x)
        y.backward(torch.tensor(upstream))
        record = {"x": flat(x), "upstream": upstream.reshape(-1).tolist(), "y": flat(y), "dx": flat(x.grad)}
        if bn.affine:
            record["dweight"] = flat(bn.weight.grad)
            record["dbias"] = flat(bn.bias.grad)
        return record

    bn.train()
    records = []
    for step in range(steps):
        record = run(0.5 * step)
        record["running_mean"] = flat(bn.running_mean)
        record["running_var"] = flat(bn.running_var)
        record["num_batches_tracked"] = int(bn.num_batches_tracked.item())
        records.append(record)
    bn.eval()
    evaluation = run(0.0)
    return {
        "shape": list(shape),
        "options": {"momentum": bn.momentum, "eps": bn.eps, "affine": bn.affine},
        "initial": initial,
        "steps": records,
        "eval": evaluation,
        "stateDictKeys": list(bn.state_dict().keys()),
    }


batchnorm2d = batchnorm_case((3, 3, 4, 5), 3)
# W = 1 and a small batch: N·H·W = 6 values per channel
batchnorm2d_plain = batchnorm_case((2, 4, 3, 1), 3, momentum=0.3, eps=1e-3, affine=False)

# Activations on values of every magnitude, including 0 and saturation.
act_shape = (2, 3, 4, 5)
x = rng.standard_normal(act_shape) * 3
x.reshape(-1)[:12] = [0.0, 1e-3, -1e-3, 8.0, -8.0, 20.0, -20.0, 40.0, -40.0, 0.5, -0.5, 1e-9]
act_upstream = rng.standard_normal(act_shape)
modules = {
    "tanh": torch.nn.Tanh(),
    "sigmoid": torch.nn.Sigmoid(),
    "leakyrelu": torch.nn.LeakyReLU(),
    "leakyrelu0.2": torch.nn.LeakyReLU(0.2),
    "gelu": torch.nn.GELU(approximate="none"),
}
activations = {"shape": list(act_shape), "x": x.reshape(-1).tolist(), "upstream": act_upstream.reshape(-1).tolist()}
for name, module in modules.items():
    xt = torch.tensor(x, requires_grad=True)
    y = module(xt)
    y.backward(torch.tensor(act_upstream))
    activations[name] = {"y": flat(y), "dx": flat(xt.grad)}

# erf: a grid, every branch boundary of the fdlibm method from both sides, tiny and subnormal inputs.
mpmath.mp.dps = 50
points = set(np.linspace(-7, 7, 281).tolist())
points.update(rng.uniform(-6.5, 6.5, 200).tolist())
points.update(rng.uniform(-1.5, 1.5, 100).tolist())
for b in [2.0 ** -1015, 2.0 ** -28, 0.84375, 1.25, 2.8571434020996094, 6.0]:
    for v in [b, np.nextafter(b, 0.0), np.nextafter(b, 10.0), b * (1 + 1e-9), b * (1 - 1e-9)]:
        points.update([float(v), -float(v)])
points.update([0.0, 5e-324, 1e-310, 1e-300, 1e-20, 3e-9, 1e-5, 0.1, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 5.9, 27.0, 30.0])
erf_x = sorted(points)
erf = {"x": erf_x, "erf": [float(mpmath.erf(mpmath.mpf(v))) for v in erf_x]}

out = {
    "source": f"torch {torch.__version__}, mpmath {mpmath.__version__}, "
    "scripts/torch-batchnorm2d-activations-reference.py, numpy seed 2028",
    "batchnorm2d": batchnorm2d,
    "batchnorm2dPlain": batchnorm2d_plain,
    "activations": activations,
    "erf": erf,
}
path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "torch-batchnorm2d-activations.json")
with open(path + ".tmp", "w") as f:
    json.dump(out, f)
os.replace(path + ".tmp", path)
print("wrote", os.path.normpath(path))
