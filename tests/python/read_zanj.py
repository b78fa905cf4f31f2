#!/usr/bin/python3
"""Reference READER for .zanj archives (Python zanj 0.5.x / muutils 0.8 format).

This script re-implements, with only the standard library and numpy, the way the
Python `zanj` package reads an archive (see /work/shared/FORMAT.md, section
"How Python reads an archive"), adds strict checks of the format contract, and
prints a *canonical JSON* form of the rebuilt object tree so that a C++ test can
compare it with what the C++ reader rebuilt.

Usage
-----
    /usr/bin/python3 read_zanj.py ARCHIVE [--expect EXPECTED.json] [--quiet]

    ARCHIVE             the .zanj file to read
    --expect FILE       compare the canonical form of ARCHIVE with the canonical
                        JSON stored in FILE; on the first difference print its
                        path (like /layers/0/w) and both values to stderr, exit 1
    --quiet, -q         do not print the canonical JSON to stdout

Exit status: 0 = archive valid (and equal to --expect if given);
             1 = a strict check failed, the archive could not be read, or the
                 --expect comparison failed (message on stderr);
             2 = bad command line.

Reading steps (mirroring zanj.loading)
--------------------------------------
1. Open with zipfile; `testzip()` must return None; every member must be STORE
   or DEFLATE, unencrypted, with a unique name. Parse `__zanj_meta__.json` and
   `__zanj__.json` as strict UTF-8 with json.loads (which accepts the NaN,
   Infinity and -Infinity tokens Python writes). Duplicate object keys are
   rejected.
2. For every entry of `externals_info`, load the member (`np.load(...,
   allow_pickle=False)` for npy, one json.loads per "\\n"-separated line for
   jsonl), then, with the entries sorted by path length, walk "path" from the
   root (entering an already-filled external through its "data"), check the
   stub found there and set stub["data"] to the loaded value.
3. Rebuild recursively: items with a "__muutils_format__" key go to the matching
   loader (arrays, external lists/tuples, set, frozenset); other typed items
   (e.g. "Foo(SerializableDataclass)") stay dicts with their values rebuilt and
   the format key kept; plain lists/dicts/scalars stay as they are.

Strict checks (each violation: message on stderr naming member/path, exit 1)
---------------------------------------------------------------------------
* meta is an object with `zanj_cfg` (object holding error_mode, array_mode,
  external_array_threshold, external_list_threshold, compress), `sysinfo`
  (object), `externals_info` (object) and `timestamp` (a number, not a bool).
* every member other than the two JSON files is listed in externals_info, and
  every entry names an existing member;
* each entry has item_type "npy" or "jsonl" equal to the member's extension and a
  non-empty "path" list of str/int; the member name equals the path joined with
  "/" plus "." + item_type; when present, the entry's "len(data)", "shape",
  "dtype" and "n_elements" agree with the loaded data;
* no two externals describe the same object path, and no external's path
  (member name without extension) is a "/"-prefix of another's -- except that
  externals nested inside a jsonl external (big.jsonl / big/3/w.npy) are legal,
  exactly as Python writes them;
* the stub found by walking "path" is an object whose "$ref" equals the member
  name, whose format key ends in ":external", and which was not filled already;
* npy: np.load works, the member is exactly header + data (no trailing bytes),
  the header ends with a newline, the stub format is numpy.ndarray:external or torch.Tensor:external and the stub's
  shape / dtype / n_elements match the array (dtype compared by numpy name,
  e.g. "float32"; for torch stubs "torch.float32");
* jsonl: every line is one JSON value; the stub format is list:external,
  tuple:external or pandas.DataFrame:external (a DataFrame's rows as records);
  if every item is a JSON object, the stub carries "data[0]" (equal to the
  first line), "len(data)" (the number of lines) and "columns" ({column:
  {"types": [python type names], "len": count}}, format key excluded);
* arrays kept in the JSON: dtype is a numpy name (bool, int8..int64,
  uint8..uint64, float16/32/64, complex64/128; "torch."-prefixed allowed for
  torch.Tensor items), shape is a list of non-negative ints, n_elements is
  present and equals the product of shape; list data has the right nesting and
  leaf types (JSON booleans for bool, in-range integers for int/uint); hex and
  base64 strings are well-formed and of exactly n_elements * itemsize bytes.

Canonical JSON (what is printed, and what --expect files contain)
-----------------------------------------------------------------
The canonical form C(v) of a rebuilt Python value v is:
  * None, bool, int, str      -> unchanged
  * float                     -> unchanged if finite (note -0.0 stays -0.0);
                                 NaN -> {"__float__": "nan"},
                                 +inf -> {"__float__": "inf"},
                                 -inf -> {"__float__": "-inf"}
  * list or tuple             -> [C(x) for x in v]          (tuples are not marked)
  * dict                      -> {k: C(x)} (keys are strings, kept as they are)
  * set / frozenset           -> {"__set__": items, "frozen": false / true}
                                 where items = the C(x) sorted by the string
                                 json.dumps(C(x), sort_keys=True) (Python's
                                 default separators ", " / ": " and ASCII escapes)
  * numpy.ndarray of any ndim (0-d included), and numpy scalars (np.generic,
    treated as 0-d arrays)
                              -> {"__ndarray__": {"dtype": <numpy dtype name,
                                  e.g. "float32", "bool", "complex128">,
                                  "shape": [d0, d1, ...],
                                  "hex": <lowercase hex of the element bytes,
                                  little-endian, C (row-major) order>}}
                                 i.e. arr.astype(arr.dtype.newbyteorder("<"))
                                 .tobytes("C").hex(); so a big-endian or
                                 Fortran-order .npy gives the same canonical form
                                 as its native little-endian C-order equivalent.
The document is printed with json.dumps(C(tree), sort_keys=True, indent=1).
Comparison (--expect) is structural: same JSON types (bool, int and float are
distinct kinds), same dict keys, same list lengths, equal values, and for
floats also the same sign of zero.
"""

import argparse
import base64
import io
import json
import math
import re
import sys
import zipfile

import numpy as np

FORMAT_KEY = "__muutils_format__"  # muutils.json_serialize.util._FORMAT_KEY
REF_KEY = "$ref"  # muutils.json_serialize.util._REF_KEY
ZANJ_MAIN = "__zanj__.json"
ZANJ_META = "__zanj_meta__.json"

# numpy dtype names allowed in a "dtype" field (FORMAT.md: "dtype is numpy's name")
KNOWN_DTYPES = (
    "bool",
    "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64",
    "complex64", "complex128",
)  # fmt: skip
ARRAY_PREFIXES = ("numpy.ndarray", "torch.Tensor")
ARRAY_MODES = ("array_list_meta", "array_hex_meta", "array_b64_meta", "zero_dim", "external")
LIST_EXTERNAL_FORMATS = ("list:external", "tuple:external")
DATAFRAME_EXTERNAL = "pandas.DataFrame:external"  # rebuilt as a dict keeping its records in "data"
HEX_RE = re.compile(r"[0-9a-fA-F]*")
B64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class ZanjError(Exception):
    """a violation of the format contract (reported on stderr, exit 1)"""


def fail(msg):
    raise ZanjError(msg)


def fmt_path(path):
    """object path -> "/a/0/b" (root is "/")"""
    return "/" + "/".join(str(p) for p in path)


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def short(value, limit=300):
    """short printable form of a JSON-ish value for error messages"""
    try:
        s = json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        s = repr(value)
    return s if len(s) <= limit else s[:limit] + "...(%d chars)" % len(s)


# ---------------------------------------------------------------------------
# JSON parsing
# ---------------------------------------------------------------------------


def _pairs_no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ZanjError("duplicate object key %r" % k)
        out[k] = v
    return out


def parse_json(raw, what):
    """strict UTF-8 (no BOM) + json.loads; NaN/Infinity/-Infinity accepted as Python does"""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        fail("%s: not valid UTF-8: %s" % (what, e))
    try:
        return json.loads(text, object_pairs_hook=_pairs_no_duplicates)
    except ZanjError as e:
        fail("%s: %s" % (what, e))
    except ValueError as e:
        fail("%s: invalid JSON: %s" % (what, e))


# ---------------------------------------------------------------------------
# external members
# ---------------------------------------------------------------------------


def load_npy_member(name, raw):
    """np.load(allow_pickle=False) plus checks of the NPY framing"""
    try:
        arr = np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as e:  # noqa: BLE001 -- any failure is a format violation
        fail("member %s: np.load(allow_pickle=False) failed: %s: %s" % (name, type(e).__name__, e))
    if not isinstance(arr, np.ndarray):
        fail("member %s: is not a single .npy array (np.load returned %s)" % (name, type(arr).__name__))
    # NPY framing: magic(6) + version(2) + header length (2 bytes for 1.0, 4 for 2.0/3.0)
    major = raw[6]
    if major == 1:
        hlen = int.from_bytes(raw[8:10], "little")
        data_offset = 10 + hlen
    else:
        hlen = int.from_bytes(raw[8:12], "little")
        data_offset = 12 + hlen
    if raw[data_offset - 1 : data_offset] != b"\n":
        fail("member %s: NPY header does not end with '\\n'" % name)
    # Python pads the header so the data starts at a multiple of 64 within the member; zanj-cpp
    # pads small arrays' headers so the data is aligned within the archive instead. numpy reads
    # headers of any length, so the offset itself is not checked.
    if len(raw) != data_offset + arr.nbytes:
        fail(
            "member %s: size %d != NPY header (%d) + data (%d bytes): truncated or trailing bytes"
            % (name, len(raw), data_offset, arr.nbytes)
        )
    return arr


def load_jsonl_member(name, raw):
    """zanj.externals.load_jsonl: [json.loads(line) for line in fp] (lines split on b"\\n")"""
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # iterating a file yields no empty last line
    return [parse_json(line, "member %s line %d" % (name, i + 1)) for i, line in enumerate(lines)]


def parse_dtype(value, prefix, where):
    """dtype field -> numpy dtype; must be a numpy name (torch items may use "torch.<name>")"""
    if not isinstance(value, str):
        fail("%s: dtype must be a string, got %s" % (where, short(value)))
    name = value
    if prefix == "torch.Tensor" and name.startswith("torch."):
        name = name[len("torch.") :]
    if name not in KNOWN_DTYPES:
        fail("%s: dtype %r is not a numpy dtype name (expected one of %s)" % (where, value, ", ".join(KNOWN_DTYPES)))
    return np.dtype(name)


def dtype_matches(stub_dtype, prefix, arr):
    """stub dtype vs loaded array, compared by numpy name ("torch.<name>" for torch stubs)"""
    if prefix == "torch.Tensor":
        return stub_dtype in (arr.dtype.name, "torch." + arr.dtype.name)
    return stub_dtype == arr.dtype.name


def check_shape_field(value, where):
    if not isinstance(value, list) or not all(is_int(d) and d >= 0 for d in value):
        fail("%s: shape must be a list of non-negative integers, got %s" % (where, short(value)))
    return tuple(value)


def python_type_name(v):
    """type(v).__name__ of a json.loads value (as jsonl_metadata in zanj/serializing.py)"""
    return type(v).__name__


def check_jsonl_stub_metadata(name, stub, items):
    """FORMAT.md: when every element of an external list is a JSON object, the stub also
    carries "data[0]", "len(data)" and "columns" (zanj.serializing.jsonl_metadata)"""
    where = "member %s (stub)" % name
    if "len(data)" in stub and stub["len(data)"] != len(items):
        fail("%s: \"len(data)\" is %s but the member has %d lines" % (where, short(stub["len(data)"]), len(items)))
    if not items or not all(isinstance(x, dict) for x in items):
        return
    for key in ("data[0]", "len(data)", "columns"):
        if key not in stub:
            fail("%s: every item is an object, so the stub must carry %r" % (where, key))
    if json.dumps(stub["data[0]"], sort_keys=True) != json.dumps(items[0], sort_keys=True):
        fail("%s: \"data[0]\" %s differs from the first line %s" % (where, short(stub["data[0]"]), short(items[0])))
    columns = stub["columns"]
    if not isinstance(columns, dict):
        fail("%s: \"columns\" must be an object" % where)
    all_cols = {c for item in items for c in item if c != FORMAT_KEY}
    if set(columns) != all_cols:
        fail("%s: \"columns\" keys %s != keys of the items %s" % (where, sorted(columns), sorted(all_cols)))
    for col in sorted(all_cols):
        info = columns[col]
        values = [item[col] for item in items if col in item]
        want_types = {python_type_name(v) for v in values}
        if not isinstance(info, dict) or not isinstance(info.get("types"), list):
            fail("%s: columns[%r] must be {\"types\": [...], \"len\": n}, got %s" % (where, col, short(info)))
        if set(info["types"]) != want_types or len(info["types"]) != len(want_types):
            fail("%s: columns[%r][\"types\"] is %s, expected (any order) %s" % (where, col, info["types"], sorted(want_types)))
        if info.get("len") != len(values) or not is_int(info.get("len")):
            fail("%s: columns[%r][\"len\"] is %s, expected %d" % (where, col, short(info.get("len")), len(values)))


def walk_to_stub(tree, path, name):
    """zanj.loading._each_item_in_externals: follow "path" from the root; an already
    filled external met on the way is entered through its "data" """
    item = tree
    for i, key in enumerate(path):
        where = fmt_path(path[:i])
        if isinstance(item, dict) and isinstance(item.get(FORMAT_KEY), str) and item[FORMAT_KEY].endswith(":external"):
            if "data" not in item:
                fail(
                    "member %s: its path %s goes through the external %s at %s, which is not filled "
                    "(missing from externals_info?)" % (name, fmt_path(path), short(item.get(REF_KEY)), where)
                )
            item = item["data"]
        if isinstance(item, list):
            if not is_int(key):
                fail("member %s: path %s: key %r at %s indexes a list but is not an int" % (name, fmt_path(path), key, where))
            if not 0 <= key < len(item):
                fail("member %s: path %s: index %d out of range at %s (len %d)" % (name, fmt_path(path), key, where, len(item)))
        elif isinstance(item, dict):
            if not isinstance(key, str):
                fail("member %s: path %s: key %r at %s indexes an object but is not a str" % (name, fmt_path(path), key, where))
            if key not in item:
                fail("member %s: path %s: key %r not found at %s" % (name, fmt_path(path), key, where))
        else:
            fail("member %s: path %s: cannot index a %s at %s" % (name, fmt_path(path), type(item).__name__, where))
        item = item[key]
    return item


def read_archive(archive_path):
    """steps 1 and 2: open, check, load externals and fill the stubs. Returns the tree."""
    try:
        zf = zipfile.ZipFile(archive_path, "r")
    except (OSError, zipfile.BadZipFile) as e:
        fail("cannot open as a zip archive: %s" % e)
    with zf:
        infos = zf.infolist()
        names = [zi.filename for zi in infos]
        seen = set()
        for zi in infos:
            if zi.filename in seen:
                fail("member %s: appears more than once in the archive" % zi.filename)
            seen.add(zi.filename)
            # FORMAT.md: Python writes every member with STORE (0) or DEFLATE (8)
            if zi.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                fail("member %s: compression method %d is neither STORE (0) nor DEFLATE (8)" % (zi.filename, zi.compress_type))
            if zi.flag_bits & 0x1:
                fail("member %s: is encrypted" % zi.filename)
        try:
            bad = zf.testzip()
        except Exception as e:  # noqa: BLE001
            fail("testzip() failed: %s: %s" % (type(e).__name__, e))
        if bad is not None:
            fail("member %s: testzip() reports a bad CRC or unreadable data" % bad)
        for required in (ZANJ_META, ZANJ_MAIN):
            if required not in seen:
                fail("member %s is missing" % required)

        meta = parse_json(zf.read(ZANJ_META), ZANJ_META)
        tree = parse_json(zf.read(ZANJ_MAIN), ZANJ_MAIN)

        # ---- __zanj_meta__.json ------------------------------------------------
        if not isinstance(meta, dict):
            fail("%s: must be a JSON object" % ZANJ_META)
        for key in ("zanj_cfg", "sysinfo", "externals_info", "timestamp"):
            if key not in meta:
                fail("%s: missing key %r" % (ZANJ_META, key))
        if not isinstance(meta["zanj_cfg"], dict):
            fail("%s: zanj_cfg must be an object" % ZANJ_META)
        for key in ("error_mode", "array_mode", "external_array_threshold", "external_list_threshold", "compress"):
            if key not in meta["zanj_cfg"]:
                fail("%s: zanj_cfg lacks %r" % (ZANJ_META, key))
        if not isinstance(meta["sysinfo"], dict):
            fail("%s: sysinfo must be an object" % ZANJ_META)
        if not is_number(meta["timestamp"]):
            fail("%s: timestamp must be a number, got %s" % (ZANJ_META, short(meta["timestamp"])))
        ext_info = meta["externals_info"]
        if not isinstance(ext_info, dict):
            fail("%s: externals_info must be an object" % ZANJ_META)

        # every member is listed, every entry exists (Python loads exactly the listed ones)
        for name in names:
            if name not in (ZANJ_META, ZANJ_MAIN) and name not in ext_info:
                fail("member %s: not listed in externals_info (Python would never load it)" % name)
        for name, info in ext_info.items():
            if name not in seen:
                fail("externals_info entry %s: no such member in the archive" % name)
            if not isinstance(info, dict):
                fail("externals_info entry %s: must be an object" % name)
            item_type = info.get("item_type")
            if item_type not in ("npy", "jsonl"):
                fail("externals_info entry %s: item_type must be \"npy\" or \"jsonl\", got %s" % (name, short(item_type)))
            if not name.endswith("." + item_type):
                fail("externals_info entry %s: item_type %s does not match the member's extension" % (name, item_type))
            path = info.get("path")
            if not isinstance(path, list) or not path or not all(isinstance(p, str) or is_int(p) for p in path):
                fail("externals_info entry %s: path must be a non-empty list of strings and ints, got %s" % (name, short(path)))
            # FORMAT.md: member name = object path joined with "/" plus the extension
            joined = "/".join(str(p) for p in path)
            if name != joined + "." + item_type:
                fail("externals_info entry %s: name is not its path %s joined with '/' plus .%s" % (name, short(path), item_type))

        # FORMAT.md: no two externals share a name, none is a path prefix of another.
        # Externals nested inside a jsonl external (big.jsonl + big/3/w.npy) are what Python
        # itself writes, so a prefix that is a jsonl member is allowed (the walk checks it).
        bases = {name: name.rsplit(".", 1)[0] for name in ext_info}
        for a, base_a in bases.items():
            for b, base_b in bases.items():
                if a == b:
                    continue
                if base_a == base_b:
                    fail("externals %s and %s describe the same object path" % (a, b))
                if base_b.startswith(base_a + "/") and ext_info[a]["item_type"] != "jsonl":
                    fail("external %s is a path prefix of external %s" % (a, b))

        # ---- load every listed member -----------------------------------------
        loaded = {}
        for name, info in ext_info.items():
            raw = zf.read(name)
            if info["item_type"] == "npy":
                data = load_npy_member(name, raw)
            else:
                data = load_jsonl_member(name, raw)
            # optional summaries written by Python: must agree when present
            if "len(data)" in info:
                want = len(data) if isinstance(data, list) else (data.shape[0] if data.ndim else None)
                if info["len(data)"] != want:
                    fail("externals_info entry %s: \"len(data)\" is %s, expected %s" % (name, short(info["len(data)"]), want))
            if isinstance(data, np.ndarray):
                if "shape" in info and info["shape"] != list(data.shape):
                    fail("externals_info entry %s: shape %s != array shape %s" % (name, short(info["shape"]), list(data.shape)))
                if "dtype" in info and not dtype_matches(info["dtype"], "torch.Tensor", data):
                    fail("externals_info entry %s: dtype %s != array dtype %s" % (name, short(info["dtype"]), data.dtype.name))
                if "n_elements" in info and info["n_elements"] != data.size:
                    fail("externals_info entry %s: n_elements %s != %d" % (name, short(info["n_elements"]), data.size))
            loaded[name] = data

    # ---- step 2: walk the paths, parents (shorter paths) first ---------------------
    for name, info in sorted(ext_info.items(), key=lambda kv: len(kv[1]["path"])):
        data = loaded[name]
        stub = walk_to_stub(tree, info["path"], name)
        where = "member %s: stub at %s" % (name, fmt_path(info["path"]))
        if not isinstance(stub, dict):
            fail("%s is a %s, not an object" % (where, type(stub).__name__))
        if stub.get(REF_KEY) != name:
            fail("%s has \"$ref\" %s, expected %s" % (where, short(stub.get(REF_KEY)), short(name)))
        fmt = stub.get(FORMAT_KEY)
        if not isinstance(fmt, str) or not fmt.endswith(":external"):
            fail("%s has format %s, which does not end with \":external\"" % (where, short(fmt)))
        if "data" in stub:
            fail("%s already has \"data\" (filled twice?)" % where)
        if info["item_type"] == "npy":
            prefix = fmt.split(":", 1)[0]
            if prefix not in ARRAY_PREFIXES:
                fail("%s: format %s is not numpy.ndarray:external or torch.Tensor:external" % (where, fmt))
            for key in ("shape", "dtype", "n_elements"):
                if key not in stub:
                    fail("%s lacks %r" % (where, key))
            if stub["shape"] != list(data.shape):
                fail("%s: shape %s != loaded array shape %s" % (where, short(stub["shape"]), list(data.shape)))
            if not dtype_matches(stub["dtype"], prefix, data):
                fail("%s: dtype %s != loaded array dtype %s (compared by numpy name)" % (where, short(stub["dtype"]), data.dtype.name))
            if stub["n_elements"] != data.size or not is_int(stub["n_elements"]):
                fail("%s: n_elements %s != %d" % (where, short(stub["n_elements"]), data.size))
        else:
            if fmt not in LIST_EXTERNAL_FORMATS + (DATAFRAME_EXTERNAL,):
                fail("%s: format %s is not list:external, tuple:external or %s" % (where, fmt, DATAFRAME_EXTERNAL))
            check_jsonl_stub_metadata(name, stub, data)
        stub["data"] = data
    return tree


# ---------------------------------------------------------------------------
# step 3: rebuild
# ---------------------------------------------------------------------------


def check_leaves(data, dtype, shape, where, depth=0):
    """list data of an array: nesting must follow shape, leaves must fit the dtype"""
    if depth < len(shape):
        if not isinstance(data, list) or len(data) != shape[depth]:
            fail("%s: data does not match shape %s at depth %d" % (where, list(shape), depth))
        for x in data:
            check_leaves(x, dtype, shape, where, depth + 1)
        return
    kind = dtype.kind
    if kind == "b":
        ok = isinstance(data, bool)
    elif kind in "iu":
        info = np.iinfo(dtype)
        ok = is_int(data) and info.min <= data <= info.max
    else:  # f, c: JSON cannot carry complex numbers, only reals
        ok = is_number(data)
    if not ok:
        fail("%s: element %s is not a valid %s value" % (where, short(data), dtype.name))


def load_array_item(node, path):
    """muutils.json_serialize.array.load_array, by the mode after ':' in the format"""
    where = "array at %s" % fmt_path(path)
    fmt = node[FORMAT_KEY]
    prefix, sep, mode = fmt.partition(":")
    if prefix not in ARRAY_PREFIXES or not sep or mode not in ARRAY_MODES:
        fail("%s: unknown array format %s" % (where, short(fmt)))
    if mode == "external":
        if "data" not in node:
            fail("%s: external %s was never filled (not listed in externals_info?)" % (where, short(node.get(REF_KEY))))
        if not isinstance(node["data"], np.ndarray):
            fail("%s: external %s is filled with a %s, not an array" % (where, short(node.get(REF_KEY)), type(node["data"]).__name__))
        return node["data"]
    for key in ("data", "shape", "dtype", "n_elements"):
        if key not in node:
            fail("%s (%s) lacks %r" % (where, fmt, key))
    dtype = parse_dtype(node["dtype"], prefix, where)
    shape = check_shape_field(node["shape"], where)
    n = math.prod(shape)
    if node["n_elements"] != n or not is_int(node["n_elements"]):
        fail("%s: n_elements %s != product of shape %s" % (where, short(node["n_elements"]), list(shape)))
    data = node["data"]
    if mode == "array_list_meta":
        # np.array(data, dtype=dtype), then the shape must match
        check_leaves(data, dtype, shape, where)
        arr = np.array(data, dtype=dtype)
        if arr.shape != shape:
            fail("%s: data has shape %s, shape field says %s" % (where, list(arr.shape), list(shape)))
        return arr
    if mode == "zero_dim":
        # FORMAT.md: 0-d arrays always zero_dim, "shape": [], "n_elements": 1
        if shape != ():
            fail("%s: zero_dim item must have shape [], got %s" % (where, list(shape)))
        check_leaves(data, dtype, shape, where)
        return np.array(data, dtype=dtype)
    # hex / base64 of the raw little-endian C-order bytes
    if not isinstance(data, str):
        fail("%s: %s data must be a string" % (where, mode))
    if mode == "array_hex_meta":
        if not HEX_RE.fullmatch(data) or len(data) % 2:
            fail("%s: data is not a well-formed hex string" % where)
        raw = bytes.fromhex(data)
    else:
        if not B64_RE.fullmatch(data) or len(data) % 4:
            fail("%s: data is not well-formed standard base64" % where)
        raw = base64.b64decode(data, validate=True)
    if len(raw) != n * dtype.itemsize:
        fail("%s: %d data bytes, expected %d elements x %d bytes" % (where, len(raw), n, dtype.itemsize))
    return np.frombuffer(raw, dtype=dtype.newbyteorder("<")).reshape(shape).astype(dtype)


def rebuild(node, path=()):
    if isinstance(node, dict):
        if FORMAT_KEY not in node:
            return {k: rebuild(v, path + (k,)) for k, v in node.items()}
        fmt = node[FORMAT_KEY]
        if not isinstance(fmt, str):
            fail("item at %s: format key is not a string: %s" % (fmt_path(path), short(fmt)))
        if fmt.startswith(ARRAY_PREFIXES):
            return load_array_item(node, path)
        if fmt in LIST_EXTERNAL_FORMATS:
            if not isinstance(node.get("data"), list):
                fail("%s at %s: external %s was never filled" % (fmt, fmt_path(path), short(node.get(REF_KEY))))
            items = [rebuild(x, path + (i,)) for i, x in enumerate(node["data"])]
            return tuple(items) if fmt.startswith("tuple") else items
        if fmt.endswith(":external") and fmt != DATAFRAME_EXTERNAL:
            fail("item at %s: unsupported external format %s" % (fmt_path(path), fmt))
        if fmt in ("set", "frozenset"):
            if not isinstance(node.get("data"), list):
                fail("%s at %s: \"data\" must be a list" % (fmt, fmt_path(path)))
            items = [rebuild(x, path + (i,)) for i, x in enumerate(node["data"])]
            try:
                return set(items) if fmt == "set" else frozenset(items)
            except TypeError as e:
                fail("%s at %s: unhashable item: %s" % (fmt, fmt_path(path), e))
        # any other typed item (e.g. "Foo(SerializableDataclass)") stays a dict
        return {k: (v if k == FORMAT_KEY else rebuild(v, path + (k,))) for k, v in node.items()}
    if isinstance(node, list):
        return [rebuild(x, path + (i,)) for i, x in enumerate(node)]
    return node


# ---------------------------------------------------------------------------
# canonical form + comparison
# ---------------------------------------------------------------------------


def canonical(v):
    """canonical JSON-able form of a rebuilt value (see module docstring)"""
    if isinstance(v, np.generic):
        v = np.asarray(v)
    if isinstance(v, np.ndarray):
        le = v.astype(v.dtype.newbyteorder("<"))
        return {"__ndarray__": {"dtype": v.dtype.name, "shape": list(v.shape), "hex": le.tobytes("C").hex()}}
    if v is None or isinstance(v, (bool, str)) or is_int(v):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return {"__float__": "nan"}
        if math.isinf(v):
            return {"__float__": "inf" if v > 0 else "-inf"}
        return v
    if isinstance(v, (list, tuple)):
        return [canonical(x) for x in v]
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise TypeError("canonical(): dict key %r is not a string" % (k,))
            out[k] = canonical(x)
        return out
    if isinstance(v, (set, frozenset)):
        items = sorted((canonical(x) for x in v), key=lambda c: json.dumps(c, sort_keys=True))
        return {"__set__": items, "frozen": isinstance(v, frozenset)}
    raise TypeError("canonical(): unsupported type %s" % type(v).__name__)


def canonical_json(v):
    return json.dumps(canonical(v), sort_keys=True, indent=1)


def _kind(x):
    if x is None:
        return "null"
    for t, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (list, "list"), (dict, "dict")):
        if isinstance(x, t):
            return name
    return type(x).__name__


def first_difference(actual, expected, path=()):
    """None if equal, else (path, actual, expected) of the first difference"""
    ka, ke = _kind(actual), _kind(expected)
    if ka != ke:
        return path, actual, expected
    if ka == "dict":
        for k in sorted(set(actual) | set(expected)):
            if k not in actual:
                return path + (k,), "<missing>", expected[k]
            if k not in expected:
                return path + (k,), actual[k], "<missing>"
            d = first_difference(actual[k], expected[k], path + (k,))
            if d:
                return d
        return None
    if ka == "list":
        for i in range(max(len(actual), len(expected))):
            if i >= len(actual):
                return path + (i,), "<missing>", expected[i]
            if i >= len(expected):
                return path + (i,), actual[i], "<missing>"
            d = first_difference(actual[i], expected[i], path + (i,))
            if d:
                return d
        return None
    if ka == "float":
        same = actual == expected and math.copysign(1.0, actual) == math.copysign(1.0, expected)
        return None if same else (path, actual, expected)
    return None if actual == expected else (path, actual, expected)


# ---------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description="reference reader for .zanj archives (see module docstring)")
    ap.add_argument("archive")
    ap.add_argument("--expect", metavar="EXPECTED.json", help="canonical JSON the archive must equal")
    ap.add_argument("-q", "--quiet", action="store_true", help="do not print the canonical JSON")
    args = ap.parse_args(argv)

    prog = "read_zanj.py: %s" % args.archive
    try:
        tree = read_archive(args.archive)
        value = rebuild(tree)
        text = canonical_json(value)
    except ZanjError as e:
        print("%s: ERROR: %s" % (prog, e), file=sys.stderr)
        return 1
    if not args.quiet:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    if args.expect:
        try:
            with open(args.expect, "rb") as f:
                expected = json.loads(f.read().decode("utf-8"))
        except (OSError, ValueError) as e:
            print("%s: ERROR: cannot read --expect file %s: %s" % (prog, args.expect, e), file=sys.stderr)
            return 1
        diff = first_difference(json.loads(text), expected)
        if diff is not None:
            where, a, b = diff
            print(
                "%s: MISMATCH with %s at %s\n  actual:   %s\n  expected: %s"
                % (prog, args.expect, fmt_path(where), short(a, 2000), short(b, 2000)),
                file=sys.stderr,
            )
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
