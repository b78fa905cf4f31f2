// Both directions with Python: archives we write are read by tests/python/read_zanj.py (zipfile,
// json and numpy only, strict checks of the format); archives tests/python/write_zanj.py writes
// as Python's zanj does are read by us, untyped and typed, and every value is compared.
#include <catch2/catch.hpp>

#include "canonical.hpp"
#include "support.hpp"

#include <zanj/zanj.hpp>

#include <cmath>
#include <complex>
#include <limits>

namespace fs = std::filesystem;

namespace interop {

enum class colour : std::int8_t { red = -1, green = 2 };

struct Point {
    double x = 0, y = 0;
};
ZANJ_DATACLASS(Point, x, y);

struct Sample {
    std::string label;
    xt::xarray<float> w;
    std::int32_t id = 0;
};
ZANJ_DATACLASS(Sample, label, w, id);

struct Everything {
    bool flag = true;
    std::int8_t i8 = -128;
    std::uint64_t u64 = std::numeric_limits<std::uint64_t>::max();
    std::int64_t i64 = std::numeric_limits<std::int64_t>::min();
    float f32 = 0.1f;
    std::vector<double> specials{
        std::nan(""), std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(), -0.0, 5e-324,
        1e300};
    std::string text = "h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x8E\x89 \"quoted\"\n\ttabbed \\";
    std::optional<std::string> none;
    std::optional<std::string> some = "present";
    std::map<std::string, double> metrics{{"loss", 0.25}, {"acc", 0.875}};
    std::map<int, std::string> int_keys{{-3, "minus three"}, {10, "ten"}, {2, "two"}};
    std::unordered_map<std::string, int> unordered{{"b", 2}, {"a", 1}};
    std::set<int> set_of_ints{3, 1, 2, 10};
    std::unordered_set<std::string> set_of_strings{"x", "y"};
    std::pair<int, std::string> pair{1, "one"};
    std::tuple<int, double, std::string, bool> tuple{7, 2.5, "t", false};
    std::array<std::uint16_t, 3> fixed{1, 2, 65535};
    std::deque<std::string> deque{"a", "b"};
    std::list<std::int16_t> list{-1, 0, 1};
    std::vector<bool> bits{true, false, true};
    fs::path path = "data/run 1/file.txt";
    colour c = colour::red;
    std::complex<double> z{1.5, -2.0};
    nlohmann::json extra = nlohmann::json::parse(R"({"k": [1, 2.5, "x", null, {"n": true}]})");
    Point origin{};
    std::vector<Point> points{{1, 2}, {3, 4}};
    // Arrays of every dtype: small ones stay inline, large ones become .npy members.
    xt::xarray<bool> mask = {{true, false, true}, {false, false, true}};
    xt::xarray<std::int8_t> a_i8 = {-128, 0, 127};
    xt::xarray<std::int16_t> a_i16 = {{-32768, 1}, {2, 32767}};
    xt::xarray<std::int32_t> a_i32 = xt::arange<std::int32_t>(-5, 5);
    xt::xarray<std::int64_t> a_i64 = {std::numeric_limits<std::int64_t>::min(), std::int64_t{0},
                                      std::numeric_limits<std::int64_t>::max()};
    xt::xarray<std::uint8_t> a_u8 = {0, 1, 255};
    xt::xarray<std::uint16_t> a_u16 = {0, 65535};
    xt::xarray<std::uint32_t> a_u32 = {0u, 4294967295u};
    xt::xarray<std::uint64_t> a_u64 = {std::uint64_t{0}, std::numeric_limits<std::uint64_t>::max()};
    xt::xarray<float> a_f32 = {{0.5f, -1.25f, std::numeric_limits<float>::infinity()}};
    xt::xarray<double> a_f64 = {std::nan(""), -0.0, 1e-310};
    xt::xarray<std::complex<float>> a_c64 =
        xt::xarray<std::complex<float>>({std::complex<float>(1.0f, -1.0f), std::complex<float>(0.5f, 2.0f)});
    xt::xarray<std::complex<double>> a_c128 = xt::xarray<std::complex<double>>({std::complex<double>(-1.0, 1.0)});
    xt::xarray<double> zero_d = xt::xarray<double>(2.75);
    xt::xarray<float> empty = xt::zeros<float>({2, 0});
    xt::xtensor<double, 2> big = xt::reshape_view(xt::arange<double>(0, 300 * 4) * 0.5, {300, 4});
    xt::xtensor_fixed<std::int64_t, xt::xshape<16, 16>> fixed_big =
        xt::reshape_view(xt::arange<std::int64_t>(256), {16, 16});
    xt::xarray<std::complex<float>> complex_big = xt::zeros<std::complex<float>>({2, 200});
    std::vector<int> long_list = std::vector<int>(300, 7);
    std::vector<Sample> samples;
    std::vector<std::vector<int>> lists_of_lists = std::vector<std::vector<int>>(260, {1, 2, 3});
};
ZANJ_DATACLASS(Everything, flag, i8, u64, i64, f32, specials, text, none, some, metrics, int_keys, unordered,
               set_of_ints, set_of_strings, pair, tuple, fixed, deque, list, bits, path, c, z, extra, origin, points,
               mask, a_i8, a_i16, a_i32, a_i64, a_u8, a_u16, a_u32, a_u64, a_f32, a_f64, a_c64, a_c128, zero_d, empty,
               big, fixed_big, complex_big, long_list, samples, lists_of_lists);

Everything make_everything() {
    Everything e;
    for (int i = 0; i < 260; ++i)
        e.samples.push_back({std::string("s").append(std::to_string(i)), xt::arange<float>(0, 300) * float(i), i});
    e.complex_big(1, 3) = {1.5f, -0.5f};
    return e;
}

// What any correct reader must rebuild: the object serialized with everything inline, then
// rebuilt by our registry (independent of the zip, NPY and external code paths).
nlohmann::json expected_canonical(const Everything& obj, zanj::config cfg) {
    cfg.external_array_threshold = std::numeric_limits<std::size_t>::max();
    cfg.external_list_threshold = std::numeric_limits<std::size_t>::max();
    zanj::serializer s(cfg);
    zanj::value tree = s.serialize(obj);
    zanj::loader_registry registry;
    zanj::loader l(cfg, &registry);
    return zanj_test::canonical(registry.rebuild(std::move(tree), l));
}

nlohmann::json python_canonical(const fs::path& archive) {
    auto result = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("read_zanj.py") + " " +
                                 zanj_test::quote(archive) + " 2>/dev/null");
    INFO(zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("read_zanj.py") + " -q " +
                        zanj_test::quote(archive))
             .output);
    REQUIRE(result.exit_code == 0);
    return nlohmann::json::parse(result.output);
}

} // namespace interop

using namespace interop;

TEST_CASE("Python's reader opens what we write, with every value equal", "[python][interop]") {
    const Everything obj = make_everything();
    fs::path dir = zanj_test::scratch_dir("interop_cpp_to_python");

    struct variant {
        const char* name;
        zanj::config cfg;
    };
    std::vector<variant> variants;
    variants.push_back({"default", {}});
    zanj::config python_layout;
    python_layout.compress = zanj::compression_policy::python();
    variants.push_back({"all_deflate", python_layout});
    zanj::config stored;
    stored.compress = zanj::compression_policy::none();
    variants.push_back({"all_stored", stored});
    for (auto mode : {zanj::array_mode::array_hex_meta, zanj::array_mode::array_b64_meta, zanj::array_mode::list}) {
        zanj::config c;
        c.internal_array_mode = mode;
        variants.push_back({"mode", c});
    }
    zanj::config low;
    low.external_array_threshold = 4;
    low.external_list_threshold = 3;
    variants.push_back({"low_thresholds", low});

    int n = 0;
    for (const auto& v : variants) {
        std::string label = std::string(v.name) + "_" + std::to_string(n++);
        INFO("variant " << label);
        zanj::ZANJ z(v.cfg);
        fs::path path = z.save(obj, dir / label);
        nlohmann::json theirs = python_canonical(path);
        // Bare lists lose the dtype, so in list mode only externals stay arrays: compare with our reader.
        nlohmann::json ours = v.cfg.internal_array_mode == zanj::array_mode::list ? zanj_test::canonical(z.read(path))
                                                                                  : expected_canonical(obj, v.cfg);
        auto diff = zanj_test::canonical_diff(ours, theirs);
        INFO((diff ? *diff : std::string("no difference")));
        CHECK_FALSE(diff);
    }
}

TEST_CASE("what Python writes is read back by us, untyped, with every value equal", "[python][interop]") {
    fs::path dir = zanj_test::scratch_dir("interop_python_to_cpp");
    auto result = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("write_zanj.py") + " " +
                                 zanj_test::quote(dir));
    INFO(result.output);
    REQUIRE(result.exit_code == 0);

    zanj::ZANJ z;
    int archives = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".zanj") continue;
        ++archives;
        INFO("archive " << entry.path().filename().string());
        fs::path expected_file = entry.path();
        expected_file.replace_extension(".expected.json");
        // Python's reader checks its own writer's files too, so a broken fixture cannot pass.
        REQUIRE(zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("read_zanj.py") + " -q " +
                               zanj_test::quote(entry.path()) + " --expect " + zanj_test::quote(expected_file))
                    .exit_code == 0);
        nlohmann::json expected = nlohmann::json::parse(zanj_test::read_file(expected_file));
        nlohmann::json ours = zanj_test::canonical(z.read(entry.path()));
        auto diff = zanj_test::canonical_diff(expected, ours);
        INFO((diff ? *diff : std::string("no difference")));
        CHECK_FALSE(diff);
    }
    CHECK(archives >= 9);
}

namespace interop {
struct Layer {
    std::string name;
    zanj::ndarray w;
    std::vector<int> shape;
};
ZANJ_DATACLASS(Layer, name, w, shape);

struct Run {
    std::string name;
    std::vector<Layer> layers;
    nlohmann::json metrics;
    std::optional<std::string> note;
};
ZANJ_DATACLASS(Run, name, layers, metrics, note);

struct Basic { // the root of basic.zanj is a plain dict; unlisted keys are ignored
    std::vector<double> floats;
    std::map<std::string, std::string> strings;
    std::tuple<int, std::string, double, std::nullptr_t, std::pair<int, int>> tuple;
    std::set<int> set;
    std::unordered_set<std::string> frozenset;
    std::map<int, std::string> int_keys;
    Layer layer;
    Run run;
    std::vector<Run> runs;
};
ZANJ_DATACLASS(Basic, floats, strings, tuple, set, frozenset, int_keys, layer, run, runs);

struct Record {
    std::int64_t i = 0;
    std::string name;
    xt::xarray<float> v;
    std::optional<double> opt;
};
ZANJ_DATACLASS(Record, i, name, v, opt);
struct Big {
    xt::xtensor<float, 1> w;
    int id = 0;
};
ZANJ_DATACLASS(Big, w, id);
struct Externals {
    std::vector<int> ints;
    std::vector<std::string> strs;
    std::vector<Record> records;
    std::vector<Big> big;
    std::vector<double> floats;
};
ZANJ_DATACLASS(Externals, ints, strs, records, big, floats);
} // namespace interop

TEST_CASE("what Python writes is read back by us, typed", "[python][interop]") {
    fs::path dir = zanj_test::scratch_dir("interop_python_typed");
    REQUIRE(zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("write_zanj.py") + " " +
                           zanj_test::quote(dir))
                .exit_code == 0);
    zanj::ZANJ z;

    Basic b = z.read<Basic>(dir / "basic.zanj");
    REQUIRE(b.floats.size() == 13);
    CHECK(b.floats[1] == 0.1);
    CHECK(std::signbit(b.floats[2]));
    CHECK(b.floats[5] == 1e300);
    CHECK(b.floats[7] == 5e-324);
    CHECK(std::isnan(b.floats[10]));
    CHECK(b.floats[11] == std::numeric_limits<double>::infinity());
    CHECK(b.floats[12] == -std::numeric_limits<double>::infinity());
    CHECK(b.strings.at("unicode") == "h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x8E\x89");
    CHECK(b.strings.at("control") == std::string("nul\0 bell\x07 esc\x1b del\x7f", 20));
    CHECK(b.strings.at("looks_like_nan") == "NaN");
    CHECK(std::get<1>(b.tuple) == "two");
    CHECK(std::get<4>(b.tuple) == std::pair<int, int>{4, 5});
    CHECK(b.set == std::set<int>{1, 2, 3});
    CHECK(b.frozenset == std::unordered_set<std::string>{"x", "y", "z"});
    CHECK(b.int_keys == std::map<int, std::string>{{-3, "minus three"}, {1, "one"}, {2, "two"}, {10, "ten"}});
    CHECK(b.layer.name == "solo");
    CHECK(b.layer.w.type() == zanj::dtype::float32);
    CHECK(b.layer.w.values<float>()[1] == -1.0f);
    REQUIRE(b.run.layers.size() == 2);
    CHECK(b.run.layers[0].w.shape() == zanj::shape_type{2, 3});
    CHECK(b.run.layers[1].w.type() == zanj::dtype::float64);
    CHECK(b.run.metrics["loss"] == 0.25);
    CHECK_FALSE(b.run.note);
    REQUIRE(b.runs.size() == 1);
    CHECK(b.runs[0].note == "a note");

    Externals e = z.read<Externals>(dir / "externals.zanj");
    CHECK(e.ints.size() == 300);
    CHECK(e.ints[299] == 299);
    CHECK(e.strs.size() == 300);
    CHECK(e.strs[1] == "s1");
    REQUIRE(e.records.size() == 260);
    CHECK(e.records[7].name == "rec7");
    CHECK(e.records[7].v.shape() == std::vector<std::size_t>{3});
    CHECK_FALSE(e.records[7].opt);
    CHECK(e.records[8].opt == 4.0);
    REQUIRE(e.big.size() == 256);
    CHECK(e.big[255].id == 255);
    CHECK(e.big[255].w.size() == 300);
    CHECK(std::isnan(e.floats[0]));
    CHECK(e.floats[255] == 251.0 / 8);

    // Big-endian, Fortran-order and NPY 2.0/3.0 members come back as native C-order arrays.
    zanj::value variants = z.read(dir / "npy_variants.zanj");
    const zanj::ndarray& fortran = variants["fortran_i8_3d"].as_array();
    CHECK(fortran.shape() == zanj::shape_type{4, 8, 16});
    xt::xarray<std::int64_t> typed = variants["fortran_i8_3d"].get<xt::xarray<std::int64_t>>();
    CHECK(typed.shape()[2] == 16);
}
