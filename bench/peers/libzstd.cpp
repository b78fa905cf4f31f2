// libzstd's one-shot API at level 3, single thread, in memory: the compression limit that zanj's
// zstd mode is measured against. Each array is one frame; the frames are written back to back
// (untimed) so that the decompression case reads the same bytes. A second save case compresses
// the same bytes on two threads, each taking one half of every array: what a second core gives
// zstd itself on this machine, the ceiling of zanj's own two-thread figure.

#include "../cases.hpp"

#include <zstd.h>

#include <cstring>
#include <fcntl.h>
#include <initializer_list>
#include <memory>
#include <thread>

namespace bench {

namespace {

// One context for every frame, as a real writer would keep: creating one costs more than
// compressing a small array.
struct cctx_free {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct dctx_free {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

void zstd_ok(std::size_t code, const char* what) {
    check(!ZSTD_isError(code), std::string("zstd: cannot ") + what + ": " + ZSTD_getErrorName(code));
}

using zstd_frame = std::pair<std::unique_ptr<std::byte[]>, std::size_t>;

// One frame of `bytes`, written into fresh memory as a writer's output would be.
zstd_frame compress_frame(ZSTD_CCtx* cctx, std::span<const std::byte> bytes) {
    const std::size_t bound = ZSTD_compressBound(bytes.size());
    zstd_frame out{fresh_buffer(bound), 0};
    out.second = ZSTD_compressCCtx(cctx, out.first.get(), bound, bytes.data(), bytes.size(), 3);
    zstd_ok(out.second, "compress");
    return out;
}

// The frames back to back, untimed, for the decompression case to read.
void write_frames(const std::filesystem::path& file, std::initializer_list<const std::vector<zstd_frame>*> lists) {
    fd_handle f(file, O_CREAT | O_TRUNC | O_WRONLY);
    for (const std::vector<zstd_frame>* frames : lists)
        for (const auto& [data, size] : *frames) write_all(f.get(), {data.get(), size});
}

void compress(const workload& w, const std::filesystem::path& file, stopwatch& sw) {
    std::unique_ptr<ZSTD_CCtx, cctx_free> cctx(ZSTD_createCCtx());
    std::vector<zstd_frame> frames;
    for (const blob& b : w.blobs) frames.push_back(compress_frame(cctx.get(), b.bytes));
    sw.stop();
    write_frames(file, {&frames});
}

// Each half of every array becomes a frame of its own: the first halves on this thread, the
// second ones on another, both from the start, each with its own context.
void compress_on_two_threads(const workload& w, const std::filesystem::path& file, stopwatch& sw) {
    std::vector<zstd_frame> halves[2];
    auto compress_halves = [&w](int half, std::vector<zstd_frame>& out) {
        std::unique_ptr<ZSTD_CCtx, cctx_free> cctx(ZSTD_createCCtx());
        for (const blob& b : w.blobs) {
            const std::size_t first = b.bytes.size() / 2;
            out.push_back(compress_frame(cctx.get(), half == 0 ? b.bytes.first(first) : b.bytes.subspan(first)));
        }
    };
    std::exception_ptr failed;
    std::thread other([&] {
        try {
            compress_halves(1, halves[1]);
        } catch (...) {
            failed = std::current_exception();
        }
    });
    compress_halves(0, halves[0]);
    other.join();
    sw.stop();
    if (failed) std::rethrow_exception(failed);
    write_frames(file, {&halves[0], &halves[1]});
}

void decompress(const workload& w, const std::filesystem::path& file, stopwatch& sw) {
    const std::string frames = read_file(file);
    std::unique_ptr<ZSTD_DCtx, dctx_free> dctx(ZSTD_createDCtx());
    std::vector<std::unique_ptr<std::byte[]>> back;
    sw.restart();
    for (std::size_t at = 0; at < frames.size();) {
        const std::size_t frame = ZSTD_findFrameCompressedSize(frames.data() + at, frames.size() - at);
        zstd_ok(frame, "find a frame");
        const unsigned long long content = ZSTD_getFrameContentSize(frames.data() + at, frame);
        check(content != ZSTD_CONTENTSIZE_UNKNOWN && content != ZSTD_CONTENTSIZE_ERROR,
              "zstd: a frame without its size");
        back.push_back(fresh_buffer(content));
        zstd_ok(ZSTD_decompressDCtx(dctx.get(), back.back().get(), content, frames.data() + at, frame), "decompress");
        at += frame;
    }
    sw.stop();
    check(back.size() == w.blobs.size(), "zstd: frames missing");
    for (std::size_t i = 0; i < back.size(); ++i)
        check(std::memcmp(back[i].get(), w.blobs[i].bytes.data(), w.blobs[i].bytes.size()) == 0, "zstd: other data");
}

} // namespace

std::string libzstd_version() { return ZSTD_versionString(); }

std::vector<case_spec> libzstd_cases(const workload& w) {
    if (!w.arrays) return {};
    const auto file = w.dir / "libzstd-frames.zst";
    return {
        {"libzstd", "one-shot level 3", op::save, codec::zstd, file,
         in_child([&w, file](stopwatch& sw) { compress(w, file, sw); }), "ZSTD_compressCCtx in memory, no file I/O"},
        {"libzstd", "one-shot level 3", op::load, codec::zstd, file,
         in_child([&w, file](stopwatch& sw) { decompress(w, file, sw); }),
         "ZSTD_decompressDCtx in memory, no file I/O"},
        {"libzstd", "one-shot level 3, 2 threads", op::save, codec::zstd, w.dir / "libzstd-halves.zst",
         in_child([&w, file = w.dir / "libzstd-halves.zst"](stopwatch& sw) { compress_on_two_threads(w, file, sw); }),
         "two threads, each compressing one half of every array: a second core's gain for zstd itself"},
    };
}

} // namespace bench
