#!/usr/bin/python3
"""Python side of the interop tests of tables, sparse matrices, chrono items, variants, named
enums and byte buffers (tests/test_table.cpp, test_sparse.cpp, test_chrono.cpp, ...).

Usage
-----
    /usr/bin/python3 types_interop.py write OUTDIR
        Writes OUTDIR/python_types.zanj. The DataFrames in it are laid out exactly as Python's
        zanj 0.5 writes them (zanj.serializing.zanj_external_serialize: always a .jsonl member of
        df.to_dict(orient="records"), a stub whose "columns" list is replaced by jsonl_metadata's
        per-column summary); zanj has no handler for the other types, so they are written in the
        layout zanj-cpp's headers document (zanj/sparse.hpp, types/chrono.hpp, ...), built from
        scipy.sparse matrices, datetime objects and numpy arrays. Everything else follows
        write_zanj.py (Python's writer). Without pandas (scipy) the DataFrames (sparse matrices)
        are left out.

    /usr/bin/python3 types_interop.py read ARCHIVE [OUT.json]
        Reads ARCHIVE with read_zanj.py (the strict reference reader), converts the items it
        knows as a Python user would -- pandas.DataFrame(records) as zanj's loader does,
        scipy.sparse matrices from their component arrays (checked with check_format), datetime
        and timedelta from the chrono items -- and prints the result as canonical JSON (see
        read_zanj.py), to stdout or OUT.json, where those items become:
          {"__dataframe__": {"columns": [...], "dtypes": {col: pandas dtype}, "records": [...]}}
          {"__sparse__": {"format": "csr"|"coo", "shape": [r, c], "nnz": n, "dtype": name,
                          "index_dtype": name, "dense": [[...]]}}
          {"__datetime__": {"iso": datetime.isoformat(), "exact_seconds": "p/q"}}
          {"__timedelta__": {"total_seconds": float, "exact_seconds": "p/q"}}
        exact_seconds is count * period as a fraction (from "count"/"period", else "iso").

Exit status 0 on success, 1 with a message on stderr otherwise.
"""

import datetime
import fractions
import os
import sys

import numpy as np

# pandas and scipy are optional: without them the archive lacks the DataFrames (or sparse
# matrices), and the C++ tests that need them skip (tests/types_interop.hpp).
try:
    import pandas as pd
except ImportError:
    pd = None
try:
    import scipy.sparse
except ImportError:
    scipy = None

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import read_zanj  # noqa: E402
import write_zanj  # noqa: E402

FORMAT_KEY = write_zanj.FORMAT_KEY
REF_KEY = write_zanj.REF_KEY
UTC = datetime.timezone.utc


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------


class TypesWriter(write_zanj.ZanjWriter):
    def serialize(self, obj, path=()):
        if pd is not None and isinstance(obj, pd.DataFrame):
            return self.serialize_dataframe(obj, path)
        if scipy is not None and scipy.sparse.issparse(obj):
            fmt = obj.format  # "csr" or "coo"
            parts = ("indices", "indptr") if fmt == "csr" else ("row", "col")
            out = {FORMAT_KEY: "scipy.sparse.%s_matrix" % fmt, "shape": list(obj.shape), "nnz": int(obj.nnz)}
            for key in ("data",) + parts:
                out[key] = self.serialize(np.asarray(getattr(obj, key)), tuple(path) + (key,))
            return out
        if isinstance(obj, datetime.datetime):
            return {FORMAT_KEY: "std::chrono::time_point", "clock": "system_clock", "iso": obj.isoformat()}
        if isinstance(obj, datetime.timedelta):
            micro = obj // datetime.timedelta(microseconds=1)
            return {FORMAT_KEY: "std::chrono::duration", "count": micro, "period": [1, 1000000], "seconds": obj.total_seconds()}
        return super().serialize(obj, path)

    def serialize_dataframe(self, df, path):
        """zanj.serializing.zanj_external_serialize for a DataFrame: always external"""
        joined = "/".join(str(p) for p in path)
        name = joined + ".jsonl"
        if name in self.externals:
            raise ValueError("external path %s already exists" % name)
        out = {FORMAT_KEY: "pandas.DataFrame:external", REF_KEY: name, "columns": df.columns.tolist()}
        records = df.to_dict(orient="records")
        # zanj calls jsonl_metadata when every record is a dict, which fails on an empty frame;
        # a writer that saves empty frames keeps the list of names
        if records:
            out.update(write_zanj.jsonl_metadata(records))
        self.externals[name] = dict(item_type="jsonl", data=records, path=tuple(path), version=None, align=64, torch=False)
        return out


def python_types():
    n = 300
    out = {
        "when": datetime.datetime(2024, 5, 1, 12, 34, 56, 123456, tzinfo=UTC),
        "when_offset": datetime.datetime(2024, 5, 1, 14, 34, 56, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        "elapsed": datetime.timedelta(seconds=90, microseconds=250),
        "elapsed_seconds_only": {FORMAT_KEY: "std::chrono::duration", "seconds": 1.5},
        # alternative 1 of a std::variant<int32, str>: the index is the C++ position, "type" its name
        "choice": {FORMAT_KEY: "std::variant", "index": 1, "type": "str", "value": "text"},
        "colors": ["red", "blue"],  # Enum members by name
        "payload": (np.arange(n) % 256).astype(np.uint8),
        "small_payload": np.array([0, 1, 255], dtype=np.uint8),
    }
    if pd is not None:
        out.update(python_dataframes(n))
    if scipy is not None:
        out.update(python_sparse())
    return out


def python_dataframes(n):
    return {
        "df": pd.DataFrame(
            {
                "id": np.arange(5, dtype=np.int64),
                "score": [0.5, 1.25, np.nan, -2.0, 1e300],
                "name": ["a", "b\u00e9", "", "\u4e16\u754c", "quote \""],
                "flag": [True, False, True, True, False],
            }
        ),
        "big": pd.DataFrame({"step": np.arange(n, dtype=np.int64), "loss": 1.0 / (np.arange(n) + 1.0)}),
        "mixed": pd.DataFrame({"a": [1, 2], "b": ["x", 3]}),  # an object column: no zanj::table
    }


def python_sparse():
    return {
        "csr": scipy.sparse.csr_matrix(np.array([[1.5, 0, 0, 2.0], [0, 0, 0, 0], [0, -3.0, 0, 4.25]], dtype=np.float32)),
        "coo": scipy.sparse.coo_matrix(
            (np.array([7, 8, 9], dtype=np.int64), (np.array([0, 2, 2], dtype=np.int64), np.array([3, 0, 1], dtype=np.int64))),
            shape=(3, 4),
        ),
        "big_csr": scipy.sparse.csr_matrix(np.eye(300, dtype=np.float64) * 2.0),
    }


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------


def exact_seconds(node):
    if "count" in node and "period" in node:
        num, den = node["period"]
        return fractions.Fraction(node["count"]) * fractions.Fraction(num, den)
    return None


def parse_iso(text):
    dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise read_zanj.ZanjError("time point %r has no UTC offset" % text)
    return dt


def convert(node):
    """the value a Python user gets: known items converted, others as read_zanj rebuilds them"""
    if isinstance(node, list):
        return [convert(x) for x in node]
    if not isinstance(node, dict):
        return node
    fmt = node.get(FORMAT_KEY, "")
    if fmt.startswith("pandas.DataFrame") and pd is None:
        raise read_zanj.ZanjError("%s: reading DataFrames needs pandas, which is not installed" % fmt)
    if fmt.startswith("scipy.sparse.") and scipy is None:
        raise read_zanj.ZanjError("%s: reading sparse matrices needs scipy, which is not installed" % fmt)
    if fmt.startswith("pandas.DataFrame"):
        df = pd.DataFrame(node["data"])  # zanj.loading's DataFrame loader
        if not len(df.columns) and isinstance(node.get("columns"), list):
            df = pd.DataFrame(columns=node["columns"])
        records = [{k: v for k, v in r.items()} for r in df.to_dict(orient="records")]
        return {"__dataframe__": {"columns": [str(c) for c in df.columns], "dtypes": {str(c): str(t) for c, t in df.dtypes.items()}, "records": records}}
    if fmt.startswith("scipy.sparse."):
        kind = fmt[len("scipy.sparse."):].split("_")[0]
        shape = tuple(node["shape"])
        if kind == "csr":
            m = scipy.sparse.csr_matrix((node["data"], node["indices"], node["indptr"]), shape=shape)
            m.check_format(full_check=True)
            index_dtype = node["indices"].dtype.name
        else:
            m = scipy.sparse.coo_matrix((node["data"], (node["row"], node["col"])), shape=shape)
            index_dtype = node["row"].dtype.name
        if m.nnz != node.get("nnz", m.nnz):
            raise read_zanj.ZanjError("%s: nnz %s != %d" % (fmt, node["nnz"], m.nnz))
        return {"__sparse__": {"format": kind, "shape": list(m.shape), "nnz": int(m.nnz), "dtype": m.dtype.name, "index_dtype": index_dtype, "dense": m.toarray().tolist()}}
    if fmt == "std::chrono::time_point":
        exact = exact_seconds(node)
        if "iso" in node:
            dt = parse_iso(node["iso"])
            if exact is None:
                exact = fractions.Fraction(int((dt - datetime.datetime(1970, 1, 1, tzinfo=UTC)) // datetime.timedelta(microseconds=1)), 1000000)
        else:
            dt = datetime.datetime(1970, 1, 1, tzinfo=UTC) + datetime.timedelta(microseconds=int(exact * 1000000))
        return {"__datetime__": {"iso": dt.astimezone(UTC).isoformat(), "exact_seconds": str(exact)}}
    if fmt == "std::chrono::duration":
        exact = exact_seconds(node)
        td = datetime.timedelta(seconds=node["seconds"]) if exact is None else datetime.timedelta(microseconds=int(exact * 1000000))
        return {"__timedelta__": {"total_seconds": td.total_seconds(), "exact_seconds": str(exact)}}
    return {k: convert(v) for k, v in node.items()}


def main(argv):
    if not (len(argv) == 3 or (len(argv) == 4 and argv[1] == "read")) or argv[1] not in ("write", "read"):
        print(__doc__.split("Exit status")[0].rstrip(), file=sys.stderr)
        return 2
    try:
        if argv[1] == "write":
            os.makedirs(argv[2], exist_ok=True)
            path = os.path.join(argv[2], "python_types.zanj")
            TypesWriter().save(python_types(), path)
            print(path)
        else:
            tree = read_zanj.rebuild(read_zanj.read_archive(argv[2]))
            text = read_zanj.canonical_json(convert(tree)) + "\n"
            if len(argv) == 4:
                with open(argv[3], "w", encoding="utf-8") as f:
                    f.write(text)
            else:
                sys.stdout.write(text)
    except (read_zanj.ZanjError, ValueError, TypeError, KeyError) as e:
        print("types_interop.py: %s: ERROR: %s" % (argv[2], e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
