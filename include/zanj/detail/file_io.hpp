#pragma once
/// \file
/// Thin checked wrappers over the POSIX file calls the zip container needs. Every failure throws
/// zanj::io_error naming the operation, the file and the system's reason (strerror).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace zanj::detail {

/// An open file descriptor with the path it was opened under; closed on destruction, where
/// errors are ignored (call close() to see them).
class file_handle {
public:
    file_handle() noexcept = default;
    file_handle(int fd, std::filesystem::path path) noexcept;
    ~file_handle();
    file_handle(file_handle&& other) noexcept;
    file_handle& operator=(file_handle&& other) noexcept;
    file_handle(const file_handle&) = delete;
    file_handle& operator=(const file_handle&) = delete;

    int fd() const noexcept { return fd_; }
    bool is_open() const noexcept { return fd_ >= 0; }
    const std::filesystem::path& path() const noexcept { return path_; }

    /// Closes the descriptor, throwing when the system reports a late failure (e.g. on NFS).
    void close();

private:
    int fd_ = -1;
    std::filesystem::path path_;
};

/// Opens an existing file for reading.
file_handle open_for_reading(const std::filesystem::path& path);

/// Creates `.<name>.tmp-<pid>-XXXXXX` in the folder of `destination` (which must exist), open
/// for writing, with the mode a newly created file would get (0666 minus the umask), so that a
/// rename over `destination` is atomic and leaves a normal file. The file is flock()ed until it
/// is closed: rename it before closing it. First removes the temporaries of earlier saves to
/// `destination` whose process was killed (pid gone and lock free); nothing else is touched.
/// Drops the page cache of `destination`, which the rename will replace, so that writing the
/// new file reuses its pages.
file_handle make_temp_file_beside(const std::filesystem::path& destination);

/// Creates an anonymous file that lives in memory (memfd_create), open for reading and writing.
file_handle make_memory_file(const std::string& name);

/// Opens an existing file for reading and writing.
file_handle open_for_update(const std::filesystem::path& path);
/// Another descriptor of the same open file (locks held through one are held through both).
file_handle duplicate(const file_handle& file);
/// Moves the write position to `offset`.
void seek_to(const file_handle& file, std::uint64_t offset);
/// Cuts (or extends with zeros) the file to `size` bytes.
void truncate_file(const file_handle& file, std::uint64_t size);

/// Size of the open file in bytes.
std::uint64_t file_size(const file_handle& file);

/// Keeps the disk busy while a file that will be fsynced is written from start to end. Every few
/// MiB written, it asks the kernel to start writing them to the disk without waiting
/// (sync_file_range). Otherwise all of the file waits in the page cache and the final fsync
/// starts the disk only then. Overlapping the two made 256 MiB saves 1.5 to 3 times faster here.
/// Only advice: a failed write-back shows at the fsync.
class writeback_pacer {
public:
    /// For a file written from `start` on.
    explicit writeback_pacer(std::uint64_t start = 0) noexcept : written_(start), requested_(start) {}

    /// Notes that `bytes` more were written (or skipped) at the end of `file`.
    void advance(const file_handle& file, std::uint64_t bytes) noexcept;

    /// Bytes written between two requests.
    static constexpr std::uint64_t step = std::uint64_t{8} << 20;

private:
    std::uint64_t written_ = 0;
    std::uint64_t requested_ = 0; // bytes before this offset were handed to the disk
};

/// Writes all of `data` at the current position, retrying partial writes. With a pacer, writes
/// in its steps and reports each one.
void write_all(const file_handle& file, std::span<const std::byte> data, writeback_pacer* pacer = nullptr);
/// Moves the write position `n` bytes on without writing: the gap reads as zeros (a hole).
void skip_bytes(const file_handle& file, std::uint64_t n, writeback_pacer* pacer = nullptr);
/// Writes all of `data` at `offset`, retrying partial writes.
void pwrite_all(const file_handle& file, std::span<const std::byte> data, std::uint64_t offset);
/// Reads exactly `out.size()` bytes at `offset`; reaching the end of the file first is an error.
void pread_all(const file_handle& file, std::span<std::byte> out, std::uint64_t offset);
/// Asks for transparent huge pages in memory about to be filled (when at least a few MiB):
/// filling it then takes a 512th of the page faults, which a large read into fresh memory
/// otherwise spends most of its time on. numpy does the same for its arrays. Only advice.
void advise_huge_pages(std::span<std::byte> fresh) noexcept;
/// Room for `n` bytes, 64-byte aligned, that are written once and dropped soon (a JSON member's
/// text, parsed and freed). From 512 KiB on it spans whole transparent huge pages, rounded up:
/// filling 1.7 MB then took 0.1 ms instead of 0.75 (a fault per 4 KiB page). The rounding
/// costs memory only while the buffer lives.
std::shared_ptr<std::byte> allocate_transient(std::size_t n);

/// Flushes the file's data and metadata to the disk.
void fsync_file(const file_handle& file);
/// Flushes a folder's entries (a rename into it) to the disk.
void fsync_directory(const std::filesystem::path& folder);
/// Renames `from` to `to`, replacing `to` atomically.
void rename_file(const std::filesystem::path& from, const std::filesystem::path& to);
/// Removes a file.
void unlink_file(const std::filesystem::path& path);

/// Writes the concatenation of `pieces` to `destination` as the zip writer commits: to a
/// temporary file beside it, fsynced, renamed over it, then the folder fsynced. On failure the
/// temporary file is removed and `destination` is untouched. `written`, when set, is called
/// after each piece with the bytes written so far (a progress bar's hook).
void write_file_atomically(const std::filesystem::path& destination, std::span<const std::span<const std::byte>> pieces,
                           const std::function<void(std::uint64_t)>& written = {});

} // namespace zanj::detail
