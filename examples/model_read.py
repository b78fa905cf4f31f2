#!/usr/bin/python3
"""Opens a model saved by examples/model.cpp (or any ConfiguredModel file) with only the
standard library and numpy, and prints its class, config, training records and weight shapes.

Usage: /usr/bin/python3 examples/model_read.py model-out/mlp.zanj
"""

import json
import sys
import zipfile

import numpy as np

FORMAT_KEY = "__muutils_format__"


def weight(archive, item):
    """An entry of the state dict as a numpy array (None for a shared parameter)."""
    fmt = item.get(FORMAT_KEY, "")
    if fmt.endswith(":external"):
        with archive.open(item["$ref"]) as f:
            return np.load(f, allow_pickle=False)
    if fmt.endswith(":array_list_meta") or fmt.endswith(":zero_dim"):
        return np.array(item["data"], dtype=item["dtype"].replace("torch.", "")).reshape(item["shape"])
    return None


def main(path):
    with zipfile.ZipFile(path) as archive:
        tree = json.loads(archive.read("__zanj__.json"))
        config = {k: v for k, v in tree["zanj_model_config"].items() if k != FORMAT_KEY}
        print("class:", tree[FORMAT_KEY], "with", tree["meta"]["num_params"], "parameters")
        print("config:", json.dumps(config))
        records = tree.get("training_records") or {}
        if isinstance(records, dict) and "loss" in records:
            print("loss: %d steps, %.4f -> %.4f" % (len(records["loss"]), records["loss"][0], records["loss"][-1]))
        for name, item in tree["state_dict"].items():
            w = weight(archive, item)
            if w is None:
                print("  %-12s shares %s" % (name, item.get("same_as")))
            else:
                print("  %-12s %-8s %s" % (name, w.dtype, w.shape))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
