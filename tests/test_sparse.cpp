// zanj::csr_matrix and zanj::coo_matrix: construction checks, the scipy.sparse layout, round
// trips with inline and external components, load errors naming the component and its member,
// untyped reads, and scipy both ways.

#include <catch2/catch.hpp>

#include "round_trip.hpp"
#include "types_interop.hpp"

#include <zanj/dataclass.hpp>
#include <zanj/facade.hpp>
#include <zanj/sparse.hpp>
#include <zanj/types/std.hpp>
#include <zanj/types/value.hpp>

#include <complex>
#include <cstdint>
#include <map>
#include <numeric>
#include <string>
#include <vector>

using zanj::coo_matrix;
using zanj::csr_matrix;
using zanj_test::from_value;
using zanj_test::to_value;

namespace {

// [[1.5, 0, 0], [0, 0, 2.5]]
csr_matrix small_csr() { return csr_matrix::from<double, std::int32_t>(2, 3, {1.5, 2.5}, {0, 2}, {0, 1, 2}); }
coo_matrix small_coo() { return coo_matrix::from<float, std::int64_t>(3, 4, {7, 8, 9}, {0, 2, 2}, {3, 0, 1}); }

// An n x n diagonal matrix: n stored values, so its components are .npy members from n = 256.
csr_matrix diagonal(std::size_t n) {
    std::vector<double> data(n, 2.0);
    std::vector<std::int32_t> indices(n), indptr(n + 1);
    std::iota(indices.begin(), indices.end(), 0);
    std::iota(indptr.begin(), indptr.end(), 0);
    return csr_matrix::from(n, n, data, indices, indptr);
}

template <class T>
zanj::ndarray array_of(std::vector<T> values) {
    return zanj::ndarray::from(std::span<const T>(values));
}

} // namespace

namespace sparse_test {
struct Both {
    csr_matrix csr;
    coo_matrix coo;
    csr_matrix big;
};
ZANJ_DATACLASS(Both, csr, coo, big);
} // namespace sparse_test

TEST_CASE("a CSR matrix checks its components", "[types][sparse]") {
    const csr_matrix m = small_csr();
    CHECK(m.rows() == 2);
    CHECK(m.cols() == 3);
    CHECK(m.nnz() == 2);
    CHECK(m.type() == zanj::dtype::float64);
    CHECK(m.indices().type() == zanj::dtype::int32);
    CHECK(csr_matrix{}.rows() == 0);
    CHECK(csr_matrix{}.indptr().size() == 1);

    using I = std::int32_t;
    auto make = [](std::size_t rows, std::vector<I> indices, std::vector<I> indptr, std::size_t nnz = 2) {
        return csr_matrix(rows, 3, zanj::ndarray(zanj::dtype::float64, {nnz}), array_of(indices), array_of(indptr));
    };
    CHECK_THROWS_AS(make(2, {0, 2}, {0, 1}), zanj::usage_error);
    CHECK_THROWS_WITH(make(2, {0, 2}, {0, 1}), Catch::Contains("indptr has 2 entries, a matrix of 2 rows needs 3"));
    CHECK_THROWS_WITH(make(2, {0, 2}, {1, 1, 2}), Catch::Contains("indptr starts at 1, not 0"));
    CHECK_THROWS_WITH(make(3, {0, 2}, {0, 2, 1, 2}), Catch::Contains("indptr decreases at row 1: 2 then 1"));
    CHECK_THROWS_WITH(make(2, {0, 2}, {0, 1, 1}),
                      Catch::Contains("indptr ends at 1, but the matrix stores 2 values (nnz)"));
    CHECK_THROWS_WITH(make(2, {0, 3}, {0, 1, 2}), Catch::Contains("indices[1] = 3 is out of range for 3 columns"));
    CHECK_THROWS_WITH(make(2, {-1, 0}, {0, 1, 2}), Catch::Contains("indices[0] = -1 is out of range for 3 columns"));
    CHECK_THROWS_WITH(make(2, {0}, {0, 1, 2}), Catch::Contains("indices has 1 entries and data 2"));
    CHECK_THROWS_WITH(csr_matrix(1, 3, array_of<double>({1.0}), array_of<float>({0.0f}), array_of<I>({0, 1})),
                      Catch::Contains("indices must hold integers, not float32"));
    CHECK_THROWS_WITH(
        csr_matrix(1, 3, zanj::ndarray(zanj::dtype::float64, {1, 1}), array_of<I>({0}), array_of<I>({0, 1})),
        Catch::Contains("data must be a 1-d array, not one of shape (1, 1)"));
}

TEST_CASE("a COO matrix checks its components", "[types][sparse]") {
    const coo_matrix m = small_coo();
    CHECK(m.nnz() == 3);
    CHECK(m.row().type() == zanj::dtype::int64);
    using I = std::int64_t;
    CHECK_THROWS_WITH((coo_matrix::from<float, I>(3, 4, {1, 2}, {0, 1}, {0})),
                      Catch::Contains("col has 1 entries and data 2"));
    CHECK_THROWS_WITH((coo_matrix::from<float, I>(3, 4, {1}, {3}, {0})),
                      Catch::Contains("row[0] = 3 is out of range for 3 rows"));
    CHECK_THROWS_WITH((coo_matrix::from<float, std::uint8_t>(3, 4, {1}, {0}, {200})),
                      Catch::Contains("col[0] = 200 is out of range for 4 columns"));
}

TEST_CASE("sparse matrices are items of their component arrays", "[types][sparse]") {
    const zanj::value v = to_value(small_csr());
    CHECK(v.format() == "scipy.sparse.csr_matrix");
    CHECK(v["shape"].dump() == "[2, 3]");
    CHECK(v["nnz"].as_int() == 2);
    CHECK(v["data"].format() == "numpy.ndarray:array_list_meta");
    CHECK(v["data"]["data"].dump() == "[1.5, 2.5]");
    CHECK(v["indices"]["dtype"].as_string() == "int32");
    CHECK(v["indptr"]["data"].dump() == "[0, 1, 2]");
    const zanj::value c = to_value(small_coo());
    CHECK(c.format() == "scipy.sparse.coo_matrix");
    CHECK(c["row"]["data"].dump() == "[0, 2, 2]");
    CHECK(c["col"]["dtype"].as_string() == "int64");
}

TEST_CASE("sparse matrices round-trip", "[types][sparse]") {
    CHECK_ROUND_TRIPS(small_csr());
    CHECK_ROUND_TRIPS(small_coo());
    CHECK_ROUND_TRIPS(csr_matrix{});
    CHECK_ROUND_TRIPS(coo_matrix{});
    CHECK_ROUND_TRIPS(csr_matrix::from<bool, std::int64_t>(5, 0, {}, {}, {0, 0, 0, 0, 0, 0}));
    CHECK_ROUND_TRIPS(coo_matrix::from<std::complex<double>, std::int32_t>(2, 2, {{1, -1}}, {1}, {0}));
    CHECK_ROUND_TRIPS(diagonal(300));
}

TEST_CASE("large components are .npy members", "[types][sparse][externals]") {
    zanj::ZANJ z;
    const std::map<std::string, csr_matrix> obj{{"m", diagonal(300)}};
    const auto path = z.save(obj, zanj_test::fresh_dir("sparse") / "m");
    const zanj::value info = z.read_meta(path)["externals_info"];
    CHECK(info.contains("m/data.npy"));
    CHECK(info.contains("m/indices.npy"));
    CHECK(info.contains("m/indptr.npy"));
    CHECK(z.read<std::map<std::string, csr_matrix>>(path) == obj);
}

TEST_CASE("loading a sparse matrix checks its structure", "[types][sparse][errors]") {
    zanj::value v = to_value(std::map<std::string, csr_matrix>{{"m", small_csr()}});
    using map = std::map<std::string, csr_matrix>;
    SECTION("an invalid structure is a format_error at the component") {
        // Row 1 spans indptr[1] = 2 to indptr[2] = 1: it is the row at fault.
        v["m"]["indptr"] = to_value(array_of<std::int32_t>({0, 2, 1}));
        CHECK_THROWS_AS(from_value<map>(v), zanj::format_error);
        CHECK_THROWS_WITH(from_value<map>(v),
                          Catch::Contains("indptr decreases at row 1: 2 then 1") && Catch::Contains("(at /m/indptr)"));
    }
    SECTION("nnz must agree with data") {
        v["m"]["nnz"] = 5;
        CHECK_THROWS_AS(from_value<map>(v), zanj::format_error);
        CHECK_THROWS_WITH(from_value<map>(v),
                          Catch::Contains("nnz is 5, but data holds 2 values") && Catch::Contains("(at /m/nnz)"));
    }
    SECTION("shape, components and format key") {
        v["m"]["shape"] = zanj::value::list_type{zanj::value(2)};
        CHECK_THROWS_AS(from_value<map>(v), zanj::type_error);
        CHECK_THROWS_WITH(from_value<map>(v), Catch::Contains("expected the shape as [rows, cols], found [2]") &&
                                                  Catch::Contains("(at /m/shape)"));
        v["m"]["shape"] = zanj::value::list_type{zanj::value(2), zanj::value(3)};
        v["m"].as_dict().erase("indices");
        CHECK_THROWS_WITH(from_value<map>(v), Catch::Contains("missing field 'indices'") && Catch::Contains("(at /m)"));
        CHECK_THROWS_WITH(
            from_value<coo_matrix>(to_value(small_csr())),
            Catch::Contains("expected a scipy.sparse.coo_matrix item, found a 'scipy.sparse.csr_matrix' item"));
    }
    SECTION("scipy's sparse array classes load too") {
        v["m"][zanj::format_key] = "scipy.sparse.csr_array";
        CHECK(from_value<map>(v).at("m") == small_csr());
    }
    SECTION("an external component that is wrong names its member") {
        // Saved as a plain tree, whose 300-element arrays become .npy members.
        zanj::value tree = to_value(std::map<std::string, csr_matrix>{{"m", diagonal(300)}});
        std::vector<std::int32_t> indices(300, 0);
        indices[299] = 400;
        tree["m"]["indices"] = array_of(indices);
        tree["m"]["data"] = zanj::ndarray(zanj::dtype::float64, {300});
        tree["m"]["indptr"] = diagonal(300).indptr();
        zanj::ZANJ z;
        const auto path = z.save(tree, zanj_test::fresh_dir("sparse") / "bad");
        CHECK_THROWS_AS(z.read<map>(path), zanj::format_error);
        CHECK_THROWS_WITH(z.read<map>(path), Catch::Contains("indices[299] = 400 is out of range for 300 columns") &&
                                                 Catch::Contains("(at /m/indices, member m/indices.npy)"));
    }
}

TEST_CASE("untyped reads attach the sparse matrix", "[types][sparse][untyped]") {
    zanj::ZANJ z;
    const auto path = z.save(sparse_test::Both{diagonal(300), small_coo(), {}}, zanj_test::fresh_dir("sparse") / "u");
    const zanj::value tree = z.read(path);
    REQUIRE(tree["csr"].instance<csr_matrix>() != nullptr);
    CHECK(*tree["csr"].instance<csr_matrix>() == diagonal(300));
    CHECK(tree["csr"]["indices"].is_array()); // the components stay, as arrays
    REQUIRE(tree["coo"].instance<coo_matrix>() != nullptr);
    CHECK(*tree["coo"].instance<coo_matrix>() == small_coo());
}

TEST_CASE("sparse matrices move both ways with scipy", "[types][sparse][python]") {
    ZANJ_TEST_NEEDS_PYTHON_MODULE("scipy.sparse");
    zanj::ZANJ z;
    SECTION("scipy's matrices load") {
        const zanj::archive a = z.open(zanj_test::python_types_archive());
        const csr_matrix csr = a.read<csr_matrix>("/csr");
        CHECK(csr.rows() == 3);
        CHECK(csr.cols() == 4);
        CHECK(csr.data().values<float>()[3] == 4.25f);
        CHECK(csr.indices().type() == zanj::dtype::int32);
        const coo_matrix coo = a.read<coo_matrix>("/coo");
        CHECK(coo.data().values<std::int64_t>()[2] == 9);
        CHECK(coo.nnz() == 3);
        const csr_matrix big = a.read<csr_matrix>("/big_csr");
        CHECK(big.nnz() == 300);
        CHECK(big.data().values<double>()[299] == 2.0);
    }
    SECTION("ours load in scipy") {
        const sparse_test::Both obj{small_csr(), small_coo(), diagonal(300)};
        const nlohmann::json seen = zanj_test::python_view(z.save(obj, zanj_test::fresh_dir("sparse_python") / "s"));
        const auto& csr = seen["csr"]["__sparse__"];
        CHECK(csr["format"] == "csr");
        CHECK(csr["shape"] == nlohmann::json::array({2, 3}));
        CHECK(csr["dense"] == nlohmann::json::parse("[[1.5, 0.0, 0.0], [0.0, 0.0, 2.5]]"));
        CHECK(csr["index_dtype"] == "int32");
        const auto& coo = seen["coo"]["__sparse__"];
        CHECK(coo["dtype"] == "float32");
        CHECK(coo["dense"][2] == nlohmann::json::parse("[8.0, 9.0, 0.0, 0.0]"));
        CHECK(coo["dense"][0][3] == 7.0);
        CHECK(seen["big"]["__sparse__"]["nnz"] == 300);
    }
}
