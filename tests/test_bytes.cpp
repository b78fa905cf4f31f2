// Byte buffers (std::vector<std::byte>, std::array<std::byte, N>, std::span<const std::byte>)
// as uint8 arrays: inline and external, every array mode, errors, and Python both ways.

#include <catch2/catch.hpp>

#include "round_trip.hpp"
#include "types_interop.hpp"

#include <zanj/dataclass.hpp>
#include <zanj/facade.hpp>
#include <zanj/types/std.hpp>
#include <zanj/types/value.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <vector>

using zanj_test::from_value;
using zanj_test::to_value;

namespace {

std::vector<std::byte> bytes_of(std::size_t n) {
    std::vector<std::byte> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>((i * 37 + 11) % 256);
    return out;
}

} // namespace

namespace bytes_test {
struct Blob {
    std::vector<std::byte> small;
    std::vector<std::byte> large;
    std::array<std::byte, 4> key{};
    friend bool operator==(const Blob&, const Blob&) = default;
};
ZANJ_DATACLASS(Blob, small, large, key);
} // namespace bytes_test

using bytes_test::Blob;

TEST_CASE("byte buffers are uint8 arrays", "[types][bytes]") {
    const std::vector<std::byte> small = bytes_of(5);
    const zanj::value v = to_value(small);
    CHECK(v.format() == "numpy.ndarray:array_list_meta");
    CHECK(v["dtype"].as_string() == "uint8");
    CHECK(v["data"].dump() == "[11, 48, 85, 122, 159]");
    CHECK_ROUND_TRIPS(small);
    CHECK_ROUND_TRIPS(std::vector<std::byte>{});
    const std::array<std::byte, 3> fixed{std::byte{0}, std::byte{128}, std::byte{255}};
    CHECK(to_value(fixed)["shape"].dump() == "[3]");
    CHECK_ROUND_TRIPS(fixed);
    CHECK(to_value(std::span<const std::byte>(small)) == v);
    CHECK(to_value(std::byte{200}).dump() == "200"); // a single byte is an integer
}

TEST_CASE("large byte buffers become .npy members", "[types][bytes][externals]") {
    const Blob blob{bytes_of(3), bytes_of(1000), {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}}};
    zanj::ZANJ z;
    const auto path = z.save(blob, zanj_test::fresh_dir("bytes") / "blob");
    const zanj::value meta = z.read_meta(path);
    REQUIRE(meta["externals_info"].contains("large.npy"));
    CHECK(meta["externals_info"]["large.npy"]["dtype"].as_string() == "uint8");
    CHECK(z.read<Blob>(path) == blob);
    CHECK(z.read(path)["large"].as_array().type() == zanj::dtype::uint8);
}

TEST_CASE("byte buffers load in every array mode", "[types][bytes]") {
    const std::vector<std::byte> data = bytes_of(40);
    for (auto mode : {zanj::array_mode::array_list_meta, zanj::array_mode::array_hex_meta,
                      zanj::array_mode::array_b64_meta, zanj::array_mode::list}) {
        zanj::config cfg;
        cfg.internal_array_mode = mode;
        INFO("mode " << zanj::to_string(mode));
        CHECK(zanj_test::via_memory(data, cfg) == data);
    }
}

TEST_CASE("loading bytes checks dtype, rank, length and range", "[types][bytes][errors]") {
    zanj::value blob = to_value(Blob{});
    SECTION("another dtype") {
        const std::vector<float> floats{1.0f, 2.0f};
        blob["small"] = to_value(zanj::ndarray::from(std::span<const float>(floats)));
        CHECK_THROWS_AS(from_value<Blob>(blob), zanj::type_error);
        CHECK_THROWS_WITH(from_value<Blob>(blob),
                          Catch::Contains("expected a 1-d uint8 array for std::byte data, found float32") &&
                              Catch::Contains("(at /small)"));
    }
    SECTION("a 2-d array") {
        const std::vector<std::uint8_t> grid{1, 2, 3, 4};
        blob["small"] = to_value(zanj::ndarray::from(std::span<const std::uint8_t>(grid), {2, 2}));
        CHECK_THROWS_WITH(from_value<Blob>(blob), Catch::Contains("found uint8 of shape (2, 2)"));
    }
    SECTION("a std::array of another length") {
        blob["key"] = to_value(bytes_of(5));
        CHECK_THROWS_WITH(from_value<Blob>(blob),
                          Catch::Contains("expected 4 bytes for a std::array<std::byte, 4>, found 5") &&
                              Catch::Contains("(at /key)"));
    }
    SECTION("a bare list with a value that is no byte") {
        blob["small"] = zanj::value::list_type{zanj::value(1), zanj::value(256)};
        CHECK_THROWS_WITH(from_value<Blob>(blob), Catch::Contains("out of range") && Catch::Contains("(at /small/1)"));
    }
}

TEST_CASE("byte buffers move both ways with Python", "[types][bytes][python]") {
    zanj::ZANJ z;
    const auto python_file = zanj_test::python_types_archive();
    const auto payload = z.open(python_file).read<std::vector<std::byte>>("/payload");
    REQUIRE(payload.size() == 300);
    CHECK(payload[299] == std::byte{299 % 256});
    CHECK(z.open(python_file).read<std::array<std::byte, 3>>("/small_payload") ==
          std::array<std::byte, 3>{std::byte{0}, std::byte{1}, std::byte{255}});

    const Blob blob{bytes_of(2), bytes_of(300), {}};
    const nlohmann::json seen = zanj_test::python_view(z.save(blob, zanj_test::fresh_dir("bytes_python") / "blob"));
    CHECK(seen["small"]["__ndarray__"]["dtype"] == "uint8");
    CHECK(seen["small"]["__ndarray__"]["hex"] == "0b30");
    CHECK(seen["large"]["__ndarray__"]["shape"] == nlohmann::json::array({300}));
}
