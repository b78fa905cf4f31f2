"""Writes an archive with Python's zipfile, for zanj's zip reader to read.

usage: zip_write.py SOURCE_DIR ARCHIVE [options]

Every file below SOURCE_DIR becomes a member named by its relative path, in sorted order.
  --store             STORE every member (default DEFLATE)
  --force-zip64       open members with force_zip64=True, as numpy.savez does
  --zip64-limit N     lower zipfile's ZIP64 threshold to N bytes, so that sizes and offsets
                      above it go into ZIP64 extra fields of the central directory
  --filecount-limit N lower zipfile's member-count threshold, so that ZIP64 end records are
                      written for more than N members
  --duplicate NAME    write member NAME a second time at the end (zipfile warns, but does it)
"""
import argparse
import os
import warnings
import zipfile


def main():
    p = argparse.ArgumentParser()
    p.add_argument("source")
    p.add_argument("archive")
    p.add_argument("--store", action="store_true")
    p.add_argument("--force-zip64", action="store_true")
    p.add_argument("--zip64-limit", type=int)
    p.add_argument("--filecount-limit", type=int)
    p.add_argument("--duplicate")
    a = p.parse_args()

    # Module-level thresholds: the only way to get ZIP64 records without writing 4 GiB.
    if a.zip64_limit is not None:
        zipfile.ZIP64_LIMIT = a.zip64_limit
    if a.filecount_limit is not None:
        zipfile.ZIP_FILECOUNT_LIMIT = a.filecount_limit

    members = []
    for root, _, files in os.walk(a.source):
        for f in files:
            full = os.path.join(root, f)
            members.append((os.path.relpath(full, a.source).replace(os.sep, "/"), full))
    members.sort()
    if a.duplicate:
        members += [m for m in members if m[0] == a.duplicate]

    method = zipfile.ZIP_STORED if a.store else zipfile.ZIP_DEFLATED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name"
        with zipfile.ZipFile(a.archive, "w", compression=method, allowZip64=True) as zf:
            for name, full in members:
                with open(full, "rb") as fh:
                    data = fh.read()
                info = zipfile.ZipInfo(name, date_time=(2024, 1, 2, 3, 4, 6))
                info.compress_type = method
                info.file_size = len(data)  # lets zipfile choose ZIP64 by size, as writestr does
                with zf.open(info, "w", force_zip64=a.force_zip64) as out:
                    out.write(data)


main()
