#include <zanj/detail/zip.hpp>

#include "zip_format.hpp"

#include <zanj/detail/codec.hpp>
#include <zanj/detail/file_io.hpp>
#include <zanj/error.hpp>
#include <zanj/ndarray.hpp>

#include <libdeflate.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>

namespace zanj::detail {

namespace {

namespace fs = std::filesystem;
namespace zf = zip_format;
using zf::get16;
using zf::get32;
using zf::get64;

// Until limits become configurable: no member may declare more than 1 TiB uncompressed.
constexpr std::uint64_t max_uncompressed_size = std::uint64_t{1} << 40;

std::string in_quotes(std::string_view s) {
    // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) about "'" + std::string(s).
    std::string out;
    out.reserve(s.size() + 2);
    out += '\'';
    out += s;
    out += '\'';
    return out;
}

// Names of the methods (APPNOTE 4.4.5) someone is likely to meet, for friendlier refusals.
std::string method_description(std::uint16_t method) {
    std::string number = std::to_string(method);
    switch (method) {
    case 1: return number + " (shrink)";
    case 6: return number + " (implode)";
    case 9: return number + " (deflate64)";
    case 12: return number + " (bzip2)";
    case 14: return number + " (lzma)";
    case 95: return number + " (xz)";
    case 98: return number + " (ppmd)";
    case 99: return number + " (AES encryption)";
    default: return number;
    }
}

// Where the end records put the central directory.
struct directory_location {
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    std::uint64_t count = 0;
    // The directory must end at or before this offset: the (ZIP64) end record follows it.
    std::uint64_t limit = 0;
};

} // namespace

struct zip_reader::impl {
    fs::path path;
    std::string path_text; // for messages
    file_handle file;
    std::uint64_t size = 0;
    std::vector<zip_entry> entries;
    std::unordered_map<std::string_view, std::size_t> index; // views into entries' names

    [[noreturn]] void fail(const std::string& why) const { throw format_error(why + " (" + path_text + ")"); }

    directory_location locate_directory();
    void read_directory(const directory_location& where);
    void apply_zip64_extra(zip_entry& e, std::uint64_t& disk_start, std::span<const std::byte> extra) const;
    void check_within(const zip_entry& e, std::uint64_t begin, std::uint64_t length, const directory_location& where) const;
    void read_local_headers(const directory_location& where);
    void check_overlaps() const;
};

directory_location zip_reader::impl::locate_directory() {
    if (size == 0) throw format_error("not a zip archive (the file is empty): " + path_text);

    // The end record is the last thing in the file but for its comment of up to 65535 bytes.
    const auto tail_size = static_cast<std::size_t>(std::min<std::uint64_t>(size, zf::max_end_search));
    const std::uint64_t tail_offset = size - tail_size;
    std::vector<std::byte> tail(tail_size);
    pread_all(file, tail, tail_offset);
    std::optional<std::size_t> found;
    if (tail_size >= zf::end_size) {
        for (std::size_t pos = tail_size - zf::end_size + 1; pos-- > 0;) {
            if (get32(&tail[pos]) == zf::end_signature && pos + zf::end_size + get16(&tail[pos + 20]) <= tail_size) {
                found = pos;
                break;
            }
        }
    }
    if (!found) {
        // A file that starts like a zip but has no end record was cut short (or never finished).
        const auto head_size = static_cast<std::size_t>(std::min<std::uint64_t>(size, 4));
        std::byte head[4]{};
        pread_all(file, {head, head_size}, 0);
        bool starts_like_zip = head_size >= 2;
        for (std::size_t i = 0; i < head_size; ++i)
            starts_like_zip = starts_like_zip && std::to_integer<std::uint32_t>(head[i]) ==
                                                     ((zf::local_header_signature >> (8 * i)) & 0xFF);
        if (starts_like_zip)
            throw format_error("archive is truncated (no end-of-central-directory record): " + path_text);
        throw format_error("not a zip archive (no end-of-central-directory record): " + path_text);
    }

    const std::byte* end = &tail[*found];
    const std::uint64_t end_offset = tail_offset + *found;
    directory_location where;
    std::uint64_t disk = get16(end + 4);
    std::uint64_t directory_disk = get16(end + 6);
    std::uint64_t count_on_disk = get16(end + 8);
    where.count = get16(end + 10);
    where.size = get32(end + 12);
    where.offset = get32(end + 16);
    where.limit = end_offset;

    // A ZIP64 locator right before the end record points to the ZIP64 end record, whose
    // 64-bit fields replace the end record's.
    if (end_offset >= zf::zip64_locator_size) {
        std::byte locator[zf::zip64_locator_size];
        const std::uint64_t locator_offset = end_offset - zf::zip64_locator_size;
        pread_all(file, locator, locator_offset);
        if (get32(locator) == zf::zip64_locator_signature) {
            const std::uint64_t record_offset = get64(locator + 8);
            if (record_offset > locator_offset || locator_offset - record_offset < zf::zip64_end_size)
                fail("corrupt ZIP64 end-of-central-directory locator: the archive is corrupt");
            std::byte record[zf::zip64_end_size];
            pread_all(file, record, record_offset);
            if (get32(record) != zf::zip64_end_signature)
                fail("missing ZIP64 end-of-central-directory record: the archive is corrupt");
            disk = get32(record + 16);
            directory_disk = get32(record + 20);
            count_on_disk = get64(record + 24);
            where.count = get64(record + 32);
            where.size = get64(record + 40);
            where.offset = get64(record + 48);
            where.limit = record_offset;
        }
    }
    if (disk != 0 || directory_disk != 0 || count_on_disk != where.count)
        fail("split (multi-disk) zip archives are not supported");
    if (where.offset > where.limit || where.size > where.limit - where.offset)
        fail("archive is truncated or corrupt: its central directory lies outside the file");
    if (where.count > where.size / zf::central_header_size)
        fail("corrupt central directory: it lists " + std::to_string(where.count) + " members but has room for fewer");
    return where;
}

void zip_reader::impl::apply_zip64_extra(zip_entry& e, std::uint64_t& disk_start,
                                         std::span<const std::byte> extra) const {
    // Fewer than 4 trailing bytes cannot start a field: some writers pad with zeros.
    while (extra.size() >= 4) {
        const std::uint16_t id = get16(extra.data());
        const std::size_t length = get16(extra.data() + 2);
        if (length > extra.size() - 4) fail("corrupt extra field in member " + in_quotes(e.name));
        std::span<const std::byte> data = extra.subspan(4, length);
        extra = extra.subspan(4 + length);
        if (id != zf::zip64_extra_id) continue;
        // Only the fields that overflowed their 32-bit slots are present, in this order.
        auto take = [&](std::uint64_t& field, std::size_t width) {
            if (data.size() < width) fail("corrupt ZIP64 extra field in member " + in_quotes(e.name));
            field = zf::get_le(data.data(), static_cast<int>(width));
            data = data.subspan(width);
        };
        if (e.uncompressed_size == zf::max32) take(e.uncompressed_size, 8);
        if (e.compressed_size == zf::max32) take(e.compressed_size, 8);
        if (e.local_header_offset == zf::max32) take(e.local_header_offset, 8);
        if (disk_start == zf::max16) take(disk_start, 4);
    }
}

void zip_reader::impl::read_directory(const directory_location& where) {
    std::vector<std::byte> directory(static_cast<std::size_t>(where.size));
    pread_all(file, directory, where.offset);
    entries.reserve(static_cast<std::size_t>(where.count));
    std::size_t pos = 0;
    for (std::uint64_t i = 0; i < where.count; ++i) {
        const std::string damaged = "corrupt central directory: entry " + std::to_string(i + 1) + " of " +
                                    std::to_string(where.count) + " is missing or damaged";
        if (directory.size() - pos < zf::central_header_size) fail(damaged);
        const std::byte* h = directory.data() + pos;
        if (get32(h) != zf::central_header_signature) fail(damaged);
        const std::size_t name_size = get16(h + 28);
        const std::size_t extra_size = get16(h + 30);
        const std::size_t comment_size = get16(h + 32);
        const std::size_t record_size = zf::central_header_size + name_size + extra_size + comment_size;
        if (directory.size() - pos < record_size) fail(damaged);

        zip_entry e;
        e.name.assign(reinterpret_cast<const char*>(h + zf::central_header_size), name_size);
        e.method = static_cast<compression_method>(get16(h + 10));
        e.crc32 = get32(h + 16);
        e.compressed_size = get32(h + 20);
        e.uncompressed_size = get32(h + 24);
        e.local_header_offset = get32(h + 42);
        std::uint64_t disk_start = get16(h + 34);
        apply_zip64_extra(e, disk_start, {h + zf::central_header_size + name_size, extra_size});
        if (get16(h + 8) & (zf::flag_encrypted | zf::flag_strong_encryption))
            fail("member " + in_quotes(e.name) + " is encrypted, which zanj does not support");
        if (disk_start != 0) fail("split (multi-disk) zip archives are not supported");
        entries.push_back(std::move(e));
        pos += record_size;
    }
}

void zip_reader::impl::check_within(const zip_entry& e, std::uint64_t begin, std::uint64_t length,
                                    const directory_location& where) const {
    if (begin > size || length > size - begin)
        fail("archive is truncated: member " + in_quotes(e.name) + " extends past the end of the file");
    if (begin > where.offset || length > where.offset - begin)
        fail("member " + in_quotes(e.name) + " overlaps the central directory: the archive is corrupt");
}

void zip_reader::impl::read_local_headers(const directory_location& where) {
    std::vector<std::byte> header;
    for (zip_entry& e : entries) {
        const std::uint64_t fixed_size = zf::local_header_size + e.name.size();
        check_within(e, e.local_header_offset, fixed_size, where);
        header.resize(static_cast<std::size_t>(fixed_size));
        pread_all(file, header, e.local_header_offset);
        if (get32(header.data()) != zf::local_header_signature)
            fail("member " + in_quotes(e.name) + " has no local header where the central directory says: "
                 "the archive is corrupt");
        const std::size_t name_size = get16(header.data() + 26);
        const std::size_t extra_size = get16(header.data() + 28);
        if (name_size != e.name.size() ||
            std::memcmp(header.data() + zf::local_header_size, e.name.data(), name_size) != 0)
            fail("member " + in_quotes(e.name) + ": its local header names a different member: the archive is corrupt");
        const std::uint64_t header_size = fixed_size + extra_size;
        if (e.compressed_size > std::numeric_limits<std::uint64_t>::max() - header_size)
            fail("archive is truncated: member " + in_quotes(e.name) + " extends past the end of the file");
        check_within(e, e.local_header_offset, header_size + e.compressed_size, where);
        e.data_offset = e.local_header_offset + header_size;
    }
}

void zip_reader::impl::check_overlaps() const {
    std::vector<const zip_entry*> by_offset;
    by_offset.reserve(entries.size());
    for (const zip_entry& e : entries) by_offset.push_back(&e);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const zip_entry* a, const zip_entry* b) { return a->local_header_offset < b->local_header_offset; });
    for (std::size_t i = 1; i < by_offset.size(); ++i) {
        const zip_entry& a = *by_offset[i - 1];
        const zip_entry& b = *by_offset[i];
        if (a.data_offset + a.compressed_size > b.local_header_offset)
            fail("members " + in_quotes(a.name) + " and " + in_quotes(b.name) + " overlap: the archive is corrupt");
    }
}

zip_reader::zip_reader(fs::path path) : impl_(std::make_unique<impl>()) {
    impl& r = *impl_;
    r.path = std::move(path);
    r.path_text = r.path.string();
    r.file = open_for_reading(r.path);
    r.size = file_size(r.file);
    const directory_location where = r.locate_directory();
    r.read_directory(where);
    r.index.reserve(r.entries.size());
    for (std::size_t i = 0; i < r.entries.size(); ++i) {
        if (!r.index.emplace(r.entries[i].name, i).second)
            r.fail("duplicate member name " + in_quotes(r.entries[i].name));
    }
    r.read_local_headers(where);
    r.check_overlaps();
}

zip_reader::~zip_reader() = default;
zip_reader::zip_reader(zip_reader&&) noexcept = default;
zip_reader& zip_reader::operator=(zip_reader&&) noexcept = default;

const std::vector<zip_entry>& zip_reader::entries() const noexcept { return impl_->entries; }

const zip_entry* zip_reader::find(std::string_view name) const noexcept {
    auto it = impl_->index.find(name);
    return it == impl_->index.end() ? nullptr : &impl_->entries[it->second];
}

std::shared_ptr<std::byte> zip_reader::read(const zip_entry& e) const {
    const impl& r = *impl_;
    const auto method = e.method;
    if (method != compression_method::store && method != compression_method::deflate &&
        method != compression_method::zstd)
        r.fail("member " + in_quotes(e.name) + " uses compression method " +
               method_description(static_cast<std::uint16_t>(method)) + ", which zanj cannot read");
    if (e.uncompressed_size > max_uncompressed_size)
        r.fail("member " + in_quotes(e.name) + " declares " + std::to_string(e.uncompressed_size) +
               " bytes uncompressed, more than the 1 TiB zanj accepts");
    if (method == compression_method::store && e.compressed_size != e.uncompressed_size)
        r.fail("stored member " + in_quotes(e.name) + " has different compressed and uncompressed sizes: "
               "the archive is corrupt");

    const auto size = static_cast<std::size_t>(e.uncompressed_size);
    std::shared_ptr<std::byte> out = allocate_aligned(size);
    std::span<std::byte> bytes(out.get(), size);
    if (method == compression_method::store) {
        pread_all(r.file, bytes, e.data_offset);
    } else if (e.compressed_size > 0 || size > 0) { // some writers give empty members no stream at all
        const auto compressed_size = static_cast<std::size_t>(e.compressed_size);
        auto compressed = std::make_unique_for_overwrite<std::byte[]>(compressed_size);
        pread_all(r.file, {compressed.get(), compressed_size}, e.data_offset);
        decompress(method, {compressed.get(), compressed_size}, bytes, e.name, r.path_text);
    }
    if (libdeflate_crc32(0, bytes.data(), bytes.size()) != e.crc32)
        throw format_error("CRC-32 mismatch in member " + in_quotes(e.name) + " (" + r.path_text +
                           "): the archive is corrupt");
    return out;
}

const fs::path& zip_reader::path() const noexcept { return impl_->path; }

} // namespace zanj::detail
