"""Checks an archive written by zanj's zip writer with Python's zipfile.

usage: zip_verify.py ARCHIVE EXPECTED_DIR

Every file below EXPECTED_DIR (path relative to it = member name) must be a member with exactly
those bytes, and no other member may exist. testzip() must find no bad CRC. Every member must
carry the attributes the writer promises: UTF-8 name flag, Unix host with mode 0644, a
timestamp of about now. Prints "ok" and exits 0, or prints the problems and exits 1.
"""
import datetime
import os
import sys
import zipfile


def main():
    archive, expected_dir = sys.argv[1], sys.argv[2]
    expected = {}
    for root, _, files in os.walk(expected_dir):
        for f in files:
            full = os.path.join(root, f)
            name = os.path.relpath(full, expected_dir).replace(os.sep, "/")
            with open(full, "rb") as fh:
                expected[name] = fh.read()

    problems = []
    with zipfile.ZipFile(archive) as zf:
        bad = zf.testzip()
        if bad is not None:
            problems.append(f"testzip reports a bad member: {bad}")
        names = zf.namelist()
        if sorted(names) != sorted(expected):
            problems.append(f"members {sorted(names)} != expected {sorted(expected)}")
        now = datetime.datetime.now()
        for info in zf.infolist():
            if info.filename in expected and zf.read(info) != expected[info.filename]:
                problems.append(f"bytes of {info.filename} differ")
            if not info.flag_bits & 0x800:
                problems.append(f"{info.filename}: UTF-8 name flag (bit 11) not set")
            if info.create_system != 3:
                problems.append(f"{info.filename}: made-by host {info.create_system}, not 3 (Unix)")
            if info.external_attr >> 16 != 0o100644:
                problems.append(f"{info.filename}: mode {oct(info.external_attr >> 16)}, not 0o100644")
            stamp = datetime.datetime(*info.date_time)
            if abs((stamp - now).total_seconds()) > 24 * 3600:
                problems.append(f"{info.filename}: timestamp {stamp} is not about now ({now})")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("ok")


main()
