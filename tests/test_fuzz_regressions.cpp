// What the fuzzers (tests/fuzz/, docs/robustness.md "Fuzzing") found, one case each, so that it
// stays fixed in every build: the sanitized CI build reports the original fault itself.
#include "raw_zip.hpp"
#include "support.hpp"

#include <zanj/detail/zip.hpp>
#include <zanj/error.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

using zanj::detail::zip_reader;
namespace raw_zip = zanj_test::raw_zip;

namespace {

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

raw_zip::entry stored(std::string name, std::string data) {
    raw_zip::entry e;
    e.name = std::move(name);
    e.data = std::move(data);
    return e;
}

} // namespace

// zip_reader::read on an archive in memory copied a stored member's (empty) head with
// memcpy(nullptr, ..., 0), undefined behaviour that UBSan reports (fuzz.zip, first seconds).
TEST_CASE("fuzz regression: stored members read from memory, empty ones included", "[fuzz][zip]") {
    const std::string archive = raw_zip::build({stored("empty.txt", ""), stored("dir/", ""), stored("a.txt", "hello")});
    zip_reader zip(bytes_of(archive), nullptr, "memory.zip");
    REQUIRE(zip.entries().size() == 3);
    for (const auto& e : zip.entries()) {
        auto data = zip.read(e);
        std::vector<std::byte> split(static_cast<std::size_t>(e.uncompressed_size));
        zip.read_into(e, {}, split);
        if (e.name == "a.txt") {
            CHECK(std::memcmp(data.get(), "hello", 5) == 0);
            CHECK(std::memcmp(split.data(), "hello", 5) == 0);
        }
    }
}
