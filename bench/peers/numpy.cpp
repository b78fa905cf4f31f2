// numpy through /usr/bin/python3: np.savez / np.savez_compressed / np.load, and Python's zipfile
// opening zanj's archive of (b). The script times itself (bench/peers/numpy_peer.py) and reads
// the payload from the workload's raw data file, so it sees the same bytes.

#include "../cases.hpp"

#include <cstdlib>

namespace bench {

namespace {

std::string python() {
    const char* p = std::getenv("ZANJ_BENCH_PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

std::function<sample()> script(const char* what, const workload& w, const std::filesystem::path& file,
                               const std::string& key = {}) {
    std::vector<std::string> argv{python(), ZANJ_BENCH_DIR "/peers/numpy_peer.py", what, w.manifest.string(),
                                  file.string()};
    if (!key.empty()) argv.push_back(key);
    return [argv] { return run_command(argv); };
}

} // namespace

std::vector<case_spec> numpy_cases(const workload& w) {
    if (!w.arrays) return {};
    const auto stored = w.dir / "numpy-savez.npz", compressed = w.dir / "numpy-savez_compressed.npz";
    std::vector<case_spec> out{
        {"numpy", "savez", op::save, codec::store, stored, script("savez", w, stored)},
        {"numpy", "savez", op::load, codec::store, stored, script("load", w, stored), "np.load, every array read"},
        {"numpy", "savez_compressed", op::save, codec::deflate, compressed, script("savez_compressed", w, compressed)},
        {"numpy", "savez_compressed", op::load, codec::deflate, compressed, script("load", w, compressed)},
    };
    if (!w.probe.empty()) {
        const auto zanj_file = zanj_stored_file(w);
        out.push_back({"python", "zipfile", op::open_list, codec::store, zanj_file, script("open_list", w, zanj_file),
                       "zipfile.ZipFile(zanj archive).namelist()"});
        out.push_back({"python", "zipfile", op::load_one, codec::store, zanj_file,
                       script("load_one", w, zanj_file, zanj_member(w.probe)),
                       "np.load(ZipFile(zanj archive).open(member))"});
        out.push_back({"numpy", "savez", op::load_one, codec::store, stored, script("load_one", w, stored, w.probe),
                       "np.load(npz)[key]"});
    }
    return out;
}

} // namespace bench
