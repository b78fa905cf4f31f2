#pragma once
/// \file
/// Compression of zip members: DEFLATE through libdeflate, Zstandard through libzstd. The
/// libraries stay private to the compiled code; this header names none of their types.

#include <zanj/config.hpp>

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace zanj::detail {

/// The level `c` really uses: its own when >= 0, else the method's default (deflate 6, zstd 3).
int effective_level(const compression& c);

/// Compresses the concatenation of `pieces` with `c` (deflate or zstd) into `out`, which is
/// resized to the compressed size. Zstd frames carry their content size and a checksum.
/// Throws usage_error for `store`, an unknown method or a level out of the method's range.
void compress(const compression& c, std::span<const std::span<const std::byte>> pieces, std::vector<std::byte>& out);

/// Decompresses `in` (a deflate stream or zstd frames) into `out`, whose size is the expected
/// uncompressed size. Throws format_error naming `member` and `archive` when the data is corrupt
/// or decompresses to another size, usage_error for a method other than deflate or zstd.
void decompress(compression_method method, std::span<const std::byte> in, std::span<std::byte> out,
                std::string_view member, std::string_view archive);

} // namespace zanj::detail
