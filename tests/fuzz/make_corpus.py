#!/usr/bin/python3
"""Builds the fuzzers' seed corpus (in the build tree), run by make-corpus.sh.

usage: make_corpus.py RAW OUT

RAW holds the archives our writer and libzip made (zanj_fuzz_seeds). Adds files from numpy, from
Python's zipfile, from Info-ZIP's zip and from tests/python/write_zanj.py (archives laid out as
Python's zanj does), then fills OUT/<target>/ for each fuzz target:
  zip      zip archives of every writer (zanj, npz, zipfile, libzip, Info-ZIP)
  npy      .npy files from numpy, and the .npy members of the archives
  json     __zanj__.json, __zanj_meta__.json and .jsonl lines of the archives
  archive  whole .zanj archives of every writer
Seeds larger than MAX_SEED bytes are left out, so the corpus stays small.
"""

import hashlib
import io
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np

MAX_SEED = 8192
MAX_NPY_PER_ARCHIVE = 16  # archives of many arrays would swamp the .npy seeds
HERE = os.path.dirname(os.path.abspath(__file__))


def npy_bytes(array, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, array, allow_pickle=True)
    else:
        np.lib.format.write_array(buf, array, version=version, allow_pickle=True)
    return buf.getvalue()


def numpy_files():
    """name -> bytes: numpy's own .npy files, covering what the header parser must accept or refuse."""
    a = np.arange(12, dtype="<f8").reshape(3, 4)
    files = {
        "f8-2d.npy": npy_bytes(a),
        "f4-fortran.npy": npy_bytes(np.asfortranarray(a.astype("<f4"))),
        "i2-big-endian.npy": npy_bytes(np.arange(6, dtype=">i2")),
        "u8.npy": npy_bytes(np.arange(5, dtype="<u8")),
        "bool.npy": npy_bytes(np.array([True, False, True])),
        "c8.npy": npy_bytes(np.array([1 + 2j, -3j], dtype="<c8")),
        "f2.npy": npy_bytes(np.array([0.5, -1.0], dtype="<f2")),
        "zero-dim.npy": npy_bytes(np.array(7, dtype="<i4")),
        "empty.npy": npy_bytes(np.zeros((0, 3), dtype="<f8")),
        "i1-3d.npy": npy_bytes(np.arange(24, dtype="i1").reshape(2, 3, 4)),
        "v2-header.npy": npy_bytes(a, version=(2, 0)),
        "v3-header.npy": npy_bytes(a, version=(3, 0)),
        "unicode.npy": npy_bytes(np.array(["ab", "c"])),
        "structured.npy": npy_bytes(np.zeros(2, dtype=[("x", "<f4"), ("y", "<i2")])),
        "object-pickle.npy": npy_bytes(np.array([{"a": 1}, None], dtype=object)),
        "datetime.npy": npy_bytes(np.array(["2024-01-01"], dtype="datetime64[D]")),
    }
    return files


def zip_bytes(members, compression=zipfile.ZIP_DEFLATED, force_zip64=False, comment=b""):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        for name, data in members:
            if data is None:
                z.writestr(zipfile.ZipInfo(name), b"")  # a directory entry when name ends in '/'
                continue
            with z.open(name, "w", force_zip64=force_zip64) as f:
                f.write(data)
        z.comment = comment
    return buf.getvalue()


def python_zips():
    """name -> bytes: archives written by Python's zipfile and numpy's savez."""
    small = [("a.txt", b"hello " * 20), ("dir/", None), ("dir/b.npy", npy_bytes(np.arange(4.0)))]
    files = {
        "zipfile-deflate.zip": zip_bytes(small),
        "zipfile-store.zip": zip_bytes(small, zipfile.ZIP_STORED),
        "zipfile-zip64.zip": zip_bytes(small, force_zip64=True),
        "zipfile-comment.zip": zip_bytes(small, comment=b"a comment"),
        "zipfile-bzip2.zip": zip_bytes(small, zipfile.ZIP_BZIP2),
        "zipfile-lzma.zip": zip_bytes(small, zipfile.ZIP_LZMA),
        "zipfile-empty.zip": zip_bytes([]),
    }
    for name, save in (("savez.npz", np.savez), ("savez_compressed.npz", np.savez_compressed)):
        buf = io.BytesIO()
        save(buf, x=np.arange(6, dtype="<i4").reshape(2, 3), y=np.array(1.5))
        files[name] = buf.getvalue()
    return files


def repack(data, compression):
    """The archive's members rewritten by Python's zipfile."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return zip_bytes([(i.filename, z.read(i)) for i in z.infolist()], compression)


def infozip(data, scratch):
    """The archive's members rewritten by Info-ZIP's zip, or None without it."""
    if shutil.which("zip") is None:
        return None
    tree = os.path.join(scratch, "infozip")
    shutil.rmtree(tree, ignore_errors=True)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        z.extractall(tree)
    out = os.path.join(scratch, "infozip.zip")
    if os.path.exists(out):
        os.remove(out)
    subprocess.run(["zip", "-q", "-r", "-X", out, "."], cwd=tree, check=True)
    with open(out, "rb") as f:
        return f.read()


def members_of(data):
    """The members Python can decompress (zipfile reads no zstd before Python 3.14)."""
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            try:
                if not info.is_dir():
                    out.append((info.filename, z.read(info)))
            except NotImplementedError:
                pass
    return out


def main():
    raw, out = sys.argv[1], sys.argv[2]
    archives = {}  # name -> bytes of whole .zanj archives
    for name in sorted(os.listdir(raw)):
        if name.endswith(".zanj"):
            with open(os.path.join(raw, name), "rb") as f:
                archives[name] = f.read()
    python_dir = os.path.join(raw, "python")
    subprocess.run([sys.executable, os.path.join(HERE, "..", "python", "write_zanj.py"), python_dir],
                   check=True, stdout=subprocess.DEVNULL)
    for name in sorted(os.listdir(python_dir)):
        if name.endswith(".zanj"):
            with open(os.path.join(python_dir, name), "rb") as f:
                archives["python-" + name] = f.read()
    ours = archives["zanj-default.zanj"]
    archives["zipfile-deflate.zanj"] = repack(ours, zipfile.ZIP_DEFLATED)
    archives["zipfile-store.zanj"] = repack(ours, zipfile.ZIP_STORED)
    packed = infozip(ours, raw)
    if packed is not None:
        archives["infozip.zanj"] = packed

    seeds = {"zip": {}, "npy": {}, "json": {}, "archive": {}}
    seeds["npy"].update(numpy_files())
    seeds["zip"].update(python_zips())
    for name, data in archives.items():
        seeds["archive"][name] = data
        seeds["zip"][name.replace(".zanj", ".zip")] = data
        stem = name[: -len(".zanj")]
        npy_members = 0
        for member, content in members_of(data):
            flat = stem + "-" + member.replace("/", "-")
            if member.endswith(".npy") and npy_members < MAX_NPY_PER_ARCHIVE:
                seeds["npy"][flat] = content
                npy_members += 1
            elif member.endswith(".json"):
                seeds["json"][flat] = content
            elif member.endswith(".jsonl"):
                seeds["json"][flat + ".json"] = content.splitlines()[0] if content else b""

    kept = skipped = 0
    for target, files in seeds.items():
        folder = os.path.join(out, target)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        seen = set()
        for name, data in sorted(files.items()):
            digest = hashlib.sha1(data).digest()
            if len(data) > MAX_SEED or digest in seen:
                skipped += 1
                continue
            seen.add(digest)
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
            kept += 1
    print(f"make_corpus: {kept} seeds written to {out}, {skipped} too large or duplicates left out")


if __name__ == "__main__":
    main()
