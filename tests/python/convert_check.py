#!/usr/bin/python3
"""Python's side of the `zanj convert` tests: sources written by numpy and by a writer following
the safetensors specification, and a check that what `zanj convert` wrote reads back in Python,
with Python's readers, to the same arrays bit for bit.

usage:
  convert_check.py write DIR          write into DIR (created if missing):
                                        source.npz          np.savez: every numpy dtype but
                                                            complex128 (which safetensors lacks),
                                                            names holding '/', a 0-d, an empty,
                                                            a Fortran-order and a big-endian array
                                        source.npy          np.save of one Fortran-order
                                                            complex128 array
                                        source.safetensors  safetensors_ref.py: every safetensors
                                                            dtype (BF16, F16, F8 included) and
                                                            __metadata__
  convert_check.py same SRC OUT...    read SRC and each OUT (np.load for .npy / .npz,
                                      safetensors_ref.load for .safetensors, read_zanj.py for
                                      .zanj, its tree flattened to '/'-joined names) and check
                                      that each OUT holds the arrays of SRC: the same names
                                      (ignored when both hold one array), dtypes, shapes and
                                      bytes. bfloat16 and float8 arrays, which numpy lacks, may
                                      come back from .npy / .npz as their uint16 / uint8 bits.
                                      Prints one line per file; exit 1 if any differs.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import read_zanj  # noqa: E402
import safetensors_ref  # noqa: E402

# safetensors dtypes numpy lacks -> the name zanj gives them, and the numpy dtype of their bits.
BITS = {"BF16": ("bfloat16", "uint16"), "F8_E4M3": ("float8_e4m3fn", "uint8"), "F8_E5M2": ("float8_e5m2", "uint8")}


def sources(out_dir):
    rng = np.random.default_rng(11)
    arrays = {}
    for name in ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                 "float16", "float32", "float64", "complex64"]:
        dt = np.dtype(name)
        if name == "bool":
            arrays[f"dtypes/{name}"] = rng.integers(0, 2, size=(4, 5)).astype(bool)
        else:  # every bit pattern, NaNs and infinities included
            arrays[f"dtypes/{name}"] = rng.integers(0, 256, size=20 * dt.itemsize, dtype=np.uint8).view(dt).reshape(4, 5)
    arrays["layers/0/w"] = rng.standard_normal((8, 3)).astype(np.float32)
    arrays["layers/0/b"] = rng.standard_normal(3).astype(np.float32)
    arrays["layers/1/w"] = rng.standard_normal((3, 2)).astype(np.float64)
    arrays["scalar"] = np.array(2.5)
    arrays["empty"] = np.zeros((0, 3), dtype=np.int16)
    arrays["fortran"] = np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4))
    arrays["big_endian"] = np.arange(6, dtype=">f8").reshape(2, 3) / 3
    np.savez(out_dir / "source.npz", **arrays)

    c = rng.standard_normal((3, 4, 2)) + 1j * rng.standard_normal((3, 4, 2))
    np.save(out_dir / "source.npy", np.asfortranarray(c))

    tensors = {}
    for st_name, dt in safetensors_ref.DTYPES.items():
        if st_name == "BOOL":
            a = rng.integers(0, 2, size=(3, 4)).astype(bool)
        else:
            a = rng.integers(0, 256, size=12 * dt.itemsize, dtype=np.uint8).view(dt).reshape(3, 4)
        tensors[f"model/{st_name.lower()}.weight"] = (st_name, a)
    tensors["model/scalar"] = ("F32", np.array(1.5, dtype=np.float32))
    safetensors_ref.save(out_dir / "source.safetensors", tensors, {"format": "pt", "source": "convert_check.py"})


def flatten(v, prefix, out):
    if isinstance(v, np.ndarray):
        out[prefix] = (v.dtype.name, v)
    elif isinstance(v, dict):
        for k, x in v.items():
            flatten(x, f"{prefix}/{k}" if prefix else str(k), out)
    elif isinstance(v, (list, tuple)):
        for i, x in enumerate(v):
            flatten(x, f"{prefix}/{i}" if prefix else str(i), out)
    return out


def load(path):
    """name -> (dtype label, numpy array) for any of the four formats."""
    path = Path(path)
    suffix = path.suffix
    if suffix == ".npy":
        a = np.load(path, allow_pickle=False)
        return {"": (a.dtype.name, a)}
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            return {name: (z[name].dtype.name, z[name]) for name in z.files}
    if suffix == ".safetensors":
        tensors, _, _ = safetensors_ref.load(path)
        return {
            name: (BITS[st][0] if st in BITS else a.dtype.name, a) for name, (st, a) in tensors.items()
        }
    if suffix == ".zanj":
        return flatten(read_zanj.rebuild(read_zanj.read_archive(str(path))), "", {})
    raise SystemExit(f"convert_check.py: unknown file type {path}")


def little_c_bytes(a):
    return np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<"))).tobytes()


def differences(src, out):
    if len(src) == 1 and len(out) == 1:  # one array each: its name is the file's business
        src = {"": next(iter(src.values()))}
        out = {"": next(iter(out.values()))}
    found = []
    if sorted(src) != sorted(out):
        found.append(f"names differ: only in source {sorted(set(src) - set(out))}, "
                     f"only in output {sorted(set(out) - set(src))}")
    for name in sorted(set(src) & set(out)):
        (sd, sa), (od, oa) = src[name], out[name]
        as_bits = {(label, storage) for label, storage in BITS.values()}
        if sd != od and (sd, od) not in as_bits:
            found.append(f"{name!r}: dtype {sd} in the source, {od} in the output")
        elif sa.shape != oa.shape:
            found.append(f"{name!r}: shape {list(sa.shape)} in the source, {list(oa.shape)} in the output")
        elif little_c_bytes(sa) != little_c_bytes(oa):
            found.append(f"{name!r}: the bytes differ")
    return found


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        out_dir = Path(sys.argv[2])
        out_dir.mkdir(parents=True, exist_ok=True)
        sources(out_dir)
    elif len(sys.argv) >= 4 and sys.argv[1] == "same":
        src = load(sys.argv[2])
        failed = False
        for out in sys.argv[3:]:
            try:
                found = differences(src, load(out))
            except (read_zanj.ZanjError, safetensors_ref.FormatError, ValueError, OSError) as e:
                found = [f"cannot be read: {e}"]
            print(f"{out}: " + ("same " + str(len(src)) + " arrays" if not found else "; ".join(found)))
            failed = failed or bool(found)
        sys.exit(1 if failed else 0)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
