#pragma once
/// \file
/// Compression of zip members: DEFLATE through libdeflate, Zstandard through libzstd. The
/// libraries stay private to the compiled code; this header names none of their types.

#include <zanj/config.hpp>
#include <zanj/detail/byte_buffer.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace zanj::detail {

/// The level `c` really uses: its own when >= 0, else the method's default (deflate 6, zstd 3).
int effective_level(const compression& c);

/// The level `c` uses, checked: throws usage_error for `store`, an unknown method or a level out
/// of the method's range.
int checked_level(const compression& c);

/// Below this size a zstd member compresses on one thread: starting zstd's workers costs more
/// than they save.
inline constexpr std::uint64_t zstd_threading_threshold = std::uint64_t{4} << 20;

/// The size of the concatenation of `pieces`.
std::size_t total_size(std::span<const std::span<const std::byte>> pieces);

/// Compresses the concatenation of `pieces` with `c` (deflate or zstd) into `out`, which is
/// resized to the compressed size. Zstd writes one frame, with its content size and a checksum,
/// on up to `threads` threads when the input is large (deflate uses one).
/// Throws usage_error for `store`, an unknown method or a level out of the method's range.
void compress(const compression& c, std::span<const std::span<const std::byte>> pieces, byte_buffer& out,
              unsigned threads = 1);

/// Compresses a stream of `size` bytes with zstd, piece by piece, into one frame (with its
/// content size and a checksum), on up to `threads` threads.
class stream_compressor {
public:
    using sink = std::function<void(std::span<const std::byte>)>;
    stream_compressor(const compression& c, unsigned threads, std::uint64_t size);
    ~stream_compressor();
    stream_compressor(const stream_compressor&) = delete;
    stream_compressor& operator=(const stream_compressor&) = delete;

    /// Compresses `in`, passing whatever output is ready to `out`.
    void add(std::span<const std::byte> in, const sink& out);
    /// Ends the frame.
    void finish(const sink& out);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// The method a member should get: `c.method`, unless `c` is adaptive and a sample of the data
/// (a few slices spread over it) does not compress to 90% of its size or less, then store.
compression_method choose_method(const compression& c, std::span<const std::span<const std::byte>> pieces);

/// Decompresses zstd frames piece by piece, into pieces of output asked for in order: for data
/// whose destination is known only once its start is (an array's NPY header gives its shape),
/// and which then needs no buffer of its own. `in` must outlive the decompressor; `member`,
/// `archive` and `expected` (the size the archive declares) are for messages.
class stream_decompressor {
public:
    stream_decompressor(std::span<const std::byte> in, std::uint64_t expected, std::string_view member,
                        std::string_view archive);
    ~stream_decompressor();
    stream_decompressor(const stream_decompressor&) = delete;
    stream_decompressor& operator=(const stream_decompressor&) = delete;

    /// Fills `out` with the next bytes. Throws format_error when the data ends first or is corrupt.
    void read(std::span<std::byte> out);
    /// Throws format_error unless the data ends here: its last frame complete, nothing after it.
    void finish();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// Decompresses `in` (a deflate stream or zstd frames) into `out`, whose size is the expected
/// uncompressed size. Throws format_error naming `member` and `archive` when the data is corrupt
/// or decompresses to another size, usage_error for a method other than deflate or zstd.
void decompress(compression_method method, std::span<const std::byte> in, std::span<std::byte> out,
                std::string_view member, std::string_view archive);

} // namespace zanj::detail
