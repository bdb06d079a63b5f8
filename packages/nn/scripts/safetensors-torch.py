"""Loads a nabla safetensors checkpoint into torch and prints eval-mode logits, as an independent reader.

    /usr/bin/python3 scripts/safetensors-torch.py CHECKPOINT INPUTS_JSON

The file is parsed with the standard library only (struct + json), not the safetensors package. Its
__metadata__ must hold "layers" (the nabla layer list, JSON), "inputDim" and "dtype"; the script builds
the same torch.nn.Sequential, load_state_dict(strict=True), eval(), and prints the logits for the
inputs (a JSON [batch, inputDim] array) as JSON on stdout.
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


def build(layers, in_dim):
    modules = []
    for spec in layers:
        name, config = (spec, {}) if isinstance(spec, str) else next(iter(spec.items()))
        if name == "linear":
            out = config if isinstance(config, int) else config["out"]
            modules.append(torch.nn.Linear(in_dim, out))
            in_dim = out
        elif name == "batchnorm1d":
            modules.append(
                torch.nn.BatchNorm1d(
                    in_dim,
                    eps=config.get("eps", 1e-5),
                    momentum=config.get("momentum", 0.1),
                    affine=config.get("affine", True),
                )
            )
        elif name == "relu":
            modules.append(torch.nn.ReLU())
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
    model = build(json.loads(metadata["layers"]), int(metadata["inputDim"])).to(dtype)
    model.load_state_dict(tensors, strict=True)
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor(inputs, dtype=dtype))
    print(json.dumps(logits.double().tolist()))


main()
