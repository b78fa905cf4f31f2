#!/usr/bin/python3
"""A reader and a writer of .safetensors files written from the format's specification (the
"Format" section of https://github.com/huggingface/safetensors), with numpy only: the tests'
independent reference for zanj's safetensors code (there is no safetensors package here).

The format: 8 bytes N (little-endian u64), N bytes of UTF-8 JSON starting with '{' (trailing
spaces allowed), then the byte buffer. The JSON maps each tensor name to {"dtype", "shape",
"data_offsets": [begin, end]} (offsets into the buffer), plus an optional "__metadata__" map of
strings to strings. Duplicate keys are disallowed, N is capped at 100,000,000, and the tensors
must cover the buffer exactly: no overlap, no hole, nothing after the last one.

usage:
  safetensors_ref.py dump FILE          print the file as JSON: {"header_size", "metadata",
                                        "order" (names in data order), "tensors": {name:
                                        {"dtype", "shape", "hex"}}}; exit 1 with the reason
                                        when the file breaks the format
  safetensors_ref.py write-samples DIR  write sample files into DIR (created if missing) and
                                        DIR/expected.json, in the "tensors"/"metadata" form of dump
  safetensors_ref.py refuses FILE...    print {file: the reason the file breaks the format, or
                                        null when it is a valid file} as JSON
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np

MAX_HEADER_SIZE = 100_000_000

# Name -> numpy dtype holding the elements (BF16 and the float8 types as their bits), in the
# reference implementation's order of increasing alignment.
DTYPES = {
    "BOOL": np.dtype("?"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "F8_E5M2": np.dtype("u1"),
    "F8_E4M3": np.dtype("u1"),
    "I16": np.dtype("<i2"),
    "U16": np.dtype("<u2"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I32": np.dtype("<i4"),
    "U32": np.dtype("<u4"),
    "F32": np.dtype("<f4"),
    "C64": np.dtype("<c8"),
    "F64": np.dtype("<f8"),
    "I64": np.dtype("<i8"),
    "U64": np.dtype("<u8"),
}
RANK = {name: i for i, name in enumerate(DTYPES)}


class FormatError(Exception):
    pass


def _no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise FormatError(f"duplicate key {k!r}")
        d[k] = v
    return d


def _is_uint(x):
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def load(path):
    """Returns (tensors, metadata, info): tensors maps name -> (dtype name, numpy array)."""
    raw = Path(path).read_bytes()
    if len(raw) < 8:
        raise FormatError("shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > MAX_HEADER_SIZE:
        raise FormatError(f"header length {n} exceeds {MAX_HEADER_SIZE}")
    if 8 + n > len(raw):
        raise FormatError(f"header length {n} runs past the end of the file")
    try:
        text = raw[8 : 8 + n].decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"header is not UTF-8: {e}")
    if not text.startswith("{"):
        raise FormatError("header does not start with '{'")
    try:
        header = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise FormatError(f"header is not JSON: {e}")
    if not isinstance(header, dict):
        raise FormatError("header is not an object")

    metadata = header.pop("__metadata__", None)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            raise FormatError("__metadata__ is not a map of strings to strings")
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
            raise FormatError(f"tensor {name!r}: needs dtype, shape and data_offsets")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in DTYPES:
            raise FormatError(f"tensor {name!r}: unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(_is_uint(x) for x in shape):
            raise FormatError(f"tensor {name!r}: bad shape {shape!r}")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_is_uint(x) for x in offsets)
            or offsets[0] > offsets[1]
        ):
            raise FormatError(f"tensor {name!r}: bad data_offsets {offsets!r}")
        nbytes = int(np.prod(shape, dtype=object)) * DTYPES[dtype].itemsize
        if nbytes != offsets[1] - offsets[0]:
            raise FormatError(f"tensor {name!r}: shape {shape} of {dtype} needs {nbytes} bytes, offsets give {offsets}")
        entries.append((offsets[0], offsets[1], name, dtype, shape))

    buffer = raw[8 + n :]
    entries.sort(key=lambda e: (e[0], e[1]))
    end = 0
    for begin, stop, name, _, _ in entries:
        if begin != end:
            raise FormatError(f"tensor {name!r}: begins at {begin}, the previous tensor ends at {end}")
        end = stop
    if end != len(buffer):
        raise FormatError(f"tensors cover {end} bytes, the buffer holds {len(buffer)}")

    tensors = {}
    for begin, stop, name, dtype, shape in entries:
        tensors[name] = (dtype, np.frombuffer(buffer[begin:stop], dtype=DTYPES[dtype]).reshape(shape))
    return tensors, metadata or {}, {"header_size": n, "order": [e[2] for e in entries]}


def save(path, tensors, metadata=None, layout="reference"):
    """Writes tensors (name -> (dtype name, array)). layout "reference" orders the data as the
    reference writer does (decreasing alignment, then name); "given" keeps the dict's order."""
    items = list(tensors.items())
    if layout == "reference":
        items.sort(key=lambda kv: (-RANK[kv[1][0]], kv[0]))
    header = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    chunks = []
    offset = 0
    for name, (dtype, array) in items:
        data = np.ascontiguousarray(array, dtype=DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def describe(tensors, metadata):
    return {
        "metadata": metadata,
        "tensors": {
            name: {"dtype": dtype, "shape": list(a.shape), "hex": a.tobytes().hex()}
            for name, (dtype, a) in tensors.items()
        },
    }


def samples():
    """name -> (tensors, metadata, layout): every dtype, empty and 0-d tensors, odd layouts."""
    rng = np.random.default_rng(7)

    def random_of(dtype, shape):
        dt = DTYPES[dtype]
        if dtype == "BOOL":
            return rng.integers(0, 2, size=shape).astype(bool)
        n = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
        return rng.integers(0, 256, size=n, dtype=np.uint8).view(dt).reshape(shape)

    every = {f"t_{d.lower()}": (d, random_of(d, (3, 5))) for d in DTYPES}
    every["nested/name.with.dots"] = ("F32", random_of("F32", (2, 2, 2)))
    every["unicode_\u00e9\u4e16"] = ("I64", random_of("I64", (4,)))
    shapes = {
        "scalar": ("F64", random_of("F64", ())),
        "empty": ("F32", random_of("F32", (0,))),
        "empty_2d": ("I16", random_of("I16", (2, 0))),
        "one": ("U8", random_of("U8", (1,))),
    }
    # Data in the header's order, one byte first: the wider tensors after it are unaligned.
    unaligned = {
        "a_byte": ("U8", random_of("U8", (1,))),
        "then_f32": ("F32", random_of("F32", (3,))),
        "then_f64": ("F64", random_of("F64", (2,))),
    }
    return {
        "every_dtype.safetensors": (every, {"format": "pt", "note": "written by safetensors_ref.py"}, "reference"),
        "shapes.safetensors": (shapes, None, "reference"),
        "no_tensors.safetensors": ({}, None, "reference"),
        "metadata_only.safetensors": ({}, {"k": "v"}, "reference"),
        "unaligned.safetensors": (unaligned, None, "given"),
    }


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "dump":
        try:
            tensors, metadata, info = load(sys.argv[2])
        except FormatError as e:
            print(f"safetensors_ref.py: {sys.argv[2]}: {e}", file=sys.stderr)
            sys.exit(1)
        out = describe(tensors, metadata)
        out.update(info)
        print(json.dumps(out, indent=1, ensure_ascii=False))
    elif len(sys.argv) >= 2 and sys.argv[1] == "refuses":
        verdicts = {}
        for path in sys.argv[2:]:
            try:
                load(path)
                verdicts[path] = None
            except FormatError as e:
                verdicts[path] = str(e)
        print(json.dumps(verdicts, indent=1, ensure_ascii=False))
    elif len(sys.argv) == 3 and sys.argv[1] == "write-samples":
        out_dir = Path(sys.argv[2])
        out_dir.mkdir(parents=True, exist_ok=True)
        expected = {}
        for file, (tensors, metadata, layout) in samples().items():
            save(out_dir / file, tensors, metadata, layout)
            expected[file] = describe(tensors, metadata or {})
            # Our own reader must accept what our writer wrote.
            back, back_meta, _ = load(out_dir / file)
            assert describe(back, back_meta) == expected[file], file
        (out_dir / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False), encoding="utf-8")
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
