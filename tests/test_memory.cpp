// Archives in memory and on streams: save_to_bytes / save(obj, ostream) give the archive a file
// save gives (but for timestamps), and reads from bytes and istreams give what file reads give,
// errors included.

#include <zanj/zanj.hpp>

#include <zanj/detail/zip.hpp>

#include "canonical.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <fstream>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace memory_test {

struct Experiment {
    std::string title;
    std::vector<int> labels;   // long: a .jsonl member
    xt::xarray<float> weights; // large: a .npy member
    xt::xarray<double> bias;   // small: inline
    std::map<std::string, double> metrics;
    bool operator==(const Experiment&) const = default;
};
ZANJ_DATACLASS(Experiment, title, labels, weights, bias, metrics);

Experiment make_experiment() {
    Experiment e;
    e.title = "in memory";
    for (int i = 0; i < 500; ++i) e.labels.push_back(i % 7);
    e.weights = xt::arange<float>(0, 4096).reshape({64, 64});
    e.bias = {0.5, -1.25, 3.0};
    e.metrics = {{"loss", 0.25}, {"acc", 0.875}};
    return e;
}

std::span<const std::byte> as_bytes(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

} // namespace memory_test

using namespace memory_test;
using Catch::Contains;

TEST_CASE("save_to_bytes gives the archive a file save gives, and reads back the same", "[memory]") {
    zanj::ZANJ z;
    const Experiment e = make_experiment();
    const auto dir = zanj_test::fresh_dir("memory");
    const auto file = z.save(e, dir / "run");
    const std::vector<std::byte> bytes = z.save_to_bytes(e);

    zanj::archive from_file = z.open(file);
    zanj::archive from_memory = z.open(std::span<const std::byte>(bytes));
    CHECK(from_memory.path() == "<archive in memory>");
    CHECK(from_memory.tree() == from_file.tree());
    CHECK(from_memory.meta()["externals_info"] == from_file.meta()["externals_info"]);
    REQUIRE(from_memory.items().size() == from_file.items().size());
    for (std::size_t i = 0; i < from_file.items().size(); ++i) {
        const auto& a = from_file.items()[i];
        const auto& b = from_memory.items()[i];
        CHECK(a.path == b.path);
        CHECK(a.member == b.member);
        if (a.array) CHECK(a.array->compressed_size == b.array->compressed_size);
    }
    // Member for member the same bytes, but for the metadata's timestamp.
    zanj::detail::zip_reader file_zip(file);
    zanj::detail::zip_reader memory_zip(std::span<const std::byte>(bytes), nullptr, "bytes");
    REQUIRE(file_zip.entries().size() == memory_zip.entries().size());
    for (std::size_t i = 0; i < file_zip.entries().size(); ++i) {
        const auto& a = file_zip.entries()[i];
        const auto& b = memory_zip.entries()[i];
        CHECK(a.name == b.name);
        if (a.name == "__zanj_meta__.json") continue;
        CHECK(a.crc32 == b.crc32);
        CHECK(a.local_header_offset == b.local_header_offset);
    }

    CHECK(z.read<Experiment>(std::span<const std::byte>(bytes)) == e);
    CHECK(z.read(std::span<const std::byte>(bytes)) == z.read(file));
    from_memory.verify();
    // Views of an archive in memory are copies: they outlive the bytes.
    zanj::ndarray w = from_memory.view("/weights");
    CHECK(w.shape() == zanj::shape_type{64, 64});
    CHECK(from_memory.rows("/weights", 2, 3).shape() == zanj::shape_type{1, 64});

    // The bytes are a zip Python reads.
    const auto copy = dir / "copy.zanj";
    zanj_test::write_file(copy, std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    auto python = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("read_zanj.py") + " -q " +
                                 zanj_test::quote(copy));
    INFO(python.output);
    CHECK(python.exit_code == 0);
}

TEST_CASE("archives go to ostreams and come back from istreams", "[memory][stream]") {
    zanj::config settings;
    settings.compress = zanj::compression_policy::all({zanj::compression_method::zstd, 3});
    zanj::ZANJ z(settings);
    const Experiment e = make_experiment();

    std::stringstream buffer;
    z.save(e, buffer);
    const std::string written = buffer.str();
    REQUIRE(written.substr(0, 4) == std::string("PK\x03\x04", 4));
    CHECK(z.read<Experiment>(buffer) == e);

    std::istringstream again(written);
    zanj::archive a = z.open(again);
    CHECK(a.read<std::vector<int>>("/labels") == e.labels);

    // An archive that owns its bytes stays usable after the caller's copy is gone.
    zanj::archive owned = [&] {
        std::vector<std::byte> bytes(memory_test::as_bytes(written).begin(), memory_test::as_bytes(written).end());
        return z.open(std::move(bytes));
    }();
    CHECK(owned.read<Experiment>() == e);

    // The same through files written by ofstream and read by ifstream.
    const auto path = zanj_test::fresh_dir("memory") / "stream.zanj";
    {
        std::ofstream out(path, std::ios::binary);
        z.save(e, out);
    }
    std::ifstream in(path, std::ios::binary);
    CHECK(z.read<Experiment>(in) == e);
    CHECK(z.read<Experiment>(path) == e);
}

TEST_CASE("archives in memory are checked as files are, and failing streams are io_errors", "[memory][errors]") {
    zanj::ZANJ z;
    const std::vector<std::byte> bytes = z.save_to_bytes(make_experiment());

    SECTION("empty and truncated bytes are format errors naming the archive in memory") {
        CHECK_THROWS_MATCHES(z.read(std::span<const std::byte>()), zanj::format_error,
                             Catch::Matchers::Predicate<zanj::format_error>([](const zanj::format_error& err) {
                                 return std::string(err.what()).find("<archive in memory>") != std::string::npos;
                             }));
        for (std::size_t cut : {std::size_t{10}, bytes.size() / 2, bytes.size() - 1})
            CHECK_THROWS_AS(z.read(std::span<const std::byte>(bytes.data(), cut)), zanj::format_error);
    }
    SECTION("a flipped byte in a member is caught by its CRC") {
        std::vector<std::byte> damaged = bytes;
        const auto item = z.open(std::span<const std::byte>(bytes)).find("/weights");
        REQUIRE(item);
        zanj::detail::zip_reader zip(std::span<const std::byte>(bytes), nullptr, "bytes");
        const zanj::detail::zip_entry* entry = zip.find(item->member);
        REQUIRE(entry);
        damaged[zip.data_offset(*entry) + entry->compressed_size / 2] ^= std::byte{0x10};
        CHECK_THROWS_AS(z.read<Experiment>(std::span<const std::byte>(damaged)), zanj::format_error);
    }
    SECTION("limits apply") {
        zanj::config strict;
        strict.limits.max_members = 2;
        CHECK_THROWS_WITH(zanj::ZANJ(strict).read(std::span<const std::byte>(bytes)), Contains("max_members"));
    }
    SECTION("a stream that fails is an io_error") {
        std::stringstream bad;
        bad.setstate(std::ios::badbit);
        CHECK_THROWS_WITH(z.save(make_experiment(), bad), Contains("cannot write the archive to the stream"));
        std::istringstream broken("PK");
        broken.setstate(std::ios::badbit);
        CHECK_THROWS_AS(z.read(broken), zanj::io_error);
    }
    SECTION("a stream of something else is a format error") {
        std::istringstream text("not a zip at all");
        CHECK_THROWS_AS(z.read(text), zanj::format_error);
    }
}

TEST_CASE("archives Python wrote read the same from bytes and streams as from files", "[memory][python]") {
    const auto dir = zanj_test::fresh_dir("memory");
    auto written = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("write_zanj.py") + " " +
                                  zanj_test::quote(dir));
    INFO(written.output);
    REQUIRE(written.exit_code == 0);
    zanj::ZANJ z;
    for (const char* name : {"stored.zanj", "externals.zanj", "arrays_external.zanj"}) {
        INFO(name);
        const auto file = dir / name;
        // Canonical JSON: NaN items compare equal there.
        const std::string expected = zanj_test::canonical(z.read(file)).dump();
        std::ifstream in(file, std::ios::binary);
        CHECK(zanj_test::canonical(z.read(in)).dump() == expected);
        const auto raw = zanj_test::read_file(file);
        CHECK(zanj_test::canonical(z.read(std::as_bytes(std::span(raw.data(), raw.size())))).dump() == expected);
    }
}
