#pragma once
// Shared helpers of the test suite: scratch folders, running external tools, file bytes.

#include <catch2/catch.hpp>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <mutex>
#include <thread>
#include <iterator>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <vector>

/// Checks both the exception's class and its message.
#define CHECK_THROWS_TYPED(expr, type, matcher)                                                                        \
    do {                                                                                                               \
        CHECK_THROWS_AS(expr, type);                                                                                   \
        CHECK_THROWS_WITH(expr, matcher);                                                                              \
    } while (false)

namespace zanj_test {

namespace fs = std::filesystem;

/// A fresh, empty folder named after the test, below the working folder CTest runs us in.
inline fs::path scratch_dir(const std::string& name) {
    fs::path dir = fs::current_path() / "scratch" / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

/// A fresh folder for each call, named after the running Catch2 test (CTest runs test cases in
/// parallel, so names must not collide). Needs catch.hpp included first.
inline fs::path fresh_dir(const std::string& prefix) {
    static int counter = 0;
    std::string name = Catch::getResultCapture().getCurrentTestName();
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return scratch_dir(prefix + "_" + name.substr(0, 150) + "_" + std::to_string(counter++));
}

struct command_result {
    int exit_code;
    std::string output; // stdout and stderr together
};

/// Runs a shell command, capturing its output.
inline command_result run(const std::string& command) {
    std::string full = command + " 2>&1";
    FILE* pipe = ::popen(full.c_str(), "r");
    if (!pipe) throw std::runtime_error("popen failed: " + command);
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
    int status = ::pclose(pipe);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return {code, out};
}

inline bool have_command(const std::string& name) { return run("command -v " + name + " >/dev/null").exit_code == 0; }

/// Debian's python3 with numpy (see tests/CMakeLists.txt).
inline std::string python() { return ZANJ_TEST_PYTHON; }

/// A script in tests/python/.
inline std::string python_script(const std::string& name) {
    return std::string(ZANJ_TEST_SOURCE_DIR) + "/python/" + name;
}

/// `p` in single quotes, for a shell command line. Built by appending: GCC 12 warns falsely
/// (-Wrestrict, GCC bug 105329) about `"'" + std::string`.
inline std::string quote(const fs::path& p) {
    std::string quoted = "'";
    quoted += p.string();
    quoted += '\'';
    return quoted;
}

inline std::vector<char> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Runs `work(thread)` on `threads` threads started together; returns the messages of the
/// exceptions they threw (Catch2 v2 assertions are not thread-safe, so threads throw instead).
inline std::vector<std::string> run_together(int threads, const std::function<void(int)>& work) {
    std::vector<std::string> failures;
    std::mutex failures_mutex;
    std::latch start(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            start.arrive_and_wait();
            try {
                work(t);
            } catch (const std::exception& e) {
                std::lock_guard lock(failures_mutex);
                failures.push_back(e.what());
            }
        });
    }
    for (auto& thread : pool) thread.join();
    return failures;
}

} // namespace zanj_test
