#!/usr/bin/python3
"""Archives for tests/test_archive.cpp (the lazy `zanj::archive`), written as Python's zanj
lays them out by write_zanj.ZanjWriter, plus a few that no writer makes on purpose.

Usage
-----
    /usr/bin/python3 write_archive_fixtures.py OUTDIR

Writes into OUTDIR (created if missing):

  py_stored.zanj    the object below with compress=False (ZIP_STORED): Python aligns nothing,
                    so .npy data starts wherever the zip puts it; a padding extra field in the
                    local headers of `misaligned_f8.npy` and `misaligned_i2.npy` makes their data
                    start at a file offset that is 4 mod 8 and 1 mod 2 (neither can be viewed)
  py_deflate.zanj   the same object with compress=True (ZIP_DEFLATED), no padding
  bad_jsonl.zanj    stored; line 11 of ints.jsonl is not JSON, but every CRC is right
  layout.json       for each of the two archives, every external .npy member's data offset in
                    the file (after the NPY header) and its dtype, so the C++ test knows which
                    members are misaligned without trusting the reader under test

Every array holds np.arange(n) in C order (cast to its dtype, reshaped), so element k of the
C-order flattening is k; Fortran-order and big-endian members keep those values.
"""

import io
import json
import os
import struct
import sys
import zipfile

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from write_zanj import ZANJ_MAIN, ZANJ_META, Layer, NpyVariant, ZanjWriter, write_npy  # noqa: E402


def arange(dtype, shape):
    n = int(np.prod(shape))
    return np.arange(n).astype(dtype).reshape(shape)


def fixture_object():
    return {
        "title": "python run",
        "layers": [
            Layer(name="l0", w=arange("float32", (16, 32)), shape=[16, 32]),
            Layer(name="l1", w=arange("float64", (300,)), shape=[300]),
        ],
        "cube": arange("int16", (4, 8, 16)),
        "be_i4": NpyVariant(arange(">i4", (300,))),
        "be_f8_2d": NpyVariant(arange(">f8", (16, 20))),
        "fortran_f4": NpyVariant(np.asfortranarray(arange("float32", (16, 32)))),
        "fortran_i8_3d": NpyVariant(np.asfortranarray(arange("int64", (4, 8, 16)))),
        "misaligned_f8": arange("float64", (32, 10)),
        "misaligned_i2": arange("int16", (300,)),
        "small": arange("int32", (2, 3)),
        "zero_dim": np.array(2.5),
        "nested": {"a": {"b": [1, {"c": arange("uint8", (256,))}]}},
        "records": [{"i": i, "w": np.full(256, i, dtype=np.float32)} for i in range(256)],
        "ints": list(range(300)),
    }


class PaddedWriter(ZanjWriter):
    """ZanjWriter.save, recording where each .npy member's data starts, and padding the local
    header of chosen .npy members (with an extra field of an unused id) so that their data
    starts at a file offset with `offset % modulus == remainder`."""

    def __init__(self, misalign=None, **kwargs):
        super().__init__(**kwargs)
        self.misalign = misalign or {}  # member -> (modulus, remainder)
        self.layout = {}

    def save(self, obj, file_path):
        self.externals = {}
        tree = self.serialize(obj)
        with zipfile.ZipFile(file_path, "w", compression=self.compress) as zf:
            zf.writestr(ZANJ_META, json.dumps(self.meta(), indent="\t"))
            zf.writestr(ZANJ_MAIN, json.dumps(tree, indent="\t"))
            for name, ext in self.externals.items():
                info = zipfile.ZipInfo(name)
                info.compress_type = self.compress
                if ext["item_type"] == "npy":
                    body = io.BytesIO()
                    write_npy(body, ext["data"], ext["version"], ext["align"])
                    header = len(body.getvalue()) - ext["data"].nbytes
                    # local header (30) + name + padding extra + ZIP64 extra (20, force_zip64) + NPY header
                    start = zf.fp.tell() + 30 + len(name.encode()) + 20 + header
                    if name in self.misalign:
                        # an extra field of an unused id, as zip writers pad to align; readers skip it
                        modulus, remainder = self.misalign[name]
                        pad = (remainder - start - 4) % modulus
                        info.extra = struct.pack("<HH", 0xCAFE, pad) + b"\0" * pad
                        start += len(info.extra)
                        assert start % modulus == remainder, (name, start)
                    self.layout[name] = {"data_offset": start if self.compress == zipfile.ZIP_STORED else None,
                                         "dtype": ext["data"].dtype.name, "itemsize": ext["data"].dtype.itemsize}
                with zf.open(info, "w", force_zip64=True) as fp:
                    if ext["item_type"] == "npy":
                        write_npy(fp, ext["data"], ext["version"], ext["align"])
                    else:
                        for item in ext["data"]:
                            fp.write(json.dumps(item).encode("utf-8"))
                            fp.write(b"\n")
        self.externals = {}


def check_layout(path, layout):
    """the offsets promised must be where numpy's data really starts"""
    with open(path, "rb") as f:
        raw = f.read()
    with zipfile.ZipFile(path) as zf:
        for name, info in layout.items():
            if info["data_offset"] is None:
                continue
            arr = np.load(io.BytesIO(zf.read(name)))
            data = arr.tobytes("F" if arr.flags.f_contiguous and not arr.flags.c_contiguous else "C")
            assert raw[info["data_offset"]:info["data_offset"] + len(data)] == data, name


def break_jsonl_line(src, dst, member, line_number):
    """copies src to dst with one line of `member` replaced by text that is not JSON"""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == member:
                lines = data.split(b"\n")
                lines[line_number - 1] = b"{not json"
                data = b"\n".join(lines)
            zout.writestr(info.filename, data)


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        print(__doc__.split("Every array")[0].rstrip(), file=sys.stderr)
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    layouts = {}

    stored = PaddedWriter(misalign={"misaligned_f8.npy": (8, 4), "misaligned_i2.npy": (2, 1)}, compress=False)
    stored.save(fixture_object(), os.path.join(outdir, "py_stored.zanj"))
    check_layout(os.path.join(outdir, "py_stored.zanj"), stored.layout)
    layouts["py_stored.zanj"] = stored.layout

    deflated = PaddedWriter(compress=True)
    deflated.save(fixture_object(), os.path.join(outdir, "py_deflate.zanj"))
    layouts["py_deflate.zanj"] = deflated.layout

    plain = ZanjWriter(compress=False)
    plain.save({"ints": list(range(300)), "w": arange("float32", (300,))}, os.path.join(outdir, "good_jsonl.zanj"))
    break_jsonl_line(os.path.join(outdir, "good_jsonl.zanj"), os.path.join(outdir, "bad_jsonl.zanj"), "ints.jsonl", 11)
    os.remove(os.path.join(outdir, "good_jsonl.zanj"))

    with open(os.path.join(outdir, "layout.json"), "w", encoding="utf-8") as f:
        json.dump(layouts, f, indent=1, sort_keys=True)
    for name in ("py_stored.zanj", "py_deflate.zanj", "bad_jsonl.zanj"):
        print(os.path.join(outdir, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
