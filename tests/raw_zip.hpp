#pragma once
// Zip archives assembled field by field, for input no honest writer produces: declared sizes
// that lie, overlapping members, unsafe names, David Fifield's overlapping zip bombs. Free of
// Catch2, so that bench/bombs.cpp builds the same files.

#include <zanj/detail/crc32.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace zanj_test::raw_zip {

inline void put(std::string& out, std::uint64_t v, int width) {
    for (int i = 0; i < width; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

/// The little-endian field of `width` bytes at `pos`, decoded independently of the library.
inline std::uint64_t le(const std::string& bytes, std::size_t pos, int width) {
    std::uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes.at(pos + i));
    return v;
}

/// Overwrites the little-endian field of `width` bytes at `pos`.
inline void patch_le(std::string& bytes, std::size_t pos, std::uint64_t value, int width) {
    for (int i = 0; i < width; ++i) bytes.at(pos + i) = static_cast<char>((value >> (8 * i)) & 0xFF);
}

inline std::uint32_t crc_of(const std::string& s) {
    return zanj::detail::crc32(0, std::as_bytes(std::span(s.data(), s.size())));
}

inline constexpr std::uint32_t max32 = 0xFFFFFFFF;

/// One member: its name, method and the bytes after its local header, and what the headers
/// declare (the true values by default).
struct entry {
    std::string name;
    std::uint16_t method = 0; // 0 store, 8 deflate, 93 zstd
    std::string data;
    std::optional<std::uint64_t> compressed_size;
    std::optional<std::uint64_t> uncompressed_size;
    std::optional<std::uint32_t> crc;
    /// Where the central directory says the local header is; by default where it was written.
    std::optional<std::uint64_t> offset;
    /// No local header or data of its own: only a central directory entry (with `offset`).
    bool central_only = false;
};

/// A local header; 32-bit fields that overflow hold 0xFFFFFFFF (readers take the central
/// directory's ZIP64 values).
inline std::string local_header(const std::string& name, std::uint16_t method, std::uint32_t crc,
                                std::uint64_t compressed, std::uint64_t uncompressed) {
    std::string h;
    put(h, 0x04034b50, 4);
    put(h, 20, 2); // version needed
    put(h, 0, 2);  // flags
    put(h, method, 2);
    put(h, 0, 2);    // time
    put(h, 0x21, 2); // date: 1980-01-01
    put(h, crc, 4);
    put(h, compressed >= max32 ? max32 : compressed, 4);
    put(h, uncompressed >= max32 ? max32 : uncompressed, 4);
    put(h, name.size(), 2);
    put(h, 0, 2); // extra
    h += name;
    return h;
}

/// A central directory entry, with a ZIP64 extra field when a value needs one.
inline std::string central_header(const std::string& name, std::uint16_t method, std::uint32_t crc,
                                  std::uint64_t compressed, std::uint64_t uncompressed, std::uint64_t offset) {
    std::string extra;
    if (uncompressed >= max32) put(extra, uncompressed, 8);
    if (compressed >= max32) put(extra, compressed, 8);
    if (offset >= max32) put(extra, offset, 8);
    std::string zip64;
    if (!extra.empty()) {
        put(zip64, 0x0001, 2);
        put(zip64, extra.size(), 2);
        zip64 += extra;
    }
    std::string h;
    put(h, 0x02014b50, 4);
    put(h, zip64.empty() ? 20 : 45, 2); // made by
    put(h, zip64.empty() ? 20 : 45, 2); // needed
    put(h, 0, 2);                       // flags
    put(h, method, 2);
    put(h, 0, 2);
    put(h, 0x21, 2);
    put(h, crc, 4);
    put(h, compressed >= max32 ? max32 : compressed, 4);
    put(h, uncompressed >= max32 ? max32 : uncompressed, 4);
    put(h, name.size(), 2);
    put(h, zip64.size(), 2);
    put(h, 0, 2); // comment
    put(h, 0, 2); // disk
    put(h, 0, 2); // internal attributes
    put(h, 0, 4); // external attributes
    put(h, offset >= max32 ? max32 : offset, 4);
    h += name;
    h += zip64;
    return h;
}

/// The end record for `count` entries.
inline std::string end_record(std::uint64_t count, std::uint64_t directory_size, std::uint64_t directory_offset) {
    std::string h;
    put(h, 0x06054b50, 4);
    put(h, 0, 2);
    put(h, 0, 2);
    put(h, count, 2);
    put(h, count, 2);
    put(h, directory_size, 4);
    put(h, directory_offset, 4);
    put(h, 0, 2);
    return h;
}

/// The archive: local headers and data in order, then the central directory and end record.
inline std::string build(const std::vector<entry>& entries) {
    std::string out;
    std::vector<std::uint64_t> offsets;
    for (const entry& e : entries) {
        const std::uint64_t compressed = e.compressed_size.value_or(e.data.size());
        const std::uint64_t uncompressed = e.uncompressed_size.value_or(e.data.size());
        const std::uint32_t crc = e.crc.value_or(crc_of(e.data));
        offsets.push_back(out.size());
        if (e.central_only) continue;
        out += local_header(e.name, e.method, crc, compressed, uncompressed);
        out += e.data;
    }
    const std::uint64_t directory_offset = out.size();
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const entry& e = entries[i];
        out +=
            central_header(e.name, e.method, e.crc.value_or(crc_of(e.data)), e.compressed_size.value_or(e.data.size()),
                           e.uncompressed_size.value_or(e.data.size()), e.offset.value_or(offsets[i]));
    }
    out += end_record(entries.size(), out.size() - directory_offset, directory_offset);
    return out;
}

/// David Fifield's "full overlap" bomb: `count` central directory entries, each of its own
/// name, all pointing at one local header whose data is `kernel` (a deflate stream of
/// `kernel_size` bytes with CRC `kernel_crc`).
inline std::string full_overlap_bomb(std::size_t count, const std::string& kernel, std::uint64_t kernel_size,
                                     std::uint32_t kernel_crc) {
    std::vector<entry> entries;
    for (std::size_t i = 0; i < count; ++i) {
        entry e;
        e.name = "f" + std::to_string(i);
        e.method = 8;
        e.compressed_size = kernel.size();
        e.uncompressed_size = kernel_size;
        e.crc = kernel_crc;
        e.offset = 0;
        if (i == 0) {
            e.data = kernel;
        } else {
            e.central_only = true;
        }
        entries.push_back(std::move(e));
    }
    return build(entries);
}

/// David Fifield's "quoted overlap" bomb: member i's deflate data starts with a stored block
/// that quotes member i+1's local header, so every member's data runs on through all the later
/// local headers into the one shared `kernel`. Each member is a valid deflate stream with a
/// correct CRC: only the overlap gives it away.
inline std::string quoted_overlap_bomb(std::size_t count, const std::string& kernel, std::uint64_t kernel_size,
                                       std::uint32_t kernel_crc) {
    std::vector<std::string> names(count), headers(count);
    std::vector<std::uint64_t> compressed(count), uncompressed(count);
    std::vector<std::uint32_t> crcs(count);
    for (std::size_t i = 0; i < count; ++i) names[i] = "f" + std::to_string(i);
    // From the last member back: each one's data and checksum include the next one's header.
    std::uint64_t tail_compressed = kernel.size();
    std::uint64_t tail_size = kernel_size;
    std::uint32_t tail_crc = kernel_crc;
    for (std::size_t i = count; i-- > 0;) {
        if (i + 1 < count) {
            const std::string& next = headers[i + 1];
            tail_compressed += 5 + next.size(); // the quoting stored block's header, then the quoted header
            tail_crc = zanj::detail::crc32_combine(crc_of(next), tail_crc, tail_size);
            tail_size += next.size();
        }
        compressed[i] = tail_compressed;
        uncompressed[i] = tail_size;
        crcs[i] = tail_crc;
        headers[i] = local_header(names[i], 8, crcs[i], compressed[i], uncompressed[i]);
    }
    std::string out;
    std::vector<std::uint64_t> offsets(count);
    for (std::size_t i = 0; i < count; ++i) {
        offsets[i] = out.size();
        out += headers[i];
        if (i + 1 < count) { // a non-final stored block of the next header's length
            const std::size_t n = headers[i + 1].size();
            out += '\0';
            put(out, n, 2);
            put(out, ~n & 0xFFFF, 2);
        }
    }
    out += kernel;
    const std::uint64_t directory_offset = out.size();
    for (std::size_t i = 0; i < count; ++i)
        out += central_header(names[i], 8, crcs[i], compressed[i], uncompressed[i], offsets[i]);
    out += end_record(count, out.size() - directory_offset, directory_offset);
    return out;
}

} // namespace zanj_test::raw_zip
