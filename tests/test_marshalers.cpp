// Run-time marshalers (zanj/marshaler.hpp): registered while the program runs, tried before
// the compile-time handlers, by priority and predicate, listed in the meta, used by untyped reads.
#include <catch2/catch.hpp>

#include "support.hpp"

#include <zanj/zanj.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace fs = std::filesystem;

// A type from a library we cannot change, with no zanj handler.
namespace lib {
class Color {
public:
    Color() = default;
    explicit Color(std::uint32_t rgb) : rgb_(rgb) {}
    std::uint32_t rgb() const { return rgb_; }
    friend bool operator==(const Color&, const Color&) = default;

private:
    std::uint32_t rgb_ = 0;
};
} // namespace lib
ZANJ_RUNTIME_MARSHALED(lib::Color);

namespace marshal_test {

struct Palette {
    std::string name;
    lib::Color main;
    std::vector<lib::Color> others;
};
ZANJ_DATACLASS(Palette, name, main, others);

// A type with a compile-time handler that a marshaler may override.
struct Point {
    double x = 0, y = 0;
    friend bool operator==(const Point&, const Point&) = default;
};
ZANJ_DATACLASS(Point, x, y);

} // namespace marshal_test

using namespace marshal_test;

namespace {

zanj::marshaler<lib::Color> rgb_marshaler(int priority = 0) {
    return {
        .format = "lib.Color",
        .serialize =
            [](const lib::Color& c, zanj::serializer& s) {
                zanj::value::dict_type d;
                d.insert_or_assign("rgb", s.serialize_field("rgb", c.rgb()));
                return zanj::value(std::move(d));
            },
        .load = [](const zanj::value& v, zanj::loader& l) { return lib::Color(l.load_field<std::uint32_t>(v, "rgb")); },
        .priority = priority,
        .description = "lib::Color as its RGB integer"};
}

zanj::marshaler<lib::Color> hex_marshaler(int priority) {
    return {.format = "lib.Color:hex",
            .serialize =
                [](const lib::Color& c, zanj::serializer&) {
                    char text[8];
                    std::snprintf(text, sizeof text, "#%06x", static_cast<unsigned>(c.rgb()));
                    zanj::value::dict_type d;
                    d.insert_or_assign("hex", std::string(text));
                    return zanj::value(std::move(d));
                },
            .load =
                [](const zanj::value& v, zanj::loader& l) {
                    const std::string& hex = l.field(v, "hex").as_string();
                    if (hex.size() != 7 || hex[0] != '#') l.fail("bad colour '" + hex + "'");
                    return lib::Color(static_cast<std::uint32_t>(std::stoul(hex.substr(1), nullptr, 16)));
                },
            .priority = priority,
            .description = "lib::Color as #rrggbb"};
}

const Palette palette{"sunset", lib::Color(0xff8800), {lib::Color(0), lib::Color(0x112233)}};

fs::path path_in(const std::string& name) { return zanj_test::fresh_dir("marshal") / name; }

// The stored tree, typed items left as dicts (a reader without the marshalers).
zanj::value raw(const fs::path& p) {
    zanj::config cfg;
    cfg.error_mode = zanj::error_mode::ignore;
    return zanj::ZANJ(cfg).read(p);
}

} // namespace

TEST_CASE("a type without a handler, through a run-time marshaler", "[marshalers]") {
    zanj::ZANJ z;
    z.add_marshaler(rgb_marshaler());
    fs::path p = z.save(palette, path_in("p"));
    CHECK(z.read<Palette>(p).others == palette.others);
    CHECK(z.read<Palette>(p).main == palette.main);

    // The format key is added, first.
    zanj::value tree = raw(p);
    const auto& main = tree["main"].as_dict();
    CHECK(main.begin()->first == "__muutils_format__");
    CHECK(tree["main"].format() == "lib.Color");
    CHECK(tree["main"]["rgb"].as_int() == 0xff8800);
}

TEST_CASE("run-time-marshaled types without a marshaler fail at run time", "[marshalers]") {
    zanj::ZANJ bare;
    CHECK_THROWS_AS(bare.save(palette, path_in("p")), zanj::usage_error);
    CHECK_THROWS_WITH(bare.save(palette, path_in("p")),
                      Catch::Contains("no run-time marshaler saves this lib::Color") && Catch::Contains("(at /main)"));

    zanj::ZANJ z;
    z.add_marshaler(rgb_marshaler());
    fs::path p = z.save(palette, path_in("p"));
    CHECK_THROWS_WITH(bare.read<Palette>(p), Catch::Contains("no run-time marshaler loads this item as lib::Color") &&
                                                 Catch::Contains("'lib.Color'") && Catch::Contains("(at /main)"));

    // A save-only marshaler.
    zanj::ZANJ save_only;
    auto m = rgb_marshaler();
    m.load = nullptr;
    save_only.add_marshaler(std::move(m));
    CHECK_THROWS_WITH(save_only.read<Palette>(save_only.save(palette, path_in("q"))),
                      Catch::Contains("no run-time marshaler loads") &&
                          Catch::Contains("registered for it: 'lib.Color'"));
}

TEST_CASE("marshalers of one type: highest priority first", "[marshalers]") {
    zanj::ZANJ z;
    z.add_marshaler(rgb_marshaler(1));
    z.add_marshaler(hex_marshaler(5));
    fs::path p = z.save(palette, path_in("p"));
    zanj::value tree = raw(p);
    CHECK(tree["main"].format() == "lib.Color:hex");
    CHECK(tree["main"]["hex"].as_string() == "#ff8800");
    CHECK(z.read<Palette>(p).main == palette.main);

    // Loading picks the marshaler by the item's key, whatever the priorities.
    zanj::ZANJ other;
    other.add_marshaler(hex_marshaler(0));
    other.add_marshaler(rgb_marshaler(9));
    fs::path q = other.save(palette, path_in("q"));
    CHECK(raw(q)["main"].format() == "lib.Color");
    CHECK(z.read<Palette>(q).others == palette.others);
    CHECK(other.read<Palette>(p).main == palette.main);

    // The listing, in registration order.
    auto list = z.marshalers().list();
    REQUIRE(list.size() == 2);
    CHECK(list[1].format == "lib.Color:hex");
    CHECK(list[1].priority == 5);
    CHECK(list[1].type == "lib::Color");
    CHECK(list[1].loads);
}

TEST_CASE("a predicate decides per object", "[marshalers]") {
    zanj::ZANJ z;
    z.add_marshaler(rgb_marshaler(0));
    auto black = hex_marshaler(10);
    black.format = "lib.Color:black";
    black.applies = [](const lib::Color& c) { return c.rgb() == 0; };
    z.add_marshaler(std::move(black));
    fs::path p = z.save(palette, path_in("p"));
    zanj::value tree = raw(p);
    CHECK(tree["main"].format() == "lib.Color");
    CHECK(tree["others"][0].format() == "lib.Color:black");
    CHECK(tree["others"][1].format() == "lib.Color");
    Palette back = z.read<Palette>(p);
    CHECK(back.others == palette.others);
    CHECK(back.main == palette.main);
    CHECK(z.marshalers().list()[1].has_predicate);
}

TEST_CASE("a marshaler ahead of a compile-time handler", "[marshalers]") {
    // Points at the origin are written as a bare list; the others keep the dataclass form.
    zanj::ZANJ z;
    z.add_marshaler<Point>({.format = "Point:xy",
                            .serialize =
                                [](const Point& p, zanj::serializer& s) {
                                    return s.serialize(std::vector<double>{p.x, p.y});
                                },
                            .load =
                                [](const zanj::value& v, zanj::loader& l) {
                                    auto xy = l.load<std::vector<double>>(v);
                                    return Point{xy.at(0), xy.at(1)};
                                },
                            .priority = 3,
                            .applies = [](const Point& p) { return p.x == 0; },
                            .check = [](const zanj::value& v) { return v.is_list(); },
                            .description = "points on the y axis as [x, y]"});
    std::vector<Point> points{{0, 2}, {1, 2}};
    fs::path p = z.save(points, path_in("p"));
    zanj::value tree = raw(p);
    CHECK(tree[0].is_list()); // not a dict: no format key added
    CHECK(tree[1].format() == "Point(SerializableDataclass)");
    CHECK(z.read<std::vector<Point>>(p) == points);
    // Without the marshaler, the list is not a Point.
    CHECK_THROWS_AS(zanj::ZANJ().read<std::vector<Point>>(p), zanj::type_error);
}

TEST_CASE("a format key registered twice is an error", "[marshalers]") {
    zanj::ZANJ z;
    z.add_marshaler(rgb_marshaler());
    CHECK_THROWS_AS(z.add_marshaler(rgb_marshaler(4)), zanj::usage_error);
    CHECK_THROWS_WITH(z.add_marshaler(rgb_marshaler(4)),
                      Catch::Contains("'lib.Color' is already registered") && Catch::Contains("lib::Color"));
    auto same_key = hex_marshaler(0);
    same_key.format = "lib.Color";
    CHECK_THROWS_AS(z.add_marshaler(std::move(same_key)), zanj::usage_error);
    CHECK(z.marshalers().list().size() == 1);

    // Clashes with loaders, and marshalers without a key or functions.
    z.register_type<Point>();
    auto point_key = hex_marshaler(0);
    point_key.format = "Point(SerializableDataclass)";
    CHECK_THROWS_WITH(z.add_marshaler(std::move(point_key)), Catch::Contains("already has a loader"));
    CHECK_THROWS_AS(z.add_marshaler(zanj::marshaler<lib::Color>{.format = "", .serialize = rgb_marshaler().serialize}),
                    zanj::usage_error);
    CHECK_THROWS_AS(z.add_marshaler(zanj::marshaler<lib::Color>{.format = "empty", .serialize = nullptr}),
                    zanj::usage_error);
    CHECK_THROWS_AS(z.loaders().add({"lib.Color", false, [](zanj::value v, zanj::loader&) { return v; }, ""}),
                    zanj::usage_error);
}

TEST_CASE("zanj_cfg lists every handler, marshalers first", "[marshalers]") {
    zanj::ZANJ z;
    z.add_marshaler(rgb_marshaler(7));
    auto save_only = hex_marshaler(2);
    save_only.load = nullptr;
    z.add_marshaler(std::move(save_only));
    fs::path p = z.save(palette, path_in("p"));
    zanj::value cfg = z.read_meta(p)["zanj_cfg"];

    const auto& ser = cfg["serialization_handlers"].as_list();
    REQUIRE(ser.size() > 2);
    CHECK(ser[0]["uid"].as_string() == "lib.Color");
    CHECK(ser[0]["priority"].as_int() == 7);
    CHECK(ser[0]["desc"].as_string() == "lib::Color as its RGB integer");
    CHECK(ser[0]["type"].as_string() == "lib::Color");
    CHECK(ser[1]["uid"].as_string() == "lib.Color:hex");
    CHECK(ser[1]["priority"].as_int() == 2);
    bool dataclasses = false;
    for (const auto& h : ser) dataclasses = dataclasses || h["uid"].as_string() == "SerializableDataclass";
    CHECK(dataclasses); // the compile-time handlers follow

    const zanj::value* loader = nullptr;
    for (const auto& l : cfg["load_handlers"].as_list()) {
        CHECK(l.contains("priority"));
        if (l["uid"].as_string() == "lib.Color") loader = &l;
        CHECK(l["uid"].as_string() != "lib.Color:hex"); // save-only: no loader
    }
    REQUIRE(loader);
    CHECK((*loader)["priority"].as_int() == 7);
    CHECK((*loader)["desc"].as_string() == "run-time marshaler for lib::Color: lib::Color as its RGB integer");
}

TEST_CASE("untyped reads rebuild a marshaler's items", "[marshalers]") {
    zanj::ZANJ z;
    z.add_marshaler(rgb_marshaler());
    z.add_marshaler(hex_marshaler(-1));
    fs::path p = z.save(palette, path_in("p"));
    zanj::value tree = z.read(p);
    const lib::Color* main = tree["main"].instance<lib::Color>();
    REQUIRE(main);
    CHECK(*main == palette.main);
    REQUIRE(tree["others"][1].instance<lib::Color>());
    CHECK(tree["others"][1].instance<lib::Color>()->rgb() == 0x112233);
    // The item itself stays readable.
    CHECK(tree["main"]["rgb"].as_int() == 0xff8800);

    // A reader without the marshaler: the item is unknown, an error by default.
    CHECK_THROWS_WITH(zanj::ZANJ().read(p), Catch::Contains("unknown format key 'lib.Color'"));

    // Errors inside a marshaler name the path.
    zanj::value bad = zanj::value::dict();
    bad["__muutils_format__"] = "lib.Color:hex";
    bad["hex"] = "red";
    fs::path q = zanj::ZANJ().save(std::vector<zanj::value>{bad}, path_in("q"));
    CHECK_THROWS_WITH(z.read(q), Catch::Contains("bad colour 'red'") && Catch::Contains("(at /0)"));
    CHECK_THROWS_WITH(z.read<std::vector<lib::Color>>(q),
                      Catch::Contains("bad colour 'red'") && Catch::Contains("(at /0)"));
}

TEST_CASE("a copied ZANJ shares its marshalers; archives opened from it use them", "[marshalers]") {
    zanj::ZANJ z;
    z.add_marshaler(rgb_marshaler());
    fs::path p = z.save(palette, path_in("p"));
    zanj::ZANJ copy = z;
    CHECK(copy.read<Palette>(p).main == palette.main);
    zanj::archive a = z.open(p);
    CHECK(a.read<lib::Color>("/main") == palette.main);
    // A registry copied by value keeps them too.
    zanj::loader_registry registry(z.loaders());
    CHECK(registry.marshalers().list().size() == 1);
}
