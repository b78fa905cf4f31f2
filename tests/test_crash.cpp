// Crash safety of saving. A child process (crash_helper.cpp) saves an 8 MiB archive over an
// existing one and is killed with SIGKILL at a random moment of the save; afterwards the file
// must hold the complete old or the complete new archive (every CRC checked, every value
// compared), and the next save must leave no temporary file behind. Failed writes (ENOSPC, EIO,
// failed fsync) are injected with an LD_PRELOAD shim (fault_inject.cpp): the save must throw a
// zanj::io_error naming the file and the system's reason, remove its temporary and leave the
// old file as it was. 100 kill trials by default, 1,000 with ZANJ_LONG_TESTS=1.

#include <zanj/zanj.hpp>

#include "crash_payload.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <spawn.h>
#include <string>
#include <optional>
#include <sys/file.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Catch::Contains;
using zanj_test::crash_payload;
using zanj_test::make_crash_payload;

bool long_tests() {
    const char* v = std::getenv("ZANJ_LONG_TESTS");
    return v && std::string(v) == "1";
}

// A running child with its stdout on a pipe.
struct child {
    pid_t pid = -1;
    int out = -1; // read end of its stdout

    child(const std::vector<std::string>& args, const std::vector<std::string>& extra_env) {
        std::vector<std::string> env_text;
        for (char** e = environ; *e; ++e) {
            std::string var = *e;
            bool replaced = false;
            for (const auto& x : extra_env)
                replaced = replaced || var.substr(0, var.find('=') + 1) == x.substr(0, x.find('=') + 1);
            if (!replaced) env_text.push_back(var);
        }
        env_text.insert(env_text.end(), extra_env.begin(), extra_env.end());
        std::vector<char*> envp;
        for (auto& v : env_text) envp.push_back(v.data());
        envp.push_back(nullptr);
        std::vector<std::string> arg_text = args;
        std::vector<char*> argv;
        for (auto& a : arg_text) argv.push_back(a.data());
        argv.push_back(nullptr);

        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        out = fds[0];
        REQUIRE(rc == 0);
    }
    ~child() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            wait();
        }
        if (out >= 0) ::close(out);
    }
    child(const child&) = delete;
    child& operator=(const child&) = delete;

    // Reads its stdout until `line` has come (true) or the pipe closed (false).
    bool wait_for(const std::string& line, std::string& seen) {
        while (seen.find(line) == std::string::npos) {
            char buf[256];
            const ssize_t n = ::read(out, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            seen.append(buf, static_cast<std::size_t>(n));
        }
        return true;
    }
    std::string rest() {
        std::string text;
        wait_for("\x01never", text);
        return text;
    }
    // Its exit code, or 128 + the signal that ended it.
    int wait() {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
};

std::vector<std::string> save_args(const fs::path& file, long long generation) {
    return {ZANJ_CRASH_HELPER_PATH, "save", file.string(), std::to_string(generation)};
}

// Every file of `dir` but `keep`.
std::vector<std::string> other_files(const fs::path& dir, const fs::path& keep) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename() != keep.filename()) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

// The generation `file` holds after checking all of it: every member's CRC, the stubs, and
// every value against the payload that generation saves.
long long check_archive(const fs::path& file) {
    zanj::archive a(file, zanj_test::crash_config());
    a.verify();
    const crash_payload back = a.read<crash_payload>();
    // The expected payloads of the last generations seen, built once each.
    static std::map<long long, crash_payload> expected_of;
    if (!expected_of.count(back.generation)) {
        if (expected_of.size() > 2) expected_of.erase(expected_of.begin());
        expected_of.emplace(back.generation, make_crash_payload(back.generation));
    }
    const crash_payload& expected = expected_of.at(back.generation);
    REQUIRE(back.note == expected.note);
    REQUIRE(back.log == expected.log);
    REQUIRE(back.blocks.size() == expected.blocks.size());
    for (std::size_t i = 0; i < back.blocks.size(); ++i) REQUIRE(back.blocks[i] == expected.blocks[i]);
    REQUIRE(back.small == expected.small);
    return back.generation;
}

void save_in_process(const fs::path& file, long long generation) {
    zanj::ZANJ z(zanj_test::crash_config());
    z.save(make_crash_payload(generation), file);
}

} // namespace

TEST_CASE("a save killed at any moment leaves the old or the new archive, and the next save cleans up", "[crash]") {
    const fs::path dir = zanj_test::fresh_dir("crash");
    const fs::path file = dir / "run.zanj";
    const int trials = long_tests() ? 1000 : 100;
    std::random_device device;
    const unsigned seed = device();
    INFO("seed " << seed << ", " << trials << " trials");
    std::mt19937 rng(seed);

    // Calibrate: how long one save takes from "go" on (the helper builds its payload before).
    long long generation = 1;
    save_in_process(file, generation);
    double save_seconds = 0;
    for (int i = 0; i < 3; ++i) {
        child c(save_args(file, ++generation), {});
        std::string seen;
        REQUIRE(c.wait_for("go\n", seen));
        const auto start = std::chrono::steady_clock::now();
        REQUIRE(c.wait() == 0);
        save_seconds =
            std::max(save_seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    REQUIRE(check_archive(file) == generation);

    int kept_old = 0, got_new = 0, left_temp = 0;
    for (int trial = 0; trial < trials; ++trial) {
        // Kill somewhere in [0, 1.2 x save time] after "go": before, inside and after the save.
        std::uniform_real_distribution<double> delay(0, 1.2 * save_seconds);
        const double wait_s = delay(rng);
        // Every other save on two threads: a worker writes behind it.
        const std::string threads = trial % 2 ? "2" : "1";
        INFO("trial " << trial << ", generation " << generation + 1 << ", kill after " << wait_s << " s, threads "
                      << threads);
        {
            child c(save_args(file, generation + 1), {"ZANJ_CRASH_THREADS=" + threads});
            std::string seen;
            REQUIRE(c.wait_for("go\n", seen));
            std::this_thread::sleep_for(std::chrono::duration<double>(wait_s));
            ::kill(c.pid, SIGKILL);
            const int code = c.wait();
            REQUIRE((code == 0 || code == 128 + SIGKILL));
        }
        const long long held = check_archive(file);
        REQUIRE((held == generation || held == generation + 1));
        if (held == generation) {
            ++kept_old;
        } else {
            ++got_new;
            generation = held;
        }
        const auto others = other_files(dir, file);
        left_temp += !others.empty();
        for (const auto& name : others) REQUIRE(name.rfind(".run.zanj.tmp-", 0) == 0);
        // Every tenth trial, and at the end, the next save (here, in-process) must leave no
        // temporary behind: it removes those of the killed children.
        if (trial % 10 == 9 || trial == trials - 1) {
            save_in_process(file, ++generation);
            CHECK(other_files(dir, file).empty());
            REQUIRE(check_archive(file) == generation);
        }
    }
    // Where the kills fell (not asserted: it depends on timing).
    WARN("crash trials: " << trials << ", old archive kept " << kept_old << ", new one complete " << got_new
                          << ", temporary left by the kill " << left_temp << ", save time " << save_seconds << " s");
}

namespace {

// Runs a save of `generation` over `file` with the shim and `fault_env`; returns its exit code
// and output.
std::pair<int, std::string> faulty_save(const fs::path& file, long long generation,
                                        std::vector<std::string> fault_env) {
    fault_env.push_back(std::string("LD_PRELOAD=") + ZANJ_FAULT_INJECT_PATH);
    // Under AddressSanitizer the shim comes before its runtime in the list of libraries.
    std::string asan = "ASAN_OPTIONS=verify_asan_link_order=0";
    if (const char* current = std::getenv("ASAN_OPTIONS")) asan += std::string(":") + current;
    fault_env.push_back(asan);
    child c(save_args(file, generation), fault_env);
    std::string out = c.rest();
    return {c.wait(), out};
}

} // namespace

TEST_CASE("a save whose writes fail throws io_error, removes its temporary and keeps the old file", "[crash]") {
    const fs::path dir = zanj_test::fresh_dir("fault");
    const fs::path file = dir / "run.zanj";
    // The size of what the failing saves write (give or take a byte or two of deflated JSON).
    save_in_process(dir / "probe.zanj", 2);
    const auto full_size = static_cast<long long>(fs::file_size(dir / "probe.zanj"));
    fs::remove(dir / "probe.zanj");
    save_in_process(file, 1);
    const auto old_bytes = zanj_test::read_file(file);

    SECTION("ENOSPC and EIO at any point of the writing, or from fsync") {
        // Limits inside the first local header, the large and small arrays, the JSON members at
        // the end, the central directory and the end record; on one thread and on two (a worker
        // then writes the buffers of small arrays behind the save).
        const long long limits[] = {0,
                                    1,
                                    100,
                                    4096,
                                    1 << 20,
                                    5 << 20,
                                    full_size / 2,
                                    full_size - (2 << 20),
                                    full_size - (1 << 20),
                                    full_size - 4000,
                                    full_size - 300,
                                    full_size - 12};
        for (const char* error : {"ENOSPC", "EIO"}) {
            const std::string reason = std::strerror(std::string(error) == "EIO" ? EIO : ENOSPC);
            for (const std::string threads : {"1", "2"})
                for (long long limit : limits) {
                    INFO(error << " after " << limit << " bytes, threads " << threads);
                    auto [code, out] = faulty_save(file, 2,
                                                   {std::string("ZANJ_FAULT_ERRNO=") + error,
                                                    "ZANJ_FAULT_WRITE_AFTER=" + std::to_string(limit),
                                                    "ZANJ_CRASH_THREADS=" + threads});
                    INFO(out);
                    REQUIRE(code == 3);
                    CHECK_THAT(out,
                               Contains("error: zanj: cannot write") && Contains(reason) && Contains(file.string()));
                    CHECK(other_files(dir, file).empty());
                    CHECK(zanj_test::read_file(file) == old_bytes);
                }
            INFO(error << " from fsync");
            auto [code, out] = faulty_save(file, 2, {std::string("ZANJ_FAULT_ERRNO=") + error, "ZANJ_FAULT_FSYNC=1"});
            INFO(out);
            REQUIRE(code == 3);
            CHECK_THAT(out, Contains("error: zanj: cannot sync") && Contains(reason) && Contains(file.string()));
            CHECK(other_files(dir, file).empty());
            CHECK(zanj_test::read_file(file) == old_bytes);
        }
        CHECK(check_archive(file) == 1);
    }
    SECTION("short writes and EINTR are retried: the save succeeds") {
        auto [code, out] = faulty_save(file, 3, {"ZANJ_FAULT_SHORT_WRITES=1"});
        INFO(out);
        REQUIRE(code == 0);
        CHECK(check_archive(file) == 3);
        CHECK(other_files(dir, file).empty());
    }
    SECTION("a write limit past the whole archive changes nothing") {
        auto [code, out] = faulty_save(file, 4, {"ZANJ_FAULT_WRITE_AFTER=" + std::to_string(full_size + 4096)});
        INFO(out);
        REQUIRE(code == 0);
        CHECK(check_archive(file) == 4);
    }
}

namespace {

// A pid that no process has now: a child that has exited and been reaped.
pid_t dead_pid() {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return pid;
}

void touch(const fs::path& p) { std::ofstream(p) << "x"; }

} // namespace

TEST_CASE("a save removes only the stale temporaries of its own file", "[crash]") {
    const fs::path dir = zanj_test::fresh_dir("stale");
    const fs::path file = dir / "run.zanj";
    const std::string dead = std::to_string(dead_pid());

    // Left by a killed save of run.zanj: removed.
    const fs::path stale = dir / (".run.zanj.tmp-" + dead + "-Ab12Cd");
    touch(stale);
    // Not ours, or not provably abandoned: kept.
    std::vector<fs::path> kept = {
        dir / ".run.zanj.tmp-Ab12Cd",                    // an older name, without the pid
        dir / (".run.zanj.tmp-" + dead + "-Ab12C"),      // not mkstemp's six letters
        dir / (".run.zanj.tmp-" + dead + "-Ab12Cd.bak"), // something else
        dir / (".other.zanj.tmp-" + dead + "-Ab12Cd"),   // another file's temporary
        dir / ("run.zanj.tmp-" + dead + "-Ab12Cd"),      // no leading dot
        dir / ".run.zanj.tmp--Ab12Cd",                   // no pid
        dir / "notes.txt",
    };
    for (const auto& p : kept) touch(p);
    // A live process's temporary (its pid exists): kept.
    child sleeper({"/bin/sleep", "60"}, {});
    const fs::path live = dir / (".run.zanj.tmp-" + std::to_string(sleeper.pid) + "-Ef34Gh");
    touch(live);
    kept.push_back(live);
    // A dead pid but a held lock: a writer in another pid namespace, still writing. Kept.
    const fs::path locked = dir / (".run.zanj.tmp-" + dead + "-Ij56Kl");
    touch(locked);
    kept.push_back(locked);
    const int lock_fd = ::open(locked.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(lock_fd >= 0);
    REQUIRE(::flock(lock_fd, LOCK_EX) == 0);
    // A symbolic link and a folder with a stale name: kept, and the link's target too.
    const fs::path target = dir / "target.txt";
    touch(target);
    kept.push_back(target);
    const fs::path link = dir / (".run.zanj.tmp-" + dead + "-Mn78Op");
    fs::create_symlink(target, link);
    kept.push_back(link);
    const fs::path folder = dir / (".run.zanj.tmp-" + dead + "-Qr90St");
    fs::create_directory(folder);
    kept.push_back(folder);

    save_in_process(file, 1);
    CHECK_FALSE(fs::exists(stale));
    for (const auto& p : kept) {
        INFO(p);
        CHECK(fs::exists(fs::symlink_status(p)));
    }
    // Once the lock is released, the next save takes that one too.
    ::close(lock_fd);
    save_in_process(file, 2);
    CHECK_FALSE(fs::exists(locked));
    CHECK(fs::exists(live));
    CHECK(check_archive(file) == 2);
}

namespace {

// How many of `file`'s pages are in the page cache (mincore through a mapping never touched).
std::size_t cached_pages(int fd, std::size_t size) {
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    REQUIRE(map != MAP_FAILED);
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> resident((size + page - 1) / page);
    REQUIRE(::mincore(map, size, resident.data()) == 0);
    ::munmap(map, size);
    return static_cast<std::size_t>(
        std::count_if(resident.begin(), resident.end(), [](unsigned char r) { return r & 1; }));
}

std::size_t warmed_pages(const fs::path& file, int fd) {
    (void)zanj_test::read_file(file);
    return cached_pages(fd, fs::file_size(file));
}

} // namespace

// The replaced file's pages would be freed at the rename anyway; freeing them before writing lets
// the new file reuse them (see drop_cache_of_replaced in file_io.cpp).
TEST_CASE("a save drops the page cache of the file it replaces and nothing else", "[crash]") {
    const fs::path dir = zanj_test::fresh_dir("cache");
    const fs::path file = dir / "run.zanj";
    save_in_process(file, 1);
    const int old_fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(old_fd >= 0);
    const std::size_t old_size = fs::file_size(file);
    // File systems that keep no separate cache (tmpfs) cannot drop it: nothing to check there.
    REQUIRE(warmed_pages(file, old_fd) > 0);
    ::posix_fadvise(old_fd, 0, 0, POSIX_FADV_DONTNEED);
    if (cached_pages(old_fd, old_size) != 0) {
        ::close(old_fd);
        WARN("this file system keeps its pages cached after POSIX_FADV_DONTNEED: skipped");
        return;
    }
    REQUIRE(warmed_pages(file, old_fd) > 0);

    zanj::config cfg = zanj_test::crash_config();
    std::optional<std::size_t> cached_while_writing;
    cfg.progress = [&](std::uint64_t) {
        if (!cached_while_writing) cached_while_writing = cached_pages(old_fd, old_size);
    };
    zanj::ZANJ(cfg).save(make_crash_payload(2), file);
    REQUIRE(cached_while_writing);
    CHECK(*cached_while_writing == 0);
    ::close(old_fd);
    CHECK(check_archive(file) == 2);

    SECTION("through a symbolic link, the link is replaced and its target keeps its cache") {
        const fs::path target = dir / "target.zanj";
        fs::copy_file(file, target);
        const fs::path link = dir / "link.zanj";
        fs::create_symlink(target.filename(), link);
        const int target_fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(target_fd >= 0);
        const std::size_t before = warmed_pages(target, target_fd);
        REQUIRE(before > 0);
        save_in_process(link, 3);
        CHECK(cached_pages(target_fd, fs::file_size(target)) == before);
        ::close(target_fd);
        CHECK_FALSE(fs::is_symlink(link));
        CHECK(check_archive(link) == 3);
        CHECK(check_archive(target) == 2);
    }
}

namespace {

// The kernel's cachestat(2) (Linux 6.5): how many of a file's cached pages are still dirty.
// Debian's headers predate it, hence the raw system call.
struct cachestat_range {
    std::uint64_t offset, length;
};
struct cachestat_counts {
    std::uint64_t cached, dirty, writeback, evicted, recently_evicted;
};
constexpr long cachestat_syscall = 451;

std::optional<cachestat_counts> page_states(int fd, std::uint64_t length) {
    cachestat_range range{0, length};
    cachestat_counts counts{};
    if (::syscall(cachestat_syscall, fd, &range, &counts, 0) != 0) return std::nullopt;
    return counts;
}

} // namespace

// A save asks the kernel to write each few MiB to the disk as soon as they are written, so that
// the final fsync does not start all of the file only then (see writeback_pacer in file_io.hpp).
TEST_CASE("a save hands what it wrote to the disk as it goes, not all at the fsync", "[crash]") {
    const fs::path dir = zanj_test::fresh_dir("writeback");
    const fs::path file = dir / "run.zanj";
    struct statfs fs_info {};
    REQUIRE(::statfs(dir.c_str(), &fs_info) == 0);
    if (fs_info.f_type == TMPFS_MAGIC) {
        WARN("tmpfs never writes its pages back: skipped");
        return;
    }
    constexpr std::uint64_t mib = 1 << 20;
    std::optional<cachestat_counts> early; // the first 16 MiB, once 24 MiB are written
    bool unsupported = false;
    zanj::config cfg = zanj_test::crash_config();
    cfg.progress = [&](std::uint64_t done) {
        if (early || unsupported || done < 24 * mib) return;
        for (const auto& entry : fs::directory_iterator(dir)) {
            if (entry.path().filename().string().rfind(".run.zanj.tmp-", 0) != 0) continue;
            const int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
            REQUIRE(fd >= 0);
            early = page_states(fd, 16 * mib);
            unsupported = !early;
            ::close(fd);
        }
    };
    zanj::ZANJ(cfg).save(make_crash_payload(1, 32), file);
    if (unsupported) {
        WARN("this kernel has no cachestat(2): skipped");
        return;
    }
    REQUIRE(early);
    CHECK(early->cached + early->evicted > 0);
    // Without the requests all 4096 pages are dirty; a page or two where writes of unaligned
    // sizes meet may be written to again after its request.
    CHECK(early->dirty < 16);
    const auto back = zanj::ZANJ().read<zanj_test::crash_payload>(file);
    CHECK(back.generation == 1);
    CHECK(back.blocks.size() == 32);
}
