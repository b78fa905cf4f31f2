#include <zanj/detail/journal.hpp>

#include "zip_format.hpp"

#include <zanj/detail/crc32.hpp>
#include <zanj/error.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <set>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <utility>

namespace zanj::detail {

namespace {

namespace fs = std::filesystem;
namespace zf = zip_format;

constexpr std::string_view journal_magic = "ZANJJNL1";

fs::path folder_of(const fs::path& path) {
    fs::path folder = path.parent_path();
    return folder.empty() ? fs::path(".") : folder;
}

std::pair<std::uint64_t, std::uint64_t> identity_of(const file_handle& file) {
    struct stat st {};
    if (::fstat(file.fd(), &st) != 0)
        throw io_error("cannot stat " + file.path().string() + ": " + std::strerror(errno));
    return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

// The files this process is updating (see update_in_progress).
std::mutex updating_mutex;
std::multiset<std::pair<std::uint64_t, std::uint64_t>>& updating() {
    static std::multiset<std::pair<std::uint64_t, std::uint64_t>> files;
    return files;
}

void put64(std::vector<std::byte>& out, std::uint64_t v) { zf::field_writer(out).u64(v); }

std::uint64_t get64(std::span<const std::byte> in, std::size_t& pos, const fs::path& journal) {
    if (in.size() - pos < 8) throw format_error("rollback journal " + journal.string() + " is truncated");
    std::uint64_t v = zf::get64(in.data() + pos);
    pos += 8;
    return v;
}

} // namespace

bool take_lock(const file_handle& file, archive_lock lock, bool exclusive, bool wait) {
    struct flock request {};
    request.l_type = static_cast<short>(exclusive ? F_WRLCK : F_RDLCK);
    request.l_whence = SEEK_SET;
    request.l_start = static_cast<off_t>(lock);
    request.l_len = 1;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(lock_wait_seconds);
    auto pause = std::chrono::milliseconds(2);
    for (;;) {
        if (::fcntl(file.fd(), F_OFD_SETLK, &request) == 0) return true;
        const int err = errno;
        if (err == EINVAL || err == ENOLCK || err == EOPNOTSUPP) return true; // no such locks here
        if (err != EAGAIN && err != EACCES && err != EINTR)
            throw io_error("cannot lock " + file.path().string() + ": " + std::strerror(err));
        if (!wait) return false;
        if (std::chrono::steady_clock::now() > give_up)
            throw io_error(file.path().string() +
                           " is being updated by another process (a zanj::editor with "
                           "uncommitted changes); gave up waiting after " +
                           std::to_string(lock_wait_seconds) + " s");
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

void release_lock(const file_handle& file, archive_lock lock) noexcept {
    struct flock request {};
    request.l_type = F_UNLCK;
    request.l_whence = SEEK_SET;
    request.l_start = static_cast<off_t>(lock);
    request.l_len = 1;
    ::fcntl(file.fd(), F_OFD_SETLK, &request);
}

fs::path journal_path(const fs::path& archive) {
    std::string name = ".";
    name += archive.filename().string();
    name += ".zanj-journal";
    return archive.parent_path() / name;
}

void write_journal(const file_handle& file, std::uint64_t original_size, std::span<const saved_bytes> saved) {
    std::vector<std::byte> out(journal_magic.size());
    std::memcpy(out.data(), journal_magic.data(), journal_magic.size());
    put64(out, original_size);
    put64(out, saved.size());
    for (const saved_bytes& s : saved) {
        put64(out, s.offset);
        put64(out, s.bytes.size());
        out.insert(out.end(), s.bytes.begin(), s.bytes.end());
    }
    zf::field_writer(out).u32(crc32(0, out));
    const std::span<const std::byte> pieces[] = {out};
    write_file_atomically(journal_path(file.path()), pieces);
}

void remove_journal(const fs::path& archive) {
    unlink_file(journal_path(archive));
    fsync_directory(folder_of(archive));
}

bool roll_back(const fs::path& archive, const file_handle& file) {
    const fs::path journal = journal_path(archive);
    std::vector<std::byte> in;
    {
        std::error_code missing;
        if (!fs::exists(journal, missing)) return false;
        file_handle j = open_for_reading(journal);
        in.resize(static_cast<std::size_t>(file_size(j)));
        pread_all(j, in, 0);
    }
    const std::string damaged = "rollback journal " + journal.string() + " of " + archive.string() +
                                " is damaged, so the update it records cannot be undone: ";
    if (in.size() < journal_magic.size() + 20 ||
        std::memcmp(in.data(), journal_magic.data(), journal_magic.size()) != 0)
        throw format_error(damaged + "not a zanj journal");
    const std::span<const std::byte> body(in.data(), in.size() - 4);
    if (crc32(0, body) != zf::get32(in.data() + body.size())) throw format_error(damaged + "its checksum is wrong");

    std::size_t pos = journal_magic.size();
    const std::uint64_t original_size = get64(body, pos, journal);
    const std::uint64_t count = get64(body, pos, journal);
    for (std::uint64_t i = 0; i < count; ++i) {
        const std::uint64_t offset = get64(body, pos, journal);
        const std::uint64_t length = get64(body, pos, journal);
        if (length > body.size() - pos) throw format_error(damaged + "a saved range is truncated");
        pwrite_all(file, body.subspan(pos, static_cast<std::size_t>(length)), offset);
        pos += static_cast<std::size_t>(length);
    }
    truncate_file(file, original_size);
    fsync_file(file);
    remove_journal(archive);
    return true;
}

read_guard::read_guard(const fs::path& archive) : file_(open_for_reading(archive)) {
    {
        std::lock_guard lock(updating_mutex);
        if (updating().contains(identity_of(file_)))
            throw usage_error(archive.string() + " has uncommitted changes of a zanj::editor in this process: "
                                                 "commit() or rollback() them before reading it");
    }
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(lock_wait_seconds);
    for (;;) {
        take_lock(file_, archive_lock::update, false, true);
        std::error_code ignored;
        if (!fs::exists(journal_path(archive), ignored)) return; // consistent; stays so while we hold it
        // A journal nobody is updating under: its editor died. Roll the update back, as the
        // next editor would.
        release_lock(file_, archive_lock::update);
        file_handle writable;
        try {
            writable = open_for_update(archive);
        } catch (const io_error& e) {
            throw io_error(archive.string() +
                           " was left half-updated by a zanj::editor that did not finish; rolling the update "
                           "back needs write access: " +
                           e.reason());
        }
        if (take_lock(writable, archive_lock::writer, true, false)) {
            take_lock(writable, archive_lock::update, true, true);
            roll_back(archive, writable);
            release_lock(writable, archive_lock::update);
            release_lock(writable, archive_lock::writer);
        } else if (std::chrono::steady_clock::now() > give_up) {
            throw io_error(archive.string() + " is being updated by another process; gave up waiting after " +
                           std::to_string(lock_wait_seconds) + " s");
        } else {
            // A new editor has it and rolls back itself.
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
}

read_guard::~read_guard() = default; // closing the descriptor releases the shared lock

update_in_progress::update_in_progress(const file_handle& file) {
    std::tie(device_, inode_) = identity_of(file);
    std::lock_guard lock(updating_mutex);
    updating().insert({device_, inode_});
}

update_in_progress::~update_in_progress() {
    std::lock_guard lock(updating_mutex);
    auto& files = updating();
    if (auto it = files.find({device_, inode_}); it != files.end()) files.erase(it);
}

} // namespace zanj::detail
