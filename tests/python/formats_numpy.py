#!/usr/bin/python3
"""numpy's side of the .npy / .npz tests.

usage:
  formats_numpy.py write DIR   write .npy and .npz files with numpy's own functions into DIR
                               (created if missing), and DIR/expected.json: for every file, the
                               arrays a reader must find, as {name: {"dtype", "shape", "hex"}}
                               with "hex" the little-endian C-order bytes ("" names a .npy file's
                               array), in the file's order
  formats_numpy.py dump FILE   np.load an .npy or .npz file (allow_pickle=False) and print its
                               arrays in the same form; for .npz also {"methods": {member:
                               "stored" | "deflated"}}, checked with zipfile
"""
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128"]


def canonical(a):
    a = np.asarray(a)
    little = a.astype(a.dtype.newbyteorder("<"))
    return {"dtype": a.dtype.name, "shape": list(a.shape), "hex": np.ascontiguousarray(little).tobytes().hex()}


def random_array(rng, dtype, shape):
    """Random bits (NaN payloads, infinities, subnormals included), or 0/1 for bool."""
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return rng.integers(0, 2, size=shape).astype(bool)
    n = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    return rng.integers(0, 256, size=n, dtype=np.uint8).view(dt.newbyteorder("<")).reshape(shape).astype(dt)


def write(out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2024)
    expected = {}

    def npy(name, a, **kw):
        if kw:
            with open(out_dir / name, "wb") as f:
                np.lib.format.write_array(f, a, **kw)
        else:
            np.save(out_dir / name, a)
        expected[name] = {"": canonical(a)}

    for d in DTYPES:
        npy(f"{d}.npy", random_array(rng, d, (3, 4)))
        if np.dtype(d).itemsize > 1:
            npy(f"be_{d}.npy", random_array(rng, d, (2, 5)).astype(np.dtype(d).newbyteorder(">")))
        npy(f"fortran_{d}.npy", np.asfortranarray(random_array(rng, d, (3, 4, 5))))
    npy("fortran_be_f8.npy", np.asfortranarray(random_array(rng, "float64", (4, 3))).astype(">f8", order="F"))
    npy("zero_d.npy", np.float64(-2.5))
    npy("zero_d_bool.npy", np.bool_(True))
    npy("empty.npy", np.zeros((0,), dtype="<f4"))
    npy("empty_2d.npy", np.zeros((2, 0, 3), dtype="<i8"))
    npy("v2.npy", random_array(rng, "uint16", (7,)), version=(2, 0))
    npy("v3.npy", random_array(rng, "int32", (2, 3)), version=(3, 0))
    # numpy before 1.17 padded headers to 16 bytes, not 64.
    old = random_array(rng, "float32", (5,))
    with open(out_dir / "pad16.npy", "wb") as f:
        header = "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }"
        header += " " * (-(10 + len(header) + 1) % 16) + "\n"
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + old.tobytes())
    expected["pad16.npy"] = {"": canonical(old)}

    arrays = {d: random_array(rng, d, (4, 3)) for d in DTYPES}
    arrays["big_endian"] = random_array(rng, "float64", (6,)).astype(">f8")
    arrays["fortran"] = np.asfortranarray(random_array(rng, "int32", (3, 5)))
    arrays["zero_d"] = np.int16(-7)
    arrays["empty"] = np.zeros((0, 4), dtype="<c8")
    arrays["layers/0/w"] = random_array(rng, "float32", (2, 2))
    arrays["big"] = random_array(rng, "float32", (300, 7))
    np.savez(out_dir / "savez.npz", **arrays)
    np.savez_compressed(out_dir / "savez_compressed.npz", **arrays)
    np.savez(out_dir / "positional.npz", arrays["int8"], arrays["float32"])
    np.savez(out_dir / "empty.npz")
    described = {name: canonical(a) for name, a in arrays.items()}
    expected["savez.npz"] = described
    expected["savez_compressed.npz"] = described
    expected["positional.npz"] = {"arr_0": canonical(arrays["int8"]), "arr_1": canonical(arrays["float32"])}
    expected["empty.npz"] = {}

    # numpy writes ZIP64 records in the central directory once sizes or offsets pass 4 GiB;
    # lowering zipfile's threshold gets the same records from small arrays.
    saved_limit = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 1000
    try:
        np.savez(out_dir / "zip64.npz", **arrays)
        np.savez_compressed(out_dir / "zip64_compressed.npz", **arrays)
    finally:
        zipfile.ZIP64_LIMIT = saved_limit
    expected["zip64.npz"] = described
    expected["zip64_compressed.npz"] = described

    (out_dir / "expected.json").write_text(json.dumps(expected, indent=1), encoding="utf-8")


def dump(path):
    out = {}
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            out["arrays"] = {name: canonical(z[name]) for name in z.files}
        with zipfile.ZipFile(path) as zf:
            methods = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
            out["methods"] = {i.filename: methods.get(i.compress_type, str(i.compress_type)) for i in zf.infolist()}
            bad = zf.testzip()
            if bad is not None:
                raise SystemExit(f"formats_numpy.py: CRC error in {bad}")
    else:
        out["arrays"] = {"": canonical(np.load(path, allow_pickle=False))}
    print(json.dumps(out, indent=1))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(Path(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "dump":
        dump(Path(sys.argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
