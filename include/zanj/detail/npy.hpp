#pragma once
/// \file
/// The NPY array format (numpy's `numpy.lib.format`): versions 1.0, 2.0 and 3.0 read, 1.0 written
/// (2.0 when the header outgrows 65535 bytes), header padded so data starts at a multiple of 64.

#include <zanj/ndarray.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace zanj::detail {

/// numpy's cap on the header it will parse (`max_header_size`), the default of
/// `read_limits::max_npy_header_size`.
inline constexpr std::size_t npy_max_header_size = 10000;

/// Magic, version, length and the padded dict literal for a C-order little-endian array; the
/// array's raw bytes follow it directly.
std::string npy_header(dtype type, std::span<const std::size_t> shape);

/// The same header padded to exactly `length` bytes (a version 1.0 header), so that an array
/// can grow in place without moving its data; empty when it does not fit.
std::string npy_header_of_length(dtype type, std::span<const std::size_t> shape, std::size_t length);

/// The shortest header that, written at file offset `offset`, ends at a multiple of `align`
/// (a power of two): the padding that numpy spends on aligning the data within a lone `.npy`
/// file aligns it within the archive instead. numpy reads headers of any length. Headers too
/// long for version 1.0 get npy_header's.
std::string npy_header_aligned_at(dtype type, std::span<const std::size_t> shape, std::uint64_t offset,
                                  std::size_t align);

/// What a header says.
struct npy_header_info {
    dtype type = dtype::float64;
    shape_type shape;
    bool fortran_order = false;
    bool big_endian = false;
    /// Offset of the data from the start of the member.
    std::size_t data_offset = 0;
};

/// How much of an NPY member its header takes, from the member's first bytes: the prefix (magic,
/// version and length field) and the length of the header text after it.
struct npy_header_extent {
    std::size_t prefix = 0; ///< 10 for version 1.0, 12 for later versions
    std::size_t length = 0; ///< as the length field says, unchecked
};
/// The most bytes npy_extent_of needs.
inline constexpr std::size_t npy_prefix_max = 12;
/// The extent of the header at the start of `start`, or nothing when `start` does not begin with
/// the NPY magic or is shorter than the prefix. The version is not checked (npy_parse_header does).
std::optional<npy_header_extent> npy_extent_of(std::span<const std::byte> start) noexcept;

/// Parses the header of an NPY member; `member` names it in errors. A header longer than
/// `max_header_size` bytes is refused with limit_error; a shape whose element count or byte
/// size overflows with format_error.
npy_header_info npy_parse_header(std::span<const std::byte> bytes, std::string_view member,
                                 std::uint64_t max_header_size = npy_max_header_size);

/// The data size the header implies; throws format_error unless the member (of `member_size`
/// bytes, header included) holds exactly that.
std::size_t npy_check_size(const npy_header_info& info, std::uint64_t member_size, std::string_view member);

/// Decodes a whole NPY member held in `storage` (of `size` bytes) into a native-endian, C-order
/// array. The array shares `storage` when the data needs no conversion and is aligned;
/// otherwise it gets storage of its own.
ndarray npy_decode(std::shared_ptr<std::byte> storage, std::size_t size, std::string_view member,
                   std::uint64_t max_header_size = npy_max_header_size);

} // namespace zanj::detail
