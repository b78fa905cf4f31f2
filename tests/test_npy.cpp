// The NPY codec against numpy's own files: headers, versions, byte orders, Fortran order, limits.
#include <catch2/catch.hpp>

#include "support.hpp"

#include <zanj/detail/array_codec.hpp>
#include <zanj/detail/npy.hpp>

#include <complex>
#include <map>

#include <cstring>

using namespace zanj;
namespace fs = std::filesystem;

namespace {

ndarray decode_file(const fs::path& p) {
    auto bytes = zanj_test::read_file(p);
    auto storage = detail::allocate_aligned(bytes.size());
    std::memcpy(storage.get(), bytes.data(), bytes.size());
    return detail::npy_decode(storage, bytes.size(), p.filename().string());
}

ndarray decode_string(const std::string& s) {
    auto storage = detail::allocate_aligned(s.size());
    std::memcpy(storage.get(), s.data(), s.size());
    return detail::npy_decode(storage, s.size(), "test.npy");
}

void write_npy(const fs::path& p, const ndarray& a) {
    std::string bytes = detail::npy_header(a.type(), a.shape());
    bytes.append(reinterpret_cast<const char*>(a.bytes()), a.nbytes());
    zanj_test::write_file(p, bytes);
}

} // namespace

TEST_CASE("headers are numpy's, padded so data starts at a multiple of 64", "[npy]") {
    std::vector<std::size_t> shape{3, 4};
    std::string h = detail::npy_header(dtype::float32, shape);
    CHECK(h.size() % 64 == 0);
    CHECK(h.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    CHECK(h.find("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }") != std::string::npos);
    CHECK(h.back() == '\n');
    std::vector<std::size_t> one{5};
    CHECK(detail::npy_header(dtype::int64, one).find("'shape': (5,)") != std::string::npos);
    CHECK(detail::npy_header(dtype::bool_, {}).find("'descr': '|b1', 'fortran_order': False, 'shape': ()") !=
          std::string::npos);
}

TEST_CASE("a header too long for version 1.0 becomes version 2.0", "[npy]") {
    std::vector<std::size_t> shape(30000, 1); // about 90 KB of "1, "
    std::string h = detail::npy_header(dtype::uint8, shape);
    CHECK(h[6] == '\x02');
    CHECK(h.size() % 64 == 0);
}

TEST_CASE("numpy reads what we write and we read what numpy writes, every dtype", "[npy][python]") {
    fs::path dir = zanj_test::scratch_dir("npy_numpy");
    // Element i of every test array is (i % 7), plus (i % 7 + 1) j for complex types.
    std::string script = R"PY(
import sys, numpy as np, pathlib
d = pathlib.Path(sys.argv[1])
names = ["bool","int8","int16","int32","int64","uint8","uint16","uint32","uint64","float16","float32","float64","complex64","complex128"]
for n in names:
    base = np.arange(24).reshape(2, 3, 4) % 7
    a = (base + 1j * (base + 1)).astype(n) if n.startswith("complex") else base.astype(n)
    np.save(d / f"np_{n}.npy", a)
    b = np.load(d / f"ours_{n}.npy", allow_pickle=False)
    assert b.dtype == np.dtype(n), (n, b.dtype)
    assert b.shape == (2, 3, 4), (n, b.shape)
    assert (b == a).all(), n
np.save(d / "big_endian.npy", np.arange(12, dtype=">f8").reshape(3, 4))
np.save(d / "big_endian_c.npy", (np.arange(6) + 1j).astype(">c16"))
np.save(d / "fortran.npy", np.asfortranarray(np.arange(24, dtype="<i4").reshape(2, 3, 4)))
np.lib.format.write_array(open(d / "v2.npy", "wb"), np.arange(5, dtype="<u2"), version=(2, 0))
np.lib.format.write_array(open(d / "v3.npy", "wb"), np.arange(5, dtype="<u2"), version=(3, 0))
np.save(d / "zero_d.npy", np.float64(2.5))
np.save(d / "empty.npy", np.zeros((2, 0), dtype="<f4"))
np.save(d / "object.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
np.save(d / "unicode.npy", np.array(["ab", "c"]))
)PY";
    zanj_test::write_file(dir / "check.py", script);

    const std::pair<dtype, const char*> types[] = {{dtype::bool_, "bool"},          {dtype::int8, "int8"},
                                                   {dtype::int16, "int16"},         {dtype::int32, "int32"},
                                                   {dtype::int64, "int64"},         {dtype::uint8, "uint8"},
                                                   {dtype::uint16, "uint16"},       {dtype::uint32, "uint32"},
                                                   {dtype::uint64, "uint64"},       {dtype::float16, "float16"},
                                                   {dtype::float32, "float32"},     {dtype::float64, "float64"},
                                                   {dtype::complex64, "complex64"}, {dtype::complex128, "complex128"}};
    std::map<std::string, ndarray> ours;
    for (auto [t, name] : types) {
        ndarray a(t, {2, 3, 4});
        for (std::size_t i = 0; i < a.size(); ++i) {
            double x = double(i % 7);
            std::byte* p = a.bytes() + i * dtype_size(t);
            auto put = [&](auto v) { std::memcpy(p, &v, sizeof v); };
            switch (t) {
            case dtype::bool_: put(x != 0); break;
            case dtype::int8: put(std::int8_t(x)); break;
            case dtype::int16: put(std::int16_t(x)); break;
            case dtype::int32: put(std::int32_t(x)); break;
            case dtype::int64: put(std::int64_t(x)); break;
            case dtype::uint8: put(std::uint8_t(x)); break;
            case dtype::uint16: put(std::uint16_t(x)); break;
            case dtype::uint32: put(std::uint32_t(x)); break;
            case dtype::uint64: put(std::uint64_t(x)); break;
            case dtype::float16: put(detail::float_to_half(float(x))); break;
            case dtype::float32: put(float(x)); break;
            case dtype::float64: put(x); break;
            case dtype::complex64: put(std::complex<float>(float(x), float(x + 1))); break;
            case dtype::complex128: put(std::complex<double>(x, x + 1)); break;
            case dtype::bfloat16: // no numpy dtype: tested in test_half.cpp
            case dtype::float8_e4m3fn:
            case dtype::float8_e5m2: break;
            }
        }
        write_npy(dir / ("ours_" + std::string(name) + ".npy"), a);
        ours.emplace(name, a);
    }
    auto result =
        zanj_test::run(zanj_test::python() + " " + zanj_test::quote(dir / "check.py") + " " + zanj_test::quote(dir));
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
    for (auto [t, name] : types) {
        INFO(name);
        ndarray theirs = decode_file(dir / ("np_" + std::string(name) + ".npy"));
        CHECK(theirs == ours.at(name));
    }

    SECTION("big-endian data is converted to native order") {
        ndarray be = decode_file(dir / "big_endian.npy");
        REQUIRE(be.type() == dtype::float64);
        auto v = be.values<double>();
        for (std::size_t i = 0; i < v.size(); ++i) CHECK(v[i] == double(i));
        ndarray bc = decode_file(dir / "big_endian_c.npy");
        auto c = bc.values<std::complex<double>>();
        for (std::size_t i = 0; i < c.size(); ++i) CHECK(c[i] == std::complex<double>(double(i), 1.0));
    }
    SECTION("Fortran order is converted to C order") {
        ndarray f = decode_file(dir / "fortran.npy");
        REQUIRE(f.shape() == shape_type{2, 3, 4});
        auto v = f.values<std::int32_t>();
        for (std::size_t i = 0; i < v.size(); ++i) CHECK(v[i] == std::int32_t(i));
    }
    SECTION("versions 2.0 and 3.0, 0-d and empty arrays") {
        for (const char* name : {"v2.npy", "v3.npy"}) {
            ndarray a = decode_file(dir / name);
            CHECK(a.values<std::uint16_t>()[4] == 4);
        }
        ndarray z = decode_file(dir / "zero_d.npy");
        CHECK(z.ndim() == 0);
        CHECK(z.values<double>()[0] == 2.5);
        ndarray e = decode_file(dir / "empty.npy");
        CHECK(e.shape() == shape_type{2, 0});
    }
    SECTION("object and unicode arrays are refused") {
        CHECK_THROWS_WITH(decode_file(dir / "object.npy"), Catch::Contains("object arrays are not supported"));
        CHECK_THROWS_WITH(decode_file(dir / "unicode.npy"), Catch::Contains("unsupported dtype '<U"));
    }
}

TEST_CASE("malformed NPY members are refused with the member named", "[npy]") {
    std::vector<std::size_t> shape{4};
    std::string good = detail::npy_header(dtype::int32, shape) + std::string(16, '\0');
    CHECK(decode_string(good).size() == 4);

    CHECK_THROWS_WITH(decode_string("not an npy file"), Catch::Contains("magic") && Catch::Contains("test.npy"));
    CHECK_THROWS_WITH(decode_string(good.substr(0, 20)), Catch::Contains("truncated"));
    CHECK_THROWS_WITH(decode_string(good + "xx"), Catch::Contains("needs 16 bytes of data, the member holds 18"));
    CHECK_THROWS_WITH(decode_string(good.substr(0, good.size() - 1)), Catch::Contains("needs 16 bytes"));

    std::string v9 = good;
    v9[6] = 9;
    CHECK_THROWS_WITH(decode_string(v9), Catch::Contains("unsupported NPY version 9"));

    // A header over numpy's 10,000-byte limit.
    std::string huge = std::string("\x93NUMPY\x02\x00", 8);
    std::uint32_t len = 20000;
    huge.append(reinterpret_cast<const char*>(&len), 4);
    huge += std::string(len, ' ');
    CHECK_THROWS_WITH(decode_string(huge), Catch::Contains("exceeds numpy's limit"));

    auto with_dict = [](const std::string& dict) {
        std::string h = std::string("\x93NUMPY\x01\x00", 8);
        std::string body = dict + "\n";
        h += static_cast<char>(body.size() & 0xFF);
        h += static_cast<char>(body.size() >> 8);
        return h + body;
    };
    CHECK_THROWS_WITH(decode_string(with_dict("{'descr': '<f4', 'fortran_order': False}")),
                      Catch::Contains("lacks one of"));
    CHECK_THROWS_WITH(decode_string(with_dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }")),
                      Catch::Contains("structured dtypes"));
    CHECK_THROWS_WITH(decode_string(with_dict("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }")),
                      Catch::Contains("True or False"));
    CHECK_THROWS_WITH(decode_string(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }")),
                      Catch::Contains("non-negative"));
    // A shape whose byte size overflows.
    CHECK_THROWS_AS(decode_string(with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': "
                                            "(4294967296, 4294967296, 4294967296), }")),
                    format_error);
    CHECK_THROWS_WITH(
        decode_string(with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }")),
        Catch::Contains("overflows"));
}

TEST_CASE("aligned data is shared, not copied", "[npy]") {
    std::vector<std::size_t> shape{8};
    std::string header = detail::npy_header(dtype::float64, shape);
    std::string bytes = header + std::string(64, '\0');
    auto storage = detail::allocate_aligned(bytes.size());
    std::memcpy(storage.get(), bytes.data(), bytes.size());
    ndarray a = detail::npy_decode(storage, bytes.size(), "x.npy");
    const std::byte* data = a.bytes();
    const std::byte* expected = storage.get() + header.size();
    CHECK(data == expected);
}
