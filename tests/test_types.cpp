// Round trips of every built-in handler, in memory (serializer + loader, no archive) and
// through real .zanj archives; the JSON forms Python expects; externals, thresholds, untyped
// reads, user handlers and error modes.

#include <zanj/zanj.hpp>

#include <zanj/detail/zip.hpp>

#include "round_trip.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <complex>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace fs = std::filesystem;
using namespace std::string_literals;

// ---- types used by the tests --------------------------------------------------------------------

namespace types_test {

enum class Color : std::int8_t { red = -1, green = 2, blue = 127 };
enum class Tiny : std::int8_t { lo = -128, hi = 127 };
enum class Huge : std::uint64_t { zero = 0, top = std::numeric_limits<std::uint64_t>::max() };
enum Plain { plain_a = 0, plain_b = 5 };

struct Inner {
    std::string name;
    xt::xarray<float> w;
    std::map<std::string, int> counts;
    std::optional<double> scale;
};
ZANJ_DATACLASS(Inner, name, w, counts, scale);
inline bool operator==(const Inner& a, const Inner& b) {
    return a.name == b.name && a.w == b.w && a.counts == b.counts && a.scale == b.scale;
}

struct Outer {
    std::string title;
    std::vector<Inner> items;
    std::set<std::string> tags;
    std::optional<Inner> extra;
};
ZANJ_DATACLASS(Outer, title, items, tags, extra);
inline bool operator==(const Outer& a, const Outer& b) {
    return a.title == b.title && a.items == b.items && a.tags == b.tags && a.extra == b.extra;
}

struct Renamed {
    int a = 0;
    std::string b;
    friend bool operator==(const Renamed&, const Renamed&) = default;
};
ZANJ_DATACLASS_NAMED(Renamed, "PyName", a, b);

struct Layer {
    std::string name;
    xt::xarray<float> w;
    std::vector<int> shape;
};
ZANJ_DATACLASS(Layer, name, w, shape);
inline bool operator==(const Layer& a, const Layer& b) { return a.name == b.name && a.w == b.w && a.shape == b.shape; }

struct Model {
    std::vector<Layer> layers;
    std::set<int> ids;
    std::map<std::string, double> metrics;
};
ZANJ_DATACLASS(Model, layers, ids, metrics);
inline bool operator==(const Model& a, const Model& b) {
    return a.layers == b.layers && a.ids == b.ids && a.metrics == b.metrics;
}

struct Item {
    xt::xarray<float> w;
    int id = 0;
};
ZANJ_DATACLASS(Item, w, id);
inline bool operator==(const Item& a, const Item& b) { return a.id == b.id && a.w == b.w; }

struct Big {
    std::vector<int> ints;
    std::vector<Item> items;
};
ZANJ_DATACLASS(Big, ints, items);
inline bool operator==(const Big& a, const Big& b) { return a.ints == b.ints && a.items == b.items; }

struct Thresholds {
    xt::xarray<double> scalar;
    xt::xarray<double> empty;
    xt::xarray<double> one;
    xt::xarray<double> big;
    std::vector<int> empty_list;
    std::vector<int> short_list;
    std::vector<int> long_list;
};
ZANJ_DATACLASS(Thresholds, scalar, empty, one, big, empty_list, short_list, long_list);
inline bool operator==(const Thresholds& a, const Thresholds& b) {
    return a.scalar == b.scalar && a.empty == b.empty && a.one == b.one && a.big == b.big &&
           a.empty_list == b.empty_list && a.short_list == b.short_list && a.long_list == b.long_list;
}

// A handwritten handler<> specialisation, with a format key so that it can be registered.
struct Celsius {
    double degrees = 0;
    friend bool operator==(const Celsius&, const Celsius&) = default;
};

// A dataclass whose std::vector gets a user handler that beats the built-in vector handler.
struct MyPoint {
    double x = 0;
    double y = 0;
    friend bool operator==(const MyPoint&, const MyPoint&) = default;
};
ZANJ_DATACLASS(MyPoint, x, y);

struct Cloud {
    std::string label;
    std::vector<MyPoint> points;
    friend bool operator==(const Cloud&, const Cloud&) = default;
};
ZANJ_DATACLASS(Cloud, label, points);

} // namespace types_test

namespace zanj {

template <>
struct handler<types_test::Celsius> {
    static std::string format_key() { return "Celsius"; }
    static value serialize(const types_test::Celsius& c, serializer& s) {
        value::dict_type d;
        d.insert_or_assign(zanj::format_key, format_key());
        d.insert_or_assign("degrees", s.serialize_field("degrees", c.degrees));
        return d;
    }
    static types_test::Celsius load(const value& v, loader& l) {
        if (v.format() != "Celsius") l.fail("expected a Celsius item, found " + v.dump());
        return {l.load_field<double>(v, "degrees")};
    }
};

// Structure of arrays instead of the built-in list of dicts.
template <>
struct handler<std::vector<types_test::MyPoint>> {
    static value serialize(const std::vector<types_test::MyPoint>& points, serializer& s) {
        std::vector<double> xs, ys;
        for (const auto& p : points) {
            xs.push_back(p.x);
            ys.push_back(p.y);
        }
        value::dict_type d;
        d.insert_or_assign("xs", s.serialize_field("xs", xs));
        d.insert_or_assign("ys", s.serialize_field("ys", ys));
        return d;
    }
    static std::vector<types_test::MyPoint> load(const value& v, loader& l) {
        auto xs = l.load_field<std::vector<double>>(v, "xs");
        auto ys = l.load_field<std::vector<double>>(v, "ys");
        if (xs.size() != ys.size()) l.fail("xs and ys differ in length");
        std::vector<types_test::MyPoint> out;
        for (std::size_t i = 0; i < xs.size(); ++i) out.push_back({xs[i], ys[i]});
        return out;
    }
};

} // namespace zanj

namespace adl_ns {

// Handled through free functions found by argument-dependent lookup.
struct Vec2 {
    int x = 0;
    int y = 0;
    friend bool operator==(const Vec2&, const Vec2&) = default;
};

inline zanj::value zanj_serialize(const Vec2& p, zanj::serializer& s) {
    return zanj::value::list_type{s.serialize_element(0, p.x), s.serialize_element(1, p.y)};
}

inline Vec2 zanj_load(zanj::tag<Vec2>, const zanj::value& v, zanj::loader& l) {
    const auto& items = l.sequence(v);
    if (items.size() != 2) l.fail("a Vec2 needs 2 items");
    return {l.load_element<int>(items[0], 0), l.load_element<int>(items[1], 1)};
}

} // namespace adl_ns

// ---- helpers -----------------------------------------------------------------------------------

using zanj_test::from_value;
using zanj_test::to_value;
using zanj_test::via_archive;
using zanj_test::via_memory;

namespace {

fs::path fresh_dir() { return zanj_test::fresh_dir("types"); }

std::vector<std::string> member_names(const fs::path& archive) {
    zanj::detail::zip_reader zip(archive);
    std::vector<std::string> out;
    for (const auto& e : zip.entries()) out.push_back(e.name);
    std::sort(out.begin(), out.end());
    return out;
}

std::string member_text(const fs::path& archive, std::string_view name) {
    zanj::detail::zip_reader zip(archive);
    const auto* entry = zip.find(name);
    if (!entry) throw std::runtime_error("no member " + std::string(name));
    auto data = zip.read(*entry);
    return std::string(reinterpret_cast<const char*>(data.get()), static_cast<std::size_t>(entry->uncompressed_size));
}

std::vector<std::string> dict_keys(const zanj::value& v) {
    std::vector<std::string> out;
    for (const auto& [k, item] : v.as_dict()) out.push_back(k);
    return out;
}

std::vector<std::string> external_members(const zanj::value& meta) { return dict_keys(meta["externals_info"]); }

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

} // namespace

// ---- scalars -----------------------------------------------------------------------------------

TEST_CASE("bool round-trips as a JSON bool", "[types]") {
    for (bool b : {true, false}) {
        const zanj::value v = to_value(b);
        CHECK(v.is_bool());
        CHECK(v.as_bool() == b);
        CHECK_ROUND_TRIPS(b);
    }
    CHECK(to_value(true).dump() == "true");
}

TEMPLATE_TEST_CASE("integers of every width round-trip at their limits", "[types]", std::int8_t, std::int16_t,
                   std::int32_t, std::int64_t, std::uint8_t, std::uint16_t, std::uint32_t, std::uint64_t, char,
                   signed char, unsigned char, short, unsigned short, int, unsigned, long, unsigned long, long long,
                   unsigned long long) {
    using T = TestType;
    for (T x : {std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), T(0), T(1), T(42)}) {
        CAPTURE(+x);
        const zanj::value v = to_value(x);
        CHECK(v.is_integer());
        CHECK(from_value<T>(v) == x);
        CHECK(via_archive(x) == x);
    }
}

TEST_CASE("64-bit integer limits have exact JSON forms", "[types]") {
    const auto min64 = std::numeric_limits<std::int64_t>::min();
    const auto max64 = std::numeric_limits<std::int64_t>::max();
    const auto maxu64 = std::numeric_limits<std::uint64_t>::max();
    CHECK(to_value(min64).dump() == "-9223372036854775808");
    CHECK(to_value(max64).dump() == "9223372036854775807");
    CHECK(to_value(maxu64).dump() == "18446744073709551615");
    CHECK(to_value(maxu64).type() == zanj::value::kind::unsigned_integer);
    CHECK(to_value(std::uint64_t{5}).type() == zanj::value::kind::integer);

    std::vector<std::uint64_t> big{0, maxu64, std::uint64_t(max64) + 1};
    CHECK_ROUND_TRIPS(big);
    std::vector<std::int64_t> extremes{min64, -1, 0, max64};
    CHECK_ROUND_TRIPS(extremes);

    zanj::ZANJ z;
    fs::path p = z.save(extremes, fresh_dir() / "x");
    std::string text = member_text(p, "__zanj__.json");
    CHECK_THAT(text, Catch::Contains("-9223372036854775808"));
    CHECK_THAT(text, Catch::Contains("9223372036854775807"));
}

TEMPLATE_TEST_CASE("floating point values round-trip exactly", "[types]", float, double) {
    using F = TestType;
    using lim = std::numeric_limits<F>;
    for (F f : {F(0), F(1.5), F(-2.25), F(0.1), F(1) / F(3), lim::max(), lim::lowest(), lim::min(), lim::denorm_min(),
                -lim::denorm_min(), lim::epsilon()}) {
        CAPTURE(f);
        const zanj::value v = to_value(f);
        CHECK(v.is_float());
        CHECK(from_value<F>(v) == f);
        CHECK(via_archive(f) == f);
    }
    SECTION("infinities") {
        CHECK(via_memory(lim::infinity()) == lim::infinity());
        CHECK(via_archive(lim::infinity()) == lim::infinity());
        CHECK(via_memory(-lim::infinity()) == -lim::infinity());
        CHECK(via_archive(-lim::infinity()) == -lim::infinity());
    }
    SECTION("NaN") {
        CHECK(std::isnan(via_memory(lim::quiet_NaN())));
        CHECK(std::isnan(via_archive(lim::quiet_NaN())));
    }
    SECTION("negative zero keeps its sign") {
        F back = via_archive(-F(0));
        CHECK(back == F(0));
        CHECK(std::signbit(back));
        CHECK(std::signbit(via_memory(-F(0))));
        CHECK(to_value(-F(0)).dump() == "-0.0");
    }
    SECTION("an integer in the JSON loads as a float") { CHECK(from_value<F>(zanj::value(3)) == F(3)); }
}

TEST_CASE("non-finite floats are written as Python's NaN and Infinity tokens", "[types]") {
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> v{std::numeric_limits<double>::quiet_NaN(), inf, -inf, 1.0};
    CHECK(to_value(v).dump() == "[NaN, Infinity, -Infinity, 1.0]");
    zanj::ZANJ z;
    fs::path p = z.save(v, fresh_dir() / "x");
    std::string text = member_text(p, "__zanj__.json");
    CHECK_THAT(text, Catch::Contains("NaN"));
    CHECK_THAT(text, Catch::Contains("-Infinity"));
    auto back = z.read<std::vector<double>>(p);
    REQUIRE(back.size() == 4);
    CHECK(std::isnan(back[0]));
    CHECK(back[1] == inf);
    CHECK(back[2] == -inf);
    CHECK(back[3] == 1.0);
}

// ---- strings ---------------------------------------------------------------------------------------

TEST_CASE("std::string round-trips, whatever it holds", "[types]") {
    const std::vector<std::string> cases{
        ""s,
        "plain"s,
        "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9d\x84\x9e \xe6\x97\xa5\xe6\x9c\xac"s, // héllo ✓ 𝄞 日本
        "quotes \" and ' and \\ backslash"s,
        "control \x01\x02\t\n\r\b\f\x1f\x7f end"s,
        "embedded\0nul\0"s,
        std::string(1000, 'x'),
    };
    for (const auto& s : cases) {
        CAPTURE(s);
        CHECK(to_value(s).is_string());
        CHECK_ROUND_TRIPS(s);
    }
    CHECK_ROUND_TRIPS(cases);
}

TEST_CASE("strings are escaped as JSON requires", "[types]") {
    CHECK(to_value("a\"b\\c"s).dump() == R"("a\"b\\c")");
    CHECK(to_value("tab\there\nnl"s).dump() == R"("tab\there\nnl")");
    CHECK(to_value("\x01\x1f"s).dump() == R"("\u0001\u001f")");
    CHECK(to_value("nul\0x"s).dump() == R"("nul\u0000x")");
    CHECK(to_value("\xc3\xa9"s).dump() == "\"\xc3\xa9\"");
}

TEST_CASE("std::string_view and C strings are saved as strings", "[types]") {
    std::string_view sv = "a view";
    const char* cs = "a c string";
    const char* null_cs = nullptr;
    CHECK(to_value(sv) == zanj::value("a view"));
    CHECK(to_value(sv).dump() == "\"a view\"");
    CHECK(to_value(cs).dump() == "\"a c string\"");
    CHECK(to_value(null_cs).is_null());
    CHECK(to_value("literal").dump() == "\"literal\"");
    CHECK(to_value(std::string_view("a\0b", 3)).dump() == R"("a\u0000b")");

    zanj::ZANJ z;
    fs::path dir = fresh_dir();
    CHECK(z.read<std::string>(z.save(sv, dir / "sv")) == "a view");
    CHECK(z.read<std::string>(z.save(cs, dir / "cs")) == "a c string");
    CHECK(z.read<std::string>(z.save("literal", dir / "lit")) == "literal");
    CHECK(z.read<std::optional<std::string>>(z.save(null_cs, dir / "null")) == std::nullopt);
    std::vector<std::string_view> views{"x", "y"};
    CHECK(z.read<std::vector<std::string>>(z.save(views, dir / "views")) == std::vector<std::string>{"x", "y"});
}

TEST_CASE("std::filesystem::path is saved as a POSIX string", "[types]") {
    fs::path p = fs::path("dir") / "sub" / "file.txt";
    CHECK(to_value(p).dump() == "\"dir/sub/file.txt\"");
    CHECK_ROUND_TRIPS(p);
    CHECK_ROUND_TRIPS(fs::path("/abs/olute"));
    CHECK_ROUND_TRIPS(fs::path());
}

// ---- null and optional -----------------------------------------------------------------------------

TEST_CASE("nullptr, nullopt and std::optional", "[types]") {
    CHECK(to_value(nullptr).is_null());
    CHECK(to_value(std::nullopt).is_null());
    CHECK(from_value<std::nullptr_t>(zanj::value()) == nullptr);

    zanj::ZANJ z;
    fs::path dir = fresh_dir();
    fs::path p = z.save(nullptr, dir / "null");
    CHECK(z.read<std::nullptr_t>(p) == nullptr);
    CHECK(z.read<std::optional<int>>(p) == std::nullopt);
    CHECK(z.read<std::optional<std::string>>(z.save(std::nullopt, dir / "nullopt")) == std::nullopt);

    CHECK(to_value(std::optional<int>{}).is_null());
    CHECK(to_value(std::optional<int>{7}) == zanj::value(7));
    CHECK_ROUND_TRIPS(std::optional<int>{});
    CHECK_ROUND_TRIPS(std::optional<int>{-7});
    CHECK_ROUND_TRIPS(std::optional<std::string>{""});
    CHECK_ROUND_TRIPS(std::optional<std::vector<int>>{std::vector<int>{1, 2}});
    std::vector<std::optional<double>> mixed{1.5, std::nullopt, -2.0};
    CHECK_ROUND_TRIPS(mixed);
}

// ---- sequences -----------------------------------------------------------------------------------

TEST_CASE("sequences are JSON lists", "[types]") {
    std::vector<int> ints{3, -1, 4};
    CHECK(to_value(ints).dump() == "[3, -1, 4]");
    CHECK_ROUND_TRIPS(ints);

    std::vector<bool> bools{true, false, true};
    const zanj::value vb = to_value(bools);
    REQUIRE(vb.is_list());
    CHECK(vb[0].is_bool());
    CHECK(vb.dump() == "[true, false, true]");
    CHECK_ROUND_TRIPS(bools);
    CHECK_ROUND_TRIPS(std::vector<bool>{});

    CHECK(to_value(std::vector<double>{}).dump() == "[]");
    CHECK_ROUND_TRIPS(std::vector<double>{});
    CHECK_ROUND_TRIPS(std::vector<std::string>{"a", "", "c"});

    std::vector<std::vector<int>> nested{{1}, {}, {2, 3}};
    CHECK(to_value(nested).dump() == "[[1], [], [2, 3]]");
    CHECK_ROUND_TRIPS(nested);
    CHECK_ROUND_TRIPS(std::vector<std::vector<std::vector<double>>>{{{1.5}}, {}});

    std::array<int, 3> arr{7, 8, 9};
    CHECK(to_value(arr).dump() == "[7, 8, 9]");
    CHECK_ROUND_TRIPS(arr);
    CHECK_ROUND_TRIPS((std::array<std::string, 2>{"x", "y"}));
    CHECK_ROUND_TRIPS((std::array<double, 0>{}));

    std::deque<double> dq{1.5, -2.5};
    CHECK(to_value(dq).dump() == "[1.5, -2.5]");
    CHECK_ROUND_TRIPS(dq);
    std::list<std::string> ls{"l", "i", "s", "t"};
    CHECK_ROUND_TRIPS(ls);
    CHECK_ROUND_TRIPS(std::deque<bool>{true, false});
    CHECK_ROUND_TRIPS(std::list<std::vector<int>>{{1}, {2, 3}});
}

TEST_CASE("pairs and tuples are JSON lists", "[types]") {
    std::pair<int, std::string> p{1, "one"};
    CHECK(to_value(p).dump() == R"([1, "one"])");
    CHECK_ROUND_TRIPS(p);

    std::tuple<int, double, std::string, bool, std::vector<int>> t{-3, 2.5, "s", true, {1, 2}};
    CHECK(to_value(t).dump() == R"([-3, 2.5, "s", true, [1, 2]])");
    CHECK_ROUND_TRIPS(t);
    CHECK_ROUND_TRIPS(std::tuple<std::optional<int>, std::pair<char, std::uint64_t>>{std::nullopt, {'c', 5}});
    CHECK_ROUND_TRIPS((std::vector<std::pair<std::string, int>>{{"a", 1}, {"b", 2}}));
}

// ---- maps and sets -----------------------------------------------------------------------------------

TEST_CASE("maps are JSON dicts with string keys", "[types]") {
    SECTION("string keys") {
        std::map<std::string, int> m{{"b", 2}, {"a", 1}, {"", 0}};
        CHECK(to_value(m).dump() == R"({"": 0, "a": 1, "b": 2})");
        CHECK_ROUND_TRIPS(m);
        CHECK_ROUND_TRIPS((std::map<std::string, int>{}));
    }
    SECTION("int keys, in numeric order") {
        std::map<int, std::string> m{{7, "seven"}, {-3, "neg"}, {0, "zero"}};
        const zanj::value v = to_value(m);
        CHECK(dict_keys(v) == std::vector<std::string>{"-3", "0", "7"});
        CHECK(v["-3"] == zanj::value("neg"));
        CHECK_ROUND_TRIPS(m);
    }
    SECTION("int64 keys at their limits, unordered map written sorted") {
        const auto min64 = std::numeric_limits<std::int64_t>::min();
        const auto max64 = std::numeric_limits<std::int64_t>::max();
        std::unordered_map<std::int64_t, double> m{{min64, 1.0}, {max64, 2.0}, {-1, 3.0}, {10, 4.0}, {2, 5.0}};
        const zanj::value v = to_value(m);
        auto keys = dict_keys(v);
        CHECK(keys == std::vector<std::string>{"-1", "-9223372036854775808", "10", "2", "9223372036854775807"});
        CHECK_ROUND_TRIPS(m);
    }
    SECTION("uint8 keys") {
        std::map<std::uint8_t, int> m{{0, 1}, {255, 2}, {7, 3}};
        CHECK(dict_keys(to_value(m)) == std::vector<std::string>{"0", "7", "255"});
        CHECK_ROUND_TRIPS(m);
        std::map<std::uint64_t, int> big{{std::numeric_limits<std::uint64_t>::max(), 1}};
        CHECK(dict_keys(to_value(big)) == std::vector<std::string>{"18446744073709551615"});
        CHECK_ROUND_TRIPS(big);
    }
    SECTION("enum keys, as their underlying integer") {
        using types_test::Color;
        std::map<Color, std::string> m{{Color::red, "r"}, {Color::green, "g"}, {Color::blue, "b"}};
        CHECK(dict_keys(to_value(m)) == std::vector<std::string>{"-1", "2", "127"});
        CHECK_ROUND_TRIPS(m);
        std::unordered_map<Color, int> um{{Color::red, 1}, {Color::blue, 2}};
        CHECK_ROUND_TRIPS(um);
    }
    SECTION("nested values") {
        std::unordered_map<std::string, std::vector<int>> m{{"x", {1, 2}}, {"y", {}}};
        CHECK(to_value(m).dump() == R"({"x": [1, 2], "y": []})");
        CHECK_ROUND_TRIPS(m);
        std::map<std::string, std::map<int, double>> mm{{"a", {{1, 1.5}}}, {"b", {}}};
        CHECK_ROUND_TRIPS(mm);
    }
}

TEST_CASE("sets are Python set items", "[types]") {
    std::set<int> s{3, 1, 2};
    const zanj::value v = to_value(s);
    CHECK(v.dump() == R"({"__muutils_format__": "set", "data": [1, 2, 3]})");
    CHECK(v.format() == "set");
    CHECK_ROUND_TRIPS(s);
    CHECK_ROUND_TRIPS(std::set<int>{});

    std::unordered_set<std::string> us{"b", "c", "a"};
    CHECK(to_value(us).dump() == R"({"__muutils_format__": "set", "data": ["a", "b", "c"]})");
    CHECK_ROUND_TRIPS(us);
    CHECK_ROUND_TRIPS((std::set<types_test::Color>{types_test::Color::green, types_test::Color::red}));

    SECTION("an untyped read gives a value_set") {
        zanj::ZANJ z;
        fs::path p = z.save(s, fresh_dir() / "x");
        const zanj::value tree = z.read(p);
        REQUIRE(tree.is_set());
        CHECK_FALSE(tree.as_set().frozen);
        CHECK(tree.as_set().items.size() == 3);
        CHECK(tree == zanj::value(zanj::value_set{{zanj::value(2), zanj::value(3), zanj::value(1)}, false}));
    }
}

// ---- enums and complex numbers ------------------------------------------------------------------

TEST_CASE("enums are saved as their underlying integer", "[types]") {
    using namespace types_test;
    CHECK(to_value(Tiny::lo).dump() == "-128");
    CHECK(to_value(Tiny::hi).dump() == "127");
    CHECK(to_value(Huge::top).dump() == "18446744073709551615");
    CHECK(to_value(plain_b).dump() == "5");
    CHECK_ROUND_TRIPS(Tiny::lo);
    CHECK_ROUND_TRIPS(Tiny::hi);
    CHECK_ROUND_TRIPS(Huge::top);
    CHECK_ROUND_TRIPS(Huge::zero);
    CHECK_ROUND_TRIPS(plain_b);
    CHECK_ROUND_TRIPS(Color::red);
}

TEMPLATE_TEST_CASE("complex numbers are [real, imag] lists", "[types]", std::complex<float>, std::complex<double>) {
    using C = TestType;
    C c(1.5f, -2.0f);
    CHECK(to_value(c).dump() == "[1.5, -2.0]");
    CHECK_ROUND_TRIPS(c);
    CHECK_ROUND_TRIPS(C());
    CHECK_ROUND_TRIPS((std::vector<C>{C(1, 2), C(-0.25f, 0.5f)}));
}

// ---- nlohmann::json ----------------------------------------------------------------------------------

TEST_CASE("nlohmann::json is passed through", "[types]") {
    nlohmann::json j = {
        {"int", -7},
        {"uint", std::numeric_limits<std::uint64_t>::max()},
        {"float", 2.5},
        {"str", "s\xc3\xa9"},
        {"null", nullptr},
        {"bool", true},
        {"list", {1, "two", 3.0, nullptr, {{"deep", {1, 2}}}}},
        {"obj", {{"a", {{"b", {{"c", "d"}}}}}}},
        {"empty_list", nlohmann::json::array()},
        {"empty_obj", nlohmann::json::object()},
    };
    const zanj::value v = to_value(j);
    REQUIRE(v.is_dict());
    CHECK(v["int"] == zanj::value(-7));
    CHECK(v["uint"].type() == zanj::value::kind::unsigned_integer);
    CHECK(v["list"].is_list());
    CHECK(v["obj"]["a"]["b"]["c"] == zanj::value("d"));
    CHECK(from_value<nlohmann::json>(v) == j);
    CHECK(via_archive(j) == j);

    nlohmann::ordered_json o;
    o["z"] = 1;
    o["a"] = 2;
    CHECK(to_value(o).dump() == R"({"z": 1, "a": 2})");
    CHECK_ROUND_TRIPS(o);

    nlohmann::json long_list = nlohmann::json::array();
    for (int i = 0; i < 300; ++i) long_list.push_back({{"i", i}});
    CHECK(via_archive(long_list) == long_list);
}

// ---- xtensor ---------------------------------------------------------------------------------------

namespace {

template <class T>
struct is_complex_t : std::false_type {};
template <class R>
struct is_complex_t<std::complex<R>> : std::true_type {};

/// Distinct, exactly representable values for element i.
template <class T>
T element(std::size_t i) {
    if constexpr (std::is_same_v<T, bool>) {
        return i % 3 == 0;
    } else if constexpr (is_complex_t<T>::value) {
        using R = typename T::value_type;
        return T(static_cast<R>(i) * R(0.5), -static_cast<R>(i % 17));
    } else if constexpr (std::is_floating_point_v<T>) {
        return static_cast<T>(static_cast<double>(i) * 0.5 - 3.0);
    } else if constexpr (std::is_signed_v<T>) {
        return static_cast<T>(static_cast<long long>(i % 100) - 50);
    } else {
        return static_cast<T>(i % 200);
    }
}

template <class Container>
void fill(Container& c) {
    using T = typename Container::value_type;
    std::size_t i = 0;
    for (auto it = c.template begin<xt::layout_type::row_major>(); it != c.template end<xt::layout_type::row_major>();
         ++it)
        *it = element<T>(i++);
}

template <class T>
xt::xarray<T> make_array(std::vector<std::size_t> shape) {
    xt::xarray<T> a = xt::xarray<T>::from_shape(shape);
    fill(a);
    return a;
}

/// The dtype a bare nested list (internal mode `list`) is read back as: numpy's inference.
template <class T>
zanj::dtype inferred_list_dtype() {
    if constexpr (std::is_same_v<T, bool>)
        return zanj::dtype::bool_;
    else if constexpr (is_complex_t<T>::value)
        return zanj::dtype_of<T>; // written as array_b64_meta
    else if constexpr (std::is_integral_v<T>)
        return zanj::dtype::int64;
    else
        return zanj::dtype::float64;
}

std::string expected_array_format(zanj::array_mode mode, bool complex) {
    if (complex && (mode == zanj::array_mode::array_list_meta || mode == zanj::array_mode::list))
        return "numpy.ndarray:array_b64_meta";
    switch (mode) {
    case zanj::array_mode::array_list_meta: return "numpy.ndarray:array_list_meta";
    case zanj::array_mode::array_hex_meta: return "numpy.ndarray:array_hex_meta";
    case zanj::array_mode::array_b64_meta: return "numpy.ndarray:array_b64_meta";
    case zanj::array_mode::list: return "";
    }
    return "?";
}

} // namespace

#define ZANJ_ELEMENT_TYPES                                                                                             \
    bool, std::int8_t, std::int16_t, std::int32_t, std::int64_t, std::uint8_t, std::uint16_t, std::uint32_t,           \
        std::uint64_t, float, double, std::complex<float>, std::complex<double>

TEMPLATE_TEST_CASE("xtensor containers of every element type round-trip", "[types][xtensor]", ZANJ_ELEMENT_TYPES) {
    using T = TestType;
    const std::string dtype_name(zanj::dtype_name(zanj::dtype_of<T>));
    const bool complex = is_complex_t<T>::value;

    SECTION("xt::xarray, small, inline") {
        auto a = make_array<T>({2, 3});
        const zanj::value v = to_value(a);
        REQUIRE(v.is_dict());
        CHECK(v.format() == expected_array_format(zanj::array_mode::array_list_meta, complex));
        CHECK(v["dtype"] == zanj::value(dtype_name));
        CHECK(v["shape"].dump() == "[2, 3]");
        CHECK(v["n_elements"] == zanj::value(6));
        CHECK((from_value<xt::xarray<T>>(v) == a));
        CHECK((via_archive(a) == a));
    }
    SECTION("xt::xtensor<T, 2> and rank 3") {
        xt::xtensor<T, 2> t = xt::xtensor<T, 2>::from_shape({3, 4});
        fill(t);
        CHECK_ROUND_TRIPS(t);
        xt::xtensor<T, 3> t3 = xt::xtensor<T, 3>::from_shape({2, 1, 3});
        fill(t3);
        CHECK_ROUND_TRIPS(t3);
        CHECK(to_value(t3)["shape"].dump() == "[2, 1, 3]");
    }
    SECTION("xt::xtensor_fixed<T, xt::xshape<2, 3>>") {
        using fixed = xt::xtensor_fixed<T, xt::xshape<2, 3>>;
        fixed f;
        fill(f);
        CHECK(to_value(f)["shape"].dump() == "[2, 3]");
        CHECK_ROUND_TRIPS(f);
        // Saved fixed, read as a dynamic array, and back.
        auto a = make_array<T>({2, 3});
        CHECK((from_value<fixed>(to_value(a)) == f));
    }
    SECTION("0-d array: a zero_dim item (complex ones, which JSON cannot hold, in base64 or hex)") {
        xt::xarray<T> a = xt::xarray<T>::from_shape({});
        REQUIRE(a.size() == 1);
        a.data()[0] = element<T>(7);
        for (auto mode : {zanj::array_mode::array_list_meta, zanj::array_mode::array_hex_meta,
                          zanj::array_mode::array_b64_meta, zanj::array_mode::list}) {
            zanj::config cfg;
            cfg.internal_array_mode = mode;
            const zanj::value v = to_value(a, cfg);
            if constexpr (zanj::is_complex(zanj::dtype_of<T>)) {
                CHECK(v.format() == (mode == zanj::array_mode::array_hex_meta ? "numpy.ndarray:array_hex_meta"
                                                                              : "numpy.ndarray:array_b64_meta"));
            } else {
                CHECK(v.format() == "numpy.ndarray:zero_dim");
            }
            CHECK(v["shape"].dump() == "[]");
            CHECK(v["dtype"] == zanj::value(dtype_name));
            CHECK(v["n_elements"] == zanj::value(1));
            CHECK((from_value<xt::xarray<T>>(v, cfg) == a));
            CHECK((via_archive(a, cfg) == a));
        }
        xt::xtensor<T, 0> t0 = xt::xtensor<T, 0>::from_shape({});
        t0.data()[0] = element<T>(3);
        CHECK_ROUND_TRIPS(t0);
    }
    SECTION("empty arrays") {
        for (std::vector<std::size_t> shape :
             {std::vector<std::size_t>{0}, std::vector<std::size_t>{2, 0}, std::vector<std::size_t>{0, 3}}) {
            auto a = make_array<T>(shape);
            REQUIRE(a.size() == 0);
            const zanj::value v = to_value(a);
            CHECK(v["n_elements"] == zanj::value(0));
            auto back = via_memory(a);
            CHECK(std::vector<std::size_t>(back.shape().begin(), back.shape().end()) == shape);
            auto back2 = via_archive(a);
            CHECK(std::vector<std::size_t>(back2.shape().begin(), back2.shape().end()) == shape);
        }
        xt::xtensor<T, 2> e = xt::xtensor<T, 2>::from_shape({2, 0});
        CHECK_ROUND_TRIPS(e);
    }
    SECTION("column-major data is written in C order") {
        xt::xarray<T, xt::layout_type::column_major> c =
            xt::xarray<T, xt::layout_type::column_major>::from_shape({3, 4});
        fill(c); // in row-major traversal order, so it equals make_array({3, 4})
        auto row = make_array<T>({3, 4});
        CHECK(to_value(c) == to_value(row));
        CHECK_ROUND_TRIPS(c);
        CHECK((from_value<xt::xarray<T>>(to_value(c)) == row));
        zanj::config hex;
        hex.internal_array_mode = zanj::array_mode::array_hex_meta;
        CHECK(to_value(c, hex) == to_value(row, hex));
        // Large: through an .npy member.
        xt::xarray<T, xt::layout_type::column_major> big =
            xt::xarray<T, xt::layout_type::column_major>::from_shape({20, 15});
        fill(big);
        CHECK((via_archive(big) == big));
        CHECK((via_archive(big) == make_array<T>({20, 15})));
    }
    SECTION("large arrays become .npy members") {
        std::map<std::string, xt::xarray<T>> m{{"big", make_array<T>({16, 20})}, {"small", make_array<T>({255})}};
        zanj::ZANJ z;
        fs::path p = z.save(m, fresh_dir() / "x");
        const zanj::value meta = z.read_meta(p);
        CHECK(external_members(meta) == std::vector<std::string>{"big.npy"});
        const zanj::value& info = meta["externals_info"]["big.npy"];
        CHECK(info["item_type"] == zanj::value("npy"));
        CHECK(info["path"].dump() == R"(["big"])");
        CHECK(info["dtype"] == zanj::value(dtype_name));
        CHECK(info["shape"].dump() == "[16, 20]");
        CHECK(contains(member_names(p), "big.npy"));
        CHECK((z.read<std::map<std::string, xt::xarray<T>>>(p) == m));

        const zanj::value tree = z.read(p);
        REQUIRE(tree["big"].is_array());
        CHECK(tree["big"].as_array().type() == zanj::dtype_of<T>);
        CHECK(tree["big"].as_array().shape() == zanj::shape_type{16, 20});
        REQUIRE(tree["small"].is_array());
        CHECK(tree["small"].as_array().shape() == zanj::shape_type{255});

        // At the root of the tree, too.
        auto root = make_array<T>({300});
        CHECK((via_archive(root) == root));
    }
    SECTION("every internal array mode") {
        auto a = make_array<T>({2, 3});
        for (auto mode : {zanj::array_mode::array_list_meta, zanj::array_mode::array_hex_meta,
                          zanj::array_mode::array_b64_meta, zanj::array_mode::list}) {
            CAPTURE(zanj::to_string(mode));
            zanj::config cfg;
            cfg.internal_array_mode = mode;
            const zanj::value v = to_value(a, cfg);
            const std::string format = expected_array_format(mode, complex);
            CHECK(v.format() == format);
            if (format == "numpy.ndarray:array_hex_meta") {
                CHECK(v["data"].as_string().size() == 2 * a.size() * sizeof(T));
            } else if (format == "numpy.ndarray:array_b64_meta") {
                CHECK(v["data"].as_string().size() == (a.size() * sizeof(T) + 2) / 3 * 4);
            } else if (format == "numpy.ndarray:array_list_meta") {
                CHECK(v["data"].is_list());
            }
            if (mode != zanj::array_mode::list || complex) {
                CHECK(v["dtype"] == zanj::value(dtype_name));
                CHECK((from_value<xt::xarray<T>>(v, cfg) == a));
                CHECK((via_archive(a, cfg) == a));
                continue;
            }
            // Mode `list` writes a bare nested list: the dtype is gone, and a typed read gets
            // numpy's inferred dtype back.
            REQUIRE(v.is_list());
            REQUIRE(v.size() == 2);
            CHECK(v[0].size() == 3);
            const zanj::ndarray inferred = from_value<zanj::ndarray>(v, cfg);
            CHECK(inferred.type() == inferred_list_dtype<T>());
            CHECK(inferred.shape() == zanj::shape_type{2, 3});
            if (inferred_list_dtype<T>() == zanj::dtype_of<T>) {
                CHECK((from_value<xt::xarray<T>>(v, cfg) == a));
                CHECK((via_archive(a, cfg) == a));
            } else {
                const std::string message = "dtype mismatch: the archive holds " +
                                            std::string(zanj::dtype_name(inferred_list_dtype<T>())) +
                                            ", xt::xarray needs " + dtype_name;
                CHECK_THROWS_AS(from_value<xt::xarray<T>>(v, cfg), zanj::type_error);
                CHECK_THROWS_WITH(from_value<xt::xarray<T>>(v, cfg), Catch::Contains(message));
                CHECK_THROWS_AS(via_archive(a, cfg), zanj::type_error);
                CHECK_THROWS_WITH(via_archive(a, cfg), Catch::Contains(message));
                // The values themselves survive: the inferred array converts back.
                xt::xarray<T> converted = xt::xarray<T>::from_shape({2, 3});
                std::size_t i = 0;
                if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                    for (auto x : inferred.template values<std::int64_t>()) converted.data()[i++] = static_cast<T>(x);
                } else if constexpr (std::is_floating_point_v<T>) {
                    for (auto x : inferred.template values<double>()) converted.data()[i++] = static_cast<T>(x);
                }
                CHECK((converted == a));
            }
        }
    }
}

TEST_CASE("a list of arrays is a list of array items; a 1-d array loads into a vector", "[types][xtensor]") {
    std::vector<xt::xarray<double>> arrays{make_array<double>({2}), make_array<double>({1, 1}), make_array<double>({})};
    const zanj::value v = to_value(arrays);
    REQUIRE(v.is_list());
    CHECK(v[2].format() == "numpy.ndarray:zero_dim");
    CHECK(via_memory(arrays).size() == 3);
    auto back = via_archive(arrays);
    REQUIRE(back.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK((back[i] == arrays[i]));

    // A vector of an element type reads a 1-d array of that dtype.
    auto a = make_array<std::int32_t>({5});
    CHECK(from_value<std::vector<std::int32_t>>(to_value(a)) == std::vector<std::int32_t>{-50, -49, -48, -47, -46});
}

// ---- zanj::value and zanj::ndarray --------------------------------------------------------------------

TEST_CASE("zanj::ndarray round-trips", "[types]") {
    std::vector<float> data{1, 2, 3, 4, 5, 6};
    zanj::ndarray nd = zanj::ndarray::from(std::span<const float>(data), {2, 3});
    const zanj::value v = to_value(nd);
    CHECK(v.format() == "numpy.ndarray:array_list_meta");
    CHECK(v["dtype"] == zanj::value("float32"));
    CHECK_ROUND_TRIPS(nd);

    std::vector<std::uint16_t> big(1000);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint16_t>(i * 37);
    zanj::ndarray large = zanj::ndarray::from(std::span<const std::uint16_t>(big), {10, 100});
    CHECK_ROUND_TRIPS(large);
    CHECK_ROUND_TRIPS(zanj::ndarray(zanj::dtype::complex128, {0, 4}));
    CHECK_ROUND_TRIPS(zanj::ndarray(zanj::dtype::int8, {}));
}

TEST_CASE("zanj::value round-trips, arrays, sets and long lists included", "[types]") {
    std::vector<double> d(300);
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<double>(i) / 4;
    zanj::value::list_type long_list;
    for (int i = 0; i < 300; ++i) long_list.emplace_back(i);

    zanj::value tree = zanj::value::dict();
    tree["int"] = -5;
    tree["uint"] = std::numeric_limits<std::uint64_t>::max();
    tree["float"] = 0.25;
    tree["str"] = "text";
    tree["null"] = nullptr;
    tree["bool"] = false;
    tree["list"] = zanj::value::list_type{zanj::value(1), zanj::value("two")};
    tree["set"] = zanj::value_set{{zanj::value(1), zanj::value("a")}, false};
    tree["frozen"] = zanj::value_set{{zanj::value(2.5)}, true};
    tree["small_array"] = zanj::ndarray::from(std::span<const double>(d.data(), 6), {2, 3});
    tree["big_array"] = zanj::ndarray::from(std::span<const double>(d), {300});
    tree["long_list"] = long_list;
    tree["nested"]["deeper"]["deepest"] = zanj::value::list();

    CHECK(via_memory(tree) == tree);

    zanj::ZANJ z;
    fs::path p = z.save(tree, fresh_dir() / "x");
    auto externals = external_members(z.read_meta(p));
    CHECK(contains(externals, "big_array.npy"));
    CHECK(contains(externals, "long_list.jsonl"));
    const zanj::value back = z.read(p);
    CHECK(back == tree);
    CHECK(back["frozen"].as_set().frozen);
    CHECK(back["long_list"].is_list());
    CHECK(back["long_list"].size() == 300);
    CHECK(back["big_array"].as_array().type() == zanj::dtype::float64);
    CHECK(z.read<zanj::value>(p) == tree);
}

// ---- user types --------------------------------------------------------------------------------------

namespace {

types_test::Inner make_inner(const std::string& name, std::size_t n) {
    return {name,
            make_array<float>({n}),
            {{"a", 1}, {name, static_cast<int>(n)}},
            n % 2 ? std::optional<double>(0.5) : std::nullopt};
}

} // namespace

TEST_CASE("nested dataclasses round-trip", "[types][dataclass]") {
    using namespace types_test;
    Outer o{"title",
            {make_inner("first", 3), make_inner("second", 4), make_inner("big", 400)},
            {"x", "y"},
            make_inner("extra", 1)};
    const zanj::value v = to_value(o);
    CHECK(v.format() == "Outer(SerializableDataclass)");
    CHECK(dict_keys(v) == std::vector<std::string>{"__muutils_format__", "title", "items", "tags", "extra"});
    CHECK(v["items"][0].format() == "Inner(SerializableDataclass)");
    CHECK(v["items"][0]["scale"] == zanj::value(0.5));
    CHECK(v["items"][1]["scale"].is_null());
    CHECK(v["tags"].format() == "set");
    CHECK_ROUND_TRIPS(o);

    Outer empty{};
    CHECK_ROUND_TRIPS(empty);

    zanj::ZANJ z;
    fs::path p = z.save(o, fresh_dir() / "x");
    CHECK(external_members(z.read_meta(p)) == std::vector<std::string>{"items/2/w.npy"});
}

TEST_CASE("ZANJ_DATACLASS_NAMED sets the Python class name", "[types][dataclass]") {
    types_test::Renamed r{3, "b"};
    const zanj::value v = to_value(r);
    CHECK(v.format() == "PyName(SerializableDataclass)");
    CHECK(zanj::handler<types_test::Renamed>::format_key() == "PyName(SerializableDataclass)");
    CHECK(v.dump() == R"j({"__muutils_format__": "PyName(SerializableDataclass)", "a": 3, "b": "b"})j");
    CHECK_ROUND_TRIPS(r);
}

TEST_CASE("a handwritten handler specialisation", "[types]") {
    types_test::Celsius c{21.5};
    CHECK(to_value(c).dump() == R"({"__muutils_format__": "Celsius", "degrees": 21.5})");
    CHECK_ROUND_TRIPS(c);
    CHECK_ROUND_TRIPS((std::vector<types_test::Celsius>{{1}, {-40}}));

    zanj::ZANJ z;
    fs::path p = z.save(c, fresh_dir() / "x");
    // Unknown to untyped reads until registered.
    CHECK_THROWS_AS(z.read(p), zanj::type_error);
    z.register_type<types_test::Celsius>();
    const zanj::value tree = z.read(p);
    REQUIRE(tree.instance<types_test::Celsius>() != nullptr);
    CHECK(*tree.instance<types_test::Celsius>() == c);
}

TEST_CASE("ADL zanj_serialize / zanj_load free functions", "[types]") {
    adl_ns::Vec2 p{3, -4};
    CHECK(to_value(p).dump() == "[3, -4]");
    CHECK_ROUND_TRIPS(p);
    CHECK_ROUND_TRIPS((std::map<std::string, adl_ns::Vec2>{{"a", {1, 2}}}));
    CHECK_ROUND_TRIPS((std::optional<adl_ns::Vec2>{}));
}

TEST_CASE("a user handler for std::vector<MyPoint> beats the built-in vector handler", "[types]") {
    using types_test::MyPoint;
    std::vector<MyPoint> points{{1, 2}, {3, 4.5}};
    const zanj::value v = to_value(points);
    CHECK(v.dump() == R"({"xs": [1.0, 3.0], "ys": [2.0, 4.5]})");
    CHECK_ROUND_TRIPS(points);

    types_test::Cloud cloud{"c", points};
    CHECK(to_value(cloud)["points"].is_dict());
    CHECK_ROUND_TRIPS(cloud);

    // Other vectors of dataclasses still go through the built-in handler.
    std::vector<types_test::Renamed> others{{1, "x"}};
    CHECK(to_value(others).is_list());
}

// ---- long lists and nested externals ------------------------------------------------------------------

TEST_CASE("long lists become .jsonl members, with .npy members nested inside", "[types][externals]") {
    using namespace types_test;
    Big big;
    for (int i = 0; i < 300; ++i) big.ints.push_back(i * i - 7);
    for (int i = 0; i < 300; ++i) {
        Item item{make_array<float>({300}), i};
        item.w += static_cast<float>(i);
        big.items.push_back(std::move(item));
    }

    zanj::ZANJ z;
    fs::path p = z.save(big, fresh_dir() / "big");
    CHECK(p.filename() == "big.zanj");

    const zanj::value meta = z.read_meta(p);
    auto externals = external_members(meta);
    CHECK(externals.size() == 302);
    CHECK(contains(externals, "ints.jsonl"));
    CHECK(contains(externals, "items.jsonl"));
    CHECK(contains(externals, "items/0/w.npy"));
    CHECK(contains(externals, "items/3/w.npy"));
    CHECK(contains(externals, "items/299/w.npy"));
    const zanj::value& info = meta["externals_info"]["items/3/w.npy"];
    CHECK(info["item_type"] == zanj::value("npy"));
    CHECK(info["path"].dump() == R"(["items", 3, "w"])");
    CHECK(meta["externals_info"]["items.jsonl"]["item_type"] == zanj::value("jsonl"));
    CHECK(meta["externals_info"]["ints.jsonl"]["path"].dump() == R"(["ints"])");

    auto members = member_names(p);
    CHECK(contains(members, "ints.jsonl"));
    CHECK(contains(members, "items/3/w.npy"));
    CHECK(members.size() == 304);

    // The .jsonl member: one JSON value per line.
    std::string ints = member_text(p, "ints.jsonl");
    CHECK(std::count(ints.begin(), ints.end(), '\n') == 300);
    CHECK(ints.substr(0, 6) == "-7\n-6\n");

    CHECK(z.read<Big>(p) == big);

    SECTION("untyped") {
        const zanj::value tree = z.read(p);
        REQUIRE(tree["ints"].is_list());
        CHECK(tree["ints"].size() == 300);
        CHECK(tree["ints"][2] == zanj::value(-3));
        REQUIRE(tree["items"].is_list());
        REQUIRE(tree["items"].size() == 300);
        const zanj::value& item = tree["items"][3];
        CHECK(item.format() == "Item(SerializableDataclass)");
        REQUIRE(item["w"].is_array());
        CHECK(item["w"].as_array().type() == zanj::dtype::float32);
        CHECK(item["w"].as_array().shape() == zanj::shape_type{300});
        CHECK(item["w"].as_array().values<float>()[0] == -3.0f + 3.0f);
    }
    SECTION("registered types") {
        z.register_type<Item>();
        z.register_type<Big>();
        const zanj::value tree = z.read(p);
        REQUIRE(tree.instance<Big>() != nullptr);
        CHECK(*tree.instance<Big>() == big);
        REQUIRE(tree["items"][5].instance<Item>() != nullptr);
        CHECK(*tree["items"][5].instance<Item>() == big.items[5]);
    }
}

TEST_CASE("a long list of ints and of strings", "[types][externals]") {
    std::map<std::string, std::vector<std::string>> m;
    for (int i = 0; i < 256; ++i) {
        std::string s = "s";
        s += std::to_string(i);
        s += "\n\"quoted\"";
        m["strings"].push_back(s);
    }
    m["short"] = {"a"};
    zanj::ZANJ z;
    fs::path p = z.save(m, fresh_dir() / "x");
    CHECK(external_members(z.read_meta(p)) == std::vector<std::string>{"strings.jsonl"});
    CHECK(z.read<decltype(m)>(p) == m);

    std::vector<int> v(255, 1); // just under the threshold: inline
    fs::path q = z.save(v, fresh_dir() / "y");
    CHECK(external_members(z.read_meta(q)).empty());
    CHECK(z.read<std::vector<int>>(q) == v);
}

namespace types_test {
// Keeps what the serializer sends to .jsonl members.
struct jsonl_capture final : zanj::detail::external_sink {
    struct member {
        std::string name, lines;
        std::size_t length;
        bool operator==(const member&) const = default;
    };
    std::vector<member> members;
    void add_npy(const std::string& m, const zanj::object_path&, const zanj::array_view&,
                 const zanj::compression&) override {
        FAIL("unexpected array member " << m);
    }
    void add_npy_chunked(const std::string& m, const zanj::object_path&, const zanj::chunked_array&,
                         const zanj::compression&) override {
        FAIL("unexpected array member " << m);
    }
    void add_jsonl(const std::string& m, const zanj::object_path&, std::vector<std::string> pieces, std::size_t length,
                   std::string_view, const zanj::compression&) override {
        std::string lines;
        for (const std::string& piece : pieces) lines += piece;
        members.push_back({m, std::move(lines), length});
    }
};
} // namespace types_test

TEST_CASE("a long list is written line by line, with the member and stub of a list made whole first",
          "[types][externals]") {
    using types_test::jsonl_capture;
    zanj::config cfg;
    cfg.external_list_threshold = 4;
    // serialize_sequence writes each item's line as it is made; finish_sequence is given the
    // items made beforehand (vector<bool>, tables). Both must write the same.
    auto both_ways = [&](const std::vector<zanj::value>& items) {
        jsonl_capture streamed_sink, collected_sink;
        zanj::serializer streaming(cfg, &streamed_sink), collecting(cfg, &collected_sink);
        const zanj::value streamed = streaming.serialize_sequence(items);
        const zanj::value collected = collecting.finish_sequence(zanj::value::list_type(items));
        CHECK(streamed == collected);
        CHECK(streamed.dump() == collected.dump()); // same keys in the same order
        REQUIRE(streamed_sink.members.size() == 1);
        CHECK(streamed_sink.members == collected_sink.members);
        CHECK(streamed_sink.members[0].length == items.size());
        return std::pair(streamed, streamed_sink.members[0].lines);
    };

    SECTION("records whose keys change order, go missing and change type") {
        std::vector<zanj::value> rows;
        for (int i = 0; i < 9; ++i) {
            zanj::value::dict_type d;
            if (i % 3 == 1) d.insert_or_assign("b", "x" + std::to_string(i));
            d.insert_or_assign("a", i % 2 ? zanj::value(i) : zanj::value(i * 0.5));
            if (i % 3 != 1) d.insert_or_assign("b", i);
            if (i == 4) d.insert_or_assign("c", zanj::value());
            rows.emplace_back(std::move(d));
        }
        const auto [stub, lines] = both_ways(rows);
        CHECK(stub["len(data)"] == zanj::value(9));
        CHECK(stub["data[0]"].dump() == R"({"a": 0.0, "b": 0})");
        CHECK(stub["columns"].dump() == R"({"a": {"types": ["float", "int"], "len": 9}, )"
                                        R"("b": {"types": ["int", "str"], "len": 9}, )"
                                        R"("c": {"types": ["NoneType"], "len": 1}})");
        CHECK(std::count(lines.begin(), lines.end(), '\n') == 9);
        CHECK(lines.starts_with("{\"a\": 0.0, \"b\": 0}\n{\"b\": \"x1\", \"a\": 1}\n"));
    }
    SECTION("items that are not all dicts get no summary") {
        std::vector<zanj::value> mixed{zanj::value(1), zanj::value("two"), zanj::value(zanj::value::dict_type{}),
                                       zanj::value(4.5), zanj::value()};
        const auto [stub, lines] = both_ways(mixed);
        CHECK(stub.size() == 2); // the format and the member
        CHECK(lines == "1\n\"two\"\n{}\n4.5\nnull\n");
    }
    SECTION("a bad item is named by its index, before anything is written") {
        std::vector<std::string> strings(6, "fine");
        strings[5] = "\xff";
        jsonl_capture sink;
        zanj::serializer s(cfg, &sink);
        try {
            s.serialize_sequence(strings);
            FAIL("an invalid string was written");
        } catch (const zanj::type_error& e) {
            CHECK(e.object_path() == "/5");
        }
        CHECK(sink.members.empty());
    }
}

namespace types_test {
struct plain_point {
    double x = 0;
    std::int32_t y = 0;
    bool operator==(const plain_point&) const = default;
};
ZANJ_DATACLASS(plain_point, x, y);
// Every kind of field the direct text path writes: all of them have a write_json.
struct plain_row {
    std::int64_t id = 0;
    std::uint64_t big = 0;
    std::string name;
    double score = 0;
    float ratio = 0;
    bool flag = false;
    char letter = 'a';
    plain_point at;
    bool operator==(const plain_row&) const = default;
};
ZANJ_DATACLASS(plain_row, id, big, name, score, ratio, flag, letter, at);
struct versioned_row {
    int a = 0;
    std::string b;
};
ZANJ_DATACLASS(versioned_row, a, b);
ZANJ_SCHEMA(versioned_row, zanj::schema_version(2));
// A field without write_json: its rows go through values.
struct row_with_list {
    int a = 0;
    std::vector<int> b;
};
ZANJ_DATACLASS(row_with_list, a, b);

plain_row make_plain_row(std::size_t i) {
    static const std::string names[] = {
        "plain", "quote \" and back\\slash", "new\nline\ttab\x01\x1f", "h\xc3\xa9llo \xe2\x9c\x93",
        "",      "/slash/ \xf0\x9f\x98\x80"};
    static const double scores[] = {0.5,
                                    1.0,
                                    -0.0,
                                    1e300,
                                    5e-324,
                                    std::numeric_limits<double>::quiet_NaN(),
                                    std::numeric_limits<double>::infinity(),
                                    -std::numeric_limits<double>::infinity(),
                                    0.1 + 0.2};
    const auto n = static_cast<std::int64_t>(i);
    return {i % 5 == 0 ? std::numeric_limits<std::int64_t>::min() + n : -n,
            std::numeric_limits<std::uint64_t>::max() - i,
            names[i % 6] + std::to_string(i),
            scores[i % 9] * static_cast<double>(i % 3 + 1),
            static_cast<float>(i) / 7.0f,
            i % 2 == 0,
            static_cast<char>('a' + i % 26),
            {static_cast<double>(i) * 0.25, static_cast<std::int32_t>(i % 1000) - 500}};
}

// A registry whose one marshaler is for a type no row has: the serializer then makes a value
// of every item, as it did before items wrote their own text.
const zanj::marshaler_registry& unrelated_marshaler() {
    static const zanj::loader_registry registry = [] {
        zanj::loader_registry r;
        r.add_marshaler<std::complex<float>>(
            {.format = "test.unused",
             .serialize = [](const std::complex<float>&, zanj::serializer&) { return zanj::value(0); },
             .load = [](const zanj::value&, zanj::loader&) { return std::complex<float>(); }});
        return r;
    }();
    return registry.marshalers();
}

// The stub and member of `items` as a list, written once straight from the objects and once
// through values, which must agree byte for byte.
template <class Range>
std::pair<zanj::value, std::string> lines_both_ways(const Range& items, const zanj::config& cfg) {
    jsonl_capture direct_sink, value_sink;
    zanj::serializer direct(cfg, &direct_sink), through_values(cfg, &value_sink, &unrelated_marshaler());
    const zanj::value direct_stub = direct.serialize_sequence(items);
    const zanj::value value_stub = through_values.serialize_sequence(items);
    CHECK(direct_stub.dump() == value_stub.dump());
    REQUIRE(direct_sink.members.size() == 1);
    REQUIRE(value_sink.members.size() == 1);
    CHECK(direct_sink.members[0].length == items.size());
    const bool same_lines = direct_sink.members[0].lines == value_sink.members[0].lines;
    CHECK(same_lines);
    return {direct_stub, direct_sink.members[0].lines};
}
} // namespace types_test

TEST_CASE("long lists of plain records are written straight from the objects, as their values would be",
          "[types][externals]") {
    using namespace types_test;
    zanj::config cfg;
    cfg.external_list_threshold = 4;
    // Over two parts of 8,192 lines: written on several threads when the setting allows.
    const std::size_t count = GENERATE(as<std::size_t>{}, 5, 20000);
    cfg.threads = GENERATE(1u, 4u);
    CAPTURE(count, cfg.threads);
    std::vector<plain_row> rows;
    for (std::size_t i = 0; i < count; ++i) rows.push_back(make_plain_row(i));

    SECTION("a vector, split among threads") {
        const auto [stub, lines] = lines_both_ways(rows, cfg);
        CHECK(std::count(lines.begin(), lines.end(), '\n') == static_cast<std::ptrdiff_t>(count));
        CHECK(stub["len(data)"] == zanj::value(count));
        CHECK(stub["columns"]["name"].dump() == R"~({"types": ["str"], "len": )~" + std::to_string(count) + "}");
        CHECK(stub["columns"]["at"].dump() == R"~({"types": ["dict"], "len": )~" + std::to_string(count) + "}");
        CHECK(
            lines.starts_with(R"~({"__muutils_format__": "plain_row(SerializableDataclass)", "id": )~"
                              R"~(-9223372036854775808, "big": 18446744073709551615, "name": "plain0", )~"
                              R"~("score": 0.5, "ratio": 0.0, "flag": true, "letter": 97, "at": )~"
                              R"~({"__muutils_format__": "plain_point(SerializableDataclass)", "x": 0.0, "y": -500}})~"
                              "\n"));
        if (count > 8) {
            CHECK(lines.find(R"~("name": "quote \" and back\\slash1")~") != std::string::npos);
            CHECK(lines.find(R"~("name": "new\nline\ttab\u0001\u001f2")~") != std::string::npos);
            CHECK(lines.find(R"~("score": NaN)~") != std::string::npos);
            CHECK(lines.find(R"~("score": -Infinity)~") != std::string::npos);
        }
    }
    SECTION("a list, one item after the other") {
        const std::list<plain_row> listed(rows.begin(), rows.end());
        lines_both_ways(listed, cfg);
    }
    SECTION("a versioned dataclass") {
        std::vector<versioned_row> versioned;
        for (std::size_t i = 0; i < count; ++i) versioned.push_back({static_cast<int>(i), "b" + std::to_string(i)});
        const auto [stub, lines] = lines_both_ways(versioned, cfg);
        CHECK(lines.starts_with(R"~({"__muutils_format__": "versioned_row(SerializableDataclass)", )~"
                                R"~("__zanj_version__": 2, "a": 0, "b": "b0"})~"
                                "\n"));
    }
    SECTION("rows with a field that has no write_json") {
        std::vector<row_with_list> listy(count, row_with_list{1, {2, 3}});
        const auto [stub, lines] = lines_both_ways(listy, cfg);
        CHECK(
            lines.starts_with(R"~({"__muutils_format__": "row_with_list(SerializableDataclass)", "a": 1, "b": [2, 3]})~"
                              "\n"));
    }
    SECTION("the round trip") {
        zanj::ZANJ z(cfg);
        const fs::path p = z.save(rows, fresh_dir() / "rows");
        const auto back = z.read<std::vector<plain_row>>(p);
        REQUIRE(back.size() == rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            // NaN is not equal to itself: compare its text instead.
            if (std::isnan(rows[i].score)) {
                CHECK(std::isnan(back[i].score));
                plain_row a = rows[i], b = back[i];
                a.score = b.score = 0;
                CHECK(a == b);
            } else {
                CHECK(back[i] == rows[i]);
            }
        }
    }
}

TEST_CASE("a plain record that cannot be written straight goes through its value, which names it",
          "[types][externals]") {
    using namespace types_test;
    zanj::config cfg;
    cfg.external_list_threshold = 4;
    cfg.threads = GENERATE(1u, 4u);
    // In the first part, in a later one, and the very first item (always written as a value).
    const std::size_t bad = GENERATE(as<std::size_t>{}, 0, 3, 17000);
    CAPTURE(cfg.threads, bad);
    std::vector<plain_row> rows;
    for (std::size_t i = 0; i < 20000; ++i) rows.push_back(make_plain_row(i));
    rows[bad].name = "bad \xff byte";
    rows[19999].at.x = 1.5; // a part after the bad item still gets written

    SECTION("error_mode except: a type_error at the item's field") {
        jsonl_capture sink;
        zanj::serializer s(cfg, &sink);
        try {
            s.serialize_sequence(rows);
            FAIL("an invalid string was written");
        } catch (const zanj::type_error& e) {
            CHECK(e.object_path() == "/" + std::to_string(bad) + "/name");
        }
        CHECK(sink.members.empty());
    }
    SECTION("error_mode warn: one warning, the item written as its value path writes it") {
        cfg.error_mode = zanj::error_mode::warn;
        std::vector<std::string> warnings;
        cfg.warning_sink = [&](std::string_view w) { warnings.emplace_back(w); };
        const auto [stub, lines] = lines_both_ways(rows, cfg);
        REQUIRE(warnings.size() == 2); // once each way
        CHECK(warnings[0] == warnings[1]);
        CHECK(warnings[0].find("/" + std::to_string(bad) + "/name") != std::string::npos);
        CHECK(lines.find("not serialized") != std::string::npos);
        CHECK(std::count(lines.begin(), lines.end(), '\n') == 20000);
    }
}

TEST_CASE("a run-time marshaler for a field's type applies to the rows of a long list", "[types][externals]") {
    using namespace types_test;
    zanj::config cfg;
    cfg.external_list_threshold = 4;
    zanj::loader_registry registry;
    registry.add_marshaler<double>(
        {.format = "test.double_as_text", .serialize = [](const double& d, zanj::serializer&) {
             return zanj::value("d=" + std::to_string(static_cast<int>(d)));
         }});
    std::vector<plain_point> points(10, plain_point{2.0, 1});
    jsonl_capture sink;
    zanj::serializer s(cfg, &sink, &registry.marshalers());
    s.serialize_sequence(points);
    REQUIRE(sink.members.size() == 1);
    CHECK(sink.members[0].lines.starts_with(
        R"~({"__muutils_format__": "plain_point(SerializableDataclass)", "x": "d=2", "y": 1})~"
        "\n"));
}

// ---- untyped reads ---------------------------------------------------------------------------------------

TEST_CASE("untyped reads rebuild arrays, sets and registered types", "[types][untyped]") {
    using namespace types_test;
    Model model{{{"embed", make_array<float>({4, 8}), {4, 8}}, {"head", make_array<float>({20, 20}), {20, 20}}},
                {3, 1, 2},
                {{"loss", 0.5}}};
    zanj::ZANJ z;
    fs::path p = z.save(model, fresh_dir() / "x");

    const zanj::value tree = z.read(p);
    CHECK(tree.format() == "Model(SerializableDataclass)");
    CHECK_FALSE(tree.has_instance());
    const zanj::value& layer0 = tree["layers"][0];
    CHECK(layer0["name"] == zanj::value("embed"));
    REQUIRE(layer0["w"].is_array());
    CHECK(layer0["w"].as_array().type() == zanj::dtype::float32);
    CHECK(layer0["w"].as_array().shape() == zanj::shape_type{4, 8});
    REQUIRE(tree["layers"][1]["w"].is_array()); // the external one
    CHECK(tree["layers"][1]["w"].as_array().shape() == zanj::shape_type{20, 20});
    CHECK(tree["ids"].is_set());
    CHECK(tree["metrics"]["loss"] == zanj::value(0.5));
    CHECK(layer0.instance<Layer>() == nullptr);

    z.register_type<Layer>();
    const zanj::value typed = z.read(p);
    REQUIRE(typed["layers"][0].instance<Layer>() != nullptr);
    CHECK(*typed["layers"][0].instance<Layer>() == model.layers[0]);
    REQUIRE(typed["layers"][1].instance<Layer>() != nullptr);
    CHECK(*typed["layers"][1].instance<Layer>() == model.layers[1]);
    CHECK(typed["layers"][0].instance<Model>() == nullptr);
    CHECK(typed.instance<Model>() == nullptr);
    // The dict stays readable alongside the instance.
    CHECK(typed["layers"][0]["name"] == zanj::value("embed"));

    z.register_type<Model>();
    const zanj::value whole = z.read(p);
    REQUIRE(whole.instance<Model>() != nullptr);
    CHECK(*whole.instance<Model>() == model);
    CHECK(whole.get<Model>() == model);
}

// ---- thresholds --------------------------------------------------------------------------------------------

TEST_CASE("external thresholds decide what goes outside __zanj__.json", "[types][externals]") {
    using types_test::Thresholds;
    Thresholds t;
    t.scalar = xt::xarray<double>::from_shape({});
    t.scalar.data()[0] = 4.5;
    t.empty = make_array<double>({0});
    t.one = make_array<double>({1});
    t.big = make_array<double>({300});
    t.short_list = {1, 2, 3};
    t.long_list = std::vector<int>(300, 9);

    auto externals_with = [&](std::size_t arrays, std::size_t lists) {
        zanj::config cfg;
        cfg.external_array_threshold = arrays;
        cfg.external_list_threshold = lists;
        zanj::ZANJ z(cfg);
        fs::path p = z.save(t, fresh_dir() / "x");
        CHECK(z.read<Thresholds>(p) == t);
        auto names = external_members(z.read_meta(p));
        std::sort(names.begin(), names.end());
        return names;
    };
    using names = std::vector<std::string>;
    CHECK(externals_with(256, 256) == names{"big.npy", "long_list.jsonl"});
    CHECK(externals_with(0, 0) ==
          names{"big.npy", "empty.npy", "empty_list.jsonl", "long_list.jsonl", "one.npy", "short_list.jsonl"});
    CHECK(externals_with(1, 1) == names{"big.npy", "long_list.jsonl", "one.npy", "short_list.jsonl"});
    CHECK(externals_with(1000, 1000).empty());
    CHECK(externals_with(300, 301) == names{"big.npy"});
    CHECK(externals_with(301, 300) == names{"long_list.jsonl"});
}

// ---- error modes ---------------------------------------------------------------------------------------------

TEST_CASE("invalid UTF-8 under each error mode", "[types][errors]") {
    zanj::value tree = zanj::value::dict();
    tree["ok"] = "fine";
    tree["bad"] = std::string("\xff\xfe bytes");
    tree["list"] = zanj::value::list_type{zanj::value(1), zanj::value(std::string("\xc3"))};

    std::vector<std::string> warnings;
    zanj::config cfg;
    cfg.warning_sink = [&](std::string_view m) { warnings.emplace_back(m); };

    SECTION("except throws type_error naming the object path") {
        cfg.error_mode = zanj::error_mode::except;
        try {
            to_value(tree, cfg);
            FAIL("no exception");
        } catch (const zanj::type_error& e) {
            CHECK(e.object_path() == "/bad");
            CHECK_THAT(e.what(), Catch::Contains("UTF-8") && Catch::Contains("/bad"));
        }
        zanj::ZANJ z(cfg);
        fs::path dir = fresh_dir();
        REQUIRE_THROWS_AS(z.save(tree, dir / "x"), zanj::type_error);
        REQUIRE_THROWS_WITH(z.save(tree, dir / "x"), Catch::Contains("/bad"));
        CHECK_FALSE(fs::exists(dir / "x.zanj"));
        CHECK(warnings.empty());

        zanj::value only_list = zanj::value::dict();
        only_list["list"] = tree["list"];
        REQUIRE_THROWS_WITH(to_value(only_list, cfg), Catch::Contains("/list/1"));
        CHECK_THROWS_AS(to_value(std::string("\x80")), zanj::type_error);
        CHECK_THROWS_AS(to_value(std::map<std::string, int>{{"\xff", 1}}), zanj::type_error);
    }
    SECTION("warn reports through warning_sink and writes a placeholder") {
        cfg.error_mode = zanj::error_mode::warn;
        zanj::ZANJ z(cfg);
        fs::path p = z.save(tree, fresh_dir() / "x");
        REQUIRE(warnings.size() == 2);
        CHECK_THAT(warnings[0], Catch::Contains("/bad") && Catch::Contains("UTF-8"));
        CHECK_THAT(warnings[1], Catch::Contains("/list/1"));
        const zanj::value back = z.read(p);
        CHECK(back["ok"] == zanj::value("fine"));
        REQUIRE(back["bad"].is_string());
        CHECK_THAT(back["bad"].as_string(), Catch::StartsWith("<zanj: not serialized"));
        CHECK(back["list"][0] == zanj::value(1));
        CHECK_THAT(back["list"][1].as_string(), Catch::StartsWith("<zanj: not serialized"));
    }
    SECTION("ignore is silent") {
        cfg.error_mode = zanj::error_mode::ignore;
        zanj::ZANJ z(cfg);
        fs::path p = z.save(tree, fresh_dir() / "x");
        CHECK(warnings.empty());
        const zanj::value back = z.read(p);
        CHECK(back["ok"] == zanj::value("fine"));
        CHECK_THAT(back["bad"].as_string(), Catch::StartsWith("<zanj: not serialized"));
    }
}

TEST_CASE("invalid UTF-8 in dict keys under each error mode", "[types][errors]") {
    zanj::value tree = zanj::value::dict();
    tree["ok"] = 1;
    tree["inner"] = zanj::value::dict();
    tree["inner"][std::string("bad\xff key")] = 2;
    nlohmann::json j = {{"ok", 1}, {"inner", {{std::string("bad\xff key"), 2}}}};

    std::vector<std::string> warnings;
    zanj::config cfg;
    cfg.warning_sink = [&](std::string_view m) { warnings.emplace_back(m); };

    SECTION("except") {
        REQUIRE_THROWS_AS(to_value(tree, cfg), zanj::type_error);
        REQUIRE_THROWS_WITH(to_value(tree, cfg), Catch::Contains("UTF-8") && Catch::Contains("/inner"));
        REQUIRE_THROWS_AS(to_value(j, cfg), zanj::type_error);
        REQUIRE_THROWS_WITH(to_value(j, cfg), Catch::Contains("UTF-8") && Catch::Contains("/inner"));
        zanj::ZANJ z(cfg);
        REQUIRE_THROWS_AS(z.save(tree, fresh_dir() / "x"), zanj::type_error);
    }
    SECTION("warn") {
        cfg.error_mode = zanj::error_mode::warn;
        zanj::ZANJ z(cfg);
        const zanj::value back = z.read(z.save(tree, fresh_dir() / "x"));
        REQUIRE(warnings.size() == 1);
        CHECK_THAT(warnings[0], Catch::Contains("/inner"));
        CHECK(back["ok"] == zanj::value(1));
        CHECK_THAT(back["inner"].as_string(), Catch::StartsWith("<zanj: not serialized"));
        const zanj::value back_json = z.read(z.save(j, fresh_dir() / "j"));
        CHECK(warnings.size() == 2);
        CHECK_THAT(back_json["inner"].as_string(), Catch::StartsWith("<zanj: not serialized"));
    }
    SECTION("ignore") {
        cfg.error_mode = zanj::error_mode::ignore;
        zanj::ZANJ z(cfg);
        const zanj::value back = z.read(z.save(tree, fresh_dir() / "x"));
        CHECK(warnings.empty());
        CHECK_THAT(back["inner"].as_string(), Catch::StartsWith("<zanj: not serialized"));
    }
}
