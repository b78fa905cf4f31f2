// An LD_PRELOAD shim that makes file writes fail, for the crash-safety tests (test_crash.cpp).
// Loaded into a child process only; without its environment variables it changes nothing.
//
//   ZANJ_FAULT_ERRNO=ENOSPC|EIO     the error injected (ENOSPC when unset)
//   ZANJ_FAULT_WRITE_AFTER=N        writes to regular files succeed for N bytes in all, then
//                                   fail: the write crossing the limit is cut short there, as
//                                   a full disk does, and every later one fails
//   ZANJ_FAULT_FSYNC=1              fsync and fdatasync of regular files fail
//   ZANJ_FAULT_SHORT_WRITES=1       writes move at most 4099 bytes and every third call fails
//                                   with EINTR (legal results that callers must retry)
//
// Covers write, pwrite, pwrite64, writev, pwritev, fsync and fdatasync: what libzanj calls.

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

namespace {

struct settings {
    bool active = false;
    int error = ENOSPC;
    long long write_after = -1; // -1: no limit
    bool fail_fsync = false;
    bool short_writes = false;
};

const settings& config() {
    static const settings s = [] {
        settings out;
        if (const char* e = std::getenv("ZANJ_FAULT_ERRNO")) out.error = std::strcmp(e, "EIO") == 0 ? EIO : ENOSPC;
        if (const char* n = std::getenv("ZANJ_FAULT_WRITE_AFTER")) out.write_after = std::atoll(n);
        if (const char* f = std::getenv("ZANJ_FAULT_FSYNC")) out.fail_fsync = *f == '1';
        if (const char* w = std::getenv("ZANJ_FAULT_SHORT_WRITES")) out.short_writes = *w == '1';
        out.active = out.write_after >= 0 || out.fail_fsync || out.short_writes;
        return out;
    }();
    return s;
}

std::atomic<long long> written{0};
std::atomic<unsigned> calls{0};

template <class F>
F next(const char* name) {
    return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

bool is_regular(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

// How many of `count` bytes a write may move now: -1 with errno set when it must fail.
ssize_t allowance(int fd, std::size_t count) {
    const settings& s = config();
    if (!s.active || count == 0 || !is_regular(fd)) return static_cast<ssize_t>(count);
    std::size_t n = count;
    if (s.short_writes) {
        if (calls.fetch_add(1) % 3 == 2) {
            errno = EINTR;
            return -1;
        }
        n = n < 4099 ? n : 4099;
    }
    if (s.write_after >= 0) {
        const long long before = written.fetch_add(static_cast<long long>(n));
        const long long left = s.write_after - before;
        if (left <= 0) {
            errno = s.error;
            return -1;
        }
        if (static_cast<long long>(n) > left) n = static_cast<std::size_t>(left);
    }
    return static_cast<ssize_t>(n);
}

} // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t count) {
    static const auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
    const ssize_t n = allowance(fd, count);
    return n < 0 ? -1 : real(fd, buf, static_cast<size_t>(n));
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
    static const auto real = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
    const ssize_t n = allowance(fd, count);
    return n < 0 ? -1 : real(fd, buf, static_cast<size_t>(n), offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t offset) {
    static const auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
    const ssize_t n = allowance(fd, count);
    return n < 0 ? -1 : real(fd, buf, static_cast<size_t>(n), offset);
}

// Vectored writes fail whole or pass whole: enough for the failure tests.
ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
    static const auto real = next<ssize_t (*)(int, const struct iovec*, int)>("writev");
    std::size_t total = 0;
    for (int i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
    if (allowance(fd, total) < static_cast<ssize_t>(total)) {
        if (errno != EINTR) errno = config().error;
        return -1;
    }
    return real(fd, iov, iovcnt);
}

ssize_t pwritev(int fd, const struct iovec* iov, int iovcnt, off_t offset) {
    static const auto real = next<ssize_t (*)(int, const struct iovec*, int, off_t)>("pwritev");
    std::size_t total = 0;
    for (int i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
    if (allowance(fd, total) < static_cast<ssize_t>(total)) {
        if (errno != EINTR) errno = config().error;
        return -1;
    }
    return real(fd, iov, iovcnt, offset);
}

int fsync(int fd) {
    static const auto real = next<int (*)(int)>("fsync");
    if (config().fail_fsync && is_regular(fd)) {
        errno = config().error;
        return -1;
    }
    return real(fd);
}

int fdatasync(int fd) {
    static const auto real = next<int (*)(int)>("fdatasync");
    if (config().fail_fsync && is_regular(fd)) {
        errno = config().error;
        return -1;
    }
    return real(fd);
}

} // extern "C"
