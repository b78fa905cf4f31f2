"""numpy's side of the zanj benchmark: one timed operation, then one JSON line on stdout.

    numpy_peer.py OP MANIFEST FILE [KEY]

OP is savez, savez_compressed, load, open_list or load_one. MANIFEST describes the workload's raw
data file (written by the C++ driver, so numpy sees the same bytes as every other tool). Prints
{"seconds": ..., "peak_extra": ...}: peak_extra is the resident memory above the level at the
start of the timed part, as the C++ cases measure it.
"""
import json
import os
import sys
import time
import zipfile

import numpy as np


def rss(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def start():
    # Makes VmHWM restart from the current RSS (Linux >= 4.0): only this operation's peak counts.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return rss("VmRSS"), time.perf_counter()


def arrays_of(manifest_path):
    with open(manifest_path) as f:
        manifest = json.load(f)
    out = {}
    for a in manifest["arrays"]:
        count = int(np.prod(a["shape"])) if a["shape"] else 1
        out[a["name"]] = np.fromfile(manifest["data"], dtype=a["dtype"], count=count,
                                     offset=a["offset"]).reshape(a["shape"])
    return out


def save(path, arrays, compressed):
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    fd = os.open(path, os.O_RDONLY)  # every save in the benchmark ends durable
    os.fsync(fd)
    os.close(fd)


def main():
    op, manifest, path = sys.argv[1:4]
    key = sys.argv[4] if len(sys.argv) > 4 else None
    arrays = arrays_of(manifest) if op.startswith("savez") else None
    rss0, t0 = start()
    if op in ("savez", "savez_compressed"):
        save(path, arrays, op == "savez_compressed")
    elif op == "load":
        with np.load(path) as z:
            back = {k: z[k] for k in z.files}
    elif op == "open_list":
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    elif op == "load_one" and path.endswith(".npz"):
        with np.load(path) as z:
            back = z[key]
    elif op == "load_one":
        with zipfile.ZipFile(path) as z:
            back = np.load(z.open(key))
    else:
        sys.exit("unknown operation " + op)
    seconds = time.perf_counter() - t0
    peak = max(0, rss("VmHWM") - rss0)
    if op == "load":
        assert len(back) > 0
    print(json.dumps({"seconds": seconds, "peak_extra": peak}))


if __name__ == "__main__":
    main()
