#include "harness.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <malloc.h>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bench {

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// A field of /proc/self/status in bytes ("VmRSS", "VmHWM").
std::uint64_t status_bytes(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::size_t n = std::strlen(field);
    while (std::getline(in, line))
        if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':')
            return std::stoull(line.substr(n + 1)) * 1024; // reported in kB
    return 0;
}

// Makes VmHWM start again from the current RSS (Linux >= 4.0), so a child measures its own peak
// rather than the parent's data it inherited.
void reset_peak() {
    if (FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
        std::fputs("5", f);
        std::fclose(f);
    }
}

[[noreturn]] void fail_errno(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

// What a child sends back through its pipe: a fixed header, then the error message if any.
struct wire {
    double seconds;
    std::uint64_t peak_extra;
    std::uint32_t ok;
    std::uint32_t message_size;
};

std::string read_until_eof(int fd) {
    std::string out;
    char buf[4096];
    for (ssize_t got; (got = ::read(fd, buf, sizeof buf)) != 0;) {
        if (got < 0) {
            if (errno == EINTR) continue;
            fail_errno("reading from a child");
        }
        out.append(buf, static_cast<std::size_t>(got));
    }
    return out;
}

// Waits for `pid` and says how it ended when that was not a clean exit(0).
std::string wait_child(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) fail_errno("waitpid");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "exit status " + std::to_string(WEXITSTATUS(status));
}

} // namespace

stopwatch::stopwatch() { restart(); }

void stopwatch::restart() {
    reset_peak();
    rss0_ = status_bytes("VmRSS");
    running_ = true;
    t0_ = now();
}

void stopwatch::stop() {
    if (!running_) return;
    result_.seconds = now() - t0_;
    const std::uint64_t peak = status_bytes("VmHWM");
    result_.peak_extra = peak > rss0_ ? peak - rss0_ : 0;
    running_ = false;
}

sample stopwatch::result() {
    stop();
    return result_;
}

sample run_in_child(const body& b) {
    int fds[2];
    if (::pipe(fds) != 0) fail_errno("pipe");
    std::fflush(nullptr); // or the child would print the parent's buffered output again
    // Hands the parent's free heap pages back to the kernel: a child's allocations then meet fresh
    // memory, as a new process's do, rather than resident pages that neither fault nor count.
    ::malloc_trim(0);
    const pid_t pid = ::fork();
    if (pid < 0) fail_errno("fork");
    if (pid == 0) {
        ::close(fds[0]);
        wire w{};
        std::string message;
        try {
            stopwatch sw;
            b(sw);
            const sample s = sw.result();
            w = {s.seconds, s.peak_extra, 1, 0};
        } catch (const std::exception& e) {
            message = e.what();
        }
        w.message_size = static_cast<std::uint32_t>(message.size());
        std::string out(reinterpret_cast<const char*>(&w), sizeof w);
        out += message;
        for (std::size_t done = 0; done < out.size();) {
            const ssize_t n = ::write(fds[1], out.data() + done, out.size() - done);
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        ::_exit(0); // no destructors or atexit handlers of the parent's state
    }
    ::close(fds[1]);
    std::string got;
    try {
        got = read_until_eof(fds[0]);
    } catch (...) {
        ::close(fds[0]);
        wait_child(pid);
        throw;
    }
    ::close(fds[0]);
    const std::string how = wait_child(pid);
    if (got.size() < sizeof(wire)) throw std::runtime_error("the case's process died (" + how + ")");
    wire w;
    std::memcpy(&w, got.data(), sizeof w);
    if (!w.ok) throw std::runtime_error(got.substr(sizeof w, w.message_size));
    return {w.seconds, w.peak_extra};
}

sample run_command(const std::vector<std::string>& argv) {
    int fds[2];
    if (::pipe(fds) != 0) fail_errno("pipe");
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) fail_errno("fork");
    if (pid == 0) {
        ::close(fds[0]);
        ::dup2(fds[1], STDOUT_FILENO);
        ::execvp(args[0], args.data());
        std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
        ::_exit(127);
    }
    ::close(fds[1]);
    std::string out = read_until_eof(fds[0]);
    ::close(fds[0]);
    if (std::string how = wait_child(pid); !how.empty())
        throw std::runtime_error(argv[0] + " " + argv[1] + " failed (" + how + ")");
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    const auto j = nlohmann::json::parse(out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1));
    return {j.at("seconds").get<double>(), j.at("peak_extra").get<std::uint64_t>()};
}

void check(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(what);
}

fd_handle::fd_handle(const std::filesystem::path& file, int flags)
    : fd_(::open(file.c_str(), flags | O_CLOEXEC, 0644)) {
    if (fd_ < 0) fail_errno("open " + file.string());
}

fd_handle::~fd_handle() { ::close(fd_); }

void write_all(int fd, std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail_errno("write");
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
}

void pread_all(int fd, std::span<std::byte> out, std::uint64_t offset) {
    while (!out.empty()) {
        const ssize_t n = ::pread(fd, out.data(), out.size(), static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail_errno("pread");
        out = out.subspan(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
}

void sync_file(const std::filesystem::path& file) {
    fd_handle f(file, O_RDONLY);
    if (::fsync(f.get()) != 0) fail_errno("fsync " + file.string());
}

void write_file_synced(const std::filesystem::path& file, std::span<const std::byte> bytes) {
    fd_handle f(file, O_CREAT | O_TRUNC | O_WRONLY);
    write_all(f.get(), bytes);
    if (::fsync(f.get()) != 0) fail_errno("fsync " + file.string());
}

std::string read_file(const std::filesystem::path& file) {
    fd_handle f(file, O_RDONLY);
    std::string out(std::filesystem::file_size(file), '\0');
    pread_all(f.get(), std::as_writable_bytes(std::span(out)), 0);
    return out;
}

std::uint64_t disk_size(const std::filesystem::path& file_or_folder) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(file_or_folder)) return fs::exists(file_or_folder) ? fs::file_size(file_or_folder) : 0;
    std::uint64_t total = 0;
    for (const auto& e : fs::recursive_directory_iterator(file_or_folder))
        if (e.is_regular_file()) total += e.file_size();
    return total;
}

page_cache_pin::page_cache_pin(const std::filesystem::path& file_or_folder) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(file_or_folder)) {
        if (fs::exists(file_or_folder)) pin(file_or_folder);
        return;
    }
    for (const auto& e : fs::recursive_directory_iterator(file_or_folder))
        if (e.is_regular_file()) pin(e.path());
}

page_cache_pin::~page_cache_pin() {
    for (std::span<std::byte> m : mappings_) ::munmap(m.data(), m.size()); // unlocks too
}

void page_cache_pin::pin(const std::filesystem::path& file) {
    fd_handle f(file, O_RDONLY);
    const std::size_t size = std::filesystem::file_size(file);
    if (size == 0) return;
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, f.get(), 0);
    if (p != MAP_FAILED && ::mlock(p, size) == 0) { // mlock reads in what is not cached
        mappings_.emplace_back(static_cast<std::byte*>(p), size);
        return;
    }
    if (p != MAP_FAILED) ::munmap(p, size);
    static bool told = false;
    if (!told) {
        std::fprintf(stderr, "bench: cannot lock files in the page cache (%s): reading each once instead\n",
                     std::strerror(errno));
        told = true;
    }
    static std::vector<std::byte> buffer(std::size_t{1} << 20);
    while (::read(f.get(), buffer.data(), buffer.size()) > 0) {}
}

void ready_free_memory(std::size_t n) {
    if (n == 0) return;
    void* p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fail_errno("mmap");
    ::madvise(p, n, MADV_HUGEPAGE); // freed as whole huge pages too, for the loaders that use them
    std::memset(p, 1, n);
    ::munmap(p, n);
}

std::unique_ptr<std::byte[]> fresh_buffer(std::size_t n) { return std::make_unique_for_overwrite<std::byte[]>(n); }

double median(std::vector<double> values) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const std::size_t m = values.size() / 2;
    return values.size() % 2 ? values[m] : (values[m - 1] + values[m]) / 2;
}

} // namespace bench
