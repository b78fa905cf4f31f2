#!/usr/bin/python3
"""bfloat16 and float16 arrays between zanj-cpp and Python, with numpy only (numpy has no
bfloat16).

zanj-cpp's convention: a bfloat16 array's bits are stored as uint16 ('<u2' in .npy members,
integers / raw bytes in inline items) and the item (or stub) records "dtype": "bfloat16", as does
externals_info. A bare nested list (internal mode "list") holds the values as floats.

usage:
  bfloat16.py check ARCHIVE MODE   check an archive zanj-cpp wrote with internal array mode MODE:
                                   "small" (4x5), "scalar" (0-d), "big" (300 elements, a .npy
                                   member) hold the bfloat16 of PROBES; "vec" (a std::vector)
                                   holds their values as JSON floats
  bfloat16.py write ARCHIVE        write an archive as a Python writer following that convention
                                   would: "list_meta", "hex", "b64" (4x5), "scalar" (0-d),
                                   "torch" (a torch.Tensor item, dtype "torch.bfloat16") and "big"
                                   (a .npy member, deflated) of the bfloat16 of PROBES
  bfloat16.py check-f16 ARCHIVE MODE
                                   check a map of float16 arrays zanj-cpp wrote in MODE: "small"
                                   (4x5 of F16_SMALL), "scalar" (0-d, -2.5), "big" (F16_BIG, a
                                   .npy member '<f2'). JSON numbers carry no NaN payload: items
                                   of numbers give numpy's NaN (0x7E00), raw bytes keep the bits
  bfloat16.py write-f16 ARCHIVE    write float16 arrays as Python's zanj does: "list_meta",
                                   "hex", "b64" (4x5 of F16_SMALL), "scalar" (-2.5) and "big"
                                   (F16_BIG, a deflated .npy member)
"""
import base64
import io
import json
import math
import sys
import zipfile

import numpy as np

# float32 bit patterns probing the rounding (the same list as tests/test_half.cpp): zeros, pi,
# a subnormal, the largest float (rounds to infinity), infinities, NaNs with payloads, ties.
PROBES = np.array([
    0x00000000, 0x80000000, 0x3F800000, 0xC0200000, 0x40490FDB,
    0x000116C2, 0x7F7FFFFF, 0x7F7F7FFF, 0x7F800000, 0xFF800000,
    0x7FC00000, 0x7F800001, 0xFFC00001, 0x3F808000, 0x3F818000,
    0x3F808001, 0x477FE000, 0x3DCCCCCD, 0x7FA00000, 0x00008000,
], dtype=np.uint32)


def bfloat16_bits(u32):
    """Round to nearest even on the 16 dropped bits; NaNs keep sign and payload, quieted."""
    u = u32.astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    quiet_nan = ((u >> 16) | 0x40).astype(np.uint16)
    return np.where(np.isnan(u32.view(np.float32)), quiet_nan, rounded)


EXPECTED = bfloat16_bits(PROBES)
# Known answers, so that the rule above is checked too.
assert [hex(x) for x in EXPECTED[[2, 6, 11, 13, 14, 15, 18]]] == \
    ["0x3f80", "0x7f80", "0x7fc0", "0x3f80", "0x3f82", "0x3f81", "0x7fe0"], EXPECTED


# float16 bit patterns (the same lists as tests/test_half.cpp): zeros, subnormals, the largest
# and smallest normals, infinities, NaNs with payloads and signs, ordinary values.
F16_SMALL = np.array([
    0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0xC000, 0x7BFF, 0xFBFF, 0x7C00,
    0xFC00, 0x7E00, 0x7C01, 0xFE01, 0x3555, 0x5640, 0x8001, 0x7FFF, 0x2E66, 0x4248,
], dtype=np.uint16)
# Every 211th bit pattern, the last four replaced by -0, the infinities and a negative NaN.
F16_BIG = (np.arange(300, dtype=np.uint32) * 211).astype(np.uint16)
F16_BIG[-4:] = [0x8000, 0x7C00, 0xFC00, 0xFE01]


def json_f16(bits):
    """The bits after a trip through JSON numbers: every NaN becomes numpy's float16 NaN."""
    is_nan = ((bits & 0x7C00) == 0x7C00) & ((bits & 0x03FF) != 0)
    return np.where(is_nan, np.uint16(0x7E00), bits).astype(np.uint16)


def values_of(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def same_floats(a, b):
    return len(a) == len(b) and all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b))


def fail(msg):
    print(f"bfloat16.py: {msg}", file=sys.stderr)
    sys.exit(1)


def bits_of_item(item, mode):
    """The uint16 bits an array item holds, after checking its metadata."""
    if item.get("dtype") != "bfloat16":
        fail(f"dtype {item.get('dtype')!r}, expected 'bfloat16'")
    data = item["data"]
    if mode == "array_list_meta" or item["__muutils_format__"].endswith(":zero_dim"):
        bits = np.array(data, dtype=np.uint16)  # integers: numpy reads the bits directly
    elif mode == "array_hex_meta":
        bits = np.frombuffer(bytes.fromhex(data), dtype="<u2")
    else:
        bits = np.frombuffer(base64.b64decode(data), dtype="<u2")
    if item["n_elements"] != bits.size or list(item["shape"]) != list(bits.reshape(item["shape"]).shape):
        fail("shape / n_elements do not match the data")
    return bits.reshape(-1)


def check(path, mode):
    with zipfile.ZipFile(path) as z:
        tree = json.loads(z.read("__zanj__.json"))
        meta = json.loads(z.read("__zanj_meta__.json"))
        if mode == "list":
            small = np.array(tree["small"], dtype=np.float64).reshape(-1)
            if not same_floats(list(small), list(values_of(EXPECTED))):
                fail(f"list mode: {list(small)} != {list(values_of(EXPECTED))}")
        else:
            if tree["small"]["shape"] != [4, 5]:
                fail(f"small has shape {tree['small']['shape']}")
            got = bits_of_item(tree["small"], mode)
            if not (got == EXPECTED).all():
                fail(f"{mode}: bits {[hex(x) for x in got]} != {[hex(x) for x in EXPECTED]}")
        scalar = tree["scalar"]
        if scalar["__muutils_format__"] != "numpy.ndarray:zero_dim" or scalar["shape"] != []:
            fail(f"scalar is {scalar}")
        if bits_of_item(scalar, mode)[0] != EXPECTED[3]:
            fail(f"scalar holds {scalar['data']}, expected {EXPECTED[3]}")

        stub = tree["big"]
        if stub["__muutils_format__"] != "numpy.ndarray:external" or stub["dtype"] != "bfloat16":
            fail(f"big stub is {stub}")
        info = meta["externals_info"][stub["$ref"]]
        if info["dtype"] != "bfloat16" or info["shape"] != [300]:
            fail(f"externals_info of big is {info}")
        member = np.load(io.BytesIO(z.read(stub["$ref"])), allow_pickle=False)
        if member.dtype != np.dtype("<u2") or member.shape != (300,):
            fail(f"big.npy holds {member.dtype} {member.shape}, expected uint16 (300,)")
        if not (member == np.resize(EXPECTED, 300)).all():
            fail("big.npy holds other bits")

        if not same_floats(tree["vec"], list(values_of(EXPECTED[:5]))):
            fail(f"vec is {tree['vec']}")


def write(path):
    bits = EXPECTED.reshape(4, 5)

    def item(mode, data, shape, prefix="numpy.ndarray", dtype="bfloat16"):
        return {"__muutils_format__": f"{prefix}:{mode}", "data": data, "shape": list(shape),
                "dtype": dtype, "n_elements": int(np.prod(shape, dtype=np.int64))}

    big = np.resize(EXPECTED, 300)
    tree = {
        "list_meta": item("array_list_meta", bits.tolist(), bits.shape),
        "hex": item("array_hex_meta", bits.astype("<u2").tobytes().hex(), bits.shape),
        "b64": item("array_b64_meta", base64.b64encode(bits.astype("<u2").tobytes()).decode(), bits.shape),
        "scalar": item("zero_dim", int(EXPECTED[3]), ()),
        "torch": item("array_list_meta", bits.tolist(), bits.shape, "torch.Tensor", "torch.bfloat16"),
        "big": {"__muutils_format__": "numpy.ndarray:external", "$ref": "big.npy", "shape": [300],
                "dtype": "bfloat16", "n_elements": 300},
    }
    meta = {
        "zanj_cfg": {"error_mode": "except", "array_mode": "array_list_meta", "external_array_threshold": 256,
                     "external_list_threshold": 256, "compress": True},
        "sysinfo": {"python": sys.version},
        "externals_info": {"big.npy": {"item_type": "npy", "path": ["big"], "type(data)": "<class 'numpy.ndarray'>",
                                       "len(data)": 300, "shape": [300], "dtype": "bfloat16", "n_elements": 300}},
        "timestamp": 0.0,
    }
    npy = io.BytesIO()
    np.save(npy, big.astype("<u2"))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("__zanj_meta__.json", json.dumps(meta, indent="\t"))
        z.writestr("__zanj__.json", json.dumps(tree, indent="\t"))
        with z.open("big.npy", "w", force_zip64=True) as f:
            f.write(npy.getvalue())


def check_f16(path, mode):
    def same_bits(name, got, want):
        got = np.asarray(got).reshape(-1)
        if got.dtype != np.float16:
            fail(f"{name}: numpy reads {got.dtype}, expected float16")
        if not (got.view(np.uint16) == want).all():
            fail(f"{name}: bits {[hex(x) for x in got.view(np.uint16)]} != {[hex(x) for x in want]}")

    with zipfile.ZipFile(path) as z:
        tree = json.loads(z.read("__zanj__.json"))
        meta = json.loads(z.read("__zanj_meta__.json"))
        small = tree["small"]
        if mode == "list":
            same_bits("small", np.array(small, dtype=np.float16), json_f16(F16_SMALL))
        else:
            if small.get("dtype") != "float16" or small["shape"] != [4, 5] or small["n_elements"] != 20:
                fail(f"small has the metadata {small}")
            data = small["data"]
            if mode == "array_list_meta":
                same_bits("small", np.array(data, dtype=np.float16), json_f16(F16_SMALL))
            elif mode == "array_hex_meta":
                same_bits("small", np.frombuffer(bytes.fromhex(data), dtype="<f2"), F16_SMALL)
            else:
                same_bits("small", np.frombuffer(base64.b64decode(data), dtype="<f2"), F16_SMALL)
        scalar = tree["scalar"]
        if scalar["__muutils_format__"] != "numpy.ndarray:zero_dim" or scalar["dtype"] != "float16" \
                or scalar["data"] != -2.5:
            fail(f"scalar is {scalar}")
        stub = tree["big"]
        if stub["__muutils_format__"] != "numpy.ndarray:external" or stub["dtype"] != "float16":
            fail(f"big stub is {stub}")
        if meta["externals_info"][stub["$ref"]]["dtype"] != "float16":
            fail(f"externals_info of big is {meta['externals_info'][stub['$ref']]}")
        member = np.load(io.BytesIO(z.read(stub["$ref"])), allow_pickle=False)
        if member.dtype != np.dtype("<f2") or member.shape != (300,):
            fail(f"big.npy holds {member.dtype} {member.shape}, expected float16 (300,)")
        same_bits("big", member, F16_BIG)


def write_f16(path):
    small = F16_SMALL.view(np.float16).reshape(4, 5)

    def item(mode, data, a):
        return {"__muutils_format__": f"numpy.ndarray:{mode}", "data": data, "shape": list(a.shape),
                "dtype": str(a.dtype), "n_elements": int(a.size)}

    big = F16_BIG.view(np.float16)
    tree = {
        "list_meta": item("array_list_meta", small.tolist(), small),
        "hex": item("array_hex_meta", small.tobytes().hex(), small),
        "b64": item("array_b64_meta", base64.b64encode(small.tobytes()).decode(), small),
        "scalar": item("zero_dim", np.float16(-2.5).item(), np.float16(-2.5)),
        "big": {"__muutils_format__": "numpy.ndarray:external", "$ref": "big.npy", "shape": [300],
                "dtype": "float16", "n_elements": 300},
    }
    meta = {
        "zanj_cfg": {"error_mode": "except", "array_mode": "array_list_meta", "external_array_threshold": 256,
                     "external_list_threshold": 256, "compress": True},
        "sysinfo": {"python": sys.version},
        "externals_info": {"big.npy": {"item_type": "npy", "path": ["big"], "type(data)": "<class 'numpy.ndarray'>",
                                       "len(data)": 300, "shape": [300], "dtype": "float16", "n_elements": 300}},
        "timestamp": 0.0,
    }
    npy = io.BytesIO()
    np.save(npy, big)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        # Python's json writes NaN and Infinity tokens for the non-finite values.
        z.writestr("__zanj_meta__.json", json.dumps(meta, indent="\t"))
        z.writestr("__zanj__.json", json.dumps(tree, indent="\t"))
        with z.open("big.npy", "w", force_zip64=True) as f:
            f.write(npy.getvalue())


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "check-f16":
        check_f16(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "write-f16":
        write_f16(sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
