#include <zanj/detail/codec.hpp>

#include <zanj/error.hpp>

#include <libdeflate.h>
#include <zstd.h>
#include <zstd_errors.h>

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

std::size_t total_size(std::span<const std::span<const std::byte>> pieces) {
    std::size_t n = 0;
    for (auto piece : pieces) n += piece.size();
    return n;
}

void deflate_compress(int level, std::span<const std::span<const std::byte>> pieces, std::vector<std::byte>& out) {
    std::unique_ptr<libdeflate_compressor, deflate_compressor_deleter> compressor(libdeflate_alloc_compressor(level));
    if (!compressor) throw std::bad_alloc();

    // libdeflate compresses whole buffers only, so several pieces are joined first.
    std::span<const std::byte> input;
    std::vector<std::byte> joined;
    if (pieces.size() == 1) {
        input = pieces.front();
    } else {
        joined.reserve(total_size(pieces));
        for (auto piece : pieces) joined.insert(joined.end(), piece.begin(), piece.end());
        input = joined;
    }
    out.resize(libdeflate_deflate_compress_bound(compressor.get(), input.size()));
    std::size_t n = libdeflate_deflate_compress(compressor.get(), input.data(), input.size(), out.data(), out.size());
    if (n == 0) throw error("deflate compression failed: output exceeded libdeflate's own bound");
    out.resize(n);
}

void zstd_check(std::size_t code, const char* what) {
    if (ZSTD_isError(code)) throw error(std::string("zstd ") + what + " failed: " + ZSTD_getErrorName(code));
}

void zstd_compress(int level, std::span<const std::span<const std::byte>> pieces, std::vector<std::byte>& out) {
    std::unique_ptr<ZSTD_CCtx, zstd_cctx_deleter> cctx(ZSTD_createCCtx());
    if (!cctx) throw std::bad_alloc();
    std::size_t total = total_size(pieces);
    zstd_check(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level), "level setting");
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
    for (auto piece : pieces) {
        ZSTD_inBuffer input{piece.data(), piece.size(), 0};
        while (input.pos < input.size) {
            zstd_check(ZSTD_compressStream2(cctx.get(), &output, &input, ZSTD_e_continue), "compression");
            grow_if_full();
        }
    }
    ZSTD_inBuffer none{nullptr, 0, 0};
    while (true) {
        std::size_t remaining = ZSTD_compressStream2(cctx.get(), &output, &none, ZSTD_e_end);
        zstd_check(remaining, "compression");
        if (remaining == 0) break;
        grow_if_full();
    }
    out.resize(output.pos);
}

[[noreturn]] void corrupt(std::string_view method, std::string_view member, std::string_view archive,
                          const std::string& why) {
    throw format_error("corrupt " + std::string(method) + " data in member '" + std::string(member) + "' (" +
                       std::string(archive) + "): " + why);
}

} // namespace

int effective_level(const compression& c) {
    if (c.level >= 0) return c.level;
    return c.method == compression_method::zstd ? zstd_default_level : deflate_default_level;
}

void compress(const compression& c, std::span<const std::span<const std::byte>> pieces, std::vector<std::byte>& out) {
    int level = effective_level(c);
    switch (c.method) {
    case compression_method::deflate:
        if (level > deflate_max_level)
            throw usage_error("deflate level " + std::to_string(level) + " is out of range (0 to " +
                              std::to_string(deflate_max_level) + ")");
        deflate_compress(level, pieces, out);
        return;
    case compression_method::zstd:
        if (level > ZSTD_maxCLevel())
            throw usage_error("zstd level " + std::to_string(level) + " is out of range (0 to " +
                              std::to_string(ZSTD_maxCLevel()) + ")");
        zstd_compress(level, pieces, out);
        return;
    case compression_method::store: break;
    }
    throw usage_error("compress: method " + std::to_string(static_cast<unsigned>(c.method)) +
                      " is not a compression method zanj writes");
}

void decompress(compression_method method, std::span<const std::byte> in, std::span<std::byte> out,
                std::string_view member, std::string_view archive) {
    const std::string expected = std::to_string(out.size());
    if (method == compression_method::deflate) {
        std::unique_ptr<libdeflate_decompressor, deflate_decompressor_deleter> d(libdeflate_alloc_decompressor());
        if (!d) throw std::bad_alloc();
        std::size_t actual = 0;
        switch (libdeflate_deflate_decompress(d.get(), in.data(), in.size(), out.data(), out.size(), &actual)) {
        case LIBDEFLATE_SUCCESS: return;
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
        std::size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
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

} // namespace zanj::detail
