// zanj itself: save and copy load in each compression mode, and the lazy `zanj::archive`
// handle's mmap views, open-and-list and load-one on the stored archive.

#include "../cases.hpp"

namespace bench {

namespace {

struct mode {
    const char* name;
    const char* file;
    bench::codec codec;
    zanj::compression_policy policy;
    unsigned threads; // zanj::config::threads: 0 uses every core
};

// "stored" is the library's default: arrays stored, the JSON members deflated.
const mode modes[] = {
    {"stored", "stored", codec::store, zanj::compression_policy{}, 0},
    {"deflate", "deflate", codec::deflate, zanj::compression_policy::python(), 0},
    {"zstd-3, 1 thread", "zstd-t1", codec::zstd, zanj::compression_policy::all({zanj::compression_method::zstd, 3}), 1},
    {"zstd-3, 2 threads", "zstd-t2", codec::zstd, zanj::compression_policy::all({zanj::compression_method::zstd, 3}),
     2},
};

std::filesystem::path file_of(const workload& w, const mode& m) {
    return w.dir / (std::string("zanj-") + m.file + ".zanj");
}

// The lazy `zanj::archive` handle: viewing every array (after opening, which the open case
// times), opening and listing, and opening to copy one array out.
void add_lazy_cases(std::vector<case_spec>& out, const workload& w, const std::filesystem::path& file) {
    if (w.arrays) {
        std::uint64_t payload = 0;
        for (const blob& b : w.blobs)
            if (b.name != "records") payload += b.bytes.size();
        out.push_back({"zanj", "mmap view", op::load, codec::store, file, in_child([file, payload](stopwatch& sw) {
                           zanj::archive a(file);
                           std::vector<std::string> arrays;
                           for (const zanj::item_info& item : a.items())
                               if (item.kind == zanj::item_kind::array) arrays.push_back(item.path.str());
                           sw.restart();
                           std::uint64_t viewed = 0;
                           for (const std::string& path : arrays) viewed += a.view(path).nbytes();
                           sw.stop();
                           check(viewed == payload,
                                 "zanj viewed " + std::to_string(viewed) + " bytes of " + std::to_string(payload));
                       }),
                       "zanj::archive::view of every array of an open archive: zero-copy, unchecked"});
    }
    if (w.probe.empty()) return;
    const std::size_t arrays = w.blobs.size();
    out.push_back({"zanj", "lazy archive", op::open_list, codec::store, file, in_child([file, arrays](stopwatch&) {
                       zanj::archive a(file);
                       std::size_t listed = 0;
                       for (const zanj::item_info& item : a.items()) listed += item.kind == zanj::item_kind::array;
                       check(listed == arrays, "zanj listed " + std::to_string(listed) + " arrays");
                   }),
                   "zanj::archive: central directory and __zanj__.json, every item listed"});
    const std::string probe = "/" + w.probe;
    const std::size_t probe_bytes = w.probe_blob().bytes.size();
    out.push_back({"zanj", "lazy archive", op::load_one, codec::store, file,
                   in_child([file, probe, probe_bytes](stopwatch&) {
                       zanj::archive a(file);
                       const zanj::ndarray x = a.array(probe);
                       check(x.nbytes() == probe_bytes, "zanj loaded the wrong array");
                   }),
                   "open, then zanj::archive::array: a copy, CRC-checked"});
    out.push_back({"zanj", "lazy archive, open", op::load_one, codec::store, file,
                   in_child([file, probe, probe_bytes](stopwatch& sw) {
                       zanj::archive a(file);
                       sw.restart();
                       const zanj::ndarray x = a.array(probe);
                       sw.stop();
                       check(x.nbytes() == probe_bytes, "zanj loaded the wrong array");
                   }),
                   "zanj::archive::array of an archive opened beforehand (untimed): a copy, CRC-checked"});
}

template <class T>
void add_mode(std::vector<case_spec>& out, const workload& w, const T& data, const mode& m) {
    zanj::config cfg;
    cfg.compress = m.policy;
    cfg.threads = m.threads;
    const auto file = file_of(w, m);
    out.push_back({"zanj", m.name, op::save, m.codec, file,
                   in_child([cfg, &data, file](stopwatch&) { zanj::ZANJ(cfg).save(data, file); })});
    out.push_back({"zanj", m.name, op::load, m.codec, file, in_child([cfg, &data, file](stopwatch& sw) {
                       const T back = zanj::ZANJ(cfg).read<T>(file);
                       sw.stop();
                       check(back == data, "zanj read back other data");
                   }),
                   "ZANJ::read<T>: a copy, CRC-checked"});
}

} // namespace

std::filesystem::path zanj_stored_file(const workload& w) { return file_of(w, modes[0]); }

std::string zanj_member(const std::string& name) { return name + ".npy"; }

std::vector<case_spec> zanj_cases(const workload& w) {
    std::vector<case_spec> out;
    std::visit(
        [&](const auto& data) {
            for (const mode& m : modes) {
                add_mode(out, w, data, m);
                if (m.codec == codec::store) add_lazy_cases(out, w, file_of(w, m));
            }
        },
        w.data);
    return out;
}

} // namespace bench
