"""Writes test/fixtures/torch-cnn.json: a small CNN (conv2d, batchnorm2d, relu, maxpool2d, conv2d without bias,
batchnorm2d, relu, adaptiveavgpool2d, flatten, linear) in float64, trained 3 steps with torch.optim.SGD
(momentum 0.9, weight decay 1e-4) on mean cross-entropy. Records the initial weights, inputs and labels, and per
step the loss, the logits, every parameter and the BatchNorm running stats after the step; then the eval-mode
logits on a new batch. src/cnn-torch.test.ts reproduces every number. Run with a Python that has torch:
    /usr/bin/python3 scripts/torch-cnn-reference.py
"""
import json
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(2031)

net = torch.nn.Sequential(
    torch.nn.Conv2d(3, 4, 3, padding=1),
    torch.nn.BatchNorm2d(4),
    torch.nn.ReLU(),
    torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(4, 6, 3, stride=1, padding=1, bias=False),
    torch.nn.BatchNorm2d(6),
    torch.nn.ReLU(),
    torch.nn.AdaptiveAvgPool2d(1),
    torch.nn.Flatten(),
    torch.nn.Linear(6, 5),
).double()

with torch.no_grad():
    for name, p in net.named_parameters():
        if name.startswith(("1.", "5.")):
            # BatchNorm affine: away from the (1, 0) default so the test would catch a dropped gamma or beta
            base = 1.0 if name.endswith("weight") else 0.0
            p.copy_(torch.tensor(base + rng.standard_normal(tuple(p.shape)) * 0.2))
        else:
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.4))


def state():
    return {k: v.detach().numpy().ravel().tolist() for k, v in net.state_dict().items()}


def shapes():
    return {k: list(v.shape) for k, v in net.state_dict().items()}


initial = state()
lr = 0.1
opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
batches = []
labels = []
steps = []
net.train()
for _ in range(3):
    x = torch.tensor(rng.standard_normal((4, 3, 8, 8)))
    y = torch.tensor(rng.integers(0, 5, size=4))
    opt.zero_grad()
    logits = net(x)
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    opt.step()
    batches.append(x.numpy().ravel().tolist())
    labels.append(y.numpy().tolist())
    steps.append({"loss": loss.item(), "logits": logits.detach().numpy().ravel().tolist(), "state": state()})

net.eval()
x_eval = torch.tensor(rng.standard_normal((3, 3, 8, 8)))
with torch.no_grad():
    eval_logits = net(x_eval)

fixture = {
    "lr": lr,
    "momentum": 0.9,
    "weightDecay": 1e-4,
    "shapes": shapes(),
    "initial": initial,
    "batches": batches,
    "labels": labels,
    "steps": steps,
    "evalX": x_eval.numpy().ravel().tolist(),
    "evalLogits": eval_logits.numpy().ravel().tolist(),
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "torch-cnn.json")
with open(out, "w") as f:
    json.dump(fixture, f)
print("wrote", os.path.normpath(out))
