// std::variant and std::monostate: the recorded alternative, its round trip, the errors of a
// wrong index, name or payload, and Python both ways.

#include <catch2/catch.hpp>

#include "round_trip.hpp"
#include "types_interop.hpp"

#include <zanj/dataclass.hpp>
#include <zanj/facade.hpp>
#include <zanj/types/std.hpp>
#include <zanj/types/value.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

using zanj_test::from_value;
using zanj_test::to_value;

namespace variant_test {

struct Point {
    double x = 0, y = 0;
    friend bool operator==(const Point&, const Point&) = default;
};
ZANJ_DATACLASS(Point, x, y);

using Shape = std::variant<std::monostate, std::int32_t, std::string, Point, std::vector<double>>;

struct Scene {
    Shape main;
    std::vector<Shape> others;
    std::map<std::string, std::variant<bool, double>> flags;
    friend bool operator==(const Scene&, const Scene&) = default;
};
ZANJ_DATACLASS(Scene, main, others, flags);

} // namespace variant_test

using namespace variant_test;

TEST_CASE("a variant records its alternative's index and name", "[types][variant]") {
    CHECK(to_value(Shape{std::string("text")}).dump() ==
          R"({"__muutils_format__": "std::variant", "index": 2, "type": "str", "value": "text"})");
    CHECK(to_value(Shape{}).dump() ==
          R"({"__muutils_format__": "std::variant", "index": 0, "type": "None", "value": null})");
    CHECK(to_value(Shape{std::int32_t{7}})["type"].as_string() == "int32");
    CHECK(to_value(Shape{Point{1, 2}})["type"].as_string() == "Point(SerializableDataclass)");
    // Types without a name that every compiler spells alike are recorded by index alone.
    CHECK_FALSE(to_value(Shape{std::vector<double>{1.5}}).contains("type"));
    CHECK(to_value(std::monostate{}).is_null());
}

TEST_CASE("variants round-trip, whichever alternative they hold", "[types][variant]") {
    CHECK_ROUND_TRIPS(Shape{});
    CHECK_ROUND_TRIPS(Shape{std::int32_t{-5}});
    CHECK_ROUND_TRIPS(Shape{std::string("s")});
    CHECK_ROUND_TRIPS(Shape{Point{0.5, -1}});
    CHECK_ROUND_TRIPS(Shape{std::vector<double>(300, 0.25)}); // a .jsonl member inside the variant
    // Same type twice: the index tells them apart.
    using Twice = std::variant<int, int>;
    CHECK(zanj_test::via_memory(Twice{std::in_place_index<1>, 4}).index() == 1);
    const Scene scene{Point{3, 4}, {std::int32_t{1}, std::monostate{}, std::string("x")}, {{"a", true}, {"b", 2.5}}};
    CHECK_ROUND_TRIPS(scene);
}

TEST_CASE("loading a variant checks the index, the name and the payload", "[types][variant][errors]") {
    zanj::value scene = to_value(Scene{Point{1, 2}, {std::int32_t{1}}, {}});
    SECTION("an index out of range") {
        scene["main"]["index"] = 9;
        CHECK_THROWS_AS(from_value<Scene>(scene), zanj::type_error);
        CHECK_THROWS_WITH(from_value<Scene>(scene),
                          Catch::Contains("std::variant index 9 is out of range: this std::variant has 5 alternatives "
                                          "(None, int32, str, Point(SerializableDataclass), alternative 4)") &&
                              Catch::Contains("(at /main)"));
    }
    SECTION("a name that disagrees with the alternative at that index") {
        scene["others"][0]["type"] = "str";
        CHECK_THROWS_WITH(
            from_value<Scene>(scene),
            Catch::Contains("the file's std::variant alternative 1 is 'str', this std::variant's is 'int32'") &&
                Catch::Contains("(at /others/0)"));
    }
    SECTION("a payload that does not fit the alternative") {
        scene["others"][0]["value"] = "seven";
        CHECK_THROWS_AS(from_value<Scene>(scene), zanj::type_error);
        CHECK_THROWS_WITH(from_value<Scene>(scene),
                          Catch::Contains("std::variant alternative 1 (int32): expected an integer") &&
                              Catch::Contains("(at /others/0/value)"));
    }
    SECTION("a payload error deeper inside keeps its own path") {
        scene["main"]["value"]["y"] = "north";
        CHECK_THROWS_WITH(from_value<Scene>(scene), Catch::Contains("(at /main/value/y)"));
    }
    SECTION("missing fields and other items") {
        scene["main"].as_dict().erase("value");
        CHECK_THROWS_WITH(from_value<Scene>(scene),
                          Catch::Contains("missing field 'value'") && Catch::Contains("(at /main)"));
        CHECK_THROWS_WITH(from_value<Shape>(zanj::value(3)),
                          Catch::Contains("expected a std::variant item, found int 3"));
        CHECK_THROWS_WITH(from_value<Shape>(zanj::value::dict()),
                          Catch::Contains("expected a std::variant item, found a dict without a format key"));
        zanj::value negative = to_value(Shape{});
        negative["index"] = -1;
        CHECK_THROWS_WITH(from_value<Shape>(negative),
                          Catch::Contains("out of range") && Catch::Contains("(at /index)"));
    }
}

TEST_CASE("untyped reads keep variant items as they are", "[types][variant][untyped]") {
    zanj::ZANJ z;
    const Scene scene{std::string("hello"), {}, {}};
    const auto path = z.save(scene, zanj_test::fresh_dir("variant") / "scene");
    const zanj::value tree = z.read(path);
    CHECK(tree["main"]["value"].as_string() == "hello");
    CHECK(tree["main"].get<Shape>() == Shape{std::string("hello")});
}

TEST_CASE("variants move both ways with Python", "[types][variant][python]") {
    zanj::ZANJ z;
    const auto python_file = zanj_test::python_types_archive();
    // The file records {"index": 1, "type": "str"}: alternative 1 of a variant<int32, str>. In
    // Shape, alternative 1 is int32: the name check must catch that, not load the wrong one.
    using Choice = std::variant<std::int32_t, std::string>;
    CHECK(z.open(python_file).read<Choice>("/choice") == Choice{std::string("text")});
    CHECK_THROWS_WITH(
        z.open(python_file).read<Shape>("/choice"),
        Catch::Contains("the file's std::variant alternative 1 is 'str', this std::variant's is 'int32'") &&
            Catch::Contains("(at /choice)"));

    const Scene scene{Point{1, 2}, {std::monostate{}, std::int32_t{5}}, {{"on", true}}};
    const nlohmann::json seen = zanj_test::python_view(z.save(scene, zanj_test::fresh_dir("variant_python") / "scene"));
    CHECK(seen["main"]["index"] == 3);
    CHECK(seen["main"]["type"] == "Point(SerializableDataclass)");
    CHECK(seen["main"]["value"]["x"] == 1.0);
    CHECK(seen["others"][0]["value"].is_null());
    CHECK(seen["others"][1]["value"] == 5);
    CHECK(seen["flags"]["on"]["type"] == "bool");
}
