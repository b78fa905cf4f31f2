#!/usr/bin/python3
"""Reference WRITER of .zanj archives imitating Python zanj 0.5.x (muutils 0.8).

Usage
-----
    /usr/bin/python3 write_zanj.py OUTDIR

Writes into OUTDIR (created if missing), for every archive NAME listed below,
NAME.zanj exactly as the Python `zanj` package lays it out, and NAME.expected.json
holding the CANONICAL JSON of the object a correct reader must rebuild from it.

Only the standard library and numpy are used: the serializer below is a small
re-implementation of muutils.json_serialize + zanj.serializing following
/work/shared/FORMAT.md (the real packages are not needed).

Canonical JSON (identical to read_zanj.py, which this script imports)
---------------------------------------------------------------------
  * None, bool, int, str      -> unchanged
  * float                     -> unchanged if finite (-0.0 stays -0.0);
                                 NaN -> {"__float__": "nan"}, +inf -> {"__float__": "inf"},
                                 -inf -> {"__float__": "-inf"}
  * list or tuple             -> list of canonical items
  * dict                      -> {key: canonical value} (string keys, as they are)
  * set / frozenset           -> {"__set__": canonical items sorted by
                                 json.dumps(item, sort_keys=True), "frozen": false/true}
  * numpy.ndarray (any ndim, 0-d included) and numpy scalars
                              -> {"__ndarray__": {"dtype": numpy name ("float32", "bool",
                                 "complex128", ...), "shape": [..], "hex": lowercase hex of
                                 arr.astype(arr.dtype.newbyteorder("<")).tobytes("C")}}
                                 (little-endian, C order: big-endian / Fortran-order .npy
                                 members give the same form as their native equivalents)
  The file is json.dumps(canonical, sort_keys=True, indent=1).

What a correct reader rebuilds (the basis of NAME.expected.json)
----------------------------------------------------------------
  arrays -> numpy arrays (in internal mode "list" a small array is a bare nested
  list and comes back as a plain list; 0-d arrays are always zero_dim -> 0-d array);
  tuples -> lists; dict keys -> str(key); sets/frozensets -> set/frozenset;
  dataclass items -> dicts that keep "__muutils_format__": "Name(SerializableDataclass)".

Archives written
----------------
  basic.zanj                scalars, extreme ints, NaN/inf/-0.0, unicode/escaped strings,
                            nested containers, tuple, empty containers, set, frozenset,
                            int-keyed dict, nested SerializableDataclass items
  arrays_<mode>.zanj        mode in array_list_meta, array_hex_meta, array_b64_meta, list:
                            small arrays of every dtype (complex only in hex/b64 modes,
                            since json cannot encode complex), extremes, NaN/inf, empty
                            arrays, 0-d arrays, torch.Tensor-typed items
  arrays_external.zanj      arrays >= 256 elements of every dtype as .npy members,
                            nested ones (layers/0/w.npy), torch.Tensor:external
  npy_variants.zanj         .npy members that are big-endian, Fortran-order, NPY 2.0 and
                            3.0, and a 16-byte-aligned header (pre-1.17 numpy)
  externals.zanj            jsonl externals: list of ints, tuple of strings, list of dicts
                            (columns metadata), list of dicts holding 300-element arrays
                            (nested big/<i>/w.npy), list of lists, NaN lines, a jsonl nested
                            in a jsonl, a non-ASCII member name
  stored.zanj               a mix of the above written with compress=False (ZIP_STORED)

Deliberate choices where this writer departs from, or pins down, Python's output:
  * zanj_cfg["compress"] is the zipfile constant (8 or 0): real ZANJ.__init__ turns the
    bool into zipfile.ZIP_DEFLATED / ZIP_STORED before meta() stores it.
  * externals_info entries carry item_type, path, "type(data)", "len(data)", plus
    shape/dtype/n_elements for arrays (as FORMAT.md says) and "data[0]" for jsonl (as
    zanj.zanj.ZANJ.externals_info does).
  * set items and "columns" keys are written in sorted order (Python uses hash order,
    which varies between runs for strings) so every run gives identical JSON.
  * stub dtypes are numpy names ("float64") even for big-endian arrays (muutils'
    arr_metadata would write str(dtype) == ">f8" there, which is not a dtype *name*;
    npy_variants.zanj models a writer that emits names and big-endian .npy data).
  * sys.path gets this script's folder so that `canonical` is imported from read_zanj.py.
"""

import dataclasses
import json
import math
import os
import sys
import time
import zipfile

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_zanj import canonical  # noqa: E402  (same canonical form as the reader)

FORMAT_KEY = "__muutils_format__"  # muutils _FORMAT_KEY
REF_KEY = "$ref"  # muutils _REF_KEY
ZANJ_MAIN = "__zanj__.json"
ZANJ_META = "__zanj_meta__.json"
NAN, INF = float("nan"), float("inf")


# ---------------------------------------------------------------------------
# stand-ins for objects the real packages handle
# ---------------------------------------------------------------------------


class SerializableDataclass:
    """marker base; subclasses are @dataclasses.dataclass. Serialized (FORMAT.md) as
    {"__muutils_format__": "<ClassName>(SerializableDataclass)", <field>: <value>, ...}"""


@dataclasses.dataclass
class Layer(SerializableDataclass):
    name: str
    w: np.ndarray
    shape: list


@dataclasses.dataclass
class Run(SerializableDataclass):
    name: str
    layers: list
    metrics: dict
    note: object = None


class FakeTorchTensor:
    """stands for a torch.Tensor (torch is not installed): muutils serializes it like a
    numpy array but with the "torch.Tensor" prefix; dtype is numpy's name in the meta
    modes (arr_metadata of the numpy copy) and "torch.<name>" for zero_dim / external"""

    def __init__(self, arr):
        self.arr = np.asarray(arr)


class NpyVariant:
    """an external array whose .npy member is written with a given NPY version and/or
    header alignment (the array's own byte order / memory order is kept as it is)"""

    def __init__(self, arr, version=None, align=64):
        self.arr = arr
        self.version = version
        self.align = align


def _set_order(x):
    return (type(x).__name__, repr(x))


# ---------------------------------------------------------------------------
# the serializer (muutils.json_serialize.JsonSerializer + zanj.ZANJ handlers)
# ---------------------------------------------------------------------------


class ZanjWriter:
    def __init__(self, array_mode="array_list_meta", compress=True, external_array_threshold=256, external_list_threshold=256):
        self.array_mode = array_mode
        self.compress = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        self.external_array_threshold = external_array_threshold
        self.external_list_threshold = external_list_threshold
        self.externals = {}  # member name -> dict(item_type, data, path, version, align)

    # -- arrays kept in the JSON (muutils.json_serialize.array.serialize_array) ------
    def serialize_array(self, arr, arr_type, torch_dtype=False):
        def meta(a, torch_name):
            # FORMAT.md: keys in the order "__muutils_format__", "data", "shape", "dtype", "n_elements"
            return {"shape": list(a.shape), "dtype": ("torch." if torch_name else "") + a.dtype.name, "n_elements": int(a.size)}

        if arr.ndim == 0:  # 0-d arrays are always zero_dim, whatever the mode
            return {FORMAT_KEY: arr_type + ":zero_dim", "data": arr.item(), **meta(arr, torch_dtype)}
        if self.array_mode == "list":
            return arr.tolist()
        if self.array_mode == "array_list_meta":
            data = arr.tolist()
        elif self.array_mode == "array_hex_meta":
            data = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"))).tobytes().hex()
        elif self.array_mode == "array_b64_meta":
            import base64

            data = base64.b64encode(np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"))).tobytes()).decode()
        else:
            raise KeyError(self.array_mode)
        return {FORMAT_KEY: "%s:%s" % (arr_type, self.array_mode), "data": data, **meta(arr, False)}

    # -- externals (zanj.serializing.zanj_external_serialize) -----------------------
    def serialize_external(self, data, path, item_type, fmt, version=None, align=64, torch_dtype=False):
        joined = "/".join(str(p) for p in path)
        name = "%s.%s" % (joined, item_type)  # FORMAT.md: object path joined with "/" + extension
        if name in self.externals:
            raise ValueError("external path %s already exists" % name)
        for other in self.externals:  # checked before nested items are added, as in zanj
            o = other.rsplit(".", 1)[0]
            if o.startswith(joined + "/") or joined.startswith(o + "/"):
                raise ValueError("external path %s is a prefix of another path %s" % (joined, other))
        out = {FORMAT_KEY: fmt, REF_KEY: name}
        if item_type == "npy":
            out.update({"shape": list(data.shape), "dtype": ("torch." if torch_dtype else "") + data.dtype.name, "n_elements": int(data.size)})
            data_new = data
        else:
            # each line serialized with the same rules; arrays / lists inside can become externals
            data_new = [self.serialize(x, tuple(path) + (i,)) for i, x in enumerate(data)]
            if all(isinstance(x, dict) for x in data_new):
                out.update(jsonl_metadata(data_new))
        # registered after the items, so nested externals come first (as in zanj)
        self.externals[name] = dict(item_type=item_type, data=data_new, path=tuple(path), version=version, align=align, torch=torch_dtype)
        return out

    def serialize(self, obj, path=()):
        # zanj handlers come first (DEFAULT_SERIALIZER_HANDLERS_ZANJ)
        if isinstance(obj, NpyVariant):
            return self.serialize_external(obj.arr, path, "npy", "numpy.ndarray:external", version=obj.version, align=obj.align)
        if isinstance(obj, np.ndarray) and obj.size >= self.external_array_threshold:
            return self.serialize_external(obj, path, "npy", "numpy.ndarray:external")
        if isinstance(obj, FakeTorchTensor) and obj.arr.size >= self.external_array_threshold:
            return self.serialize_external(obj.arr, path, "npy", "torch.Tensor:external", torch_dtype=True)
        if isinstance(obj, list) and len(obj) >= self.external_list_threshold:
            return self.serialize_external(obj, path, "jsonl", "list:external")
        if isinstance(obj, tuple) and len(obj) >= self.external_list_threshold:
            return self.serialize_external(obj, path, "jsonl", "tuple:external")
        # then muutils DEFAULT_HANDLERS
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, dict):
            return {str(k): self.serialize(v, tuple(path) + (k,)) for k, v in obj.items()}  # keys: str(key)
        if isinstance(obj, (list, tuple)):
            return [self.serialize(x, tuple(path) + (i,)) for i, x in enumerate(obj)]  # tuples unmarked
        if isinstance(obj, SerializableDataclass):
            out = {FORMAT_KEY: "%s(SerializableDataclass)" % type(obj).__name__}
            for f in dataclasses.fields(obj):
                out[f.name] = self.serialize(getattr(obj, f.name), tuple(path) + (f.name,))
            return out
        if isinstance(obj, (set, frozenset)):
            fmt = "frozenset" if isinstance(obj, frozenset) else "set"
            items = sorted(obj, key=_set_order)
            return {FORMAT_KEY: fmt, "data": [self.serialize(x, tuple(path) + (i,)) for i, x in enumerate(items)]}
        if isinstance(obj, np.ndarray):
            return self.serialize_array(obj, "numpy.ndarray")
        if isinstance(obj, FakeTorchTensor):
            return self.serialize_array(obj.arr, "torch.Tensor", torch_dtype=True)
        raise TypeError("cannot serialize %s at %s" % (type(obj).__name__, path))

    # -- __zanj_meta__.json (zanj.zanj.ZANJ.meta / externals_info) --------------------
    def externals_info(self):
        out = {}
        for name, ext in self.externals.items():
            data = ext["data"]
            entry = {"item_type": ext["item_type"], "path": list(ext["path"]), "type(data)": str(type(data)), "len(data)": len(data)}
            if ext["item_type"] == "npy":
                entry.update({"shape": list(data.shape), "dtype": ("torch." if ext["torch"] else "") + data.dtype.name, "n_elements": int(data.size)})
            elif data:
                entry["data[0]"] = data[0]
            out[name] = entry
        # sorted by path length, as ZANJ.externals_info does (stable sort)
        return dict(sorted(out.items(), key=lambda kv: len(kv[1]["path"])))

    def meta(self):
        def handler(uid, desc, module="zanj.serializing"):
            return {
                "check": {"code": "lambda self, obj, path: ...  # %s" % uid, "doc": []},
                "serialize_func": {"code": "lambda self, obj, path: ...  # %s" % uid, "doc": []},
                "uid": uid,
                "source_pckg": "zanj" if module.startswith("zanj") else "muutils",
                "__module__": module,
                "desc": desc,
            }

        ser_handlers = [
            ("numpy.ndarray:external", "external numpy array"),
            ("torch.Tensor:external", "external torch tensor"),
            ("list:external", "external list"),
            ("tuple:external", "external tuple"),
            ("pandas.DataFrame:external", "external pandas DataFrame"),
            ("base types", "base types (bool, int, float, str, None)"),
            ("dictionaries", "dictionaries"),
            ("(list, tuple) -> list", "lists and tuples as lists"),
            (".serialize override", "objects with .serialize method"),
            ("numpy.ndarray", "numpy arrays"),
            ("torch.Tensor", "pytorch tensors"),
        ]
        load_handlers = [
            ("numpy.ndarray", "numpy.ndarray loader"),
            ("torch.Tensor", "torch.Tensor loader"),
            ("pandas.DataFrame", "pandas.DataFrame loader"),
            ("list", "list loader, for externals"),
            ("tuple", "tuple loader, for externals"),
        ]
        return {
            "zanj_cfg": {
                "error_mode": "except",
                "array_mode": self.array_mode,
                "external_array_threshold": self.external_array_threshold,
                "external_list_threshold": self.external_list_threshold,
                "compress": self.compress,
                "serialization_handlers": {uid: handler(uid, d) for uid, d in ser_handlers},
                "load_handlers": {uid: handler(uid, d, "zanj.loading") for uid, d in load_handlers},
            },
            "sysinfo": {
                "python": {"version": sys.version, "version_info": list(sys.version_info)[:3]},
                "numpy": {"version": np.__version__},
            },
            "externals_info": self.externals_info(),
            "timestamp": time.time(),
        }

    # -- zanj.zanj.ZANJ.save ------------------------------------------------------
    def save(self, obj, file_path):
        self.externals = {}
        tree = self.serialize(obj)
        with zipfile.ZipFile(file_path, "w", compression=self.compress) as zf:
            # member order: __zanj_meta__.json, __zanj__.json, then externals
            zf.writestr(ZANJ_META, json.dumps(self.meta(), indent="\t"))  # NaN tokens allowed
            zf.writestr(ZANJ_MAIN, json.dumps(tree, indent="\t"))
            for name, ext in self.externals.items():
                # "why force zip64? numpy.savez does it"
                with zf.open(name, "w", force_zip64=True) as fp:
                    if ext["item_type"] == "npy":
                        write_npy(fp, ext["data"], ext["version"], ext["align"])
                    else:
                        for item in ext["data"]:  # zanj.serializing.store_jsonl
                            fp.write(json.dumps(item).encode("utf-8"))
                            fp.write(b"\n")
        self.externals = {}


def jsonl_metadata(data):
    """zanj.serializing.jsonl_metadata (columns / types sorted for determinism)"""
    all_cols = sorted({col for item in data for col in item})
    return {
        "data[0]": data[0],
        "len(data)": len(data),
        "columns": {
            col: {
                "types": sorted({type(item[col]).__name__ for item in data if col in item}),
                "len": len([item[col] for item in data if col in item]),
            }
            for col in all_cols
            if col != FORMAT_KEY
        },
    }


def write_npy(fp, arr, version=None, align=64):
    """zanj.serializing.store_npy: np.lib.format.write_array(allow_pickle=False); with
    align=16 a version-1.0 header padded the pre-numpy-1.17 way"""
    if align == 64:
        np.lib.format.write_array(fp, arr, version=version, allow_pickle=False)
        return
    fortran = bool(arr.flags.f_contiguous and not arr.flags.c_contiguous)
    header = "{'descr': %r, 'fortran_order': %r, 'shape': %r, }" % (np.lib.format.dtype_to_descr(arr.dtype), fortran, tuple(arr.shape))
    total = 6 + 2 + 2 + len(header) + 1
    header += " " * ((-total) % align) + "\n"
    fp.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1"))
    fp.write(arr.tobytes("F" if fortran else "C"))


# ---------------------------------------------------------------------------
# what a correct reader rebuilds
# ---------------------------------------------------------------------------


def expected_value(obj, w):
    """the Python value a correct reader rebuilds from obj written by writer config w"""
    if isinstance(obj, NpyVariant):
        return obj.arr
    if isinstance(obj, FakeTorchTensor):
        obj = obj.arr
    if isinstance(obj, np.ndarray):
        internal = obj.size < w.external_array_threshold
        if internal and obj.ndim > 0 and w.array_mode == "list":
            return obj.tolist()  # a bare list comes back as a plain list
        return obj
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        return {str(k): expected_value(v, w) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [expected_value(x, w) for x in obj]
    if isinstance(obj, SerializableDataclass):
        out = {FORMAT_KEY: "%s(SerializableDataclass)" % type(obj).__name__}
        for f in dataclasses.fields(obj):
            out[f.name] = expected_value(getattr(obj, f.name), w)
        return out
    if isinstance(obj, frozenset):
        return frozenset(expected_value(x, w) for x in obj)
    if isinstance(obj, set):
        return {expected_value(x, w) for x in obj}
    raise TypeError(type(obj).__name__)


# ---------------------------------------------------------------------------
# deterministic test data
# ---------------------------------------------------------------------------

INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOAT_DTYPES = ["float16", "float32", "float64"]
REAL_DTYPES = ["bool"] + INT_DTYPES + FLOAT_DTYPES
COMPLEX_DTYPES = ["complex64", "complex128"]


def sample(dtype, shape, seed=0):
    """deterministic array of the given dtype and shape (np.arange based)"""
    dt = np.dtype(dtype)
    n = math.prod(shape)
    i = np.arange(n, dtype=np.int64) + seed
    if dt.kind == "b":
        a = (i % 3) == 0
    elif dt.kind == "u":
        a = (i * 37) % (int(np.iinfo(dt).max) if dt.itemsize == 1 else 65521)
    elif dt.kind == "i":
        lim = 127 if dt.itemsize == 1 else 30000
        a = ((i * 37) % (2 * lim)) - lim
    elif dt.kind == "f":
        a = (i - n / 2) * 0.375
    else:
        a = (i - n / 2) * 0.5 + 1j * ((i % 7) - 3) * 0.25
    return a.astype(dt).reshape(shape)


def extremes(dtype):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return np.array([True, False], dtype=dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return np.array([info.min, info.max, 0, 1, info.max - 1], dtype=dt)
    if dt == np.float16:
        return np.array([65504.0, -65504.0, 6.103515625e-05, 5.960464477539063e-08, 0.1, -0.0], dtype=dt)
    if dt == np.float32:
        return np.array([3.4028234663852886e38, 1.401298464324817e-45, 0.1, -0.0, 16777217.0], dtype=dt)
    return np.array([1.7976931348623157e308, 5e-324, 0.1, -0.0, 2.0**53 + 1], dtype=dt)


def basic_object():
    return {
        "none": None,
        "true": True,
        "false": False,
        "ints": [0, 1, -1, 42, -42, 2**31 - 1, -(2**31), 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1],
        "floats": [0.0, 0.1, -0.0, 1.5, -2.25, 1e300, -1e-300, 5e-324, 1.7976931348623157e308, 1.0, NAN, INF, -INF],
        "float_scalars": {"nan": NAN, "inf": INF, "neg_inf": -INF, "neg_zero": -0.0, "third": 1 / 3},
        "strings": {
            "ascii": "hello world",
            "empty": "",
            "unicode": "héllo 世界 🎉",
            "escapes": 'quote " backslash \\ slash / newline \n tab \t return \r end',
            "control": "nul\x00 bell\x07 esc\x1b del\x7f",
            "looks_like_nan": "NaN",
        },
        "nested": {"a": {"b": {"c": [1, [2, [3, [4, {"d": "deep", "e": []}]]]]}}},
        "tuple": (1, "two", 3.0, None, (4, 5)),
        "empty_list": [],
        "empty_dict": {},
        "empty_tuple": (),
        "set": {1, 2, 3},
        "set_mixed": {None, 7, "seven", 7.5, False},
        "empty_set": set(),
        "frozenset": frozenset({"x", "y", "z"}),
        "int_keys": {1: "one", 2: "two", -3: "minus three", 10: "ten"},
        "odd_keys": {"": "empty key", "ключ 🔑": "unicode key", "with/slash": 1, "with.dot": 2, "$ref": "not a ref", "data": [1]},
        "mixed_list": [1, "a", None, True, 2.5, [], {}, [[]], {"k": {}}],
        "layer": Layer(name="solo", w=np.array([0.5, -1.0, 2.0], dtype=np.float32), shape=[3]),
        "run": Run(
            name="demo",
            layers=[
                Layer(name="in", w=sample("float32", (2, 3)), shape=[2, 3]),
                Layer(name="out", w=sample("float64", (3,)), shape=[3]),
            ],
            metrics={"loss": 0.25, "acc": 0.9, "history": [1.0, 0.5, 0.25], "best": {"epoch": 3, "nan_seen": NAN}},
            note=None,
        ),
        "runs": [Run(name="second", layers=[], metrics={}, note="a note")],
        "deep": deep_nest(24),
    }


def deep_nest(n):
    v = "bottom"
    for i in range(n):
        v = [v] if i % 2 else {"level%d" % i: v}
    return v


def internal_arrays_object(mode):
    hexlike = mode in ("array_hex_meta", "array_b64_meta")
    d = {}
    for dt in REAL_DTYPES:
        d[dt + "_1d"] = sample(dt, (3,))
        d[dt + "_2d"] = sample(dt, (2, 3), seed=5)
        d[dt + "_3d"] = sample(dt, (2, 2, 2), seed=11)
        d[dt + "_extremes"] = extremes(dt)
    for dt in FLOAT_DTYPES:
        d[dt + "_nonfinite"] = np.array([NAN, INF, -INF, 1.0, -0.0], dtype=dt)
    if hexlike:  # json cannot encode complex numbers: only the byte modes can hold them
        for dt in COMPLEX_DTYPES:
            d[dt + "_1d"] = sample(dt, (3,))
            d[dt + "_2d"] = sample(dt, (2, 2), seed=3)
            d[dt + "_nonfinite"] = np.array([complex(NAN, 1.0), complex(INF, -INF), complex(-0.0, 0.5)], dtype=dt)
        d["empty_0x3"] = np.zeros((0, 3), dtype=np.int32)  # list modes cannot carry the 3
    d["empty_f32"] = np.zeros((0,), dtype=np.float32)
    d["empty_i64_2x0"] = np.zeros((2, 0), dtype=np.int64)
    d["empty_bool"] = np.zeros((0,), dtype=bool)
    d["just_below_threshold"] = sample("int16", (255,))
    d["just_below_2d"] = sample("float32", (15, 17))
    d["zero_dim"] = {
        "f32": np.array(1.5, dtype=np.float32),
        "f64_nan": np.array(NAN),
        "f64_neg_inf": np.array(-INF),
        "f16": np.array(0.1, dtype=np.float16),
        "i8": np.array(-7, dtype=np.int8),
        "i64_min": np.array(-(2**63), dtype=np.int64),
        "u64_max": np.array(2**64 - 1, dtype=np.uint64),
        "bool": np.array(True),
    }
    d["nested"] = {"list_of_arrays": [sample("float32", (2,)), sample("int32", (2, 2))], "tuple": (sample("uint8", (4,)),)}
    d["torch"] = {"w": FakeTorchTensor(sample("float32", (2, 3))), "scalar": FakeTorchTensor(np.array(2.5, dtype=np.float32))}
    return d


def external_arrays_object():
    d = {}
    shapes = [(16, 16), (300,), (2, 4, 32), (256,), (4, 8, 9)]
    for k, dt in enumerate(REAL_DTYPES + COMPLEX_DTYPES):
        d[dt] = sample(dt, shapes[k % len(shapes)], seed=k)
    d["int64_extremes"] = np.concatenate([extremes("int64")] * 52)[:256]
    d["uint64_extremes"] = np.concatenate([extremes("uint64")] * 52)[:260].reshape(2, 130)
    d["float64_nonfinite"] = np.array([NAN, INF, -INF, -0.0, 5e-324] * 60)
    d["float16_f"] = sample("float16", (17, 16))
    d["exact_threshold"] = np.arange(256, dtype=np.int64)
    d["just_below"] = np.arange(255, dtype=np.int64)  # stays internal
    d["layers"] = [
        {"w": sample("float32", (16, 16), seed=1), "b": sample("float32", (16,))},
        {"w": sample("float64", (32, 8), seed=2), "b": sample("float64", (8,))},
    ]
    d["deep"] = {"a": {"b": [0, {"c": sample("int32", (300,))}]}}
    d["torch_w"] = FakeTorchTensor(sample("float32", (8, 32), seed=4))
    return d


def npy_variants_object():
    return {
        "be_f8": NpyVariant(sample("float64", (300,)).astype(">f8")),
        "be_i4": NpyVariant(sample("int32", (16, 32)).astype(">i4")),
        "be_u2": NpyVariant(sample("uint16", (256,)).astype(">u2")),
        "be_f2": NpyVariant(sample("float16", (16, 16)).astype(">f2")),
        "be_c16_fortran": NpyVariant(np.asfortranarray(sample("complex128", (16, 17)).astype(">c16"))),
        "fortran_f4": NpyVariant(np.asfortranarray(sample("float32", (16, 32)))),
        "fortran_i8_3d": NpyVariant(np.asfortranarray(sample("int64", (4, 8, 16)))),
        "fortran_bool": NpyVariant(np.asfortranarray(sample("bool", (16, 20)))),
        "v2_f4": NpyVariant(sample("float32", (8, 40)), version=(2, 0)),
        "v3_f8": NpyVariant(sample("float64", (300,)), version=(3, 0)),
        "v3_be_fortran_i2": NpyVariant(np.asfortranarray(sample("int16", (16, 16)).astype(">i2")), version=(3, 0)),
        "align16_f8": NpyVariant(sample("float64", (300,)), align=16),
        "align16_fortran_u1": NpyVariant(np.asfortranarray(sample("uint8", (16, 17))), align=16),
    }


def externals_object():
    return {
        "ints": list(range(300)),
        "strs": tuple(("s%d" % i) if i % 50 else "ü-%d 🎉 \"q\"\n" % i for i in range(300)),
        "records": [
            {"i": i, "name": "rec%d" % i, "v": sample("float32", (3,), seed=i), "opt": None if i % 2 else i * 0.5}
            for i in range(260)
        ],
        "big": [{"w": sample("float32", (300,), seed=i), "id": i} for i in range(256)],
        "lists": [[i, i + 1, [i * 2]] for i in range(300)],
        "floats": [NAN, INF, -INF, -0.0] + [i / 8 for i in range(252)],
        "partial_dicts": [{"k": i} if i % 2 == 0 else i for i in range(256)],
        "empty_dicts": [{} for _ in range(256)],
        "nested_lists": [list(range(300))] + [[i] for i in range(1, 256)],
        "données": list(range(256)),
        "small_list": list(range(255)),  # stays internal
    }


def stored_object():
    return {
        "basic": {"x": 1, "nan": NAN, "s": "héllo 世界 🎉", "set": {3, 1, 2}, "t": (1, 2)},
        "run": Run(name="stored", layers=[Layer(name="l0", w=sample("float32", (2, 2)), shape=[2, 2])], metrics={"m": 1.0}),
        "small": sample("int16", (3, 3)),
        "zero_dim": np.array(3.25),
        "big_array": sample("float64", (16, 16)),
        "layers": [{"w": sample("float32", (300,), seed=1)}, {"w": sample("float32", (20, 20), seed=2)}],
        "ints": list(range(300)),
        "recs": [{"id": i, "w": sample("float32", (256,), seed=i)} for i in range(256)],
        "be": NpyVariant(sample("int32", (300,)).astype(">i4")),
    }


ARCHIVES = [
    ("basic", basic_object, dict()),
    ("arrays_array_list_meta", lambda: internal_arrays_object("array_list_meta"), dict(array_mode="array_list_meta")),
    ("arrays_array_hex_meta", lambda: internal_arrays_object("array_hex_meta"), dict(array_mode="array_hex_meta")),
    ("arrays_array_b64_meta", lambda: internal_arrays_object("array_b64_meta"), dict(array_mode="array_b64_meta")),
    ("arrays_list", lambda: internal_arrays_object("list"), dict(array_mode="list")),
    ("arrays_external", external_arrays_object, dict()),
    ("npy_variants", npy_variants_object, dict()),
    ("externals", externals_object, dict()),
    ("stored", stored_object, dict(compress=False)),
]


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        print(__doc__.split("Canonical JSON")[0].rstrip(), file=sys.stderr)
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name, make, cfg in ARCHIVES:
        w = ZanjWriter(**cfg)
        obj = make()
        path = os.path.join(outdir, name + ".zanj")
        w.save(obj, path)
        with open(os.path.join(outdir, name + ".expected.json"), "w", encoding="utf-8") as f:
            f.write(json.dumps(canonical(expected_value(obj, w)), sort_keys=True, indent=1) + "\n")
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
