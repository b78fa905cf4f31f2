// Bad input of every kind: each gives the right exception of zanj's hierarchy, with a message
// that names what is wrong and where (object path, zip member). Malformed archives are built
// with Python's zipfile + numpy, or by saving a good archive and rewriting it.

#include <zanj/zanj.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cctype>
#include <complex>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace fs = std::filesystem;

namespace errors_test {

struct Layer {
    std::string name;
    xt::xarray<float> w;
    std::vector<int> shape;
};
ZANJ_DATACLASS(Layer, name, w, shape);

struct Run {
    std::string title;
    std::vector<Layer> layers;
};
ZANJ_DATACLASS(Run, title, layers);

struct Other {
    int a = 0;
};
ZANJ_DATACLASS(Other, a);

struct NpyVariants {
    xt::xtensor<std::int32_t, 2> be;
    xt::xarray<double> fo;
    xt::xarray<std::complex<double>> both;
    xt::xarray<float> be_f;
};
ZANJ_DATACLASS(NpyVariants, be, fo, both, be_f);

struct Small {
    std::uint8_t level = 0;
    std::int64_t big = 0;
};
ZANJ_DATACLASS(Small, level, big);

} // namespace errors_test

namespace {

using DoubleArrays = std::map<std::string, xt::xarray<double>>;
using IntLists = std::map<std::string, std::vector<int>>;

fs::path fresh_dir() { return zanj_test::fresh_dir("errors"); }

// Helpers of the archive-building scripts: `write(out, tree, externals, members)` writes a zanj
// archive as Python lays it out; `npy(arr)` is numpy's bytes of an array; `stub` and `npy_info`
// give an external array's stub and externals_info entry.
const char* const python_prelude = R"py(
import io, json, struct, sys, zipfile
import numpy as np

out = sys.argv[1]

def npy(arr):
    b = io.BytesIO()
    np.save(b, arr, allow_pickle=False)
    return b.getvalue()

def npy_raw(header, data=b"", version=1):
    """an NPY member with a header of our own making (padded to 64 bytes, ending in a newline)"""
    prefix = 10 if version == 1 else 12
    h = header.encode("latin1")
    h += b" " * ((64 - (prefix + len(h) + 1) % 64) % 64) + b"\n"
    size = struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([version, 0]) + size + h + data

def stub(member, arr):
    return {"__muutils_format__": "numpy.ndarray:external", "$ref": member,
            "shape": list(arr.shape), "dtype": arr.dtype.name, "n_elements": int(arr.size)}

def npy_info(path, arr):
    return {"item_type": "npy", "path": path, "type(data)": "<class 'numpy.ndarray'>",
            "len(data)": len(arr) if arr.ndim else 0, "shape": list(arr.shape),
            "dtype": arr.dtype.name, "n_elements": int(arr.size)}

def meta(externals):
    return {"zanj_cfg": {"error_mode": "except", "array_mode": "array_list_meta",
                         "external_array_threshold": 256, "external_list_threshold": 256, "compress": 8},
            "sysinfo": {}, "externals_info": externals, "timestamp": 0.0}

def write(path, tree, externals, members, meta_text=None, tree_text=None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("__zanj_meta__.json", meta_text if meta_text is not None else json.dumps(meta(externals), indent="\t"))
        z.writestr("__zanj__.json", tree_text if tree_text is not None else json.dumps(tree, indent="\t"))
        for name, data in members.items():
            z.writestr(name, data)
)py";

/// Runs the prelude plus `body` with the output path as argv[1]; returns that path.
fs::path python_archive(const std::string& body, const std::string& file_name = "x.zanj") {
    fs::path dir = fresh_dir();
    fs::path script = dir / "make.py";
    fs::path out = dir / file_name;
    zanj_test::write_file(script, std::string(python_prelude) + body);
    auto result = zanj_test::run(zanj_test::python() + " " + zanj_test::quote(script) + " " + zanj_test::quote(out));
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
    REQUIRE(fs::exists(out));
    return out;
}

/// An archive with one external array at ["w"] whose .npy member is `member_expr` (Python).
fs::path archive_with_npy(const std::string& member_expr, const std::string& stub_array = "np.zeros(3)") {
    return python_archive("a = " + stub_array + "\nm = " + member_expr +
                          "\nwrite(out, {'w': stub('w.npy', a)}, {'w.npy': npy_info(['w'], a)}, {'w.npy': m})\n");
}

/// Saves `tree` with zanj (in a fresh folder) and returns the archive.
template <class T>
fs::path saved(const T& obj, const zanj::config& cfg = zanj::config{}) {
    zanj::ZANJ z(cfg);
    return z.save(obj, fresh_dir() / "x");
}

template <class T>
T read_as(const fs::path& p) {
    zanj::ZANJ z;
    return z.read<T>(p);
}

zanj::value read_untyped(const fs::path& p, const zanj::config& cfg = zanj::config{}) {
    zanj::ZANJ z(cfg);
    return z.read(p);
}

/// A layer dict as Python would write it, for hand-made trees.
zanj::value layer_dict(zanj::value name) {
    zanj::value layer = zanj::value::dict();
    layer[zanj::format_key] = "Layer(SerializableDataclass)";
    layer["name"] = std::move(name);
    std::vector<float> w{1.5f, 2.5f};
    layer["w"] = zanj::ndarray::from(std::span<const float>(w)); // saved as a float32 array item
    layer["shape"] = zanj::value::list_type{zanj::value(2)};
    return layer;
}

zanj::value run_dict(zanj::value layer) {
    zanj::value run = zanj::value::dict();
    run[zanj::format_key] = "Run(SerializableDataclass)";
    run["title"] = "t";
    run["layers"] = zanj::value::list_type{std::move(layer)};
    return run;
}

} // namespace

// ---- the container ----------------------------------------------------------------------------

TEST_CASE("a missing file is an io_error naming it", "[errors]") {
    fs::path missing = fresh_dir() / "does-not-exist.zanj";
    zanj::ZANJ z;
    REQUIRE_THROWS_AS(z.read(missing), zanj::io_error);
    REQUIRE_THROWS_WITH(z.read(missing), Catch::Contains("does-not-exist.zanj"));
    REQUIRE_THROWS_AS(z.read<int>(missing), zanj::io_error);
    REQUIRE_THROWS_AS(z.read_meta(missing), zanj::io_error);
    // A folder is no archive either.
    REQUIRE_THROWS_AS(z.read(missing.parent_path()), zanj::error);
}

TEST_CASE("a file that is not a zip is a format_error", "[errors]") {
    fs::path dir = fresh_dir();
    zanj::ZANJ z;
    SECTION("text") {
        zanj_test::write_file(dir / "text.zanj", "this is not a zip archive, just some text\n");
        REQUIRE_THROWS_AS(z.read(dir / "text.zanj"), zanj::format_error);
        REQUIRE_THROWS_WITH(z.read(dir / "text.zanj"),
                            Catch::Contains("not a zip archive") && Catch::Contains("text.zanj"));
    }
    SECTION("empty") {
        zanj_test::write_file(dir / "empty.zanj", "");
        REQUIRE_THROWS_AS(z.read(dir / "empty.zanj"), zanj::format_error);
        REQUIRE_THROWS_WITH(z.read(dir / "empty.zanj"), Catch::Contains("empty"));
        REQUIRE_THROWS_AS(z.read<std::vector<int>>(dir / "empty.zanj"), zanj::format_error);
    }
    SECTION("a truncated archive") {
        fs::path good = z.save(std::vector<int>{1, 2, 3}, dir / "good");
        auto bytes = zanj_test::read_file(good);
        zanj_test::write_file(dir / "cut.zanj",
                              std::string(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() / 2)));
        REQUIRE_THROWS_AS(z.read(dir / "cut.zanj"), zanj::format_error);
    }
}

TEST_CASE("a zip without __zanj__.json is not a zanj archive", "[errors]") {
    fs::path p = python_archive(R"py(
with zipfile.ZipFile(out, "w") as z:
    z.writestr("readme.txt", "hello")
    z.writestr("__zanj_meta__.json", "{}")
)py");
    REQUIRE_THROWS_AS(read_untyped(p), zanj::format_error);
    REQUIRE_THROWS_WITH(read_untyped(p), Catch::Contains("not a zanj archive") && Catch::Contains("__zanj__.json"));
    REQUIRE_THROWS_AS(read_as<int>(p), zanj::format_error);

    fs::path q = python_archive(R"py(
with zipfile.ZipFile(out, "w") as z:
    z.writestr("__zanj__.json", "1")
)py");
    REQUIRE_THROWS_AS(read_untyped(q), zanj::format_error);
    REQUIRE_THROWS_WITH(read_untyped(q),
                        Catch::Contains("not a zanj archive") && Catch::Contains("__zanj_meta__.json"));
}

TEST_CASE("invalid JSON in the archive's JSON members", "[errors]") {
    SECTION("__zanj__.json") {
        fs::path p = python_archive("write(out, None, {}, {}, tree_text='{\"a\": [1, 2')\n");
        REQUIRE_THROWS_AS(read_untyped(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_untyped(p), Catch::Contains("invalid JSON") && Catch::Contains("__zanj__.json"));
        REQUIRE_THROWS_AS(read_as<IntLists>(p), zanj::format_error);
    }
    SECTION("__zanj_meta__.json") {
        fs::path p = python_archive("write(out, [1], {}, {}, meta_text='{\"externals_info\": ')\n");
        REQUIRE_THROWS_AS(read_untyped(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_untyped(p), Catch::Contains("invalid JSON") && Catch::Contains("__zanj_meta__.json"));
    }
    SECTION("a metadata file that is not an object") {
        fs::path p = python_archive("write(out, [1], {}, {}, meta_text='[1, 2]')\n");
        REQUIRE_THROWS_AS(read_untyped(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_untyped(p), Catch::Contains("__zanj_meta__.json"));
    }
    SECTION("a bad line in a .jsonl member") {
        fs::path p = python_archive(R"py(
tree = {"l": {"__muutils_format__": "list:external", "$ref": "l.jsonl"}}
ext = {"l.jsonl": {"item_type": "jsonl", "path": ["l"], "type(data)": "<class 'list'>", "len(data)": 3}}
write(out, tree, ext, {"l.jsonl": "1\n[2,\n3\n"})
)py");
        REQUIRE_THROWS_AS(read_untyped(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_untyped(p), Catch::Contains("l.jsonl line 2"));
    }
}

// ---- externals ------------------------------------------------------------------------------------

TEST_CASE("externals_info and the tree must agree", "[errors]") {
    SECTION("externals_info names a member the archive lacks") {
        fs::path p = python_archive(R"py(
a = np.arange(300.0)
write(out, {"w": stub("w.npy", a)}, {"w.npy": npy_info(["w"], a)}, {})
)py");
        REQUIRE_THROWS_AS(read_untyped(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_untyped(p),
                            Catch::Contains("externals_info lists member 'w.npy'") && Catch::Contains("does not hold"));
        REQUIRE_THROWS_AS(read_as<DoubleArrays>(p), zanj::format_error);
    }
    SECTION("the stub's $ref disagrees with externals_info") {
        fs::path p = python_archive(R"py(
a = np.arange(300.0)
write(out, {"w": stub("other.npy", a)}, {"w.npy": npy_info(["w"], a)}, {"w.npy": npy(a)})
)py");
        REQUIRE_THROWS_AS(read_untyped(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_untyped(p), Catch::Contains("not the stub of member 'w.npy'") &&
                                                 Catch::Contains("other.npy") && Catch::Contains("/w"));
    }
    SECTION("the item at the path is no stub at all") {
        fs::path p = python_archive(R"py(
a = np.arange(300.0)
write(out, {"w": [1, 2, 3]}, {"w.npy": npy_info(["w"], a)}, {"w.npy": npy(a)})
)py");
        REQUIRE_THROWS_AS(read_untyped(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_untyped(p), Catch::Contains("not the stub of member 'w.npy'"));
    }
    SECTION("externals_info gives a path that does not exist in the tree") {
        fs::path p = python_archive(R"py(
a = np.arange(300.0)
write(out, {"w": stub("w.npy", a)}, {"w.npy": npy_info(["layers", 0, "w"], a)}, {"w.npy": npy(a)})
)py");
        REQUIRE_THROWS_AS(read_untyped(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_untyped(p),
                            Catch::Contains("/layers/0/w") && Catch::Contains("does not exist in __zanj__.json"));
        try {
            read_untyped(p);
        } catch (const zanj::format_error& e) {
            CHECK(e.member() == "w.npy");
            CHECK(e.object_path() == "/layers");
        }
    }
    SECTION("an index past the end of a list") {
        fs::path p = python_archive(R"py(
a = np.arange(300.0)
write(out, {"l": [stub("l/5.npy", a)]}, {"l/5.npy": npy_info(["l", 5], a)}, {"l/5.npy": npy(a)})
)py");
        REQUIRE_THROWS_AS(read_untyped(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_untyped(p), Catch::Contains("/l/5"));
    }
    SECTION("an externals_info entry without item_type or path") {
        fs::path p = python_archive(R"py(
a = np.arange(300.0)
write(out, {"w": stub("w.npy", a)}, {"w.npy": {"path": ["w"]}}, {"w.npy": npy(a)})
)py");
        REQUIRE_THROWS_AS(read_untyped(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_untyped(p), Catch::Contains("w.npy") && Catch::Contains("item_type"));
    }
    SECTION("an unknown item_type") {
        fs::path p = python_archive(R"py(
a = np.arange(300.0)
write(out, {"w": stub("w.npy", a)}, {"w.npy": {"item_type": "pickle", "path": ["w"]}}, {"w.npy": npy(a)})
)py");
        REQUIRE_THROWS_AS(read_untyped(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_untyped(p), Catch::Contains("unknown item_type 'pickle'"));
    }
    SECTION("the stub's metadata disagrees with the member") {
        fs::path p = python_archive(R"py(
a = np.arange(300.0)
s = stub("w.npy", a)
s["shape"] = [10, 30]
write(out, {"w": s}, {"w.npy": npy_info(["w"], a)}, {"w.npy": npy(a)})
)py");
        REQUIRE_THROWS_AS(read_untyped(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_untyped(p), Catch::Contains("(10, 30)") && Catch::Contains("(300,)"));
        REQUIRE_THROWS_AS(read_as<DoubleArrays>(p), zanj::format_error);
    }
}

TEST_CASE("a member missing from externals_info is never loaded", "[errors]") {
    SECTION("an array") {
        fs::path p = python_archive(R"py(
a = np.arange(300.0)
write(out, {"w": stub("w.npy", a)}, {}, {"w.npy": npy(a)})
)py");
        // The tree reads (the stub is there), but the array behind it was not loaded.
        REQUIRE_THROWS_AS(read_as<DoubleArrays>(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_as<DoubleArrays>(p), Catch::Contains("'w.npy' was not loaded") &&
                                                          Catch::Contains("externals_info") && Catch::Contains("/w"));
        REQUIRE_THROWS_WITH(read_untyped(p), Catch::Contains("was not loaded"));
        // Under error_mode ignore the untyped read keeps the stub as a dict.
        zanj::config ignore;
        ignore.error_mode = zanj::error_mode::ignore;
        const zanj::value tree = read_untyped(p, ignore);
        CHECK(tree["w"].format() == "numpy.ndarray:external");
    }
    SECTION("a list") {
        fs::path p = python_archive(R"py(
tree = {"l": {"__muutils_format__": "list:external", "$ref": "l.jsonl"}}
write(out, tree, {}, {"l.jsonl": "1\n2\n"})
)py");
        REQUIRE_THROWS_AS(read_as<IntLists>(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_as<IntLists>(p), Catch::Contains("external list was not loaded") &&
                                                      Catch::Contains("/l") && Catch::Contains("l.jsonl"));
    }
}

// ---- NPY members ---------------------------------------------------------------------------------

TEST_CASE("malformed NPY members are format_errors naming the member", "[errors][npy]") {
    auto check_npy_error = [](const fs::path& p, const std::string& text) {
        REQUIRE_THROWS_AS(read_untyped(p), zanj::format_error);
        REQUIRE_THROWS_WITH(read_untyped(p),
                            Catch::Contains("invalid NPY data") && Catch::Contains(text) && Catch::Contains("w.npy"));
        try {
            read_as<DoubleArrays>(p);
            FAIL("no exception");
        } catch (const zanj::format_error& e) {
            CHECK(e.member() == "w.npy");
        }
    };
    SECTION("no magic") { check_npy_error(archive_with_npy("b'not an npy file at all, just bytes'"), "magic"); }
    SECTION("a corrupt header") {
        check_npy_error(
            archive_with_npy(R"(npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), ", b"\0" * 24))"),
            "header");
        check_npy_error(archive_with_npy(R"(npy_raw("['descr', '<f8']", b"\0" * 24))"), "expected '{'");
        check_npy_error(archive_with_npy(R"(npy_raw("{'descr': '<f8', 'shape': (3,), }", b"\0" * 24))"),
                        "lacks one of");
        check_npy_error(archive_with_npy(R"(npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (3, -1), }"))"),
                        "non-negative");
        check_npy_error(archive_with_npy(R"(npy_raw("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (3,), }"))"),
                        "True or False");
        check_npy_error(archive_with_npy(R"(npy_raw("{'descr': '<U5', 'fortran_order': False, 'shape': (3,), }"))"),
                        "unsupported dtype '<U5'");
        check_npy_error(
            archive_with_npy(R"(npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", version=7))"),
            "unsupported NPY version 7");
        check_npy_error(archive_with_npy(R"(npy(np.zeros(3))[:20])"), "truncated");
    }
    SECTION("an object dtype") {
        check_npy_error(
            archive_with_npy(R"(npy_raw("{'descr': '|O', 'fortran_order': False, 'shape': (3,), }", b"\0" * 24))"),
            "object arrays are not supported");
    }
    SECTION("a structured dtype") {
        check_npy_error(
            archive_with_npy(
                R"(npy_raw("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,), }", b"\0" * 24))"),
            "structured dtypes are not supported");
    }
    SECTION("a header longer than numpy's limit") {
        check_npy_error(
            archive_with_npy(
                R"(npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }" + " " * 20000, b"\0" * 24, version=2))"),
            "exceeds numpy's limit of 10000");
    }
    SECTION("data size disagreeing with the shape") {
        check_npy_error(
            archive_with_npy(R"(npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (10,), }", b"\0" * 40))"),
            "needs 80 bytes of data, the member holds 40");
        check_npy_error(archive_with_npy(R"(npy(np.zeros(3)) + b"\0" * 8)"),
                        "needs 24 bytes of data, the member holds 32");
    }
}

TEST_CASE("big-endian and Fortran-order NPY members load, converted", "[errors][npy]") {
    fs::path p = python_archive(R"py(
be = np.arange(12, dtype=">i4").reshape(3, 4)
fo = np.asfortranarray(np.arange(12.0).reshape(3, 4) - 5.5)
both = np.asfortranarray((np.arange(24.0) * (1 - 2j)).reshape(2, 3, 4)).astype(">c16")
be_f = np.array([1.5, -2.25, 3e10], dtype=">f4")
assert both.flags.f_contiguous and both.dtype.byteorder == ">"
tree = {"be": stub("be.npy", be), "fo": stub("fo.npy", fo), "both": stub("both.npy", both), "be_f": stub("be_f.npy", be_f)}
ext = {"be.npy": npy_info(["be"], be), "fo.npy": npy_info(["fo"], fo), "both.npy": npy_info(["both"], both),
       "be_f.npy": npy_info(["be_f"], be_f)}
members = {"be.npy": npy(be), "fo.npy": npy(fo), "both.npy": npy(both), "be_f.npy": npy(be_f)}
assert b"fortran_order': True" in members["fo.npy"] and b"'>i4'" in members["be.npy"]
write(out, tree, ext, members)
)py");
    zanj::ZANJ z;
    const zanj::value tree = z.read(p);

    const zanj::ndarray& be = tree["be"].as_array();
    CHECK(be.type() == zanj::dtype::int32);
    CHECK(be.shape() == zanj::shape_type{3, 4});
    for (std::size_t i = 0; i < 12; ++i) CHECK(be.values<std::int32_t>()[i] == static_cast<std::int32_t>(i));

    const zanj::ndarray& fo = tree["fo"].as_array();
    CHECK(fo.type() == zanj::dtype::float64);
    CHECK(fo.shape() == zanj::shape_type{3, 4});
    for (std::size_t i = 0; i < 12; ++i) CHECK(fo.values<double>()[i] == static_cast<double>(i) - 5.5);

    const zanj::ndarray& both = tree["both"].as_array();
    CHECK(both.type() == zanj::dtype::complex128);
    CHECK(both.shape() == zanj::shape_type{2, 3, 4});
    for (std::size_t i = 0; i < 24; ++i)
        CHECK(both.values<std::complex<double>>()[i] == static_cast<double>(i) * std::complex<double>(1, -2));

    const zanj::ndarray& be_f = tree["be_f"].as_array();
    CHECK(be_f.type() == zanj::dtype::float32);
    CHECK(be_f.values<float>()[1] == -2.25f);

    // Typed, into xtensor containers.
    auto typed = z.read<errors_test::NpyVariants>(p);
    CHECK(typed.be.shape()[0] == 3);
    CHECK(typed.be(2, 3) == 11);
    CHECK(typed.be(1, 0) == 4);
    CHECK(typed.fo(1, 2) == 6.0 - 5.5);
    CHECK(typed.fo(2, 0) == 8.0 - 5.5);
    CHECK(typed.both(1, 2, 3) == 23.0 * std::complex<double>(1, -2));
    CHECK(typed.be_f(2) == 3e10f);
}

// ---- typed reads -----------------------------------------------------------------------------------

TEST_CASE("a field of the wrong JSON type names its path", "[errors][typed]") {
    fs::path p = saved(run_dict(layer_dict(zanj::value(5))));
    REQUIRE_THROWS_AS(read_as<errors_test::Run>(p), zanj::type_error);
    REQUIRE_THROWS_WITH(read_as<errors_test::Run>(p),
                        Catch::Contains("expected a string, found int 5") && Catch::Contains("at /layers/0/name"));
    try {
        read_as<errors_test::Run>(p);
    } catch (const zanj::type_error& e) {
        CHECK(e.object_path() == "/layers/0/name");
        CHECK(e.reason() == "expected a string, found int 5");
    }

    zanj::value bad_list = run_dict(layer_dict(zanj::value("ok")));
    bad_list["layers"][0]["shape"] = zanj::value::list_type{zanj::value(1), zanj::value("two")};
    REQUIRE_THROWS_WITH(read_as<errors_test::Run>(saved(bad_list)),
                        Catch::Contains("expected an integer, found str \"two\"") &&
                            Catch::Contains("/layers/0/shape/1"));

    zanj::value not_a_list = run_dict(layer_dict(zanj::value("ok")));
    not_a_list["layers"] = zanj::value::dict();
    REQUIRE_THROWS_AS(read_as<errors_test::Run>(saved(not_a_list)), zanj::type_error);
    REQUIRE_THROWS_WITH(read_as<errors_test::Run>(saved(not_a_list)),
                        Catch::Contains("expected a list, found dict") && Catch::Contains("/layers"));

    zanj::value bad_array = run_dict(layer_dict(zanj::value("ok")));
    bad_array["layers"][0]["w"] = "not an array";
    REQUIRE_THROWS_AS(read_as<errors_test::Run>(saved(bad_array)), zanj::type_error);
    REQUIRE_THROWS_WITH(read_as<errors_test::Run>(saved(bad_array)),
                        Catch::Contains("expected an array") && Catch::Contains("/layers/0/w"));

    REQUIRE_THROWS_WITH(read_as<errors_test::Run>(saved(std::vector<int>{1})),
                        Catch::Contains("expected a dict for Run(SerializableDataclass), found list"));
}

TEST_CASE("a missing dataclass field is named", "[errors][typed]") {
    // Missing fields are errors only when asked (the default keeps the default and warns; see test_schema.cpp).
    zanj::config strict;
    strict.schema.missing_fields = zanj::missing_field::error;
    auto read_strict = [&](const fs::path& p) { return zanj::ZANJ(strict).read<errors_test::Run>(p); };
    zanj::value tree = run_dict(layer_dict(zanj::value("ok")));
    tree["layers"][0].as_dict().erase("w");
    fs::path p = saved(tree);
    REQUIRE_THROWS_AS(read_strict(p), zanj::type_error);
    REQUIRE_THROWS_WITH(read_strict(p), Catch::Contains("missing field 'w'") && Catch::Contains("at /layers/0"));

    zanj::value no_title = run_dict(layer_dict(zanj::value("ok")));
    no_title.as_dict().erase("title");
    REQUIRE_THROWS_WITH(read_strict(saved(no_title)),
                        Catch::Contains("missing field 'title'") && Catch::Contains("at /)"));
}

TEST_CASE("integers out of range for the C++ type", "[errors][typed]") {
    auto small = [](zanj::value level, zanj::value big) {
        zanj::value v = zanj::value::dict();
        v["level"] = std::move(level);
        v["big"] = std::move(big);
        return saved(v);
    };
    using errors_test::Small;
    REQUIRE_THROWS_AS(read_as<Small>(small(300, 0)), zanj::type_error);
    REQUIRE_THROWS_WITH(read_as<Small>(small(300, 0)),
                        Catch::Contains("integer 300 is out of range for a 8-bit unsigned integer") &&
                            Catch::Contains("/level"));
    REQUIRE_THROWS_WITH(read_as<Small>(small(-1, 0)),
                        Catch::Contains("integer -1 is out of range for a 8-bit unsigned"));
    REQUIRE_THROWS_WITH(read_as<Small>(small(1, std::numeric_limits<std::uint64_t>::max())),
                        Catch::Contains("integer 18446744073709551615 is out of range for a 64-bit signed integer") &&
                            Catch::Contains("/big"));
    REQUIRE_THROWS_WITH(read_as<Small>(small(1.5, 0)),
                        Catch::Contains("expected an integer, found float 1.5") && Catch::Contains("/level"));
    REQUIRE_THROWS_WITH(read_as<Small>(small(true, 0)), Catch::Contains("expected an integer, found bool"));
    Small ok = read_as<Small>(small(255, std::numeric_limits<std::int64_t>::min()));
    CHECK(ok.level == 255);
    CHECK(ok.big == std::numeric_limits<std::int64_t>::min());

    REQUIRE_THROWS_AS(read_as<std::int8_t>(saved(128)), zanj::type_error);
    REQUIRE_THROWS_AS(read_as<std::int8_t>(saved(-129)), zanj::type_error);
    REQUIRE_THROWS_AS(read_as<std::uint32_t>(saved(std::int64_t{1} << 32)), zanj::type_error);
    REQUIRE_THROWS_AS(read_as<std::uint64_t>(saved(-1)), zanj::type_error);
    // An enum checks its underlying type's range.
    enum class E8 : std::int8_t { a };
    REQUIRE_THROWS_WITH(read_as<E8>(saved(1000)), Catch::Contains("out of range for a 8-bit signed integer"));
    // Array elements are checked too.
    zanj::value item = zanj::value::dict();
    item[zanj::format_key] = "numpy.ndarray:array_list_meta";
    item["shape"] = zanj::value::list_type{zanj::value(2)};
    item["dtype"] = "uint8";
    item["n_elements"] = 2;
    item["data"] = zanj::value::list_type{zanj::value(1), zanj::value(256)};
    REQUIRE_THROWS_AS(read_as<xt::xarray<std::uint8_t>>(saved(item)), zanj::type_error);
    REQUIRE_THROWS_WITH(read_as<xt::xarray<std::uint8_t>>(saved(item)), Catch::Contains("256 is not a valid uint8"));
}

TEST_CASE("arrays of the wrong dtype, rank or shape", "[errors][typed][xtensor]") {
    xt::xarray<double> a = xt::xarray<double>::from_shape({2, 3});
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<double>(i);
    xt::xarray<double> big = xt::xarray<double>::from_shape({20, 30});
    fs::path small_p = saved(a);
    fs::path big_p = saved(big);

    SECTION("dtype") {
        for (const fs::path& p : {small_p, big_p}) {
            REQUIRE_THROWS_AS(read_as<xt::xarray<float>>(p), zanj::type_error);
            REQUIRE_THROWS_WITH(read_as<xt::xarray<float>>(p),
                                Catch::Contains("dtype mismatch: the archive holds float64, xt::xarray needs float32"));
            REQUIRE_THROWS_WITH((read_as<xt::xtensor<std::int64_t, 2>>(p)),
                                Catch::Contains("the archive holds float64, xt::xtensor needs int64"));
            REQUIRE_THROWS_AS(read_as<std::vector<float>>(saved(xt::xarray<double>{1.0, 2.0})), zanj::type_error);
        }
        // In a field, with the field's path.
        std::map<std::string, xt::xarray<double>> m{{"weights", big}};
        REQUIRE_THROWS_WITH((read_as<std::map<std::string, xt::xarray<float>>>(saved(m))),
                            Catch::Contains("dtype mismatch") && Catch::Contains("at /weights") &&
                                Catch::Contains("member weights.npy"));
        try {
            read_as<std::map<std::string, xt::xtensor<double, 1>>>(saved(m));
            FAIL("no exception");
        } catch (const zanj::type_error& e) {
            CHECK(e.object_path() == "/weights");
            CHECK(e.member() == "weights.npy");
            CHECK_THAT(e.reason(), Catch::StartsWith("rank mismatch"));
        }
    }
    SECTION("rank") {
        REQUIRE_THROWS_AS((read_as<xt::xtensor<double, 1>>(small_p)), zanj::type_error);
        REQUIRE_THROWS_WITH(
            (read_as<xt::xtensor<double, 1>>(small_p)),
            Catch::Contains("rank mismatch: the archive holds an array of shape (2, 3), xt::xtensor needs rank 1"));
        REQUIRE_THROWS_WITH((read_as<xt::xtensor<double, 3>>(big_p)), Catch::Contains("rank mismatch"));
        REQUIRE_THROWS_WITH((read_as<xt::xtensor_fixed<double, xt::xshape<6>>>(small_p)),
                            Catch::Contains("rank mismatch"));
        REQUIRE_THROWS_WITH(read_as<std::vector<double>>(small_p), Catch::Contains("shape (2, 3)"));
    }
    SECTION("shape of a fixed-shape tensor") {
        REQUIRE_THROWS_AS((read_as<xt::xtensor_fixed<double, xt::xshape<3, 2>>>(small_p)), zanj::type_error);
        REQUIRE_THROWS_WITH((read_as<xt::xtensor_fixed<double, xt::xshape<3, 2>>>(small_p)),
                            Catch::Contains("shape mismatch: the archive holds an array of shape (2, 3), the "
                                            "xt::xtensor_fixed has shape (3, 2)"));
        auto ok = read_as<xt::xtensor_fixed<double, xt::xshape<2, 3>>>(small_p);
        CHECK(ok(1, 2) == 5.0);
    }
    SECTION("std::array of the wrong length") {
        REQUIRE_THROWS_AS((read_as<std::array<int, 4>>(saved(std::vector<int>{1, 2, 3}))), zanj::type_error);
        REQUIRE_THROWS_WITH((read_as<std::array<int, 4>>(saved(std::vector<int>{1, 2, 3}))),
                            Catch::Contains("expected 4 items for a std::array, found 3"));
        REQUIRE_THROWS_WITH((read_as<std::tuple<int, int>>(saved(std::vector<int>{1, 2, 3}))),
                            Catch::Contains("expected a list of 2 items, found 3"));
    }
}

TEST_CASE("an item of another dataclass", "[errors][typed]") {
    fs::path p = saved(errors_test::Other{3});
    REQUIRE_THROWS_AS(read_as<errors_test::Layer>(p), zanj::type_error);
    REQUIRE_THROWS_WITH(
        read_as<errors_test::Layer>(p),
        Catch::Contains("expected a Layer(SerializableDataclass) item, found 'Other(SerializableDataclass)'"));
    std::vector<errors_test::Other> others{{1}, {2}};
    REQUIRE_THROWS_WITH(read_as<std::vector<errors_test::Layer>>(saved(others)),
                        Catch::Contains("expected a Layer(SerializableDataclass) item") && Catch::Contains("at /0"));
    // A plain dict with the right fields is accepted, as Python accepts it.
    zanj::value plain = zanj::value::dict();
    plain["a"] = 7;
    CHECK(read_as<errors_test::Other>(saved(plain)).a == 7);
}

TEST_CASE("an unknown format key in an untyped read, under each error mode", "[errors][untyped]") {
    zanj::value tree = zanj::value::dict();
    tree["x"] = zanj::value::dict();
    tree["x"][zanj::format_key] = "mystery.Type";
    tree["x"]["a"] = 1;
    tree["y"] = zanj::value::list_type{zanj::value(2)};
    fs::path p = saved(tree);

    std::vector<std::string> warnings;
    zanj::config cfg;
    cfg.warning_sink = [&](std::string_view m) { warnings.emplace_back(m); };

    SECTION("except") {
        REQUIRE_THROWS_AS(read_untyped(p, cfg), zanj::type_error);
        REQUIRE_THROWS_WITH(read_untyped(p, cfg),
                            Catch::Contains("unknown format key 'mystery.Type'") && Catch::Contains("at /x"));
        CHECK(warnings.empty());
    }
    SECTION("warn") {
        cfg.error_mode = zanj::error_mode::warn;
        const zanj::value back = read_untyped(p, cfg);
        REQUIRE(warnings.size() == 1);
        CHECK_THAT(warnings[0], Catch::Contains("mystery.Type") && Catch::Contains("/x"));
        CHECK(back == tree);
        CHECK(back["x"].format() == "mystery.Type");
    }
    SECTION("ignore") {
        cfg.error_mode = zanj::error_mode::ignore;
        const zanj::value back = read_untyped(p, cfg);
        CHECK(warnings.empty());
        CHECK(back == tree);
    }
    SECTION("a typed read of the dict itself does not care") {
        auto m = read_as<std::map<std::string, nlohmann::json>>(p);
        CHECK(m["x"]["a"] == 1);
    }
}

TEST_CASE("a registered loader that fails, under each error mode", "[errors][untyped]") {
    zanj::value tree = zanj::value::dict();
    tree["layer"] = layer_dict(zanj::value(12)); // name is not a string
    fs::path p = saved(tree);
    std::vector<std::string> warnings;
    zanj::config cfg;
    cfg.warning_sink = [&](std::string_view m) { warnings.emplace_back(m); };
    {
        zanj::ZANJ z(cfg);
        z.register_type<errors_test::Layer>();
        REQUIRE_THROWS_AS(z.read(p), zanj::type_error);
        REQUIRE_THROWS_WITH(z.read(p), Catch::Contains("/layer/name"));
    }
    cfg.error_mode = zanj::error_mode::warn;
    zanj::ZANJ z(cfg);
    z.register_type<errors_test::Layer>();
    const zanj::value back = z.read(p);
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Catch::Contains("/layer/name") && Catch::Contains("kept as a dict"));
    CHECK(back["layer"]["name"] == zanj::value(12));
    CHECK(back["layer"].instance<errors_test::Layer>() == nullptr);
}

TEST_CASE("map keys that do not parse as the key type", "[errors][typed]") {
    std::map<std::string, int> m{{"abc", 1}};
    REQUIRE_THROWS_AS((read_as<std::map<int, int>>(saved(m))), zanj::type_error);
    REQUIRE_THROWS_WITH((read_as<std::map<int, int>>(saved(m))),
                        Catch::Contains("dict key 'abc' is not a 32-bit integer key"));
    std::map<std::string, std::map<std::string, int>> nested{{"outer", {{"12x", 1}}}};
    REQUIRE_THROWS_WITH((read_as<std::map<std::string, std::map<int, int>>>(saved(nested))),
                        Catch::Contains("dict key '12x'") && Catch::Contains("at /outer"));
    REQUIRE_THROWS_WITH((read_as<std::map<std::int8_t, int>>(saved(std::map<int, int>{{200, 1}}))),
                        Catch::Contains("dict key '200' is not in range for 8-bit integer key"));
    REQUIRE_THROWS_WITH((read_as<std::unordered_map<std::uint16_t, int>>(saved(std::map<int, int>{{-1, 1}}))),
                        Catch::Contains("dict key '-1'"));
    REQUIRE_THROWS_WITH((read_as<std::map<int, int>>(saved(std::map<std::string, int>{{"", 1}}))),
                        Catch::Contains("dict key ''"));
    REQUIRE_THROWS_WITH((read_as<std::map<int, int>>(saved(std::map<std::string, int>{{" 1", 1}}))),
                        Catch::Contains("dict key ' 1'"));
    REQUIRE_THROWS_AS((read_as<std::map<int, int>>(saved(std::vector<int>{1}))), zanj::type_error);
}

TEST_CASE("other typed mismatches", "[errors][typed]") {
    REQUIRE_THROWS_WITH(read_as<bool>(saved(1)), Catch::Contains("expected a bool, found int 1"));
    REQUIRE_THROWS_WITH(read_as<double>(saved("1.5")), Catch::Contains("expected a float, found str"));
    REQUIRE_THROWS_WITH(read_as<std::string>(saved(std::vector<int>{})),
                        Catch::Contains("expected a string, found list"));
    REQUIRE_THROWS_WITH(read_as<std::nullptr_t>(saved(0)), Catch::Contains("expected null, found int"));
    REQUIRE_THROWS_WITH(read_as<std::complex<double>>(saved(std::vector<int>{1, 2, 3})),
                        Catch::Contains("expected a complex number as [real, imag]"));
    REQUIRE_THROWS_WITH(read_as<std::set<int>>(saved(5)), Catch::Contains("expected a list, found int"));
    {
        // A typed read sees an array item as the dict it is; an ndarray value is refused.
        auto j = read_as<nlohmann::json>(saved(xt::xarray<double>{1.0, 2.0}));
        CHECK(j["dtype"] == "float64");
        zanj::config cfg;
        zanj::loader l(cfg);
        REQUIRE_THROWS_AS(l.load<nlohmann::json>(zanj::value(zanj::ndarray(zanj::dtype::int8, {2}))), zanj::type_error);
        REQUIRE_THROWS_WITH(l.load<nlohmann::json>(zanj::value(zanj::ndarray(zanj::dtype::int8, {2}))),
                            Catch::Contains("an array cannot be loaded as nlohmann::json"));
    }
    REQUIRE_THROWS_WITH(read_as<fs::path>(saved(3)), Catch::Contains("expected a path string"));
    // Every one of these is a zanj::error, and so a std::runtime_error.
    REQUIRE_THROWS_AS(read_as<bool>(saved(1)), zanj::error);
    REQUIRE_THROWS_AS(read_as<bool>(saved(1)), std::runtime_error);
}
