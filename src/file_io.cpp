#include <zanj/detail/file_io.hpp>

#include <zanj/error.hpp>
#include <zanj/ndarray.hpp> // allocate_aligned

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <limits>
#include <new>
#include <optional>
#include <signal.h>
#include <string>
#include <string_view>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <utility>
#include <vector>

namespace zanj::detail {

namespace {

namespace fs = std::filesystem;

// One system call moves at most this much: Linux caps read/write near 2 GiB anyway.
constexpr std::size_t max_chunk = std::size_t{1} << 30;

[[noreturn]] void fail(const std::string& operation, const fs::path& path, int err) {
    throw io_error("cannot " + operation + " " + path.string() + ": " + std::strerror(err));
}

// The process umask, read without changing it (umask() itself would race other threads).
mode_t current_umask() {
    mode_t mask = 022;
    if (FILE* status = std::fopen("/proc/self/status", "re")) {
        char line[256];
        while (std::fgets(line, sizeof line, status)) {
            if (std::strncmp(line, "Umask:", 6) == 0) {
                mask = static_cast<mode_t>(std::strtoul(line + 6, nullptr, 8));
                break;
            }
        }
        std::fclose(status);
    }
    return mask;
}

fs::path folder_of(const fs::path& path) {
    fs::path folder = path.parent_path();
    return folder.empty() ? fs::path(".") : folder;
}

} // namespace

file_handle::file_handle(int fd, fs::path path) noexcept : fd_(fd), path_(std::move(path)) {}

file_handle::~file_handle() {
    if (fd_ >= 0) ::close(fd_);
}

file_handle::file_handle(file_handle&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

file_handle& file_handle::operator=(file_handle&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        path_ = std::move(other.path_);
    }
    return *this;
}

void file_handle::close() {
    if (fd_ < 0) return;
    // The descriptor is released even when close reports an error, so never retry it.
    int rc = ::close(std::exchange(fd_, -1));
    if (rc != 0 && errno != EINTR) fail("close", path_, errno);
}

namespace {
// Opens an existing file; `what` names the operation in the error.
file_handle open_existing(const fs::path& path, int flags, const char* what) {
    int fd;
    do fd = ::open(path.c_str(), flags | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) fail(what, path, errno);
    return {fd, path};
}
} // namespace

file_handle open_for_reading(const fs::path& path) { return open_existing(path, O_RDONLY, "open"); }

file_handle open_for_update(const fs::path& path) { return open_existing(path, O_RDWR, "open for update"); }

file_handle duplicate(const file_handle& file) {
    const int fd = ::fcntl(file.fd(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) fail("duplicate the descriptor of", file.path(), errno);
    return {fd, file.path()};
}

void seek_to(const file_handle& file, std::uint64_t offset) {
    if (::lseek(file.fd(), static_cast<off_t>(offset), SEEK_SET) < 0) fail("seek in", file.path(), errno);
}

void truncate_file(const file_handle& file, std::uint64_t size) {
    int rc;
    do rc = ::ftruncate(file.fd(), static_cast<off_t>(size));
    while (rc != 0 && errno == EINTR);
    if (rc != 0) fail("truncate", file.path(), errno);
}

namespace {

// Temporary files are named `.<name>.tmp-<pid>-XXXXXX`: the writer's pid tells whose they are.
std::string temp_prefix(const fs::path& destination) {
    std::string prefix = ".";
    prefix += destination.filename().string();
    prefix += ".tmp-"; // appended in steps: GCC 12 warns falsely (-Wrestrict) about "." + s
    return prefix;
}

// The writer's pid when `name` is exactly `prefix` + `<pid>-XXXXXX` (mkstemp's six letters),
// else nothing: any other file, ours from an older version included, is never touched.
std::optional<pid_t> temp_owner(std::string_view name, std::string_view prefix) {
    if (!name.starts_with(prefix)) return std::nullopt;
    name.remove_prefix(prefix.size());
    const std::size_t dash = name.find('-');
    if (dash == 0 || dash == std::string_view::npos || name.size() - dash - 1 != 6) return std::nullopt;
    long long pid = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + dash, pid);
    if (ec != std::errc{} || end != name.data() + dash || pid <= 0 || pid > std::numeric_limits<pid_t>::max())
        return std::nullopt;
    for (char c : name.substr(dash + 1))
        if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
    return static_cast<pid_t>(pid);
}

// Removes the temporary files that earlier saves to `destination` left behind when they were
// killed. A temporary is stale only when its writer's process is gone (or is this process) and
// no one holds its lock: every writer holds an exclusive flock on its temporary until it is
// renamed or removed, and the kernel drops the lock when the process dies, so a live writer's
// file is never removed, even one whose pid is reused or lives in another pid namespace.
// Best effort: a failure here never fails the save.
void remove_stale_temps(const fs::path& folder, const std::string& prefix) noexcept {
    DIR* dir = ::opendir(folder.c_str());
    if (!dir) return;
    const int dir_fd = ::dirfd(dir);
    const pid_t self = ::getpid();
    while (const dirent* entry = ::readdir(dir)) {
        const char* name = entry->d_name;
        const std::optional<pid_t> owner = temp_owner(name, prefix);
        if (!owner) continue;
        // A process that still exists may be writing it (EPERM: it exists, owned by another user).
        if (*owner != self && (::kill(*owner, 0) == 0 || errno != ESRCH)) continue;
        const int fd = ::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) continue;
        struct stat opened {};
        struct stat named {};
        // Remove it only if it is still the file we locked (not replaced since we opened it).
        if (::fstat(fd, &opened) == 0 && S_ISREG(opened.st_mode) && ::flock(fd, LOCK_EX | LOCK_NB) == 0 &&
            ::fstatat(dir_fd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 && named.st_dev == opened.st_dev &&
            named.st_ino == opened.st_ino)
            ::unlinkat(dir_fd, name, 0);
        ::close(fd);
    }
    ::closedir(dir);
}

// Drops the page cache of the regular file a save is about to replace. Its pages are freed at
// the rename anyway; freed now, the new file's writes reuse them instead of claiming memory the
// kernel has not handed out lately, which on a VM costs a host fault per page and made writing
// 256 MiB take 650 ms instead of 55. The file itself stays on disk until the rename, so a failed
// save still leaves it intact. A symlink is not followed: the rename replaces the link only.
void drop_cache_of_replaced(const fs::path& destination) noexcept {
    const int fd = ::open(destination.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
}

} // namespace

file_handle make_temp_file_beside(const fs::path& destination) {
    const fs::path folder = folder_of(destination);
    const std::string prefix = temp_prefix(destination);
    remove_stale_temps(folder, prefix);
    drop_cache_of_replaced(destination);
    const std::string pattern = (folder / (prefix + std::to_string(::getpid()) + "-XXXXXX")).string();
    for (int attempt = 0;; ++attempt) {
        std::vector<char> buf(pattern.begin(), pattern.end());
        buf.push_back('\0');
        int fd = ::mkostemp(buf.data(), O_CLOEXEC);
        if (fd < 0)
            throw io_error("cannot create a temporary file in " + folder.string() + " to write " +
                           destination.string() + ": " + std::strerror(errno));
        file_handle file(fd, fs::path(buf.data()));
        // Lock it for as long as it is written (see remove_stale_temps). Another save's cleanup
        // may have locked it first, between mkostemp and here, to remove it: then take another
        // name. File systems without flock write unlocked, protected by the pid alone.
        struct stat st {};
        const bool locked = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
        if (locked ? ::fstat(fd, &st) == 0 && st.st_nlink == 0 : errno == EWOULDBLOCK) {
            if (attempt < 100) continue;
            throw io_error("cannot create a temporary file in " + folder.string() + " to write " +
                           destination.string() + ": removed by other saves every time");
        }
        // mkstemp creates 0600; give the archive the mode an ordinary new file would have.
        if (::fchmod(fd, static_cast<mode_t>(0666 & ~current_umask())) != 0) {
            int err = errno;
            ::unlink(buf.data());
            fail("set the permissions of", file.path(), err);
        }
        return file;
    }
}

file_handle make_memory_file(const std::string& name) {
    const int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC);
    if (fd < 0) throw io_error("cannot create a file in memory for " + name + ": " + std::strerror(errno));
    return {fd, fs::path(name)};
}

std::uint64_t file_size(const file_handle& file) {
    struct stat st {};
    if (::fstat(file.fd(), &st) != 0) fail("stat", file.path(), errno);
    return static_cast<std::uint64_t>(st.st_size);
}

void writeback_pacer::advance(const file_handle& file, std::uint64_t bytes) noexcept {
    written_ += bytes;
    if (written_ - requested_ < step) return;
    // Whole pages only: the page the last write ended in will be written to again.
    const std::uint64_t until = written_ & ~std::uint64_t{4095};
#ifdef SYNC_FILE_RANGE_WRITE
    ::sync_file_range(file.fd(), static_cast<off_t>(requested_), static_cast<off_t>(until - requested_),
                      SYNC_FILE_RANGE_WRITE);
#else
    (void)file;
#endif
    requested_ = until;
}

void write_all(const file_handle& file, std::span<const std::byte> data, writeback_pacer* pacer) {
    const std::size_t most = pacer ? static_cast<std::size_t>(writeback_pacer::step) : max_chunk;
    while (!data.empty()) {
        ssize_t n = ::write(file.fd(), data.data(), std::min(data.size(), most));
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("write", file.path(), errno);
        }
        data = data.subspan(static_cast<std::size_t>(n));
        if (pacer) pacer->advance(file, static_cast<std::uint64_t>(n));
    }
}

void skip_bytes(const file_handle& file, std::uint64_t n, writeback_pacer* pacer) {
    if (::lseek(file.fd(), static_cast<off_t>(n), SEEK_CUR) < 0) fail("seek in", file.path(), errno);
    if (pacer) pacer->advance(file, n);
}

void pwrite_all(const file_handle& file, std::span<const std::byte> data, std::uint64_t offset) {
    while (!data.empty()) {
        ssize_t n = ::pwrite(file.fd(), data.data(), std::min(data.size(), max_chunk), static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("write", file.path(), errno);
        }
        data = data.subspan(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
}

void advise_huge_pages(std::span<std::byte> fresh) noexcept {
    constexpr std::uintptr_t huge_page = std::uintptr_t{2} << 20;
    if (fresh.size() < 2 * huge_page) return;
    const auto begin = reinterpret_cast<std::uintptr_t>(fresh.data());
    const std::uintptr_t first = (begin + huge_page - 1) & ~(huge_page - 1);
    const std::uintptr_t last = (begin + fresh.size()) & ~(huge_page - 1);
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

std::shared_ptr<std::byte> allocate_transient(std::size_t n) {
    constexpr std::size_t huge_page = std::size_t{2} << 20;
    constexpr std::size_t from = std::size_t{512} << 10; // below, 4 KiB pages fault in faster
    if (n < from || n > std::numeric_limits<std::size_t>::max() - huge_page) return allocate_aligned(n);
    const std::size_t rounded = (n + huge_page - 1) / huge_page * huge_page;
    auto* p = static_cast<std::byte*>(::operator new (rounded, std::align_val_t{huge_page}));
    ::madvise(p, rounded, MADV_HUGEPAGE);
    return {p, [](std::byte* q) { ::operator delete (q, std::align_val_t{huge_page}); }};
}

void pread_all(const file_handle& file, std::span<std::byte> out, std::uint64_t offset) {
    while (!out.empty()) {
        ssize_t n = ::pread(file.fd(), out.data(), std::min(out.size(), max_chunk), static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("read", file.path(), errno);
        }
        if (n == 0)
            throw io_error("cannot read " + file.path().string() + ": unexpected end of file at offset " +
                           std::to_string(offset) + " (was the file changed while open?)");
        out = out.subspan(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
}

void fsync_file(const file_handle& file) {
    if (::fsync(file.fd()) != 0) fail("sync", file.path(), errno);
}

void fsync_directory(const fs::path& folder) {
    int fd;
    do fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) fail("open the folder", folder, errno);
    file_handle dir(fd, folder);
    // Some file systems cannot sync a folder and say EINVAL: nothing more can be done there.
    if (::fsync(fd) != 0 && errno != EINVAL) fail("sync the folder", folder, errno);
    dir.close();
}

void rename_file(const fs::path& from, const fs::path& to) {
    if (::rename(from.c_str(), to.c_str()) != 0)
        throw io_error("cannot rename " + from.string() + " to " + to.string() + ": " + std::strerror(errno));
}

void unlink_file(const fs::path& path) {
    if (::unlink(path.c_str()) != 0) fail("remove", path, errno);
}

void write_file_atomically(const fs::path& destination, std::span<const std::span<const std::byte>> pieces,
                           const std::function<void(std::uint64_t)>& written) {
    file_handle file = make_temp_file_beside(destination);
    const fs::path temp = file.path();
    try {
        std::uint64_t done = 0;
        writeback_pacer pacer;
        for (std::span<const std::byte> piece : pieces) {
            write_all(file, piece, &pacer);
            done += piece.size();
            if (written) written(done);
        }
        fsync_file(file);
        // Renamed before it is closed, so that its lock holds until then (see remove_stale_temps).
        rename_file(temp, destination);
        file.close();
    } catch (const io_error& e) {
        std::error_code ignored;
        fs::remove(temp, ignored);
        throw io_error(e.reason() + " (while saving " + destination.string() + ")", e.object_path(), e.member());
    } catch (...) {
        std::error_code ignored;
        fs::remove(temp, ignored);
        throw;
    }
    // The rename is durable only once the folder's entry is on disk.
    fsync_directory(folder_of(destination));
}

} // namespace zanj::detail
