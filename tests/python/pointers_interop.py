#!/usr/bin/python3
"""Python side of the tests of shared objects and polymorphism (tests/test_pointers.cpp,
tests/test_polymorphism.cpp).

Python's zanj has no shared objects: a ref item that zanj-cpp writes for the second and later
occurrences of an object,
    {"__muutils_format__": "zanj::object_ref", "same_as": "/nodes/0"}
is a plain dict to Python's loader, whose "same_as" is a JSON Pointer (RFC 6901) into the
loaded tree. Polymorphic objects are dataclass items of the derived class.

Usage
-----
    /usr/bin/python3 pointers_interop.py read ARCHIVE OUT.json
        Reads ARCHIVE with read_zanj.py (the strict reference reader) and writes to OUT.json
          {"tree": canonical tree (ref items stay dicts),
           "resolved": {JSON Pointer of each ref item: its "same_as"},
           "targets": {"same_as" of each ref: the canonical item it names}}
        after checking that every ref names an item that is not itself a ref and that comes
        before the ref in document order (what zanj-cpp writes).

    /usr/bin/python3 pointers_interop.py write OUTDIR
        Writes, with write_zanj.py's writer (Python's layout):
        - OUTDIR/pointers.zanj: {"nodes": 300 Node dataclasses (a .jsonl member), the last one's
          "next" a ref to /nodes/0; "by_name": {"first": ref to /nodes/0, "none": None};
          "last": ref to /nodes/7}
        - OUTDIR/shapes.zanj: {"shape": a Circle dataclass, "shapes": [Circle, Square, None],
          "alias": ref to /shape, "unknown": a Hexagon dataclass, which C++ does not register}

Exit status 0 on success, 1 with a message on stderr otherwise.
"""

import dataclasses
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import read_zanj  # noqa: E402
import write_zanj  # noqa: E402

FORMAT_KEY = write_zanj.FORMAT_KEY
REF_FORMAT = "zanj::object_ref"


def ref(pointer):
    return {FORMAT_KEY: REF_FORMAT, "same_as": pointer}


@dataclasses.dataclass
class Node(write_zanj.SerializableDataclass):
    name: str
    next: object = None


@dataclasses.dataclass
class Circle(write_zanj.SerializableDataclass):
    name: str
    r: float


@dataclasses.dataclass
class Square(write_zanj.SerializableDataclass):
    name: str
    side: float


@dataclasses.dataclass
class Hexagon(write_zanj.SerializableDataclass):
    name: str
    side: float


def pointer_text(path):
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def walk(node, path, found):
    """every node in document order, as (JSON Pointer, node)"""
    found.append((pointer_text(path), node))
    if isinstance(node, dict):
        for k, v in node.items():
            walk(v, path + (k,), found)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, path + (i,), found)


def follow(tree, pointer):
    """the node a JSON Pointer names: what a Python user writes to resolve a ref"""
    node = tree
    for step in pointer.split("/")[1:] if pointer else []:
        step = step.replace("~1", "/").replace("~0", "~")
        node = node[int(step)] if isinstance(node, list) else node[step]
    return node


def read(archive, out_path):
    tree = read_zanj.rebuild(read_zanj.read_archive(archive))
    nodes = []
    walk(tree, (), nodes)
    order = {pointer: i for i, (pointer, _) in enumerate(nodes)}
    resolved, targets = {}, {}
    for pointer, node in nodes:
        if not (isinstance(node, dict) and node.get(FORMAT_KEY) == REF_FORMAT):
            continue
        same_as = node["same_as"]
        target = follow(tree, same_as)
        if isinstance(target, dict) and target.get(FORMAT_KEY) == REF_FORMAT:
            raise read_zanj.ZanjError("the ref at %s names another ref, %s" % (pointer, same_as))
        if order[same_as] >= order[pointer] and not pointer.startswith(same_as + "/") and same_as != "":
            raise read_zanj.ZanjError("the ref at %s points forward, to %s" % (pointer, same_as))
        resolved[pointer] = same_as
        targets[same_as] = target
    text = read_zanj.canonical_json({"tree": tree, "resolved": resolved, "targets": targets}) + "\n"
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(text)


def write(outdir):
    os.makedirs(outdir, exist_ok=True)
    nodes = [Node("n%d" % i) for i in range(300)]
    nodes[299].next = ref("/nodes/0")
    pointers = {"nodes": nodes, "by_name": {"first": ref("/nodes/0"), "none": None}, "last": ref("/nodes/7")}
    write_zanj.ZanjWriter().save(pointers, os.path.join(outdir, "pointers.zanj"))
    shapes = {
        "shape": Circle("c", 1.5),
        "shapes": [Circle("c2", 2.0), Square("s", 3.0), None],
        "alias": ref("/shape"),
        "unknown": Hexagon("h", 1.0),
    }
    write_zanj.ZanjWriter().save(shapes, os.path.join(outdir, "shapes.zanj"))


def main(argv):
    if not ((len(argv) == 4 and argv[1] == "read") or (len(argv) == 3 and argv[1] == "write")):
        print(__doc__.split("Exit status")[0].rstrip(), file=sys.stderr)
        return 2
    try:
        if argv[1] == "read":
            read(argv[2], argv[3])
        else:
            write(argv[2])
    except (read_zanj.ZanjError, ValueError, TypeError, KeyError, IndexError) as e:
        print("pointers_interop.py: %s: ERROR: %s" % (argv[2], e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
