"""Turns the benchmark's CSV into docs/benchmarks.md and its chart.

    report.py RESULTS.csv DOCS_FOLDER [CONDITIONS] [--full-scale FULL.csv]

RESULTS.json beside the CSV holds the run's settings and machine (written by zanj_bench). Writes
DOCS_FOLDER/benchmarks.md (tables, and the issue's targets as met or missed) and
DOCS_FOLDER/benchmarks.png (every case's throughput as a ratio of the raw-I/O limit).
--full-scale adds a run of (a) alone at scale 1 (its JSON beside it): the workload at the
issue's own size, when the main run is at a reduced scale, with the targets it decides.
"""
import csv
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

MiB = 1 << 20


def number(text):
    return float(text) if text not in ("", None) else math.nan


def load(csv_path):
    rows = []
    with open(csv_path, newline="") as f:
        for r in csv.DictReader(f):
            for k in ("seconds", "mb_per_s", "vs_limit", "zanj_speedup", "peak_extra_bytes", "file_bytes", "payload_bytes"):
                r[k] = number(r[k])
            rows.append(r)
    return rows


def find(rows, workload, tool, variant, op):
    for r in rows:
        if (r["workload"], r["tool"], r["variant"], r["op"]) == (workload, tool, variant, op):
            return r if r["status"] == "ok" else None
    return None


def fmt(v, digits=2):
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def fmt_time(seconds):
    if math.isnan(seconds):
        return "–"
    return f"{seconds * 1e3:.3f} ms" if seconds < 0.01 else f"{seconds * 1e3:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def fmt_speed(r):
    v = r["mb_per_s"]
    return "–" if math.isnan(v) else f"{v:.0f}" if v >= 100 else f"{v:.2f}"


# --- the targets ------------------------------------------------------------------------

STORED_PEERS = [("numpy", "savez"), ("xtensor", "dump_npy/load_npy"), ("HDF5", "contiguous"),
                ("cereal", "binary"), ("libzip", "stored")]


def verdict(ok):
    return "**met**" if ok else "**missed**"


def targets(rows):
    """(target, measured, status) for each of the issue's targets."""
    out = []

    def ratio_target(text, r, minimum, what):
        if r is None:
            out.append((text, "no result", "not measured"))
        else:
            out.append((text, f"{r['vs_limit']:.2f} × {what}", verdict(r["vs_limit"] >= minimum)))

    ratio_target("stored save of (a) ≥ 0.9 × write()+fsync", find(rows, "a", "zanj", "stored", "save"), 0.9, "write()+fsync")
    ratio_target("copy load of (a) ≥ 0.9 × pread", find(rows, "a", "zanj", "stored", "load"), 0.9, "pread")

    view = find(rows, "a", "zanj", "mmap view", "load")
    if view is None:
        out.append(("mmap view of any array: 0 bytes copied, < 20 µs", "no result", "not measured"))
    else:
        per = view["seconds"] / 16
        out.append(("mmap view of any array: 0 bytes copied, < 20 µs",
                    f"{fmt_time(per)} per array (16 of (a)), memory added {view['peak_extra_bytes'] / MiB:.1f} MiB",
                    verdict(per < 20e-6 and view["peak_extra_bytes"] < MiB)))

    lazy_open = find(rows, "b", "zanj", "lazy archive", "open+list")
    libzip_open = find(rows, "b", "libzip", "zip_open", "open+list")
    py_open = find(rows, "b", "python", "zipfile", "open+list")
    if lazy_open is None or libzip_open is None or py_open is None:
        out.append(("opening (b) lazily no slower than libzip zip_open", "no result", "not measured"))
        out.append(("opening (b) lazily ≤ 0.4 × Python zipfile.ZipFile", "no result", "not measured"))
    else:
        t = lazy_open["seconds"]
        out.append(("opening (b) lazily no slower than libzip zip_open",
                    f"{fmt_time(t)} vs {fmt_time(libzip_open['seconds'])}", verdict(t <= libzip_open["seconds"])))
        out.append(("opening (b) lazily ≤ 0.4 × Python zipfile.ZipFile",
                    f"{t / py_open['seconds']:.2f} × ({fmt_time(t)} vs {fmt_time(py_open['seconds'])})",
                    verdict(t <= 0.4 * py_open["seconds"])))
    one = find(rows, "b", "zanj", "lazy archive, open", "load one")
    with_open = find(rows, "b", "zanj", "lazy archive", "load one")
    if one is None:
        out.append(("loading one array from (b) < 1 ms", "no result", "not measured"))
    else:
        opened = f"; {fmt_time(with_open['seconds'])} with the open" if with_open else ""
        out.append(("loading one array from (b) < 1 ms",
                    f"{fmt_time(one['seconds'])} from the open archive{opened}", verdict(one["seconds"] < 1e-3)))

    for w in ("a", "b"):
        for op in ("save", "load"):
            z = find(rows, w, "zanj", "stored", op)
            cmp = [(t, v, find(rows, w, t, v, op)) for t, v in STORED_PEERS]
            cmp = [(t, v, r) for t, v, r in cmp if r is not None]
            if z is None or not cmp:
                out.append((f"faster than numpy, xtensor, HDF5, cereal, libzip: {op} of ({w})", "no result", "not measured"))
                continue
            slower = [f"{t} {r['zanj_speedup']:.2f}" for t, v, r in cmp if r["zanj_speedup"] <= 1]
            worst = min(cmp, key=lambda c: c[2]["zanj_speedup"])
            out.append((f"faster than numpy, xtensor, HDF5, cereal, libzip: {op} of ({w})",
                        f"zanj × {worst[2]['zanj_speedup']:.2f} at worst ({worst[0]})"
                        + (f"; slower than: {', '.join(slower)}" if slower else ""),
                        verdict(not slower)))

    z1 = find(rows, "d", "zanj", "zstd-3, 1 thread", "save")
    z2 = find(rows, "d", "zanj", "zstd-3, 2 threads", "save")
    lib = find(rows, "d", "libzstd", "one-shot level 3", "save")
    lib_load = find(rows, "d", "libzstd", "one-shot level 3", "load")
    z1_load = find(rows, "d", "zanj", "zstd-3, 1 thread", "load")
    if z1 and lib:
        r = lib["seconds"] / z1["seconds"]
        extra = f"; decompression {lib_load['seconds'] / z1_load['seconds']:.2f} ×" if z1_load and lib_load else ""
        out.append(("zstd level 3 on (d), per thread ≥ 0.85 × libzstd one-shot",
                    f"{r:.2f} × ({fmt_speed(z1)} vs {fmt_speed(lib)} MB/s){extra}", verdict(r >= 0.85)))
    else:
        out.append(("zstd level 3 on (d), per thread ≥ 0.85 × libzstd one-shot", "no result", "not measured"))
    lib2 = find(rows, "d", "libzstd", "one-shot level 3, 2 threads", "save")
    if z1 and z2:
        r = z1["seconds"] / z2["seconds"]
        ceiling = f" (libzstd itself: {lib['seconds'] / lib2['seconds']:.2f} × on two threads)" if lib and lib2 else ""
        out.append(("zstd on (d): 2 threads ≥ 1.5 × one", f"{r:.2f} ×{ceiling}", verdict(r >= 1.5)))
    else:
        out.append(("zstd on (d): 2 threads ≥ 1.5 × one", "no result", "not measured"))

    zc = find(rows, "c", "zanj", "stored", "save")
    nl = find(rows, "c", "nlohmann::json", "dump", "save")
    if zc and nl:
        r = zc["seconds"] / nl["seconds"]
        out.append(("(c) within 2 × of nlohmann::json dump", f"{r:.2f} × its time ({fmt_time(zc['seconds'])} vs "
                    f"{fmt_time(nl['seconds'])})", verdict(r <= 2)))
    else:
        out.append(("(c) within 2 × of nlohmann::json dump", "no result", "not measured"))

    za = find(rows, "a", "zanj", "stored", "save")
    if za:
        worst = max((r for r in rows if r["workload"] == "a" and r["tool"] == "zanj" and r["op"] == "save"
                     and r["status"] == "ok"), key=lambda r: r["peak_extra_bytes"])
        out.append(("peak memory while saving (a) ≤ data + 64 MiB",
                    f"data + {za['peak_extra_bytes'] / MiB:.1f} MiB (stored); at most data + "
                    f"{worst['peak_extra_bytes'] / MiB:.1f} MiB ({worst['variant']})",
                    verdict(za["peak_extra_bytes"] <= 64 * MiB)))
    zb = find(rows, "b", "zanj", "stored", "save")
    if zb:
        r = zb["file_bytes"] / zb["payload_bytes"]
        out.append(("file size of (b) ≤ 1.05 × payload", f"{r:.3f} × ({zb['file_bytes'] / 1e6:.1f} MB for "
                    f"{zb['payload_bytes'] / 1e6:.1f} MB)", verdict(r <= 1.05)))
    return out


# --- tables and chart ---------------------------------------------------------------------------

def table(rows, workload):
    lines = ["| tool | variant | op | time | MB/s | × limit | zanj × | peak MiB | size MB | note |",
             "|---|---|---|--:|--:|--:|--:|--:|--:|---|"]
    for r in rows:
        if r["workload"] != workload:
            continue
        note = r["note"] if r["status"] == "ok" else f"{r['status']}: {r['note']}"
        lines.append(f"| {r['tool']} | {r['variant']} | {r['op']} | {fmt_time(r['seconds'])} | {fmt_speed(r)} | "
                     f"{fmt(r['vs_limit'])} | {fmt(r['zanj_speedup'])} | {fmt(r['peak_extra_bytes'] / MiB, 1)} | "
                     f"{fmt(r['file_bytes'] / 1e6, 1)} | {note.replace('|', '/')} |")
    return "\n".join(lines)


def chart(rows, workloads, path):
    heights = [1.2 + 0.22 * len(labels_of(rows, w["id"])) for w in workloads]
    fig, axes = plt.subplots(len(workloads), 1, figsize=(10, sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, w in zip(axes[:, 0], workloads):
        labels = labels_of(rows, w["id"])
        y = np.arange(len(labels))
        for k, (op, color) in enumerate((("save", "#d62728"), ("load", "#1f77b4"))):
            values = []
            for tool, variant in labels:
                r = find(rows, w["id"], tool, variant, op)
                values.append(r["vs_limit"] if r and not math.isnan(r["vs_limit"]) else 0)
            ax.barh(y + (k - 0.5) * 0.4, values, height=0.4, color=color, label=op)
        for i, (tool, variant) in enumerate(labels):
            if all(find(rows, w["id"], tool, variant, op) is None for op in ("save", "load")):
                ax.annotate("n/a (pending)", (0, i), xycoords=("axes fraction", "data"), xytext=(4, 0),
                            textcoords="offset points", va="center", fontsize=7, color="gray")
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.axvline(0.9, color="gray", linewidth=0.8, linestyle="--")
        ax.set_xscale("log")
        ax.set_yticks(y)
        ax.set_yticklabels([f"{t} {v}" for t, v in labels], fontsize=8)
        for tick, (tool, _) in zip(ax.get_yticklabels(), labels):
            if tool == "zanj":
                tick.set_fontweight("bold")
        ax.invert_yaxis()
        ax.set_title(f"({w['id']}) {w['title']}, {w['payload_bytes'] / 1e6:.0f} MB", fontsize=9)
        ax.grid(axis="x", which="both", alpha=0.3)
    axes[0, 0].legend(loc="lower right", fontsize=8)
    axes[-1, 0].set_xlabel("throughput ÷ raw limit (write()+fsync for saves, pread for loads); log scale, "
                           "dashed: 0.9")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def labels_of(rows, workload):
    """Tool and variant of every case of the workload that saves or loads, in run order."""
    out = []
    for r in rows:
        key = (r["tool"], r["variant"])
        if r["workload"] == workload and r["op"] in ("save", "load") and key not in out:
            out.append(key)
    return out


def full_scale_section(csv_path):
    """The section of a run of (a) alone at scale 1: its targets and its table."""
    with open(os.path.splitext(csv_path)[0] + ".json") as f:
        meta = json.load(f)
    rows = load(csv_path)
    a = next(w for w in meta["workloads"] if w["id"] == "a")
    if meta["scale"] != 1:
        sys.exit(f"{csv_path}: a run at scale {meta['scale']:g}, not 1")
    decided = [t for t in targets(rows) if "(a)" in t[0] or t[0].startswith("mmap view")]
    md = [f"## (a) at the issue's scale: {a['title']}", "",
          f"A separate run of (a) alone, at scale 1 ({meta['date']}; median of {meta['reps']} interleaved runs, "
          f"each in a fresh process): payload {a['payload_bytes'] / 1e6:.1f} MB in {a['arrays']} arrays. "
          "The targets it decides:", "",
          "| target | measured | status |", "|---|---|---|"]
    md += [f"| {t} | {m} | {st} |" for t, m, st in decided]
    md += ["", table(rows, "a"), ""]
    return md


def main():
    args = sys.argv[1:]
    full_scale = None
    if "--full-scale" in args:
        at = args.index("--full-scale")
        full_scale = args[at + 1]
        del args[at:at + 2]
    csv_path, docs = args[0], args[1]
    # Optional third argument: the conditions of the run (what else the machine was doing).
    conditions = args[2] if len(args) > 2 else ""
    with open(os.path.splitext(csv_path)[0] + ".json") as f:
        meta = json.load(f)
    rows = load(csv_path)
    workloads = meta["workloads"]
    chart(rows, workloads, os.path.join(docs, "benchmarks.png"))

    versions = dict(meta["versions"], numpy=np.__version__)
    a = next((w for w in workloads if w["id"] == "a"), None)
    scale_note = "" if meta["scale"] == 1 else \
        f" **Reduced scale {meta['scale']:g}**: (a) is {a['payload_bytes'] / MiB:.0f} MiB instead of 1 GiB" + \
        (" (a run of (a) at 1 GiB is at the end)." if full_scale else ".") if a else ""
    md = [
        "# Benchmarks",
        "",
        "<!-- Generated by bench/report.py from a run of `bash bench/run.sh`; do not edit by hand. -->",
        "",
        f"zanj against the physical limit and its peers, on the same data in the same run ({meta['date']}; "
        f"scale {meta['scale']:g}, median of {meta['reps']} interleaved runs, each in a fresh process).{scale_note} "
        "Reproduce with `bash bench/run.sh` (see [bench/README.md](../bench/README.md)).",
        "",
        *([f"**Run conditions**: {conditions}", ""] if conditions else []),
        "How to read it:",
        "- **× limit**: throughput over the raw limit measured in the same run on the same bytes in the same "
        "folder: `write()`+`fsync` for saves, `pread` into fresh memory for loads (1.00 = as fast as the disk "
        "and the kernel allow; compressed cases can exceed it since they move fewer bytes).",
        "- **zanj ×**: zanj's throughput over this row's, for the same operation and codec (stored rows against "
        "zanj stored, deflate against zanj deflate, zstd against zanj zstd with 1 thread). Above 1: zanj is faster.",
        "- **MB/s** counts the payload (the arrays' bytes; for (c) the structs' field bytes; for *load one* the one "
        "array), 1 MB = 10⁶ bytes. **size** is the file (or folder) written.",
        "- **peak MiB**: resident memory the operation added at its peak, above what the process held when it "
        "started (the data to save is already resident, so *data + peak* is the total).",
        "- Every save ends durable (`fsync`, added after the libraries that do not sync). Reads are "
        "**warm-cache**, for every tool alike: while a read case runs, its file is held in the page cache "
        "(mapped and locked with `mlock` by the harness). Reading it once before was not enough on this VM, "
        "whose DAMON pageout evicts page cache it has long seen idle.",
        "- Before each run of a case, memory of twice the payload plus 256 MiB is touched and freed: this VM hands "
        "memory freed a few seconds earlier back to its host, and touching it again costs a host fault per page, "
        "which made a case fast or slow by what ran before it.",
        "- The machine is shared and noisy; compare ratios within one run, not absolute speeds across runs.",
        "",
        "## The issue's targets",
        "",
        "| target | measured | status |",
        "|---|---|---|",
    ]
    md += [f"| {t} | {m} | {s} |" for t, m, s in targets(rows)]
    md += ["", "![Throughput of every case as a ratio of the raw limit](benchmarks.png)", ""]
    for w in workloads:
        md += [f"## ({w['id']}) {w['title']}", "",
               f"Payload {w['payload_bytes'] / 1e6:.1f} MB" + (f" in {w['arrays']} arrays." if w["id"] != "c" else "."),
               "", table(rows, w["id"]), ""]
    if full_scale:
        md += full_scale_section(full_scale)
    md += ["## Machine", "",
           f"- {meta['cpu']}, {meta['cores']} cores; {meta['kernel']}; files on {meta['filesystem']} "
           f"(`{meta['folder']}`)",
           f"- {meta['compiler']}, Release build",
           "- " + ", ".join(f"{k} {v}" for k, v in versions.items()),
           ""]
    with open(os.path.join(docs, "benchmarks.md"), "w") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
