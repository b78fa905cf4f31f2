#!/usr/bin/python3
"""Writes a model file the way Python's zanj.torchutil.ConfiguredModel.save lays it out.

Usage: /usr/bin/python3 write_model.py OUT.zanj WEIGHTS.npz

OUT.zanj holds a model of class "TinyNet" (config TinyNetConfig(SerializableDataclass),
meta with the keys Python writes, training records, and a state dict of torch tensors:
external ones as torch.Tensor:external members with "torch.float32" dtypes, small ones inline
as torch.Tensor:array_list_meta). WEIGHTS.npz holds the same parameters, written by numpy, for
the C++ test to compare with. torch and zanj are not needed: write_zanj.py re-implements the
serializer following FORMAT.md.
"""

import dataclasses
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from write_zanj import FORMAT_KEY, FakeTorchTensor, SerializableDataclass, ZanjWriter  # noqa: E402


@dataclasses.dataclass
class TinyNetConfig(SerializableDataclass):
    n_in: int
    n_hidden: int
    n_out: int
    activation: str
    dropout: float


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, weights = argv[1], argv[2]
    cfg = TinyNetConfig(n_in=32, n_hidden=16, n_out=3, activation="relu", dropout=0.1)
    rng = np.random.default_rng(5)
    state = {
        "fc1.weight": rng.standard_normal((16, 32)).astype(np.float32),  # 512 elements: external
        "fc1.bias": rng.standard_normal(16).astype(np.float32),  # inline
        "fc2.weight": rng.standard_normal((3, 16)).astype(np.float32),
        "fc2.bias": np.zeros(3, dtype=np.float32),
        "scale": rng.standard_normal((8, 40)).astype(np.float64),  # external float64
    }
    num_params = sum(int(a.size) for a in state.values())
    model = {
        # ConfiguredModel.serialize: config, meta, training_records, state_dict, then the format
        "zanj_model_config": cfg,
        "meta": {
            "class_name": "TinyNet",
            "class_doc": ["a tiny test network"],
            "class_source": ["class TinyNet(ConfiguredModel[TinyNetConfig]):", "    ..."],
            "module_name": "__main__",
            "module_mro": ["<class '__main__.TinyNet'>", "<class 'zanj.torchutil.ConfiguredModel'>"],
            "num_params": num_params,
            "as_str": ["TinyNet(", "  (fc1): Linear(in_features=32, out_features=16, bias=True)", ")"],
        },
        "training_records": {"loss": [1.5, 0.75, 0.5], "epochs": 3},
        "state_dict": {k: FakeTorchTensor(v) for k, v in state.items()},
        FORMAT_KEY: "TinyNet",
    }
    ZanjWriter().save(model, out)
    np.savez(weights, **state)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
