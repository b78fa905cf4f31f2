#pragma once
/// \file
/// The zip container, written against PKWARE's APPNOTE (6.3.x): our own writer and reader so
/// that stored members can be 64-byte aligned, written without copies, fsynced, compressed with
/// zstd, and later memory-mapped. Internal: the public API never exposes zip details.

#include <zanj/config.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace zanj::detail {

/// How one member is written.
struct member_options {
    zanj::compression compression{};
    /// Always write a ZIP64 extra field in the local header (numpy's `force_zip64`), even when small.
    bool force_zip64 = false;
    /// For stored members: place the data at a file offset that is a multiple of this (a power
    /// of two, 0 or 1 for none), by padding the local header's extra field.
    std::size_t align = 0;
    /// Threads for compressing and checksumming a large member.
    unsigned threads = 1;
};

/// Selects the zip_writer (and archive_writer) that writes to memory.
struct in_memory_t {
    explicit in_memory_t() = default;
};
inline constexpr in_memory_t in_memory{};

/// Selects the zip_writer that updates an archive in place.
struct in_place_t {
    explicit in_place_t() = default;
};
inline constexpr in_place_t in_place{};

struct zip_entry;
class file_handle;

/// Writes a zip archive to a temporary file beside `destination`; `commit()` writes the central
/// directory, fsyncs, renames over the destination and fsyncs the folder, so a crash leaves
/// either the old file or the complete new one. Destroying an uncommitted writer removes the
/// temporary file.
class zip_writer {
public:
    explicit zip_writer(std::filesystem::path destination);
    /// Writes to an anonymous file in memory (memfd) instead, read back with `contents()` or
    /// `copy_to()` after `commit()`. `name` stands for the archive in messages.
    zip_writer(in_memory_t, std::string name);
    /// Updates the archive open in `file` in place: new members are written from `start` on
    /// (over whatever is there), and `commit()` writes a central directory of `kept` followed by
    /// the new members, cuts the file after it and fsyncs it. Making that crash-safe is the
    /// caller's job (the editor's rollback journal).
    zip_writer(in_place_t, file_handle file, std::uint64_t start, std::span<const zip_entry> kept);

    /// Leaves a member out of the central directory (its bytes stay in the file, unreferenced)
    /// and returns its entry, or nothing when there is no such member.
    std::optional<zip_entry> forget(std::string_view name);
    /// Puts a member `forget` returned back into the central directory.
    void restore(const zip_entry& entry);
    ~zip_writer();
    zip_writer(const zip_writer&) = delete;
    zip_writer& operator=(const zip_writer&) = delete;

    /// Adds a member whose data is the concatenation of `pieces`, without copying them when stored.
    /// Throws usage_error on a duplicate name, io_error when the disk refuses.
    void add(std::string_view name, std::span<const std::span<const std::byte>> pieces, const member_options& options);
    void add(std::string_view name, std::span<const std::byte> data, const member_options& options);
    /// Adds a member whose bytes the writer takes. With `options.threads` above one, a deflate
    /// member, or a zstd one under zstd_threading_threshold (codec.hpp), is checksummed and
    /// compressed beside the caller's work, and written (in order) at the writer's next call
    /// that writes; a failure then surfaces there. Members under 1 MiB gather in batches of
    /// about 1 MiB, which the writer's threads (up to threads - 1) and the caller take in turn;
    /// a larger member gets a batch of its own when one of those threads is idle, and is
    /// written as by add() otherwise. The deferred members hold 128 MiB at most (or one member,
    /// when larger): past that, the writer waits for them. Otherwise as add().
    void add_owned(std::string_view name, std::string data, const member_options& options);
    /// add_owned of the concatenation of `pieces`, without joining them first.
    void add_owned(std::string_view name, std::vector<std::string> pieces, const member_options& options);
    /// add() of pieces the caller may change or free once it returns. A member add_owned would
    /// defer, of `copied_member_limit` bytes at most, is copied (joined) and deferred.
    void add_copied(std::string_view name, std::span<const std::span<const std::byte>> pieces,
                    const member_options& options);
    /// The largest member add_copied copies: a copy is memory held beside the caller's data.
    /// As much as the deferred members may hold, so that a 4096 x 4096 float32 array (64 MiB
    /// and its header) goes to a thread of the writer's while the caller compresses the next.
    static constexpr std::uint64_t copied_member_limit = std::uint64_t{128} << 20;
    /// Where the data of a member of `size` bytes named `name` would start in the file if it
    /// were added next with `options` and stored (alignment padding included).
    std::uint64_t next_data_offset(std::string_view name, std::uint64_t size, const member_options& options) const;

    /// Fills `out` with the member's bytes from `offset` on.
    using chunk_producer = std::function<void(std::uint64_t offset, std::span<std::byte> out)>;
    /// Adds a member of `prefix` followed by `size` bytes that `produce` supplies in chunks, so
    /// they never need to be in memory at once; stored or zstd only. Stored chunks of zeros
    /// become holes in the file.
    void add_streamed(std::string_view name, std::span<const std::byte> prefix, std::uint64_t size,
                      const chunk_producer& produce, const member_options& options);

    void commit();

    /// The archive written to memory, once committed.
    std::vector<std::byte> contents() const;
    /// Hands the archive written to memory, once committed, to `sink` piece by piece.
    void copy_to(const std::function<void(std::span<const std::byte>)>& sink) const;
    /// Bytes written so far (a member still being compressed by add_owned not counted).
    std::uint64_t size() const noexcept;

    const std::filesystem::path& destination() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// One member as the central directory describes it.
struct zip_entry {
    std::string name;
    compression_method method = compression_method::store;
    std::uint32_t crc32 = 0;
    std::uint64_t compressed_size = 0;
    std::uint64_t uncompressed_size = 0;
    std::uint64_t local_header_offset = 0;
    /// Where the member must end at the latest: the next member's local header, or the central
    /// directory.
    std::uint64_t limit = 0;
    /// Fields kept as they are when an update writes the central directory again.
    std::uint16_t version_needed = 20;
    std::uint16_t flags = 0;
    std::uint16_t dos_time = 0;
    std::uint16_t dos_date = (1 << 5) | 1;
    std::uint32_t external_attributes = 0;
};

/// A stored member's bytes inside the archive's private mapping, and the mapping's owner.
struct mapped_member {
    std::span<std::byte> bytes;
    std::shared_ptr<const void> owner;
};

/// Reads a zip archive from a file or from memory. Opening reads the end records and the central
/// directory and runs the one validator every read path relies on (copies, checks and mappings
/// alike): member count, names (no `..` step, leading `/` or `\`, or NUL), duplicates,
/// encryption, bounds and overlaps of members and the central directory, and the `limits` on
/// sizes and compression ratios. A member's local header is checked when the member is first
/// read (`check_local_headers` checks them all), so that opening costs no I/O per member.
/// Decompression never writes past the declared size. Reads are safe from several threads.
class zip_reader {
public:
    explicit zip_reader(std::filesystem::path path, const read_limits& limits = {});
    /// An archive held in memory; `bytes` must stay valid while `owner` lives. `name` stands for
    /// the archive in messages.
    zip_reader(std::span<const std::byte> bytes, std::shared_ptr<const void> owner, std::string name,
               const read_limits& limits = {});
    ~zip_reader();
    zip_reader(zip_reader&&) noexcept;
    zip_reader& operator=(zip_reader&&) noexcept;

    const std::vector<zip_entry>& entries() const noexcept;
    /// The entry of that name, or nullptr.
    const zip_entry* find(std::string_view name) const noexcept;

    /// Offset of the member's data in the archive, after checking its local header.
    std::uint64_t data_offset(const zip_entry& entry) const;
    /// Checks every member's local header.
    void check_local_headers() const;

    /// The member's uncompressed bytes in a 64-byte-aligned buffer, CRC checked, followed by
    /// `padding` zero bytes (room a parser may read ahead into; a padded buffer is taken to be
    /// a text the parser drops, see allocate_transient). Throws format_error naming the member
    /// on corrupt data.
    std::shared_ptr<std::byte> read(const zip_entry& entry, std::size_t padding = 0) const;
    /// A member's bytes as they sit in the file (compressed or not), copied now for `unpack` to
    /// decompress and check later: for a member an update in place may overwrite, kept at its
    /// compressed size until it is needed.
    struct packed_member {
        zip_entry entry;
        std::vector<std::byte> bytes;
    };
    packed_member read_packed(const zip_entry& entry) const;
    /// What read() would have given for the member when it was packed, `padding` included.
    std::shared_ptr<std::byte> unpack(const packed_member& member, std::size_t padding = 0) const;
    /// The member's uncompressed bytes laid into `head` and then `body` (whose sizes add up to
    /// the member's), CRC checked. Large stored members are read and checked in chunks on up to
    /// `threads` threads.
    void read_into(const zip_entry& entry, std::span<std::byte> head, std::span<std::byte> body,
                   unsigned threads = 1) const;
    /// Reads one member from its start to its end in pieces and checks its CRC-32 at the end: for
    /// data whose destination is known only once its start has been read (an array's NPY header
    /// gives its shape). A zstd member is decompressed as it is read, straight into each piece;
    /// a deflate one (libdeflate takes whole buffers only) into a buffer first; a stored one is
    /// read. The reader and the entry must outlive it.
    class member_stream {
    public:
        member_stream(const zip_reader& reader, const zip_entry& entry);
        ~member_stream();
        member_stream(const member_stream&) = delete;
        member_stream& operator=(const member_stream&) = delete;

        /// Fills `out` with the member's next bytes. usage_error when fewer are left than asked
        /// for; format_error when the data is corrupt.
        void read(std::span<std::byte> out);
        /// The bytes not read yet.
        std::uint64_t remaining() const noexcept;
        /// Once every byte has been read: checks that the data ends there and its CRC-32.
        void finish();

    private:
        struct state;
        std::unique_ptr<state> state_;
    };
    /// A small member (up to `small_member_size` bytes) in a buffer of the calling thread's, valid
    /// until its next call, CRC checked. A stored one and its local header come in one read,
    /// where read_into takes two: with thousands of small arrays, that read is most of the cost.
    std::span<const std::byte> read_small(const zip_entry& entry) const;
    /// The largest member read_small takes.
    static constexpr std::uint64_t small_member_size = std::uint64_t{1} << 20;
    /// While one lives, read_small() on the thread that made it takes this reader's stored
    /// members from windows of the file read 256 KiB at a time, not with one read each: a whole
    /// read of 10,000 small arrays, which come in the file's order, made 10,000 reads. For the
    /// length of one read: the window is not refreshed if the file changes. Scopes for the same
    /// reader nest; one for another reader while a scope is open does nothing.
    class read_ahead {
    public:
        explicit read_ahead(const zip_reader& reader);
        ~read_ahead();
        read_ahead(const read_ahead&) = delete;
        read_ahead& operator=(const read_ahead&) = delete;

    private:
        bool active_ = false;
    };
    /// `out.size()` bytes of a stored member from `offset` on, unchecked: a part of a member
    /// cannot be checked without reading all of it.
    void read_stored(const zip_entry& entry, std::uint64_t offset, std::span<std::byte> out) const;
    /// Checks the member's CRC-32 without keeping its data.
    void verify(const zip_entry& entry, unsigned threads = 1) const;

    /// A stored member inside a private copy-on-write mapping of the file, made on first use
    /// and shared by every view. Unchecked. Empty for archives held in memory.
    mapped_member map(const zip_entry& entry) const;

    /// The archive's file, or its name when it is held in memory.
    const std::filesystem::path& path() const noexcept;
    /// The limits the archive was opened with.
    const read_limits& limits() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace zanj::detail
