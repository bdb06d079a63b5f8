"""Writes test/fixtures/torch-layers.json: PyTorch's BatchNorm1d over several training steps (outputs,
input/weight/bias gradients and running statistics after each step, then eval outputs and input
gradient) and Dropout with a given mask, float64. The nn tests feed the same inputs and must reproduce
every number. Run with a Python that has torch:
    /usr/bin/python3 scripts/torch-layers-reference.py
"""
import json
import os

import numpy as np
import torch

rng = np.random.default_rng(2027)
batch, features = 5, 3

bn = torch.nn.BatchNorm1d(features, momentum=0.1, eps=1e-5).double()
with torch.no_grad():
    bn.weight.copy_(torch.tensor(rng.standard_normal(features) * 0.5 + 1))
    bn.bias.copy_(torch.tensor(rng.standard_normal(features) * 0.3))
initial = {"weight": bn.weight.detach().numpy().tolist(), "bias": bn.bias.detach().numpy().tolist()}

steps = []
bn.train()
for step in range(3):
    x = torch.tensor(rng.standard_normal((batch, features)) * 2 + 0.5 * step, requires_grad=True)
    upstream = rng.standard_normal((batch, features))
    bn.zero_grad()
    y = bn(x)
    y.backward(torch.tensor(upstream))
    steps.append({
        "x": x.detach().numpy().tolist(),
        "upstream": upstream.tolist(),
        "y": y.detach().numpy().tolist(),
        "dx": x.grad.numpy().tolist(),
        "dweight": bn.weight.grad.numpy().tolist(),
        "dbias": bn.bias.grad.numpy().tolist(),
        "running_mean": bn.running_mean.numpy().tolist(),
        "running_var": bn.running_var.numpy().tolist(),
        "num_batches_tracked": int(bn.num_batches_tracked.item()),
    })

bn.eval()
x = torch.tensor(rng.standard_normal((batch, features)), requires_grad=True)
upstream = rng.standard_normal((batch, features))
bn.zero_grad()
y = bn(x)
y.backward(torch.tensor(upstream))
evaluation = {
    "x": x.detach().numpy().tolist(),
    "upstream": upstream.tolist(),
    "y": y.detach().numpy().tolist(),
    "dx": x.grad.numpy().tolist(),
    "dweight": bn.weight.grad.numpy().tolist(),
    "dbias": bn.bias.grad.numpy().tolist(),
}

# Dropout: torch draws its own mask, so the fixture checks the formula it applies, x * mask / (1 - p),
# with a fixed mask, through autograd.
p = 0.3
dx_in = torch.tensor(rng.standard_normal((4, 6)), requires_grad=True)
mask = torch.tensor((rng.uniform(size=(4, 6)) >= p).astype(np.float64))
d_up = rng.standard_normal((4, 6))
d_out = dx_in * mask / (1 - p)
d_out.backward(torch.tensor(d_up))
drop = torch.nn.Dropout(p)
drop.eval()
dropout = {
    "p": p,
    "x": dx_in.detach().numpy().tolist(),
    "mask": mask.numpy().tolist(),
    "upstream": d_up.tolist(),
    "y": d_out.detach().numpy().tolist(),
    "dx": dx_in.grad.numpy().tolist(),
    "evalY": drop(dx_in).detach().numpy().tolist(),
}

out = {
    "source": f"torch {torch.__version__}, scripts/torch-layers-reference.py, numpy seed 2027",
    "batchnorm": {"features": features, "momentum": 0.1, "eps": 1e-5, "initial": initial, "steps": steps, "eval": evaluation},
    "dropout": dropout,
}
path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "torch-layers.json")
with open(path + ".tmp", "w") as f:
    json.dump(out, f, indent=1)
os.replace(path + ".tmp", path)
print("wrote", os.path.normpath(path))
