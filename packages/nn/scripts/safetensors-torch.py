"""Loads a nabla safetensors checkpoint into torch and prints eval-mode logits, as an independent reader.

    /usr/bin/python3 scripts/safetensors-torch.py CHECKPOINT INPUTS_JSON

The file is parsed with the standard library only (struct + json), not the safetensors package. Its
__metadata__ must hold "layers" (the nabla layer list, JSON), "featureShape" (JSON, e.g. [3, 32, 32]) or
"inputDim", and "dtype"; the script builds the same torch.nn.Sequential, load_state_dict(strict=True),
eval(), and prints the logits for the inputs (a JSON [batch, values per sample] array, reshaped to the
feature shape) as JSON on stdout.
"""
import json
import struct
import sys

import torch

DTYPES = {"F32": ("f", 4, torch.float32), "F64": ("d", 8, torch.float64), "I64": ("q", 8, torch.int64)}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n :]
    tensors = {}
    for name, entry in header.items():
        code, size, dtype = DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        count = (end - begin) // size
        values = struct.unpack("<%d%s" % (count, code), data[begin:end])
        tensors[name] = torch.tensor(values, dtype=dtype).reshape(entry["shape"])
    return tensors, metadata


def pair(value, default):
    """A nabla size: a number, [h, w], or absent."""
    if value is None:
        return (default, default)
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


class FlattenLinear(torch.nn.Linear):
    """nabla's Linear reads a sample of any shape flattened; torch's takes the last axis, so flatten first."""

    def forward(self, x):
        return super().forward(x.flatten(1))


def pooled(h, kernel, stride, padding):
    return (h + 2 * padding - kernel) // stride + 1


def build(layers, in_shape):
    """The torch.nn.Sequential of a nabla layer list (same indices, so the state dicts match)."""
    modules = []
    shape = list(in_shape)
    for spec in layers:
        name, config = (spec, {}) if isinstance(spec, str) else next(iter(spec.items()))
        if name == "linear":
            out = config if isinstance(config, int) else config["out"]
            modules.append(FlattenLinear(size(shape), out))
            shape = [out]
        elif name == "conv2d":
            kernel = pair(config["kernel"], 1)
            stride = pair(config.get("stride"), 1)
            padding = pair(config.get("padding"), 0)
            dilation = pair(config.get("dilation"), 1)
            modules.append(
                torch.nn.Conv2d(
                    shape[0], config["out"], kernel, stride=stride, padding=padding,
                    dilation=dilation, bias=config.get("bias", True),
                )
            )
            hw = [
                (shape[1 + a] + 2 * padding[a] - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1
                for a in (0, 1)
            ]
            shape = [config["out"], *hw]
        elif name in ("maxpool2d", "avgpool2d"):
            c = {"kernel": config} if isinstance(config, (int, list)) else config
            kernel = pair(c["kernel"], 1)
            stride = pair(c.get("stride"), None) if c.get("stride") is not None else kernel
            padding = pair(c.get("padding"), 0)
            cls = torch.nn.MaxPool2d if name == "maxpool2d" else torch.nn.AvgPool2d
            modules.append(cls(kernel, stride=stride, padding=padding))
            shape = [shape[0], *[pooled(shape[1 + a], kernel[a], stride[a], padding[a]) for a in (0, 1)]]
        elif name == "adaptiveavgpool2d":
            out = config.get("out", 1) if isinstance(config, dict) else config
            out = pair(out if out != {} else 1, 1)
            modules.append(torch.nn.AdaptiveAvgPool2d(out))
            shape = [shape[0], *out]
        elif name == "flatten":
            modules.append(torch.nn.Flatten())
            shape = [size(shape)]
        elif name in ("batchnorm1d", "batchnorm2d"):
            cls = torch.nn.BatchNorm1d if name == "batchnorm1d" else torch.nn.BatchNorm2d
            features = size(shape) if name == "batchnorm1d" else shape[0]
            modules.append(
                cls(
                    features,
                    eps=config.get("eps", 1e-5),
                    momentum=config.get("momentum", 0.1),
                    affine=config.get("affine", True),
                )
            )
        elif name == "relu":
            modules.append(torch.nn.ReLU())
        elif name == "tanh":
            modules.append(torch.nn.Tanh())
        elif name == "sigmoid":
            modules.append(torch.nn.Sigmoid())
        elif name == "gelu":
            modules.append(torch.nn.GELU())
        elif name == "leakyrelu":
            slope = config if isinstance(config, (int, float)) else config.get("negativeSlope", 0.01)
            modules.append(torch.nn.LeakyReLU(slope))
        elif name == "softmax":
            modules.append(torch.nn.Softmax(dim=1))
        elif name == "dropout":
            modules.append(torch.nn.Dropout(config if isinstance(config, (int, float)) else config["p"]))
        else:
            raise SystemExit("safetensors-torch.py: unknown layer %r" % name)
    return torch.nn.Sequential(*modules)


def main():
    tensors, metadata = read_safetensors(sys.argv[1])
    with open(sys.argv[2]) as f:
        inputs = json.load(f)
    dtype = torch.float64 if metadata["dtype"] == "float64" else torch.float32
    in_shape = json.loads(metadata["featureShape"]) if "featureShape" in metadata else [int(metadata["inputDim"])]
    model = build(json.loads(metadata["layers"]), in_shape).to(dtype)
    model.load_state_dict(tensors, strict=True)
    model.eval()
    with torch.no_grad():
        x = torch.tensor(inputs, dtype=dtype).reshape(-1, *in_shape)
        logits = model(x)
    print(json.dumps(logits.double().tolist()))


main()
