#pragma once
/// \file
/// What makes updating an archive in place safe: advisory locks on the archive, and a rollback
/// journal beside it that holds every byte an update overwrites, so that an update killed half
/// way is undone by whoever opens the archive next (see docs/robustness.md, "Updates in place").
///
/// Locks are open-file-description locks (fcntl F_OFD_SETLK) on two bytes of the archive, so
/// they work between processes and between threads alike and vanish when their holder dies:
/// - the writer byte, held exclusively by an editor for its whole life: one writer at a time;
/// - the update byte, held exclusively by an editor from its first change until the change is
///   committed or rolled back, and shared by readers while they open the archive, so that they
///   never see it half-updated.

#include <zanj/detail/file_io.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace zanj::detail {

/// The two lock bytes.
enum class archive_lock : std::uint8_t { writer = 0, update = 1 };

/// Takes `lock` on `file`, exclusive or shared; without waiting returns false when another
/// holder has it. Waiting gives up with io_error after `lock_wait_seconds`. File systems without
/// such locks count as always granting them.
bool take_lock(const file_handle& file, archive_lock lock, bool exclusive, bool wait);
/// Releases `lock` (never fails).
void release_lock(const file_handle& file, archive_lock lock) noexcept;
/// How long readers and editors wait for an update in progress elsewhere.
inline constexpr int lock_wait_seconds = 30;

/// The journal of `archive`: `.<name>.zanj-journal` beside it.
std::filesystem::path journal_path(const std::filesystem::path& archive);

/// Bytes of the archive as they were before an update overwrote them.
struct saved_bytes {
    std::uint64_t offset = 0;
    std::vector<std::byte> bytes;
};

/// Writes the journal of an update of `file` (whose size was `original_size`) durably: after it
/// returns, a crash at any moment is undone by `roll_back`.
void write_journal(const file_handle& file, std::uint64_t original_size, std::span<const saved_bytes> saved);
/// Removes the journal durably: the update is then final.
void remove_journal(const std::filesystem::path& archive);
/// When `archive` has a journal, puts the saved bytes back into `file` (open for update), cuts
/// it to its original size, syncs it and removes the journal; returns whether it did. A journal
/// that fails its checksum is a format_error (it is written whole before it is renamed into
/// place, so it cannot be half-written).
bool roll_back(const std::filesystem::path& archive, const file_handle& file);

/// Readers' side, held while an archive is opened: waits while an update of it is in progress
/// (in another process; in this one it is a usage_error, as waiting would never end) and rolls
/// back an update whose editor died. Throws io_error when such a rollback needs write access
/// the reader lacks.
class read_guard {
public:
    explicit read_guard(const std::filesystem::path& archive);
    ~read_guard();
    read_guard(const read_guard&) = delete;
    read_guard& operator=(const read_guard&) = delete;

private:
    file_handle file_;
};

/// Marks `file` as being updated by this process, so that reads of it here fail at once
/// instead of waiting for an update that only this process can finish.
class update_in_progress {
public:
    explicit update_in_progress(const file_handle& file);
    ~update_in_progress();
    update_in_progress(const update_in_progress&) = delete;
    update_in_progress& operator=(const update_in_progress&) = delete;

private:
    std::uint64_t device_ = 0;
    std::uint64_t inode_ = 0;
};

} // namespace zanj::detail
