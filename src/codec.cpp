#include <zanj/detail/codec.hpp>

#include <zanj/detail/file_io.hpp> // allocate_transient
#include <zanj/error.hpp>

#include <libdeflate.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

namespace zanj::detail {

namespace {

constexpr int deflate_default_level = 6;
constexpr int deflate_max_level = 12; // libdeflate goes beyond zlib's 9
constexpr int zstd_default_level = 3;

struct deflate_compressor_deleter {
    void operator()(libdeflate_compressor* c) const noexcept { libdeflate_free_compressor(c); }
};
struct deflate_decompressor_deleter {
    void operator()(libdeflate_decompressor* d) const noexcept { libdeflate_free_decompressor(d); }
};
struct zstd_cctx_deleter {
    void operator()(ZSTD_CCtx* c) const noexcept { ZSTD_freeCCtx(c); }
};
struct zstd_dctx_deleter {
    void operator()(ZSTD_DCtx* d) const noexcept { ZSTD_freeDCtx(d); }
};

// A codec context borrowed from the calling thread's cache. Setting one up costs up to a few
// MiB of tables (allocated, often mmapped, and cleared), which dwarfs compressing a small
// member: archives of thousands of arrays would spend most of their time there. A context in
// use is taken out of the cache, so nested or overlapping uses each get their own; the first
// one back is kept for next time. `Key` tells contexts apart that cannot be reconfigured
// (libdeflate's compressor is made for one level). A zstd context that has run threaded keeps
// its job buffers and idle workers: remaking them for every large member made two threads
// three times slower than one.
template <class T, class Deleter>
class cached_context {
public:
    cached_context(int key, T* (*make)(int)) {
        slot& s = cache();
        if (s.object && s.key == key) {
            object_ = std::move(s.object);
        } else {
            object_.reset(make(key));
            if (!object_) throw std::bad_alloc();
        }
        key_ = key;
    }
    cached_context(const cached_context&) = delete;
    cached_context& operator=(const cached_context&) = delete;
    ~cached_context() {
        slot& s = cache();
        if (!s.object) {
            s.object = std::move(object_);
            s.key = key_;
        }
    }
    T* get() const noexcept { return object_.get(); }

private:
    struct slot {
        std::unique_ptr<T, Deleter> object;
        int key = 0;
    };
    static slot& cache() {
        thread_local slot s;
        return s;
    }
    std::unique_ptr<T, Deleter> object_;
    int key_ = 0;
};

using deflate_compressor = cached_context<libdeflate_compressor, deflate_compressor_deleter>;
using deflate_decompressor = cached_context<libdeflate_decompressor, deflate_decompressor_deleter>;
using zstd_compressor = cached_context<ZSTD_CCtx, zstd_cctx_deleter>;
using zstd_decompressor = cached_context<ZSTD_DCtx, zstd_dctx_deleter>;

libdeflate_compressor* make_deflate_compressor(int level) { return libdeflate_alloc_compressor(level); }
libdeflate_decompressor* make_deflate_decompressor(int) { return libdeflate_alloc_decompressor(); }
ZSTD_DCtx* make_zstd_dctx(int) { return ZSTD_createDCtx(); }
// A reused context starts from the default parameters, as a new one does.
ZSTD_CCtx* make_zstd_cctx(int) { return ZSTD_createCCtx(); }
void zstd_check(std::size_t code, const char* what);
void reset(ZSTD_CCtx* c) { zstd_check(ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters), "context reset"); }

void deflate_compress(int level, std::span<const std::span<const std::byte>> pieces, byte_buffer& out) {
    deflate_compressor compressor(level, make_deflate_compressor);

    // libdeflate compresses whole buffers only, so several pieces are joined first, into a
    // buffer dropped right after (huge pages once large: a save's meta is 2.3 MB for (b)).
    std::span<const std::byte> input;
    std::shared_ptr<std::byte> joined;
    if (pieces.size() == 1) {
        input = pieces.front();
    } else {
        const std::size_t size = total_size(pieces);
        joined = allocate_transient(size);
        std::size_t at = 0;
        for (auto piece : pieces) {
            if (!piece.empty()) std::memcpy(joined.get() + at, piece.data(), piece.size());
            at += piece.size();
        }
        input = {joined.get(), size};
    }
    out.resize(libdeflate_deflate_compress_bound(compressor.get(), input.size()));
    std::size_t n = libdeflate_deflate_compress(compressor.get(), input.data(), input.size(), out.data(), out.size());
    if (n == 0) throw error("deflate compression failed: output exceeded libdeflate's own bound");
    out.resize(n);
}

void zstd_check(std::size_t code, const char* what) {
    if (ZSTD_isError(code)) throw error(std::string("zstd ") + what + " failed: " + ZSTD_getErrorName(code));
}

// Compresses a member of `size` bytes on `threads` workers of zstd's. Its jobs default to 8 MiB
// at level 3, so a member of 8 MiB kept one worker busy and the other idle: jobs of an eighth
// of the member per worker (1 MiB at least) keep both busy, at a cost in ratio under 1%.
void use_zstd_workers(ZSTD_CCtx* cctx, unsigned threads, std::uint64_t size) {
    if (threads <= 1 || size < zstd_threading_threshold) return;
    zstd_check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, static_cast<int>(threads)), "thread setting");
    const std::uint64_t job =
        std::clamp<std::uint64_t>(size / (std::uint64_t{8} * threads), std::uint64_t{1} << 20, std::uint64_t{8} << 20);
    zstd_check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_jobSize, static_cast<int>(job)), "job size setting");
    // No overlap (1): each job would otherwise first load the last eighth of the window from the
    // job before, work done twice. (d)'s save on two threads took 61 ms rather than 65 (fresh
    // processes, medians of 11), and its members came out as small (the records 1% smaller).
    zstd_check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_overlapLog, 1), "overlap setting");
}

void zstd_compress(int level, std::span<const std::span<const std::byte>> pieces, byte_buffer& out, unsigned threads) {
    zstd_compressor cctx(0, make_zstd_cctx);
    reset(cctx.get());
    std::size_t total = total_size(pieces);
    zstd_check(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level), "level setting");
    // Workers split the input into jobs but still write one standard frame, which every
    // zstd reader (Python's zipfile included) decodes.
    use_zstd_workers(cctx.get(), threads, total);
    zstd_check(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1), "checksum setting");
    // The pledged size goes into the frame header, so readers can size their buffer up front.
    zstd_check(ZSTD_CCtx_setPledgedSrcSize(cctx.get(), total), "size setting");

    out.resize(ZSTD_compressBound(total));
    ZSTD_outBuffer output{out.data(), out.size(), 0};
    auto grow_if_full = [&] {
        if (output.pos < output.size) return;
        out.resize(out.size() * 2 + ZSTD_CStreamOutSize());
        output.dst = out.data();
        output.size = out.size();
    };
    // The last piece goes with the frame's end: a member in one piece, with room for its bound,
    // then compresses straight from the caller's memory, not through zstd's input buffer.
    const std::span<const std::byte> none;
    for (std::size_t i = 0; i < std::max<std::size_t>(pieces.size(), 1); ++i) {
        const bool last = i + 1 >= pieces.size();
        const std::span<const std::byte> piece = pieces.empty() ? none : pieces[i];
        ZSTD_inBuffer input{piece.data(), piece.size(), 0};
        while (true) {
            const std::size_t remaining =
                ZSTD_compressStream2(cctx.get(), &output, &input, last ? ZSTD_e_end : ZSTD_e_continue);
            zstd_check(remaining, "compression");
            if (last ? remaining == 0 : input.pos == input.size) break;
            grow_if_full();
        }
    }
    out.resize(output.pos);
}

[[noreturn]] void corrupt(std::string_view method, std::string_view member, std::string_view archive,
                          const std::string& why) {
    throw format_error("corrupt " + std::string(method) + " data in member '" + std::string(member) + "' (" +
                       std::string(archive) + "): " + why);
}

} // namespace

std::size_t total_size(std::span<const std::span<const std::byte>> pieces) {
    std::size_t n = 0;
    for (auto piece : pieces) n += piece.size();
    return n;
}

int effective_level(const compression& c) {
    if (c.level >= 0) return c.level;
    return c.method == compression_method::zstd ? zstd_default_level : deflate_default_level;
}

int checked_level(const compression& c) {
    const int level = effective_level(c);
    switch (c.method) {
    case compression_method::deflate:
        if (level > deflate_max_level)
            throw usage_error("deflate level " + std::to_string(level) + " is out of range (0 to " +
                              std::to_string(deflate_max_level) + ")");
        return level;
    case compression_method::zstd:
        if (level > ZSTD_maxCLevel())
            throw usage_error("zstd level " + std::to_string(level) + " is out of range (0 to " +
                              std::to_string(ZSTD_maxCLevel()) + ")");
        return level;
    case compression_method::store: break;
    }
    throw usage_error("compress: method " + std::to_string(static_cast<unsigned>(c.method)) +
                      " is not a compression method zanj writes");
}

void compress(const compression& c, std::span<const std::span<const std::byte>> pieces, byte_buffer& out,
              unsigned threads) {
    const int level = checked_level(c);
    if (c.method == compression_method::deflate)
        deflate_compress(level, pieces, out);
    else
        zstd_compress(level, pieces, out, threads);
}

struct stream_compressor::impl {
    zstd_compressor cctx{0, make_zstd_cctx};
    // Sized for the member (small ones are the common case: a large buffer per member would be
    // mapped, faulted in and unmapped each time), and left uninitialised.
    std::size_t buffer_size;
    std::unique_ptr<std::byte[]> buffer;

    explicit impl(std::uint64_t size)
        : buffer_size(static_cast<std::size_t>(std::min<std::uint64_t>(
              ZSTD_CStreamOutSize(),
              ZSTD_compressBound(static_cast<std::size_t>(std::min<std::uint64_t>(size, ZSTD_CStreamInSize())))))),
          buffer(new std::byte[buffer_size]) {}

    void run(ZSTD_inBuffer& input, ZSTD_EndDirective mode, const sink& out) {
        while (true) {
            ZSTD_outBuffer output{buffer.get(), buffer_size, 0};
            std::size_t remaining = ZSTD_compressStream2(cctx.get(), &output, &input, mode);
            zstd_check(remaining, "compression");
            if (output.pos) out({buffer.get(), output.pos});
            const bool done = mode == ZSTD_e_end ? remaining == 0 : input.pos == input.size;
            if (done) return;
        }
    }
};

stream_compressor::stream_compressor(const compression& c, unsigned threads, std::uint64_t size)
    : impl_(std::make_unique<impl>(size)) {
    if (c.method != compression_method::zstd) throw usage_error("stream_compressor: only zstd compresses as a stream");
    const int level = effective_level(c);
    if (level > ZSTD_maxCLevel())
        throw usage_error("zstd level " + std::to_string(level) + " is out of range (0 to " +
                          std::to_string(ZSTD_maxCLevel()) + ")");
    ZSTD_CCtx* cctx = impl_->cctx.get();
    reset(cctx);
    zstd_check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level), "level setting");
    zstd_check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1), "checksum setting");
    zstd_check(ZSTD_CCtx_setPledgedSrcSize(cctx, size), "size setting");
    use_zstd_workers(cctx, threads, size);
}

stream_compressor::~stream_compressor() = default;

void stream_compressor::add(std::span<const std::byte> in, const sink& out) {
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    if (in.empty()) return;
    impl_->run(input, ZSTD_e_continue, out);
}

void stream_compressor::finish(const sink& out) {
    ZSTD_inBuffer none{nullptr, 0, 0};
    impl_->run(none, ZSTD_e_end, out);
}

compression_method choose_method(const compression& c, std::span<const std::span<const std::byte>> pieces) {
    if (!c.adaptive || c.method == compression_method::store) return c.method;
    // Four slices of 64 KiB spread over the data (all of it when small), through fast zstd:
    // what does not shrink there will not shrink much with any method.
    constexpr std::size_t slice = std::size_t{64} << 10;
    constexpr std::size_t slices = 4;
    const std::size_t total = total_size(pieces);
    if (total == 0) return compression_method::store;
    std::vector<std::byte> sample;
    sample.reserve(std::min(total, slice * slices));
    auto copy_from = [&](std::size_t offset, std::size_t length) {
        for (auto piece : pieces) {
            if (length == 0) return;
            if (offset >= piece.size()) {
                offset -= piece.size();
                continue;
            }
            const std::size_t n = std::min(length, piece.size() - offset);
            sample.insert(sample.end(), piece.begin() + static_cast<std::ptrdiff_t>(offset),
                          piece.begin() + static_cast<std::ptrdiff_t>(offset + n));
            offset = 0;
            length -= n;
        }
    };
    if (total <= slice * slices) {
        copy_from(0, total);
    } else {
        for (std::size_t i = 0; i < slices; ++i) copy_from((total - slice) / (slices - 1) * i, slice);
    }
    std::vector<std::byte> squeezed(ZSTD_compressBound(sample.size()));
    zstd_compressor cctx(0, make_zstd_cctx);
    reset(cctx.get());
    std::size_t n = ZSTD_compressCCtx(cctx.get(), squeezed.data(), squeezed.size(), sample.data(), sample.size(), 1);
    zstd_check(n, "sampling");
    return n * 10 <= sample.size() * 9 ? c.method : compression_method::store;
}

void decompress(compression_method method, std::span<const std::byte> in, std::span<std::byte> out,
                std::string_view member, std::string_view archive) {
    const std::string expected = std::to_string(out.size());
    if (method == compression_method::deflate) {
        deflate_decompressor d(0, make_deflate_decompressor);
        std::size_t actual = 0;
        switch (libdeflate_deflate_decompress(d.get(), in.data(), in.size(), out.data(), out.size(), &actual)) {
        case LIBDEFLATE_SUCCESS:
            // Asked for the size it found, libdeflate reports a stream that ends early as success.
            if (actual == out.size()) return;
            [[fallthrough]];
        case LIBDEFLATE_SHORT_OUTPUT:
            corrupt("deflate", member, archive,
                    "it holds " + std::to_string(actual) + " bytes, not the " + expected + " the archive declares");
        case LIBDEFLATE_INSUFFICIENT_SPACE:
            corrupt("deflate", member, archive, "it holds more than the " + expected + " bytes the archive declares");
        case LIBDEFLATE_BAD_DATA: break;
        }
        corrupt("deflate", member, archive, "the compressed stream is invalid");
    }
    if (method == compression_method::zstd) {
        zstd_decompressor d(0, make_zstd_dctx);
        std::size_t n = ZSTD_decompressDCtx(d.get(), out.data(), out.size(), in.data(), in.size());
        if (ZSTD_isError(n)) {
            if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall)
                corrupt("zstd", member, archive, "it holds more than the " + expected + " bytes the archive declares");
            corrupt("zstd", member, archive, ZSTD_getErrorName(n));
        }
        if (n != out.size())
            corrupt("zstd", member, archive,
                    "it holds " + std::to_string(n) + " bytes, not the " + expected + " the archive declares");
        return;
    }
    throw usage_error("decompress: method " + std::to_string(static_cast<unsigned>(method)) +
                      " is not a compression method zanj reads");
}

struct stream_decompressor::impl {
    zstd_decompressor dctx{0, make_zstd_dctx};
    ZSTD_inBuffer input;
    std::uint64_t expected;
    std::uint64_t produced = 0;
    std::size_t hint = 1; // ZSTD_decompressStream's last result: 0 once a frame is complete
    std::string member;
    std::string archive;

    [[noreturn]] void fail(const std::string& why) const { corrupt("zstd", member, archive, why); }
    // One call; false when it could make no progress (the input used up inside a frame).
    bool step(ZSTD_outBuffer& output) {
        const std::size_t in_before = input.pos, out_before = output.pos;
        hint = ZSTD_decompressStream(dctx.get(), &output, &input);
        if (ZSTD_isError(hint)) fail(ZSTD_getErrorName(hint));
        produced += output.pos - out_before;
        return input.pos != in_before || output.pos != out_before;
    }
};

stream_decompressor::stream_decompressor(std::span<const std::byte> in, std::uint64_t expected, std::string_view member,
                                         std::string_view archive)
    : impl_(std::make_unique<impl>()) {
    impl_->input = {in.data(), in.size(), 0};
    impl_->expected = expected;
    impl_->member = std::string(member);
    impl_->archive = std::string(archive);
    // A context reused from an earlier read that failed may be inside a frame.
    const std::size_t reset = ZSTD_DCtx_reset(impl_->dctx.get(), ZSTD_reset_session_only);
    if (ZSTD_isError(reset)) impl_->fail(ZSTD_getErrorName(reset));
}

stream_decompressor::~stream_decompressor() = default;

void stream_decompressor::read(std::span<std::byte> out) {
    impl& d = *impl_;
    ZSTD_outBuffer output{out.data(), out.size(), 0};
    while (output.pos < output.size) {
        const bool moved = d.step(output);
        if (!moved || (d.hint == 0 && d.input.pos == d.input.size && output.pos < output.size))
            d.fail("it holds " + std::to_string(d.produced) + " bytes, not the " + std::to_string(d.expected) +
                   " the archive declares");
    }
}

void stream_decompressor::finish() {
    impl& d = *impl_;
    // Whatever the frames still hold, or another frame after them, is more than was declared.
    std::byte extra{};
    while (d.hint != 0 || d.input.pos < d.input.size) {
        ZSTD_outBuffer output{&extra, 1, 0};
        const bool moved = d.step(output);
        if (output.pos > 0)
            d.fail("it holds more than the " + std::to_string(d.expected) + " bytes the archive declares");
        if (!moved) d.fail("the data ends inside a frame");
    }
}

} // namespace zanj::detail
