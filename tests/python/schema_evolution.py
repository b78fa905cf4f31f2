#!/usr/bin/python3
"""Schema evolution across languages, with the standard library and numpy only.

Usage
-----
    /usr/bin/python3 schema_evolution.py write OUT.zanj
    /usr/bin/python3 schema_evolution.py check IN.zanj

write   Saves, in Python zanj's layout (through write_zanj.py's writer), an *old* version of
        the dataclass `Experiment` that test_schema.cpp reads with a newer C++ struct: a field
        under its old name (`learning_rate`, now `lr`), a field C++ no longer has
        (`optimizer`), no `epochs` (added later in C++), and a 300-element array that becomes
        an external `.npy` member (`weights`).
check   Reads a versioned archive that C++ wrote and loads the `Experiment` at its root the
        way muutils' SerializableDataclass.load does (only the class's fields are taken, any
        other key is skipped) after zanj's loader lookup (exact format key, else a
        `startswith` check). Fails when the format key is not the plain
        "Experiment(SerializableDataclass)", when "__zanj_version__" is not an integer, or
        when the class cannot be built. Prints the loaded fields as JSON.
"""

import dataclasses
import json
import os
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import write_zanj  # noqa: E402  (the reference writer beside this script)

FORMAT_KEY = "__muutils_format__"


@dataclasses.dataclass
class Experiment(write_zanj.SerializableDataclass):
    """Version 1, as an older Python program defines it."""

    title: str
    learning_rate: float
    optimizer: str
    weights: np.ndarray


@dataclasses.dataclass
class ExperimentV2:
    """What a newer Python program that mirrors the C++ struct would load (no defaults for
    title and lr: a missing one fails the load, as in muutils)."""

    title: str
    lr: float
    epochs: int = 10
    tags: list = dataclasses.field(default_factory=list)


def write(path):
    obj = Experiment("from python", 0.25, "adam", np.arange(300, dtype=np.float32))
    write_zanj.ZanjWriter().save(obj, path)


def check(path):
    with zipfile.ZipFile(path) as zf:
        tree = json.loads(zf.read("__zanj__.json"))
        json.loads(zf.read("__zanj_meta__.json"))
    fmt = tree[FORMAT_KEY]
    uid = "Experiment(SerializableDataclass)"
    # zanj.loading.get_item_loader: the exact uid first, then the handler's startswith check.
    if fmt != uid:
        raise SystemExit("format key %r is not the plain %r: zanj's exact lookup would miss it" % (fmt, uid))
    version = tree.get("__zanj_version__")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SystemExit("__zanj_version__ is %r, not an integer" % (version,))
    # muutils SerializableDataclass.load: fields present in the data, extra keys ignored.
    kwargs = {f.name: tree[f.name] for f in dataclasses.fields(ExperimentV2) if f.name in tree}
    loaded = ExperimentV2(**kwargs)
    print(json.dumps({"version": version, "fields": dataclasses.asdict(loaded)}, sort_keys=True))


def main(argv):
    if len(argv) != 3 or argv[1] not in ("write", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    (write if argv[1] == "write" else check)(argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
