#include <zanj/detail/zip.hpp>

#include "zip_format.hpp"

#include <zanj/detail/codec.hpp>
#include <zanj/detail/crc32.hpp>
#include <zanj/detail/file_io.hpp>
#include <zanj/detail/key_index.hpp>
#include <zanj/detail/mapped_file.hpp>
#include <zanj/detail/parallel.hpp>
#include <zanj/error.hpp>
#include <zanj/ndarray.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>

namespace zanj::detail {

namespace {

namespace fs = std::filesystem;
namespace zf = zip_format;
using zf::get16;
using zf::get32;
using zf::get64;

// A name in quotes, control bytes (a NUL, say) escaped so that the message stays readable.
std::string in_quotes(std::string_view s) {
    // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) about "'" + std::string(s).
    std::string out;
    out.reserve(s.size() + 2);
    out += '\'';
    for (char c : s) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte != 0x7F) {
            out += c;
            continue;
        }
        constexpr char hex[] = "0123456789abcdef";
        out += "\\x";
        out += hex[byte >> 4];
        out += hex[byte & 0xF];
    }
    out += '\'';
    return out;
}

// Methods whose members are decompressed, and so count against the size and ratio limits.
bool decompressed(compression_method m) { return m == compression_method::deflate || m == compression_method::zstd; }

// Why a member name could not be extracted safely, or nothing: a `..` step, an absolute path
// or a NUL (which would cut the name short in C APIs).
std::optional<std::string> unsafe_name(std::string_view name) {
    if (name.find('\0') != std::string_view::npos) return "holds a NUL byte";
    if (!name.empty() && (name.front() == '/' || name.front() == '\\'))
        return "starts with '" + std::string(1, name.front()) + "'";
    for (std::size_t begin = 0; begin <= name.size();) {
        const std::size_t end = std::min(name.find('/', begin), name.find('\\', begin));
        if (name.substr(begin, end - begin) == "..") return "has a '..' step";
        if (end == std::string_view::npos) break;
        begin = end + 1;
    }
    return std::nullopt;
}

std::string limit_text(std::uint64_t v) { return v == read_limits::unlimited ? "unlimited" : std::to_string(v); }

// Refusals by the size and ratio limits say which setting reads the archive anyway.
std::string raise_hint(std::string_view limit) {
    return "; raise config::limits." + std::string(limit) + " to read an archive you trust";
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

namespace {
// Bytes read whole to be used once and dropped (a member's compressed data), with their owner.
struct transient_bytes {
    std::shared_ptr<std::byte> owner;
    std::span<const std::byte> bytes;
    operator std::span<const std::byte>() const noexcept { return bytes; }
};
} // namespace

struct zip_reader::impl {
    fs::path path;
    std::string path_text; // for messages
    read_limits limits;
    // The bytes come from a file, or from memory.
    file_handle file;
    std::span<const std::byte> memory;
    std::shared_ptr<const void> memory_owner;
    std::uint64_t size = 0;
    std::vector<zip_entry> entries;
    key_index index; // of the entries' names
    std::ptrdiff_t position_of(std::string_view name, std::uint32_t hash) const noexcept {
        return index.find(name, hash, [this](std::size_t i) -> std::string_view { return entries[i].name; });
    }
    mutable std::once_flag map_once;
    mutable std::shared_ptr<mapped_file> mapping;
    // Each entry's data offset once its local header has been checked (0 until then: data never
    // starts at 0), so that reading a member again costs no header read.
    std::unique_ptr<std::atomic<std::uint64_t>[]> data_offsets;

    // A member's compressed data, at `offset` in the file, read whole: in huge pages, as JSON
    // text is (the 8 MB of a member cost 2,000 page faults in 4 KiB pages).
    transient_bytes read_compressed(const zip_entry& e, std::uint64_t offset) const {
        const auto n = static_cast<std::size_t>(e.compressed_size);
        std::shared_ptr<std::byte> owner = allocate_transient(n);
        read_at({owner.get(), n}, offset);
        return {owner, {owner.get(), n}};
    }
    [[noreturn]] void fail(const std::string& why) const { throw format_error(why + " (" + path_text + ")"); }
    [[noreturn]] void fail_limit(const std::string& why, const std::string& member) const {
        throw limit_error(why + " (" + path_text + ")", {}, member);
    }

    void open();
    void read_at(std::span<std::byte> out, std::uint64_t offset) const {
        if (out.empty()) return; // an empty span's data() may be null, which memcpy must not get
        if (file.is_open()) return pread_all(file, out, offset);
        std::memcpy(out.data(), memory.data() + offset, out.size()); // bounds checked by the callers
    }
    directory_location locate_directory();
    void read_directory(const directory_location& where);
    void apply_zip64_extra(zip_entry& e, std::uint64_t& disk_start, std::span<const std::byte> extra) const;
    void check_within(const zip_entry& e, std::uint64_t begin, std::uint64_t length, std::uint64_t limit) const;
    void check_layout(const directory_location& where);
    void check_entry(const zip_entry& e, std::uint64_t& total) const;
    void check_entry(const zip_entry& e) const {
        std::uint64_t alone = 0;
        check_entry(e, alone);
    }
    void validate(const directory_location& where);
    std::uint64_t data_offset(const zip_entry& e) const;
    [[noreturn]] void fail_no_local_header(const zip_entry& e) const;
    std::uint64_t local_header_size(const zip_entry& e, std::span<const std::byte> read) const;
    void check_readable(const zip_entry& e) const;
    // Decompresses a compressed member's `stored` bytes into `out` and checks the CRC.
    void inflate_checked(const zip_entry& e, std::span<const std::byte> stored, std::span<std::byte> out) const;
    using chunk_placer = std::function<std::span<std::byte>(std::uint64_t offset, std::size_t length)>;
    std::uint32_t read_chunks(std::uint64_t offset, std::uint64_t length, unsigned threads,
                              const chunk_placer& place) const;
    void check_crc(const zip_entry& e, std::uint32_t crc) const {
        if (crc != e.crc32)
            throw format_error("CRC-32 mismatch in member " + in_quotes(e.name) + " (" + path_text +
                               "): the archive is corrupt");
    }
};

directory_location zip_reader::impl::locate_directory() {
    if (size == 0) throw format_error("not a zip archive (the file is empty): " + path_text);

    // The end record is the last thing in the file but for its comment of up to 65535 bytes.
    const auto tail_size = static_cast<std::size_t>(std::min<std::uint64_t>(size, zf::max_end_search));
    const std::uint64_t tail_offset = size - tail_size;
    std::vector<std::byte> tail(tail_size);
    read_at(tail, tail_offset);
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
        read_at({head, head_size}, 0);
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
        read_at(locator, locator_offset);
        if (get32(locator) == zf::zip64_locator_signature) {
            const std::uint64_t record_offset = get64(locator + 8);
            if (record_offset > locator_offset || locator_offset - record_offset < zf::zip64_end_size)
                fail("corrupt ZIP64 end-of-central-directory locator: the archive is corrupt");
            std::byte record[zf::zip64_end_size];
            read_at(record, record_offset);
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
    std::uint64_t total = 0; // uncompressed bytes of the compressed members so far
    // Read in windows, so that a directory refused at an early entry costs little memory or I/O
    // however large it claims to be (a bomb's directory can hold tens of thousands of entries).
    constexpr std::size_t window_size = std::size_t{256} << 10; // more than any one record
    std::vector<std::byte> directory;
    std::uint64_t window_start = 0; // offset of directory[0] within the central directory
    auto window = [&](std::uint64_t at, std::size_t length) -> const std::byte* {
        if (at < window_start || at + length > window_start + directory.size()) {
            window_start = at;
            directory.resize(static_cast<std::size_t>(std::min<std::uint64_t>(window_size, where.size - at)));
            read_at(directory, where.offset + at);
        }
        return directory.data() + (at - window_start);
    };
    // As many entries as the directory's bytes can hold, however many it claims: growing the
    // vector from less was a megabyte of copies for 10,000 entries.
    entries.reserve(
        static_cast<std::size_t>(std::min<std::uint64_t>(where.count, where.size / zf::central_header_size)));
    std::uint64_t pos = 0;
    for (std::uint64_t i = 0; i < where.count; ++i) {
        auto damaged = [&] {
            fail("corrupt central directory: entry " + std::to_string(i + 1) + " of " + std::to_string(where.count) +
                 " is missing or damaged");
        };
        if (where.size - pos < zf::central_header_size) damaged();
        const std::byte* h = window(pos, zf::central_header_size);
        if (get32(h) != zf::central_header_signature) damaged();
        const std::size_t name_size = get16(h + 28);
        const std::size_t extra_size = get16(h + 30);
        const std::size_t comment_size = get16(h + 32);
        const std::size_t record_size = zf::central_header_size + name_size + extra_size + comment_size;
        if (where.size - pos < record_size) damaged();
        h = window(pos, record_size);

        zip_entry e;
        e.name.assign(reinterpret_cast<const char*>(h + zf::central_header_size), name_size);
        e.method = static_cast<compression_method>(get16(h + 10));
        e.crc32 = get32(h + 16);
        e.compressed_size = get32(h + 20);
        e.uncompressed_size = get32(h + 24);
        e.local_header_offset = get32(h + 42);
        e.version_needed = get16(h + 6);
        e.flags = get16(h + 8);
        e.dos_time = get16(h + 12);
        e.dos_date = get16(h + 14);
        e.external_attributes = get32(h + 38);
        std::uint64_t disk_start = get16(h + 34);
        apply_zip64_extra(e, disk_start, {h + zf::central_header_size + name_size, extra_size});
        if (get16(h + 8) & (zf::flag_encrypted | zf::flag_strong_encryption))
            fail("member " + in_quotes(e.name) + " is encrypted, which zanj does not support");
        if (disk_start != 0) fail("split (multi-disk) zip archives are not supported");
        check_entry(e, total);
        entries.push_back(std::move(e));
        pos += record_size;
    }
}

void zip_reader::impl::check_within(const zip_entry& e, std::uint64_t begin, std::uint64_t length,
                                    std::uint64_t limit) const {
    if (begin > size || length > size - begin)
        fail("archive is truncated: member " + in_quotes(e.name) + " extends past the end of the file");
    if (begin > limit || length > limit - begin) {
        const zip_entry* next = nullptr;
        for (const zip_entry& other : entries)
            if (other.local_header_offset == limit && &other != &e) next = &other;
        if (next)
            fail("members " + in_quotes(e.name) + " and " + in_quotes(next->name) + " overlap: the archive is corrupt");
        fail("member " + in_quotes(e.name) + " overlaps the central directory: the archive is corrupt");
    }
}

// Every member must fit, with the smallest possible local header, between its offset and the
// next member's (or the central directory); the exact header size is checked on first read.
void zip_reader::impl::check_layout(const directory_location& where) {
    std::vector<zip_entry*> by_offset;
    by_offset.reserve(entries.size());
    for (zip_entry& e : entries) by_offset.push_back(&e);
    auto earlier = [](const zip_entry* a, const zip_entry* b) {
        return a->local_header_offset < b->local_header_offset;
    };
    // Writers list members in file order: checking is a tenth of sorting.
    if (!std::is_sorted(by_offset.begin(), by_offset.end(), earlier))
        std::sort(by_offset.begin(), by_offset.end(), earlier);
    for (std::size_t i = 0; i < by_offset.size(); ++i) {
        zip_entry& e = *by_offset[i];
        e.limit = i + 1 < by_offset.size() ? by_offset[i + 1]->local_header_offset : where.offset;
        const std::uint64_t header = zf::local_header_size + e.name.size();
        if (e.compressed_size > std::numeric_limits<std::uint64_t>::max() - header)
            fail("archive is truncated: member " + in_quotes(e.name) + " extends past the end of the file");
        check_within(e, e.local_header_offset, header + e.compressed_size, e.limit);
    }
}

std::uint64_t zip_reader::impl::data_offset(const zip_entry& e) const {
    // Callers pass entries of this reader; anything else is checked every time.
    const bool ours = !entries.empty() && &e >= entries.data() && &e < entries.data() + entries.size();
    std::atomic<std::uint64_t>* cached = ours ? &data_offsets[static_cast<std::size_t>(&e - entries.data())] : nullptr;
    if (cached) {
        if (const std::uint64_t known = cached->load(std::memory_order_acquire)) return known;
    }
    // The fixed part and the name in one read (the central directory's checks keep both inside the file).
    if (e.local_header_offset >= size) fail_no_local_header(e);
    std::vector<std::byte> fixed(static_cast<std::size_t>(
        std::min<std::uint64_t>(zf::local_header_size + e.name.size(), size - e.local_header_offset)));
    read_at(fixed, e.local_header_offset);
    const std::uint64_t offset = e.local_header_offset + local_header_size(e, fixed);
    if (cached) cached->store(offset, std::memory_order_release);
    return offset;
}

void zip_reader::impl::fail_no_local_header(const zip_entry& e) const {
    fail("member " + in_quotes(e.name) +
         " has no local header where the central directory says: "
         "the archive is corrupt");
}

// The size of the local header at the start of `read` (bytes read from the member's local header
// offset on: at least its fixed part and name, where the file holds them), checked against the
// central directory's entry.
std::uint64_t zip_reader::impl::local_header_size(const zip_entry& e, std::span<const std::byte> read) const {
    const std::uint64_t fixed_size = zf::local_header_size + e.name.size();
    if (read.size() < zf::local_header_size || get32(read.data()) != zf::local_header_signature)
        fail_no_local_header(e);
    const std::size_t name_size = get16(read.data() + 26);
    const std::size_t extra_size = get16(read.data() + 28);
    if (name_size != e.name.size() || read.size() < fixed_size ||
        std::memcmp(read.data() + zf::local_header_size, e.name.data(), name_size) != 0)
        fail("member " + in_quotes(e.name) + ": its local header names a different member: the archive is corrupt");
    const std::uint64_t header_size = fixed_size + extra_size;
    check_within(e, e.local_header_offset, header_size + e.compressed_size, e.limit);
    return header_size;
}

// The rules of one member, checked as the directory is read: a safe name, sizes that fit in
// memory and in the file, the compression ratio limit, and the total so far (`total`, updated).
void zip_reader::impl::check_entry(const zip_entry& e, std::uint64_t& total) const {
    if (auto why = unsafe_name(e.name)) fail("unsafe member name " + in_quotes(e.name) + ": it " + *why);
    // Nothing compressed can be larger than the file that holds it.
    if (e.compressed_size > size)
        fail("archive is truncated: member " + in_quotes(e.name) + " extends past the end of the file");
    // No object can be larger than PTRDIFF_MAX, whatever the limits.
    constexpr auto max_object = static_cast<std::uint64_t>(std::numeric_limits<std::ptrdiff_t>::max());
    if (e.uncompressed_size > max_object || e.compressed_size > max_object)
        fail("member " + in_quotes(e.name) + " is too large for this machine's address space");
    if (!decompressed(e.method)) return;
    // Deflate and zstd add a few bytes per block at worst (stored blocks); a member whose
    // compressed bytes are far beyond that would be read whole for nothing.
    if (e.compressed_size > e.uncompressed_size + e.uncompressed_size / 8 + 1024)
        fail("member " + in_quotes(e.name) + " declares " + std::to_string(e.uncompressed_size) +
             " bytes uncompressed from " + std::to_string(e.compressed_size) +
             ", more than any compressor needs: the archive is corrupt");
    if (e.uncompressed_size > limits.max_total_uncompressed)
        fail_limit("member " + in_quotes(e.name) + " declares " + std::to_string(e.uncompressed_size) +
                       " bytes uncompressed, above read_limits::max_total_uncompressed (" +
                       limit_text(limits.max_total_uncompressed) + ")" + raise_hint("max_total_uncompressed"),
                   e.name);
    const std::uint64_t ratio = limits.max_compression_ratio;
    const bool over_ratio = e.compressed_size == 0 ? e.uncompressed_size > 0
                                                   : e.compressed_size <= read_limits::unlimited / ratio &&
                                                         e.uncompressed_size > e.compressed_size * ratio;
    if (e.uncompressed_size > limits.ratio_checked_above && ratio != read_limits::unlimited && over_ratio)
        fail_limit("member " + in_quotes(e.name) + " declares " + std::to_string(e.uncompressed_size) +
                       " bytes uncompressed from " + std::to_string(e.compressed_size) +
                       ", a compression ratio above read_limits::max_compression_ratio (" + limit_text(ratio) +
                       ":1 past " + limit_text(limits.ratio_checked_above) + " bytes" +
                       raise_hint("max_compression_ratio") + ")",
                   e.name);
    // Saturating: without limits, enough members of up to 2^63 bytes would wrap the sum.
    total = e.uncompressed_size > read_limits::unlimited - total ? read_limits::unlimited : total + e.uncompressed_size;
    const auto brings = [&] {
        return "member " + in_quotes(e.name) + " brings the archive's compressed members to " + std::to_string(total) +
               " bytes uncompressed";
    };
    if (total > limits.max_total_uncompressed)
        fail_limit(brings() + ", above read_limits::max_total_uncompressed (" +
                       limit_text(limits.max_total_uncompressed) + ")" + raise_hint("max_total_uncompressed"),
                   e.name);
    // The bound that scales with the file: amplification, not size, is what makes a bomb.
    const std::uint64_t archive_ratio = limits.max_archive_ratio;
    if (total > limits.archive_ratio_checked_above && archive_ratio != read_limits::unlimited &&
        size <= read_limits::unlimited / std::max<std::uint64_t>(archive_ratio, 1) && total > size * archive_ratio)
        fail_limit(brings() + ", more than read_limits::max_archive_ratio (" + limit_text(archive_ratio) +
                       ") times the file's size (" + std::to_string(size) + " bytes; checked past " +
                       limit_text(limits.archive_ratio_checked_above) + " bytes)" + raise_hint("max_archive_ratio"),
                   e.name);
}

// The one validator of the directory, with check_entry (run on each entry as it is read):
// whatever reads a member afterwards (a copy, a check or a mapping) relies on it.
void zip_reader::impl::validate(const directory_location& where) {
    index.reset(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const std::uint32_t hash = key_index::hash(entries[i].name);
        if (position_of(entries[i].name, hash) >= 0) fail("duplicate member name " + in_quotes(entries[i].name));
        index.add(i, hash);
    }
    check_layout(where);
}

void zip_reader::impl::open() {
    const directory_location where = locate_directory();
    // Before the directory is read: each entry costs memory.
    if (where.count > limits.max_members)
        fail_limit("the archive lists " + std::to_string(where.count) + " members, above read_limits::max_members (" +
                       limit_text(limits.max_members) + ")",
                   {});
    read_directory(where);
    data_offsets = std::make_unique<std::atomic<std::uint64_t>[]>(entries.size());
    validate(where);
}

zip_reader::zip_reader(fs::path path, const read_limits& limits) : impl_(std::make_unique<impl>()) {
    impl& r = *impl_;
    r.limits = limits;
    r.path = std::move(path);
    r.path_text = r.path.string();
    r.file = open_for_reading(r.path);
    r.size = file_size(r.file);
    r.open();
}

zip_reader::zip_reader(std::span<const std::byte> bytes, std::shared_ptr<const void> owner, std::string name,
                       const read_limits& limits)
    : impl_(std::make_unique<impl>()) {
    impl& r = *impl_;
    r.limits = limits;
    r.path = name;
    r.path_text = std::move(name);
    r.memory = bytes;
    r.memory_owner = std::move(owner);
    r.size = bytes.size();
    r.open();
}

zip_reader::~zip_reader() = default;
zip_reader::zip_reader(zip_reader&&) noexcept = default;
zip_reader& zip_reader::operator=(zip_reader&&) noexcept = default;

const std::vector<zip_entry>& zip_reader::entries() const noexcept { return impl_->entries; }

namespace {
// The entry after the one a thread found last, in the reader it looked in: a guess, checked
// before use. Per thread, so that a whole read's check of externals_info, which looks members
// up on a thread of its own, neither breaks the caller's sequence nor shares a cache line.
struct find_guess {
    const void* reader = nullptr;
    std::size_t next = 0;
};
thread_local find_guess last_found;
} // namespace

const zip_entry* zip_reader::find(std::string_view name) const noexcept {
    // Members are mostly looked up in the order they were written (a tree's stubs come in the
    // order of its externals), so the entry after the last one found is compared first: its
    // name sits next to the last one's in memory, where the index's slot and entry are each
    // a cache miss away (a tenth of opening and listing 10,000 arrays went to finding them).
    const std::vector<zip_entry>& entries = impl_->entries;
    std::size_t at = last_found.reader == impl_.get() ? last_found.next : entries.size();
    if (at >= entries.size() || entries[at].name != name) {
        const std::ptrdiff_t i = impl_->position_of(name, key_index::hash(name));
        if (i < 0) return nullptr;
        at = static_cast<std::size_t>(i);
    }
    last_found = {impl_.get(), at + 1};
    return &entries[at];
}

std::uint64_t zip_reader::data_offset(const zip_entry& e) const { return impl_->data_offset(e); }

void zip_reader::check_local_headers() const {
    for (const zip_entry& e : impl_->entries) impl_->data_offset(e);
}

void zip_reader::impl::check_readable(const zip_entry& e) const {
    // Entries of this reader were validated when it opened; others (copies) are checked now.
    const bool ours = !entries.empty() && &e >= entries.data() && &e < entries.data() + entries.size();
    if (!ours) check_entry(e);
    const auto method = e.method;
    if (method != compression_method::store && method != compression_method::deflate &&
        method != compression_method::zstd)
        fail("member " + in_quotes(e.name) + " uses compression method " +
             method_description(static_cast<std::uint16_t>(method)) + ", which zanj cannot read");
    if (method == compression_method::store && e.compressed_size != e.uncompressed_size)
        fail("stored member " + in_quotes(e.name) +
             " has different compressed and uncompressed sizes: "
             "the archive is corrupt");
}

// Reads `size` bytes of stored data from `offset` in chunks spread over threads, each checked
// while it is still in the cache, and returns their CRC. Chunk i goes to `place(i, length)`, or,
// when `place` is empty, to a scratch buffer of the thread's.
std::uint32_t zip_reader::impl::read_chunks(std::uint64_t offset, std::uint64_t length, unsigned threads,
                                            const chunk_placer& place) const {
    constexpr std::uint64_t chunk = std::uint64_t{4} << 20;
    const auto chunks = static_cast<std::size_t>((length + chunk - 1) / chunk);
    auto chunk_length = [&](std::size_t i) { return static_cast<std::size_t>(std::min(chunk, length - i * chunk)); };
    std::vector<std::uint32_t> chunk_crcs(chunks);
    parallel_for(chunks, chunks > 1 ? threads : 1, [&](std::size_t i) {
        thread_local std::vector<std::byte> scratch;
        std::span<std::byte> piece;
        if (place) {
            piece = place(i * chunk, chunk_length(i));
        } else {
            scratch.resize(chunk_length(i));
            piece = scratch;
        }
        read_at(piece, offset + i * chunk);
        chunk_crcs[i] = crc32(0, piece);
    });
    // One chunk (most members) needs no combining, which costs as much as checksumming 4 KB.
    if (chunks == 1) return chunk_crcs[0];
    std::uint32_t crc = 0;
    for (std::size_t i = 0; i < chunks; ++i) crc = crc32_combine(crc, chunk_crcs[i], chunk_length(i));
    return crc;
}

void zip_reader::read_into(const zip_entry& e, std::span<std::byte> head, std::span<std::byte> body,
                           unsigned threads) const {
    const impl& r = *impl_;
    r.check_readable(e);
    if (head.size() + body.size() != e.uncompressed_size)
        throw usage_error("zip_reader::read_into: " + std::to_string(head.size() + body.size()) +
                          " bytes of room for member " + in_quotes(e.name) + " of " +
                          std::to_string(e.uncompressed_size) + " bytes");
    const std::uint64_t offset = r.data_offset(e);
    advise_huge_pages(body);
    if (e.method == compression_method::store) {
        r.read_at(head, offset);
        const std::uint32_t body_crc =
            r.read_chunks(offset + head.size(), body.size(), threads, [&](std::uint64_t at, std::size_t n) {
                return body.subspan(static_cast<std::size_t>(at), n);
            });
        // Most reads have no head: then no combining (which costs as much as checksumming 4 KB).
        r.check_crc(e, head.empty() ? body_crc : crc32_combine(crc32(0, head), body_crc, body.size()));
        return;
    }
    const auto size = static_cast<std::size_t>(e.uncompressed_size);
    // Decompressing straight into the caller's memory when it is one piece saves a copy.
    std::shared_ptr<std::byte> joined;
    std::span<std::byte> out = head.empty() ? body : body.empty() ? head : std::span<std::byte>{};
    if (out.data() == nullptr && size > 0) {
        joined = allocate_aligned(size);
        out = {joined.get(), size};
    }
    r.inflate_checked(e, r.read_compressed(e, offset), out);
    if (joined) {
        std::memcpy(head.data(), out.data(), head.size());
        if (!body.empty()) std::memcpy(body.data(), out.data() + head.size(), body.size());
    }
}

struct zip_reader::member_stream::state {
    state(const zip_reader::impl& r, const zip_entry& e) : reader(r), entry(e) {}
    const zip_reader::impl& reader;
    const zip_entry& entry;
    std::uint64_t offset = 0; // of the data in the file
    std::uint64_t done = 0;   // bytes handed out
    std::uint32_t crc = 0;
    // zstd: the compressed bytes; deflate: the decompressed ones.
    std::shared_ptr<std::byte> bytes;
    std::unique_ptr<stream_decompressor> zstd;
};

zip_reader::member_stream::member_stream(const zip_reader& reader, const zip_entry& e)
    : state_(std::make_unique<state>(*reader.impl_, e)) {
    const impl& r = state_->reader;
    r.check_readable(e);
    state_->offset = r.data_offset(e);
    if (e.method == compression_method::store) return;
    const transient_bytes compressed = r.read_compressed(e, state_->offset);
    if (e.method == compression_method::zstd) {
        state_->bytes = compressed.owner;
        state_->zstd =
            std::make_unique<stream_decompressor>(compressed.bytes, e.uncompressed_size, e.name, r.path_text);
        return;
    }
    const auto size = static_cast<std::size_t>(e.uncompressed_size);
    state_->bytes = allocate_transient(size);
    r.inflate_checked(e, compressed, {state_->bytes.get(), size}); // checks the CRC
}

zip_reader::member_stream::~member_stream() = default;

std::uint64_t zip_reader::member_stream::remaining() const noexcept {
    return state_->entry.uncompressed_size - state_->done;
}

void zip_reader::member_stream::read(std::span<std::byte> out) {
    state& s = *state_;
    if (out.size() > remaining())
        throw usage_error("zip_reader::member_stream: " + std::to_string(out.size()) + " bytes asked of member " +
                          in_quotes(s.entry.name) + ", which has " + std::to_string(remaining()) + " left");
    if (out.empty()) return;
    switch (s.entry.method) {
    case compression_method::store: s.reader.read_at(out, s.offset + s.done); break;
    case compression_method::zstd: s.zstd->read(out); break;
    default: std::memcpy(out.data(), s.bytes.get() + s.done, out.size()); break; // checked already
    }
    if (s.entry.method != compression_method::deflate) s.crc = crc32(s.crc, out);
    s.done += out.size();
}

void zip_reader::member_stream::finish() {
    state& s = *state_;
    if (remaining() != 0)
        throw usage_error("zip_reader::member_stream: member " + in_quotes(s.entry.name) + " finished with " +
                          std::to_string(remaining()) + " bytes not read");
    if (s.entry.method == compression_method::deflate) return;
    if (s.zstd) s.zstd->finish();
    s.reader.check_crc(s.entry, s.crc);
}

void zip_reader::impl::inflate_checked(const zip_entry& e, std::span<const std::byte> stored,
                                       std::span<std::byte> out) const {
    // Some writers give empty members no stream at all.
    if (!stored.empty() || !out.empty()) decompress(e.method, stored, out, e.name, path_text);
    check_crc(e, crc32(0, out));
}

namespace {
// The calling thread's window of a file for zip_reader::read_ahead.
struct read_window {
    const void* reader = nullptr; // the reader's impl while a scope is open
    int scopes = 0;
    std::uint64_t offset = 0; // of bytes[0] in the file
    std::size_t held = 0;     // bytes read from there
    std::vector<std::byte> bytes;
};
thread_local read_window window;
constexpr std::size_t read_window_size = std::size_t{256} << 10;
} // namespace

zip_reader::read_ahead::read_ahead(const zip_reader& reader) {
    if (window.reader && window.reader != reader.impl_.get()) return;
    window.reader = reader.impl_.get();
    ++window.scopes;
    active_ = true;
}

zip_reader::read_ahead::~read_ahead() {
    if (!active_ || --window.scopes > 0) return;
    window.reader = nullptr;
    window.held = 0;
    std::vector<std::byte>().swap(window.bytes);
}

std::span<const std::byte> zip_reader::read_small(const zip_entry& e) const {
    const impl& r = *impl_;
    r.check_readable(e);
    if (e.uncompressed_size > small_member_size)
        throw usage_error("zip_reader::read_small: member " + in_quotes(e.name) + " has " +
                          std::to_string(e.uncompressed_size) + " bytes, more than " +
                          std::to_string(small_member_size));
    const auto size = static_cast<std::size_t>(e.uncompressed_size);
    thread_local std::vector<std::byte> buffer;
    if (e.method != compression_method::store || !r.file.is_open()) {
        buffer.resize(size);
        read_into(e, {}, buffer);
        return {buffer.data(), size};
    }
    // The local header's extra field is not in the central directory; room for a usual one (a
    // ZIP64 record, an alignment pad) is guessed, and a longer one costs a second read.
    constexpr std::size_t extra_guess = 128;
    if (e.local_header_offset >= r.size) r.fail_no_local_header(e);
    const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(
        zf::local_header_size + e.name.size() + extra_guess + size, r.size - e.local_header_offset));
    std::span<const std::byte> read;
    if (window.reader == impl_.get()) {
        const std::uint64_t at = e.local_header_offset;
        if (at < window.offset || at + wanted > window.offset + window.held) {
            window.held = 0; // until the read succeeds
            window.offset = at;
            window.bytes.resize(
                static_cast<std::size_t>(std::min<std::uint64_t>(std::max(wanted, read_window_size), r.size - at)));
            r.read_at(window.bytes, at);
            window.held = window.bytes.size();
        }
        read = std::span<const std::byte>(window.bytes).subspan(static_cast<std::size_t>(at - window.offset), wanted);
    } else {
        buffer.resize(wanted);
        r.read_at(buffer, e.local_header_offset);
        read = buffer;
    }
    const auto header_size = static_cast<std::size_t>(r.local_header_size(e, read));
    if (header_size + size > read.size()) {
        buffer.resize(size);
        read_into(e, {}, buffer);
        return {buffer.data(), size};
    }
    const std::span<const std::byte> data = read.subspan(header_size, size);
    r.check_crc(e, crc32(0, data));
    return data;
}

namespace {
// Room for `size` bytes followed by `padding` zeros. Padding is for a parser, which drops the
// text once parsed: large texts take whole huge pages (allocate_transient).
std::shared_ptr<std::byte> padded_buffer(std::size_t size, std::size_t padding) {
    std::shared_ptr<std::byte> out = padding ? allocate_transient(size + padding) : allocate_aligned(size + padding);
    if (padding) std::memset(out.get() + size, 0, padding);
    return out;
}
} // namespace

std::shared_ptr<std::byte> zip_reader::read(const zip_entry& e, std::size_t padding) const {
    impl_->check_readable(e);
    const auto size = static_cast<std::size_t>(e.uncompressed_size);
    std::shared_ptr<std::byte> out = padded_buffer(size, padding);
    read_into(e, {}, {out.get(), size});
    return out;
}

zip_reader::packed_member zip_reader::read_packed(const zip_entry& e) const {
    const impl& r = *impl_;
    r.check_readable(e);
    packed_member packed{e, std::vector<std::byte>(static_cast<std::size_t>(e.compressed_size))};
    r.read_at(packed.bytes, r.data_offset(e));
    return packed;
}

std::shared_ptr<std::byte> zip_reader::unpack(const packed_member& packed, std::size_t padding) const {
    const impl& r = *impl_;
    const zip_entry& e = packed.entry;
    r.check_readable(e);
    const auto size = static_cast<std::size_t>(e.uncompressed_size);
    std::shared_ptr<std::byte> out = padded_buffer(size, padding);
    if (e.method != compression_method::store) {
        r.inflate_checked(e, packed.bytes, {out.get(), size});
        return out;
    }
    // check_readable saw the sizes agree; an empty member has no bytes to copy (nor a buffer).
    if (size) std::memcpy(out.get(), packed.bytes.data(), size);
    r.check_crc(e, crc32(0, {out.get(), size}));
    return out;
}

void zip_reader::read_stored(const zip_entry& e, std::uint64_t offset, std::span<std::byte> out) const {
    const impl& r = *impl_;
    r.check_readable(e);
    if (e.method != compression_method::store)
        throw usage_error("zip_reader::read_stored: member " + in_quotes(e.name) + " is compressed");
    if (offset > e.uncompressed_size || out.size() > e.uncompressed_size - offset)
        throw usage_error("zip_reader::read_stored: bytes " + std::to_string(offset) + " to " +
                          std::to_string(offset + out.size()) + " are outside member " + in_quotes(e.name) + " of " +
                          std::to_string(e.uncompressed_size) + " bytes");
    r.read_at(out, r.data_offset(e) + offset);
}

void zip_reader::verify(const zip_entry& e, unsigned threads) const {
    const impl& r = *impl_;
    r.check_readable(e);
    if (e.method != compression_method::store) {
        read(e);
        return;
    }
    // Through a scratch buffer per thread, so that checking a huge member needs little memory.
    r.check_crc(e, r.read_chunks(r.data_offset(e), e.uncompressed_size, threads, {}));
}

mapped_member zip_reader::map(const zip_entry& e) const {
    const impl& r = *impl_;
    r.check_readable(e);
    if (e.method != compression_method::store)
        throw usage_error("zip_reader::map: member " + in_quotes(e.name) + " is compressed");
    if (!r.file.is_open()) return {};
    const std::uint64_t offset = r.data_offset(e);
    std::call_once(r.map_once, [&] { r.mapping = std::make_shared<mapped_file>(r.file, r.size); });
    std::span<std::byte> all = r.mapping->bytes();
    return {all.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(e.uncompressed_size)), r.mapping};
}

const fs::path& zip_reader::path() const noexcept { return impl_->path; }

const read_limits& zip_reader::limits() const noexcept { return impl_->limits; }

} // namespace zanj::detail
