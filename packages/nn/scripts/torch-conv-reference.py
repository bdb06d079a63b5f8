"""Writes test/fixtures/torch-conv.json: PyTorch's Conv2d in float64 for several configs (stride, padding,
dilation, non-square kernels and inputs, no bias): the inputs, weights, bias and upstream gradient, and
torch's output and input/weight/bias gradients. The nn tests feed the same numbers and must reproduce
every one to ~1e-12. Also torch's default-init bounds (kaiming_uniform_(a=sqrt(5)) and the bias's).
Run with a Python that has torch:
    /usr/bin/python3 scripts/torch-conv-reference.py
"""
import json
import math
import os

import numpy as np
import torch

rng = np.random.default_rng(2028)

configs = [
    {"name": "3x3 padding 1", "batch": 2, "in": 3, "out": 4, "hw": [6, 6], "kernel": [3, 3],
     "stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "bias": True},
    {"name": "stride 2, non-square input", "batch": 2, "in": 2, "out": 3, "hw": [7, 9], "kernel": [3, 3],
     "stride": [2, 2], "padding": [1, 1], "dilation": [1, 1], "bias": True},
    {"name": "dilation 2, padding 2", "batch": 1, "in": 3, "out": 2, "hw": [8, 7], "kernel": [3, 3],
     "stride": [1, 1], "padding": [2, 2], "dilation": [2, 2], "bias": True},
    {"name": "no bias, 2x3 kernel, stride (2, 1), padding (0, 1)", "batch": 3, "in": 2, "out": 5,
     "hw": [5, 6], "kernel": [2, 3], "stride": [2, 1], "padding": [0, 1], "dilation": [1, 1], "bias": False},
    {"name": "1x1", "batch": 2, "in": 4, "out": 3, "hw": [3, 4], "kernel": [1, 1],
     "stride": [1, 1], "padding": [0, 0], "dilation": [1, 1], "bias": True},
    {"name": "mixed stride, padding, dilation", "batch": 2, "in": 3, "out": 4, "hw": [9, 10], "kernel": [3, 2],
     "stride": [2, 3], "padding": [1, 2], "dilation": [2, 1], "bias": True},
]

cases = []
for cfg in configs:
    conv = torch.nn.Conv2d(cfg["in"], cfg["out"], tuple(cfg["kernel"]), stride=tuple(cfg["stride"]),
                           padding=tuple(cfg["padding"]), dilation=tuple(cfg["dilation"]),
                           bias=cfg["bias"]).double()
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(rng.standard_normal(tuple(conv.weight.shape)) * 0.5))
        if cfg["bias"]:
            conv.bias.copy_(torch.tensor(rng.standard_normal(cfg["out"]) * 0.3))
    x = torch.tensor(rng.standard_normal((cfg["batch"], cfg["in"], *cfg["hw"])), requires_grad=True)
    y = conv(x)
    upstream = rng.standard_normal(tuple(y.shape))
    y.backward(torch.tensor(upstream))
    case = dict(cfg)
    case.update({
        "x": x.detach().numpy().ravel().tolist(),
        "weight": conv.weight.detach().numpy().ravel().tolist(),
        "bias": conv.bias.detach().numpy().tolist() if cfg["bias"] else None,
        "upstream": upstream.ravel().tolist(),
        "outShape": list(y.shape),
        "y": y.detach().numpy().ravel().tolist(),
        "dx": x.grad.numpy().ravel().tolist(),
        "dweight": conv.weight.grad.numpy().ravel().tolist(),
        "dbias": conv.bias.grad.numpy().tolist() if cfg["bias"] else None,
    })
    cases.append(case)

# torch's default init: weight ~ U(-b, b) with b = gain * sqrt(3 / fan_in), gain = calculate_gain("leaky_relu",
# sqrt(5)); bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)). Recorded with the extremes torch drew for a large layer.
torch.manual_seed(0)
init = []
for cin, cout, k in [(3, 32, (3, 3)), (64, 128, (3, 3)), (5, 7, (2, 4))]:
    conv = torch.nn.Conv2d(cin, cout, k)
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(conv.weight)
    gain = torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5))
    init.append({
        "in": cin, "out": cout, "kernel": list(k), "fanIn": fan_in,
        "weightBound": gain * math.sqrt(3.0 / fan_in), "biasBound": 1 / math.sqrt(fan_in),
        "weightMaxAbs": conv.weight.detach().abs().max().item(), "biasMaxAbs": conv.bias.detach().abs().max().item(),
    })

out = {
    "source": f"torch {torch.__version__}, scripts/torch-conv-reference.py, numpy seed 2028",
    "cases": cases,
    "init": init,
}
path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "torch-conv.json")
with open(path + ".tmp", "w") as f:
    json.dump(out, f, indent=1)
os.replace(path + ".tmp", path)
print("wrote", os.path.normpath(path))
