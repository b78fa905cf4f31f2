// libFuzzer target: whole `.zanj` archives read through zanj::archive, by copies (access::copy,
// every CRC checked) and through the memory mapping (access::view), untyped and typed, item by
// item and whole, and checked with verify(). The input is written to a memfd, which the archive
// opens by its /proc path like any file. Any exception other than zanj::error, and any sanitizer
// report, is a finding.
#include "fuzz_support.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace {

// Runs `step`, ignoring the clear errors a malformed archive is expected to give.
template <class Step>
void attempt(Step&& step) {
    try {
        step();
    } catch (const zanj::error&) {}
}

void read_all(const std::string& path, zanj::access how) {
    static const zanj::config settings = zanj_fuzz::settings();
    static const auto registry = zanj_fuzz::registry();
    const zanj::archive a(path, settings, registry);
    const zanj::read_options options{how, how == zanj::access::view};
    attempt([&] {
        for (const zanj::item_info& item : a.items()) {
            if (!item.array) continue;
            const std::string where = item.path.str();
            attempt([&] { a.array(where, options); });
            attempt([&] { a.rows(where, 0, 1, options); });
        }
    });
    attempt([&] { a.read("/", options); });
    attempt([&] { a.read<zanj_fuzz::run>("/", options); });
}

// The file the archive is opened from: a memfd, rewritten for each input.
const std::string& input_file(const std::uint8_t* data, std::size_t size) {
    static const int fd = ::memfd_create("fuzz.zanj", 0);
    static const std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (fd < 0 || ::ftruncate(fd, 0) != 0) std::abort();
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
        if (n <= 0) std::abort();
        done += static_cast<std::size_t>(n);
    }
    return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = input_file(data, size);
    attempt([&] { read_all(path, zanj::access::copy); });
    attempt([&] { read_all(path, zanj::access::view); });
    attempt([&] { zanj::archive(path, zanj_fuzz::settings()).verify(); });
    return 0;
}
