// The physical limit every other case is a ratio of: the payload's bytes written with write() and
// fsync, read back with pread into fresh memory, and copied with memcpy, in the same folder.

#include "../cases.hpp"

#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <utility>

namespace bench {

namespace {

// The offset of each blob in the raw file: they are written back to back.
std::vector<std::uint64_t> offsets(const workload& w) {
    std::vector<std::uint64_t> out;
    std::uint64_t at = 0;
    for (const blob& b : w.blobs) out.push_back(std::exchange(at, at + b.bytes.size()));
    return out;
}

} // namespace

std::vector<case_spec> raw_cases(const workload& w) {
    const auto file = w.dir / "raw.bin";
    std::vector<case_spec> cases;
    cases.push_back({"raw", "write+fsync", op::save, codec::store, file, in_child([&w, file](stopwatch&) {
                         fd_handle f(file, O_CREAT | O_TRUNC | O_WRONLY);
                         for (const blob& b : w.blobs) write_all(f.get(), b.bytes);
                         check(::fsync(f.get()) == 0, "fsync");
                     })});
    // A reader must allocate its destination too: fresh pages cost a fault each, as in every loader.
    cases.push_back(
        {"raw", "pread", op::load, codec::store, file, in_child([&w, file](stopwatch& sw) {
             fd_handle f(file, O_RDONLY);
             std::vector<std::unique_ptr<std::byte[]>> back;
             std::uint64_t at = 0;
             for (const blob& b : w.blobs) {
                 back.push_back(fresh_buffer(b.bytes.size()));
                 pread_all(f.get(), {back.back().get(), b.bytes.size()}, at);
                 at += b.bytes.size();
             }
             sw.stop();
             check(std::memcmp(back.front().get(), w.blobs.front().bytes.data(), w.blobs.front().bytes.size()) == 0,
                   "pread read other bytes");
         })});
    // Two ceilings of a copying load: into fresh memory (paying a page fault per 4 KiB, as a
    // loader allocating its result does), and into memory already touched (memory bandwidth).
    for (const bool touched : {false, true}) {
        cases.push_back({"raw",
                         touched ? "memcpy, touched" : "memcpy",
                         op::load,
                         codec::none,
                         {},
                         in_child([&w, touched](stopwatch& sw) {
                             std::vector<std::unique_ptr<std::byte[]>> back;
                             for (const blob& b : w.blobs) back.push_back(fresh_buffer(b.bytes.size()));
                             if (touched) {
                                 for (std::size_t i = 0; i < back.size(); ++i)
                                     std::memset(back[i].get(), 0, w.blobs[i].bytes.size());
                                 sw.restart();
                             }
                             for (std::size_t i = 0; i < back.size(); ++i)
                                 std::memcpy(back[i].get(), w.blobs[i].bytes.data(), w.blobs[i].bytes.size());
                             sw.stop(); // freeing is not part of loading
                         }),
                         touched ? "copy into memory already faulted in: memory bandwidth"
                                 : "copy into fresh memory: the ceiling of a copying load"});
    }
    if (!w.probe.empty()) {
        const auto all = offsets(w);
        const std::size_t index = static_cast<std::size_t>(&w.probe_blob() - w.blobs.data());
        cases.push_back({"raw", "pread one", op::load_one, codec::store, file,
                         in_child([b = &w.blobs[index], file, at = all[index]](stopwatch& sw) {
                             fd_handle f(file, O_RDONLY);
                             auto back = fresh_buffer(b->bytes.size());
                             pread_all(f.get(), {back.get(), b->bytes.size()}, at);
                             sw.stop();
                         }),
                         "open the raw file and pread the array's bytes"});
    }
    return cases;
}

} // namespace bench
