#pragma once
// Timing and memory measurement for the benchmark: every run of a case happens in a forked child,
// so that one case's allocations, caches and peak memory never leak into the next one's figures.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace bench {

/// What one run of a case measured.
struct sample {
    double seconds = 0;
    /// Peak resident memory above the level at the start of the timed part, in bytes.
    std::uint64_t peak_extra = 0;
};

/// Handed to a case's body already running. A body calls `restart()` after untimed preparation
/// and `stop()` before untimed checking; the timed part is what lies between.
class stopwatch {
public:
    stopwatch();
    /// Starts again from now; memory already resident no longer counts as extra.
    void restart();
    void stop();
    sample result();

private:
    double t0_ = 0;
    std::uint64_t rss0_ = 0;
    bool running_ = true;
    sample result_;
};

using body = std::function<void(stopwatch&)>;

/// Runs `b` once in a forked child and returns what it measured. Throws with the child's message
/// when the body throws or the child dies.
sample run_in_child(const body& b);

/// Runs a program that times itself and prints one JSON object with `seconds` and `peak_extra`
/// on its last line of output (the numpy peer).
sample run_command(const std::vector<std::string>& argv);

// --- helpers for case bodies -------------------------------------------------------------------

/// Throws std::runtime_error(what) when `ok` is false.
void check(bool ok, const std::string& what);
/// A file descriptor that closes itself.
class fd_handle {
public:
    fd_handle(const std::filesystem::path& file, int flags);
    ~fd_handle();
    fd_handle(const fd_handle&) = delete;
    fd_handle& operator=(const fd_handle&) = delete;
    int get() const noexcept { return fd_; }

private:
    int fd_;
};
void write_all(int fd, std::span<const std::byte> bytes);
void pread_all(int fd, std::span<std::byte> out, std::uint64_t offset);
/// fsync of a file written by a library that does not sync (any descriptor of it will do).
void sync_file(const std::filesystem::path& file);
/// Writes `bytes` to `file` and fsyncs it.
void write_file_synced(const std::filesystem::path& file, std::span<const std::byte> bytes);
std::string read_file(const std::filesystem::path& file);
/// Size of a file, or of every file under a folder.
std::uint64_t disk_size(const std::filesystem::path& file_or_folder);
/// Holds a file's (or every file of a folder's) pages in the page cache while it lives, so that
/// timed reads find them there. Reading a file once is not enough on a VM whose kernel runs DAMON
/// pageout: it evicts page cache it has long seen idle, and one read does not make it hot again,
/// so a read could meet its file half on disk. The pages are mapped and locked (mlock) in this
/// process; where locking is refused, each file is read once instead.
class page_cache_pin {
public:
    explicit page_cache_pin(const std::filesystem::path& file_or_folder);
    ~page_cache_pin();
    page_cache_pin(const page_cache_pin&) = delete;
    page_cache_pin& operator=(const page_cache_pin&) = delete;

private:
    void pin(const std::filesystem::path& file);
    std::vector<std::span<std::byte>> mappings_;
};
/// Touches `n` bytes of memory and frees them again, just before a case runs. On a VM that
/// reports free pages to its host (virtio-balloon free page reporting), memory freed a few
/// seconds ago has been handed back, and touching it again costs a host fault per page: a case
/// would be fast or slow depending on what ran before it. Freed just now, these pages are the
/// ones the case's allocations and page cache then reuse, as on a machine of its own.
void ready_free_memory(std::size_t n);
/// Fresh, unfaulted memory of `n` bytes: loaders pay for their destination's page faults.
std::unique_ptr<std::byte[]> fresh_buffer(std::size_t n);

double median(std::vector<double> values);

} // namespace bench
