#pragma once
// Private to zip_writer.cpp and zip_reader.cpp: the record layouts of PKWARE's APPNOTE (6.3.x)
// that both sides share, and little-endian field access. Fields are encoded byte by byte, so
// the code holds on any host byte order and never reads through misaligned pointers.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace zanj::detail::zip_format {

// Record signatures (APPNOTE 4.3).
inline constexpr std::uint32_t local_header_signature = 0x04034b50;
inline constexpr std::uint32_t central_header_signature = 0x02014b50;
inline constexpr std::uint32_t end_signature = 0x06054b50;
inline constexpr std::uint32_t zip64_end_signature = 0x06064b50;
inline constexpr std::uint32_t zip64_locator_signature = 0x07064b50;

// Where the CRC-32 sits in a local header.
inline constexpr std::size_t local_header_crc_offset = 14;
// Fixed sizes of the records, before their variable parts.
inline constexpr std::size_t local_header_size = 30;
inline constexpr std::size_t central_header_size = 46;
inline constexpr std::size_t end_size = 22;
inline constexpr std::size_t zip64_end_size = 56;
inline constexpr std::size_t zip64_locator_size = 20;
// The end record may be followed by a comment of up to 65535 bytes.
inline constexpr std::size_t max_end_search = end_size + 0xFFFF;

// Extra field ids: the ZIP64 extended information (APPNOTE 4.5.3), and Android zipalign's
// alignment padding (id, size, u16 alignment, zero bytes), which other readers skip.
inline constexpr std::uint16_t zip64_extra_id = 0x0001;
inline constexpr std::uint16_t align_extra_id = 0xD935;
inline constexpr std::size_t align_extra_min_size = 6;
// A local header's ZIP64 field: id, size and both 64-bit sizes.
inline constexpr std::size_t zip64_local_extra_size = 4 + 16;

// General purpose flags (APPNOTE 4.4.4).
inline constexpr std::uint16_t flag_encrypted = 1u << 0;
inline constexpr std::uint16_t flag_strong_encryption = 1u << 6;
/// CRC and sizes follow the data instead of being in the local header.
inline constexpr std::uint16_t flag_data_descriptor = 1u << 3;
inline constexpr std::uint16_t flag_utf8_name = 1u << 11;

// A 16- or 32-bit field holding this value defers to the ZIP64 records.
inline constexpr std::uint16_t max16 = 0xFFFF;
inline constexpr std::uint32_t max32 = 0xFFFFFFFF;

// Versions (APPNOTE 4.4.3): 2.0 for deflate and folders, 4.5 for ZIP64, 6.3 for newer methods.
inline constexpr std::uint16_t version_default = 20;
inline constexpr std::uint16_t version_zip64 = 45;
inline constexpr std::uint16_t version_zstd = 63;
// "Version made by" high byte: the host whose attribute format external_attributes uses.
inline constexpr std::uint16_t host_unix = 3;
// External attributes of a regular file with mode 0644, in the Unix (high) half.
inline constexpr std::uint32_t unix_regular_file_0644 = 0100644u << 16;

/// Appends little-endian fields to a byte buffer.
class field_writer {
public:
    explicit field_writer(std::vector<std::byte>& out) : out_(out) {}

    void u16(std::uint16_t v) { put(v, 2); }
    void u32(std::uint32_t v) { put(v, 4); }
    void u64(std::uint64_t v) { put(v, 8); }
    void bytes(std::span<const std::byte> b) { out_.insert(out_.end(), b.begin(), b.end()); }
    void text(std::string_view s) { bytes(std::as_bytes(std::span(s.data(), s.size()))); }
    void zeros(std::size_t n) { out_.insert(out_.end(), n, std::byte{0}); }

private:
    void put(std::uint64_t v, int width) {
        for (int i = 0; i < width; ++i) out_.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
    }
    std::vector<std::byte>& out_;
};

/// Reads a little-endian field of `width` bytes at `p`; the caller has checked the bounds.
inline std::uint64_t get_le(const std::byte* p, int width) {
    std::uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
    return v;
}
inline std::uint16_t get16(const std::byte* p) { return static_cast<std::uint16_t>(get_le(p, 2)); }
inline std::uint32_t get32(const std::byte* p) { return static_cast<std::uint32_t>(get_le(p, 4)); }
inline std::uint64_t get64(const std::byte* p) { return get_le(p, 8); }

} // namespace zanj::detail::zip_format
