// Integrity: single bit flips anywhere in an archive are caught. A copying read either throws a
// zanj::error (a CRC-32 or zstd checksum mismatch, or a format error) or returns exactly the
// saved value (the flip hit a field nothing reads: a timestamp, a local header's copy of a
// size); never a different value, never a crash. Mapped views are not checked as they are
// read, but `verify` catches flips in their bytes.
//
// 10,000 flips by default; ZANJ_INTEGRITY_FLIPS=<n> runs more (or fewer).

#include <zanj/detail/zip.hpp>
#include <zanj/zanj.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace integrity_test {

struct Sample {
    std::string title;
    double lr = 0;
    std::vector<int> steps;
    std::map<std::string, double> metrics;
    xt::xarray<float> stored;        // a stored `.npy` member, mappable
    xt::xarray<std::int32_t> packed; // a deflated `.npy` member
    xt::xarray<double> squeezed;     // a zstd `.npy` member
    std::vector<std::string> log;    // a deflated `.jsonl` member
    std::vector<int> ticks;          // a stored `.jsonl` member

    friend bool operator==(const Sample&, const Sample&) = default;
};
ZANJ_DATACLASS(Sample, title, lr, steps, metrics, stored, packed, squeezed, log, ticks);

} // namespace integrity_test

namespace {

namespace fs = std::filesystem;
using integrity_test::Sample;
using zanj::compression;
using zanj::compression_method;

Sample make_sample() {
    Sample s;
    s.title = "bit flips";
    s.lr = 3e-4;
    s.steps = {1, 2, 3};
    s.metrics = {{"loss", 0.25}, {"acc", 0.875}};
    s.stored = xt::xarray<float>::from_shape({4, 8});
    for (std::size_t i = 0; i < s.stored.size(); ++i) s.stored.flat(i) = static_cast<float>(i) * 0.5f - 3.0f;
    s.packed = xt::xarray<std::int32_t>::from_shape({40});
    for (std::size_t i = 0; i < s.packed.size(); ++i) s.packed.flat(i) = static_cast<std::int32_t>(i * i % 17);
    s.squeezed = xt::xarray<double>::from_shape({3, 8});
    for (std::size_t i = 0; i < s.squeezed.size(); ++i) s.squeezed.flat(i) = 1.0 / static_cast<double>(i + 1);
    for (int i = 0; i < 12; ++i) s.log.push_back("epoch " + std::to_string(i));
    for (int i = 0; i < 10; ++i) s.ticks.push_back(i * 7);
    return s;
}

zanj::config settings() {
    zanj::config c;
    c.external_array_threshold = 16;
    c.external_list_threshold = 8;
    c.threads = 1;
    auto hint = [&](const char* path, compression how) {
        zanj::storage_hint h;
        h.path = path;
        h.compression = how;
        c.storage_hints.push_back(h);
    };
    hint("/packed", {compression_method::deflate});
    hint("/squeezed", {compression_method::zstd});
    hint("/ticks", {compression_method::store});
    return c;
}

std::string file_text(const fs::path& p) {
    auto bytes = zanj_test::read_file(p);
    return {bytes.begin(), bytes.end()};
}

std::size_t flips_to_run() {
    if (const char* n = std::getenv("ZANJ_INTEGRITY_FLIPS")) return static_cast<std::size_t>(std::stoull(n));
    return 10000;
}

} // namespace

TEST_CASE("integrity: every single bit flip is detected by a copying read or harmless", "[integrity]") {
    const fs::path dir = zanj_test::fresh_dir("integrity");
    const zanj::ZANJ z(settings());
    const Sample original = make_sample();
    const fs::path good = z.save(original, dir / "good");
    const std::string bytes = file_text(good);
    {
        // The archive has what the test is about: stored, deflate and zstd members.
        zanj::detail::zip_reader zip(good);
        std::map<compression_method, int> methods;
        for (const auto& e : zip.entries()) ++methods[e.method];
        REQUIRE(methods[compression_method::store] >= 2);
        REQUIRE(methods[compression_method::deflate] >= 3);
        REQUIRE(methods[compression_method::zstd] >= 1);
        REQUIRE(z.read<Sample>(good) == original);
    }

    const fs::path bad = dir / "flipped.zanj";
    const std::size_t flips = flips_to_run();
    std::mt19937_64 rng(0x5eedf11e);
    std::size_t detected = 0, harmless = 0;
    std::map<std::string, int> reasons; // the start of each message, for the log
    std::vector<std::string> silent, foreign;
    for (std::size_t i = 0; i < flips; ++i) {
        const std::uint64_t bit = rng() % (bytes.size() * 8);
        std::string copy = bytes;
        copy[bit / 8] = static_cast<char>(copy[bit / 8] ^ (1 << (bit % 8)));
        zanj_test::write_file(bad, copy);
        const std::string where = "byte " + std::to_string(bit / 8) + " bit " + std::to_string(bit % 8);
        try {
            if (z.read<Sample>(bad) == original) {
                ++harmless;
            } else {
                silent.push_back(where);
            }
        } catch (const zanj::error& e) {
            ++detected;
            ++reasons[e.reason().substr(0, 24)];
        } catch (const std::exception& e) {
            foreign.push_back(where + ": " + e.what());
        }
    }
    std::string summary;
    for (const auto& [reason, n] : reasons) summary += "  " + std::to_string(n) + " x " + reason + "\n";
    INFO(flips << " flips in " << bytes.size() << " bytes: " << detected << " detected, " << harmless << " harmless\n"
               << summary);
    CHECK(detected + harmless + silent.size() + foreign.size() == flips);
    CHECK(silent.empty());
    CHECK(foreign.empty());
    for (std::size_t i = 0; i < std::min<std::size_t>(silent.size(), 10); ++i) UNSCOPED_INFO("silent: " << silent[i]);
    for (std::size_t i = 0; i < std::min<std::size_t>(foreign.size(), 10); ++i)
        UNSCOPED_INFO("not zanj: " << foreign[i]);
    CHECK(detected > flips / 2);
}

TEST_CASE("integrity: verify catches flips in mapped arrays", "[integrity]") {
    const fs::path dir = zanj_test::fresh_dir("integrity");
    const zanj::ZANJ z(settings());
    const Sample original = make_sample();
    const fs::path good = z.save(original, dir / "good");
    const std::string bytes = file_text(good);
    std::uint64_t begin = 0, size = 0;
    {
        zanj::detail::zip_reader zip(good);
        const zanj::detail::zip_entry* e = zip.find("stored.npy");
        REQUIRE(e);
        REQUIRE(e->method == compression_method::store);
        begin = zip.data_offset(*e);
        size = e->uncompressed_size;
        zanj::archive a(good);
        const zanj::ndarray view = a.view("/stored", true);
        REQUIRE(std::memcmp(view.bytes(), original.stored.data(), view.nbytes()) == 0);
    }
    const std::uint64_t data_begin = begin + size - original.stored.size() * sizeof(float);

    const fs::path bad = dir / "flipped.zanj";
    std::mt19937_64 rng(0xf11b5);
    for (int i = 0; i < 300; ++i) {
        // Anywhere in the member: the NPY header or the array's bytes.
        const std::uint64_t bit = begin * 8 + rng() % (size * 8);
        std::string copy = bytes;
        copy[bit / 8] = static_cast<char>(copy[bit / 8] ^ (1 << (bit % 8)));
        zanj_test::write_file(bad, copy);
        INFO("byte " << bit / 8 << " bit " << bit % 8);
        const zanj::archive a(bad);
        REQUIRE_THROWS_AS(a.view("/stored", true), zanj::error);
        REQUIRE_THROWS_AS(a.read<Sample>("/", {zanj::access::view, true}), zanj::error);
        REQUIRE_THROWS_AS(a.verify(), zanj::error);
        REQUIRE_THROWS_AS(a.read<Sample>("/"), zanj::error); // copies are always checked
        if (bit / 8 >= data_begin) {
            // Unverified views see the flipped bytes as they are: that is what verify is for.
            REQUIRE_THROWS_WITH(a.view("/stored", true), Catch::Contains("CRC-32 mismatch in member 'stored.npy'"));
            const zanj::ndarray unchecked = a.view("/stored");
            CHECK(std::memcmp(unchecked.bytes(), original.stored.data(), unchecked.nbytes()) != 0);
        }
    }
}
