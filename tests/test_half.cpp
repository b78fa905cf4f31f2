// zanj::float16 and zanj::bfloat16: conversions, arrays of them in every array form, and
// bfloat16 both ways with Python (tests/python/bfloat16.py reads and writes the bits as uint16).
#include <catch2/catch.hpp>

#include "round_trip.hpp"
#include "support.hpp"

#include <zanj/zanj.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using zanj::bfloat16;
using zanj::float16;

namespace {

// float32 bit patterns probing the rounding, as in tests/python/bfloat16.py: zeros, -2.5, pi, a
// subnormal, the largest float (rounds to infinity), infinities, NaNs with payloads, ties.
constexpr std::uint32_t probes[20] = {
    0x00000000, 0x80000000, 0x3F800000, 0xC0200000, 0x40490FDB, 0x000116C2, 0x7F7FFFFF,
    0x7F7F7FFF, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001, 0xFFC00001, 0x3F808000,
    0x3F818000, 0x3F808001, 0x477FE000, 0x3DCCCCCD, 0x7FA00000, 0x00008000,
};
// Their bfloat16, worked out by hand.
constexpr std::uint16_t probes_bf16[20] = {
    0x0000, 0x8000, 0x3F80, 0xC020, 0x4049, 0x0001, 0x7F80, 0x7F7F, 0x7F80, 0xFF80,
    0x7FC0, 0x7FC0, 0xFFC0, 0x3F80, 0x3F82, 0x3F81, 0x4780, 0x3DCD, 0x7FE0, 0x0000,
};

constexpr std::size_t probe_count = std::size(probes);

fs::path fresh_dir() { return zanj_test::fresh_dir("half"); }

xt::xarray<bfloat16> probe_array(std::vector<std::size_t> shape) {
    xt::xarray<bfloat16> a = xt::xarray<bfloat16>::from_shape(shape);
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = bfloat16(std::bit_cast<float>(probes[i % probe_count]));
    return a;
}

template <class Range>
std::vector<std::uint16_t> bits_of(const Range& r) {
    std::vector<std::uint16_t> out;
    for (const auto& x : r) out.push_back(x.bits());
    return out;
}

std::vector<std::uint16_t> expected_bits(std::size_t n) {
    std::vector<std::uint16_t> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(probes_bf16[i % probe_count]);
    return out;
}

// float16 bit patterns, as in tests/python/bfloat16.py: zeros, subnormals, the largest and
// smallest normals, infinities, NaNs with payloads and signs, ordinary values.
constexpr std::uint16_t f16_small[20] = {
    0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0xC000, 0x7BFF, 0xFBFF, 0x7C00,
    0xFC00, 0x7E00, 0x7C01, 0xFE01, 0x3555, 0x5640, 0x8001, 0x7FFF, 0x2E66, 0x4248,
};

xt::xarray<float16> f16_array(std::vector<std::size_t> shape, const std::vector<std::uint16_t>& bits) {
    xt::xarray<float16> a = xt::xarray<float16>::from_shape(shape);
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = float16::from_bits(bits[i]);
    return a;
}

// Every 211th bit pattern (zeros, subnormals, normals, NaNs with payloads), the last four
// replaced by -0, the infinities and a negative NaN.
std::vector<std::uint16_t> f16_big_bits() {
    std::vector<std::uint16_t> bits;
    for (std::size_t i = 0; i < 300; ++i) bits.push_back(static_cast<std::uint16_t>(i * 211));
    const std::uint16_t specials[] = {0x8000, 0x7C00, 0xFC00, 0xFE01};
    std::copy(std::begin(specials), std::end(specials), bits.end() - 4);
    return bits;
}

// The bits after a trip through JSON numbers, which carry no NaN payload nor NaN sign: every NaN
// comes back as numpy's float16 NaN (0x7E00), as np.array(json.loads(...), dtype=np.float16) does.
std::vector<std::uint16_t> via_json_numbers(std::vector<std::uint16_t> bits) {
    for (auto& b : bits)
        if ((b & 0x7C00) == 0x7C00 && (b & 0x03FF)) b = 0x7E00;
    return bits;
}

const zanj::array_mode all_modes[] = {zanj::array_mode::array_list_meta, zanj::array_mode::array_hex_meta,
                                      zanj::array_mode::array_b64_meta, zanj::array_mode::list};

struct bf16_record {
    xt::xarray<bfloat16> small;
    xt::xarray<bfloat16> scalar;
    xt::xarray<bfloat16> big;
    std::vector<bfloat16> vec;
};
ZANJ_DATACLASS(bf16_record, small, scalar, big, vec);

bf16_record probe_record() {
    bf16_record r{probe_array({4, 5}), xt::xarray<bfloat16>::from_shape({}), probe_array({300}), {}};
    r.scalar.data()[0] = bfloat16(std::bit_cast<float>(probes[3]));
    for (std::size_t i = 0; i < 5; ++i) r.vec.push_back(bfloat16(std::bit_cast<float>(probes[i])));
    return r;
}

} // namespace

static_assert(zanj::array_element<bfloat16> && zanj::array_element<float16>);
static_assert(zanj::dtype_of<bfloat16> == zanj::dtype::bfloat16 && zanj::dtype_of<float16> == zanj::dtype::float16);
static_assert(std::is_trivially_copyable_v<bfloat16> && std::is_trivially_copyable_v<float16>);
static_assert(bfloat16(1.0f).bits() == 0x3F80, "conversions to bfloat16 are constexpr");

TEST_CASE("bfloat16 rounds to nearest even and keeps NaNs", "[half]") {
    for (std::size_t i = 0; i < probe_count; ++i) {
        CAPTURE(i, probes[i]);
        const bfloat16 b(std::bit_cast<float>(probes[i]));
        CHECK(b.bits() == probes_bf16[i]);
        // Widening is exact: back to the float whose top half the bits are.
        CHECK(std::bit_cast<std::uint32_t>(static_cast<float>(b)) == std::uint32_t(probes_bf16[i]) << 16);
    }
    CHECK(std::isnan(static_cast<float>(bfloat16(std::nanf("")))));
    CHECK(std::signbit(static_cast<float>(bfloat16(-std::nanf("")))));
    CHECK(static_cast<float>(bfloat16::from_bits(0x4049)) == 3.140625f);
    CHECK(bfloat16(2.0f) == bfloat16(2.0f)); // compares as floats
    CHECK_FALSE(bfloat16(std::nanf("")) == bfloat16(std::nanf("")));
}

TEST_CASE("float16 converts as numpy's float16", "[half]") {
    CHECK(float16(1.0f).bits() == 0x3C00);
    CHECK(float16(65504.0f).bits() == 0x7BFF);
    CHECK(float16(65520.0f).bits() == 0x7C00); // rounds to infinity
    CHECK(float16(-0.0f).bits() == 0x8000);
    CHECK(float16(1.0f + 1.0f / 2048).bits() == 0x3C00); // a tie, to even
    CHECK(static_cast<float>(float16::from_bits(0x0001)) == std::ldexp(1.0f, -24));
    CHECK(std::isnan(static_cast<float>(float16(std::nanf("")))));
    CHECK(zanj::dtype_name(zanj::dtype::bfloat16) == "bfloat16");
    CHECK(zanj::dtype_from_name("torch.bfloat16") == zanj::dtype::bfloat16);
    CHECK(zanj::npy_descr(zanj::dtype::bfloat16) == "<u2");
    CHECK(zanj::storage_dtype(zanj::dtype::bfloat16) == zanj::dtype::uint16);
    CHECK(zanj::storage_dtype(zanj::dtype::float8_e4m3fn) == zanj::dtype::uint8);
    CHECK(zanj::storage_dtype(zanj::dtype::float16) == zanj::dtype::float16);
}

TEST_CASE("bfloat16 arrays keep their bits in every inline mode", "[half]") {
    const auto a = probe_array({4, 5});
    for (auto mode : all_modes) {
        CAPTURE(zanj::to_string(mode));
        zanj::config cfg;
        cfg.internal_array_mode = mode;
        const zanj::value v = zanj_test::to_value(a, cfg);
        if (mode == zanj::array_mode::list) {
            // A bare list cannot say bfloat16: it holds the values, read back as float64.
            REQUIRE(v.is_list());
            CHECK(v[0][2].as_double() == 1.0);
            CHECK(v[3][2].as_double() == 0.10009765625); // probe 17, 0.1 as bfloat16 (0x3DCD)
            const zanj::ndarray inferred = zanj_test::from_value<zanj::ndarray>(v, cfg);
            CHECK(inferred.type() == zanj::dtype::float64);
            CHECK_THROWS_WITH(zanj_test::from_value<xt::xarray<bfloat16>>(v, cfg),
                              Catch::Contains("dtype mismatch: the archive holds float64, xt::xarray needs bfloat16"));
            continue;
        }
        CHECK(v["dtype"] == zanj::value("bfloat16"));
        if (mode == zanj::array_mode::array_list_meta) {
            CHECK(v["data"][0][2] == zanj::value(0x3F80)); // the bits, as numpy reads uint16
            CHECK(v["data"][2][4] == zanj::value(0x3F82));
        }
        CHECK(bits_of(zanj_test::via_memory(a, cfg)) == expected_bits(20));
        CHECK(bits_of(zanj_test::via_archive(a, cfg)) == expected_bits(20));
        const zanj::ndarray untyped = zanj_test::from_value<zanj::ndarray>(v, cfg);
        CHECK(untyped.type() == zanj::dtype::bfloat16);
        CHECK(bits_of(untyped.values<bfloat16>()) == expected_bits(20));
    }
    SECTION("0-d: a zero_dim item holding the bits") {
        xt::xarray<bfloat16> s = xt::xarray<bfloat16>::from_shape({});
        s.data()[0] = bfloat16(-2.5f);
        const zanj::value v = zanj_test::to_value(s);
        CHECK(v.format() == "numpy.ndarray:zero_dim");
        CHECK(v["data"] == zanj::value(0xC020));
        CHECK(bits_of(zanj_test::via_archive(s)) == std::vector<std::uint16_t>{0xC020});
    }
    SECTION("an item whose data is not bits says what it needs") {
        zanj::value v = zanj_test::to_value(a);
        v["data"][0][0] = zanj::value(1.5);
        CHECK_THROWS_WITH(zanj_test::from_value<zanj::ndarray>(v),
                          Catch::Contains("1.5 is not a valid bfloat16 (items of this dtype hold its bits as uint16)"));
    }
}

TEST_CASE("bfloat16 arrays become .npy members of uint16 bits and come back as bfloat16", "[half]") {
    const bf16_record r = probe_record();
    zanj::ZANJ z;
    const fs::path p = z.save(r, fresh_dir() / "bf16");

    const bf16_record back = z.read<bf16_record>(p);
    CHECK(bits_of(back.big) == expected_bits(300));
    CHECK(bits_of(back.small) == expected_bits(20));
    CHECK(bits_of(back.vec) == std::vector<std::uint16_t>(probes_bf16, probes_bf16 + 5));

    const zanj::value meta = z.read_meta(p);
    CHECK(meta["externals_info"]["big.npy"]["dtype"] == zanj::value("bfloat16"));
    const zanj::value tree = z.read(p);
    REQUIRE(tree["big"].is_array());
    CHECK(tree["big"].as_array().type() == zanj::dtype::bfloat16);
    CHECK(bits_of(tree["big"].as_array().values<bfloat16>()) == expected_bits(300));

    zanj::archive a = z.open(p);
    CHECK(a.find("/big")->array->dtype == zanj::dtype::bfloat16);
    CHECK(a.view("/big").type() == zanj::dtype::bfloat16);
    const zanj::ndarray rows = a.rows("/big", 20, 40);
    CHECK(rows.type() == zanj::dtype::bfloat16);
    CHECK(bits_of(rows.values<bfloat16>()) == expected_bits(20));
    CHECK_NOTHROW(a.verify());

    SECTION("compressed members take the decoding path") {
        zanj::config cfg;
        cfg.compress = zanj::compression_policy::python();
        zanj::ZANJ deflated(cfg);
        const fs::path q = deflated.save(r, fresh_dir() / "bf16_deflated");
        CHECK(bits_of(deflated.read<bf16_record>(q).big) == expected_bits(300));
        CHECK(deflated.read(q)["big"].as_array().type() == zanj::dtype::bfloat16);
    }
    SECTION("a std::vector of bfloat16 is a list of floats, and loads from a 1-d bfloat16 array") {
        CHECK(zanj_test::to_value(r.vec).dump() == "[0.0, -0.0, 1.0, -2.5, 3.140625]");
        const zanj::value item = zanj_test::to_value(probe_array({20}));
        CHECK(bits_of(zanj_test::from_value<std::vector<bfloat16>>(item)) == expected_bits(20));
    }
}

TEST_CASE("float16 arrays round-trip as numpy float16", "[half]") {
    const auto expected = f16_big_bits();
    const xt::xarray<float16> a = f16_array({3, 100}, expected);
    for (auto mode : all_modes) {
        if (mode == zanj::array_mode::list) continue; // loses the dtype, as for every float type
        CAPTURE(zanj::to_string(mode));
        zanj::config cfg;
        cfg.internal_array_mode = mode;
        cfg.external_array_threshold = 1000;
        CHECK(zanj_test::to_value(a, cfg)["dtype"] == zanj::value("float16"));
        // Items of numbers keep every bit but NaN payloads; raw bytes keep everything.
        CHECK(bits_of(zanj_test::via_archive(a, cfg)) ==
              (mode == zanj::array_mode::array_list_meta ? via_json_numbers(expected) : expected));
    }
    CHECK(bits_of(zanj_test::via_archive(a)) == expected); // a .npy member, '<f2'
    std::vector<float16> v{float16(0.5f), float16(-3.0f)};
    CHECK(bits_of(zanj_test::via_archive(v)) == bits_of(v));
}

TEST_CASE("Python reads the bits of our bfloat16 arrays", "[half][python]") {
    const bf16_record r = probe_record();
    for (auto mode : all_modes) {
        CAPTURE(zanj::to_string(mode));
        zanj::config cfg;
        cfg.internal_array_mode = mode;
        const fs::path p = zanj::ZANJ(cfg).save(r, fresh_dir() / "bf16");
        const auto result = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("bfloat16.py") +
                                           " check " + zanj_test::quote(p) + " " + std::string(zanj::to_string(mode)));
        INFO(result.output);
        CHECK(result.exit_code == 0);
    }
}

TEST_CASE("we read bfloat16 arrays a Python writer stored as uint16 bits", "[half][python]") {
    const fs::path p = fresh_dir() / "from_python.zanj";
    const auto result = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("bfloat16.py") + " write " +
                                       zanj_test::quote(p));
    INFO(result.output);
    REQUIRE(result.exit_code == 0);

    zanj::ZANJ z;
    const zanj::value tree = z.read(p);
    for (const char* key : {"list_meta", "hex", "b64", "torch", "big"}) {
        CAPTURE(key);
        REQUIRE(tree[key].is_array());
        const zanj::ndarray& a = tree[key].as_array();
        CHECK(a.type() == zanj::dtype::bfloat16);
        CHECK(bits_of(a.values<bfloat16>()) == expected_bits(a.size()));
    }
    CHECK(tree["list_meta"].as_array().shape() == zanj::shape_type{4, 5});
    CHECK(tree["scalar"].as_array().values<bfloat16>()[0].bits() == 0xC020);

    const auto typed = z.read<std::map<std::string, xt::xarray<bfloat16>>>(p);
    CHECK(bits_of(typed.at("big")) == expected_bits(300));
    CHECK(bits_of(typed.at("hex")) == expected_bits(20));
    CHECK_NOTHROW(z.open(p).verify());
}

TEST_CASE("Python reads our float16 arrays as numpy float16", "[half][python]") {
    std::map<std::string, xt::xarray<float16>> arrays{
        {"small", f16_array({4, 5}, {std::begin(f16_small), std::end(f16_small)})},
        {"scalar", f16_array({}, {0xC100})}, // -2.5
        {"big", f16_array({300}, f16_big_bits())},
    };
    for (auto mode : all_modes) {
        CAPTURE(zanj::to_string(mode));
        zanj::config cfg;
        cfg.internal_array_mode = mode;
        const fs::path p = zanj::ZANJ(cfg).save(arrays, fresh_dir() / "f16");
        const auto result =
            zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("bfloat16.py") + " check-f16 " +
                           zanj_test::quote(p) + " " + std::string(zanj::to_string(mode)));
        INFO(result.output);
        CHECK(result.exit_code == 0);
    }
}

TEST_CASE("we read the float16 arrays Python's zanj writes", "[half][python]") {
    const fs::path p = fresh_dir() / "f16_from_python.zanj";
    const auto result = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("bfloat16.py") +
                                       " write-f16 " + zanj_test::quote(p));
    INFO(result.output);
    REQUIRE(result.exit_code == 0);

    const std::vector<std::uint16_t> small(std::begin(f16_small), std::end(f16_small));
    zanj::ZANJ z;
    const zanj::value tree = z.read(p);
    for (const char* key : {"list_meta", "hex", "b64", "big", "scalar"}) {
        CAPTURE(key);
        REQUIRE(tree[key].is_array());
        CHECK(tree[key].as_array().type() == zanj::dtype::float16);
    }
    CHECK(tree["list_meta"].as_array().shape() == zanj::shape_type{4, 5});
    CHECK(bits_of(tree["list_meta"].as_array().values<float16>()) == via_json_numbers(small));
    CHECK(bits_of(tree["hex"].as_array().values<float16>()) == small);
    CHECK(bits_of(tree["b64"].as_array().values<float16>()) == small);
    CHECK(bits_of(tree["big"].as_array().values<float16>()) == f16_big_bits());
    CHECK(tree["scalar"].as_array().values<float16>()[0].bits() == 0xC100);

    const auto typed = z.read<std::map<std::string, xt::xarray<float16>>>(p);
    CHECK(bits_of(typed.at("hex")) == small);
    CHECK(bits_of(typed.at("big")) == f16_big_bits());
    CHECK_NOTHROW(z.open(p).verify());
}
