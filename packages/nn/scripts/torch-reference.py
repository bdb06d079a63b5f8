"""Writes test/fixtures/torch-reference.json: PyTorch's (autograd) outputs and gradients for an
MLP, Softmax and the losses, on fixed random inputs, float64. The nn tests load the same inputs
and weights and must reproduce every number. Run with a Python that has torch:
    /usr/bin/python3 scripts/torch-reference.py
"""
import json
import os

import numpy as np
import torch

rng = np.random.default_rng(2026)
batch, dims = 4, [6, 5, 4, 3]

x = rng.standard_normal((batch, dims[0]))
labels = rng.integers(0, dims[-1], size=batch)
weights = [rng.standard_normal((dims[k + 1], dims[k])) * 0.7 for k in range(3)]
biases = [rng.standard_normal(dims[k + 1]) * 0.3 for k in range(3)]

# MLP: Linear -> ReLU -> Linear -> ReLU -> Linear, mean cross-entropy on the logits.
ws = [torch.tensor(w, requires_grad=True) for w in weights]
bs = [torch.tensor(b, requires_grad=True) for b in biases]
xt = torch.tensor(x, requires_grad=True)
h = xt
for k in range(3):
    h = torch.nn.functional.linear(h, ws[k], bs[k])
    if k < 2:
        h = torch.relu(h)
logits = h
loss = torch.nn.functional.cross_entropy(logits, torch.tensor(labels), reduction="mean")
loss.backward()

# Softmax backward with a random upstream gradient, and cross-entropy on probabilities.
z = torch.tensor(rng.standard_normal((batch, 5)) * 2, requires_grad=True)
upstream = rng.standard_normal((batch, 5))
probs = torch.softmax(z, dim=1)
probs.backward(torch.tensor(upstream))
p = torch.tensor(torch.softmax(torch.tensor(rng.standard_normal((batch, 5))), dim=1).numpy(), requires_grad=True)
ce_labels = rng.integers(0, 5, size=batch)
ce = torch.nn.functional.nll_loss(torch.log(p), torch.tensor(ce_labels), reduction="mean")
ce.backward()

out = {
    "source": f"torch {torch.__version__}, scripts/torch-reference.py, numpy seed 2026",
    "mlp": {
        "dims": dims,
        "x": x.tolist(),
        "labels": labels.tolist(),
        "weights": [w.tolist() for w in weights],
        "biases": [b.tolist() for b in biases],
        "logits": logits.detach().numpy().tolist(),
        "loss": loss.item(),
        "weightGrads": [w.grad.numpy().tolist() for w in ws],
        "biasGrads": [b.grad.numpy().tolist() for b in bs],
        "inputGrad": xt.grad.numpy().tolist(),
    },
    "softmax": {
        "z": z.detach().numpy().tolist(),
        "upstream": upstream.tolist(),
        "y": probs.detach().numpy().tolist(),
        "dz": z.grad.numpy().tolist(),
    },
    "crossEntropy": {
        "p": p.detach().numpy().tolist(),
        "labels": ce_labels.tolist(),
        "loss": ce.item(),
        "dp": p.grad.numpy().tolist(),
    },
}
path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "torch-reference.json")
with open(path + ".tmp", "w") as f:
    json.dump(out, f, indent=1)
os.replace(path + ".tmp", path)
print("wrote", os.path.normpath(path))
