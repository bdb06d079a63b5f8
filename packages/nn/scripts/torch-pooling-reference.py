"""Writes test/fixtures/torch-pooling.json: PyTorch's MaxPool2d (outputs, argmax indices, input gradients),
AvgPool2d and AdaptiveAvgPool2d (outputs, input gradients) in float64 over several configs: kernel 2 stride 2,
overlapping windows, padding, odd and non-square sizes, rectangular kernels, output sizes that do not divide
the input, and max-pool inputs with ties (small integers) where the gradient must go to the first maximum.
Arrays are flat, row-major, with their shapes. The nn tests feed the same inputs and must reproduce every
number. Run with a Python that has torch:
    /usr/bin/python3 scripts/torch-pooling-reference.py
"""
import json
import os

import numpy as np
import torch

rng = np.random.default_rng(2031)
F = torch.nn.functional


def flat(t):
    return t.detach().reshape(-1).tolist()


def case(name, kind, config, shape, ties=False):
    if ties:
        x = rng.integers(0, 3, size=shape).astype(np.float64)
    else:
        x = rng.standard_normal(shape)
    xt = torch.tensor(x, requires_grad=True)
    extra = {}
    if kind == "maxpool2d":
        y, idx = F.max_pool2d(xt, config["kernel"], config.get("stride"), config.get("padding", 0),
                              return_indices=True)
        extra["indices"] = idx.reshape(-1).tolist()
    elif kind == "avgpool2d":
        y = F.avg_pool2d(xt, config["kernel"], config.get("stride"), config.get("padding", 0))
    else:
        y = torch.nn.AdaptiveAvgPool2d(config["out"])(xt)
    upstream = rng.standard_normal(tuple(y.shape))
    if ties:
        upstream = rng.integers(1, 5, size=tuple(y.shape)).astype(np.float64)
    y.backward(torch.tensor(upstream))
    return {"name": name, "kind": kind, "config": config, "shape": list(shape), "outShape": list(y.shape),
            "x": x.reshape(-1).tolist(), "upstream": upstream.reshape(-1).tolist(), "y": flat(y),
            "dx": flat(xt.grad), **extra}


cases = [
    case("max k2", "maxpool2d", {"kernel": 2}, (2, 3, 6, 6)),
    case("max k2 odd sizes", "maxpool2d", {"kernel": 2}, (1, 2, 5, 7)),
    case("max k3 s2 p1 (overlap, padding)", "maxpool2d", {"kernel": 3, "stride": 2, "padding": 1}, (2, 2, 7, 5)),
    case("max k3 s1 (overlap)", "maxpool2d", {"kernel": 3, "stride": 1}, (1, 2, 5, 6)),
    case("max k[2,3] s[1,2] p[1,1]", "maxpool2d", {"kernel": [2, 3], "stride": [1, 2], "padding": [1, 1]},
         (1, 2, 5, 7)),
    case("max k2 ties", "maxpool2d", {"kernel": 2}, (2, 2, 6, 6), ties=True),
    case("max k3 s1 p1 ties (overlap)", "maxpool2d", {"kernel": 3, "stride": 1, "padding": 1}, (1, 2, 5, 5),
         ties=True),
    case("max k3 s2 ties", "maxpool2d", {"kernel": 3, "stride": 2}, (1, 3, 7, 7), ties=True),
    case("avg k2", "avgpool2d", {"kernel": 2}, (2, 3, 6, 6)),
    case("avg k2 odd sizes", "avgpool2d", {"kernel": 2}, (1, 2, 5, 7)),
    case("avg k3 s2 p1 (count_include_pad)", "avgpool2d", {"kernel": 3, "stride": 2, "padding": 1}, (2, 2, 7, 5)),
    case("avg k3 s1 (overlap)", "avgpool2d", {"kernel": 3, "stride": 1}, (1, 2, 5, 6)),
    case("avg k[2,3] s[2,1] p[1,1]", "avgpool2d", {"kernel": [2, 3], "stride": [2, 1], "padding": [1, 1]},
         (1, 2, 5, 7)),
    case("adaptive 1 (global)", "adaptiveavgpool2d", {"out": 1}, (2, 3, 5, 7)),
    case("adaptive [3,2] (uneven, overlapping)", "adaptiveavgpool2d", {"out": [3, 2]}, (2, 2, 7, 5)),
    case("adaptive [2,3] (divides)", "adaptiveavgpool2d", {"out": [2, 3]}, (1, 2, 6, 6)),
    case("adaptive 4 on 3x3 (repeats)", "adaptiveavgpool2d", {"out": 4}, (1, 2, 3, 3)),
]

out = {"source": f"torch {torch.__version__}, scripts/torch-pooling-reference.py, numpy seed 2031", "cases": cases}
path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "torch-pooling.json")
with open(path + ".tmp", "w") as f:
    json.dump(out, f, indent=1)
os.replace(path + ".tmp", path)
print("wrote", os.path.normpath(path))
