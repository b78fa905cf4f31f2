// Enums by name (ZANJ_ENUM and zanj::enum_names) and without names (their underlying integer):
// values, map keys, errors, and both directions with Python.

#include <catch2/catch.hpp>

#include "round_trip.hpp"
#include "types_interop.hpp"

#include <zanj/dataclass.hpp>
#include <zanj/facade.hpp>
#include <zanj/types/std.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

using zanj_test::from_value;
using zanj_test::to_value;

namespace enum_test {

enum class Color : std::int8_t { red = -1, green = 2, blue = 127 };
ZANJ_ENUM(Color, red, green, blue);

enum Plain { plain_a, plain_b = 5 };
ZANJ_ENUM(Plain, plain_a, plain_b);

enum class Unnamed : std::uint8_t { x = 3, y = 200 };

struct Holder {
    enum class Mode { fast, safe };
};
ZANJ_ENUM(Holder::Mode, fast, safe);

struct Paint {
    Color color = Color::red;
    std::map<Color, int> counts;
    std::vector<Color> palette;
    std::optional<Color> accent;
    Unnamed raw = Unnamed::x;
    friend bool operator==(const Paint&, const Paint&) = default;
};
ZANJ_DATACLASS(Paint, color, counts, palette, accent, raw);

} // namespace enum_test

namespace other_lib {
enum class Level { low = 1, high = 9 };
}

// An enum whose namespace we do not own: named through the trait.
template <>
struct zanj::enum_names<other_lib::Level> {
    static constexpr std::array<zanj::enum_entry<other_lib::Level>, 2> entries{
        {{other_lib::Level::low, "LOW"}, {other_lib::Level::high, "HIGH"}}};
};

using namespace enum_test;

TEST_CASE("named enums are saved as their names", "[types][enum]") {
    CHECK(to_value(Color::red).dump() == R"("red")");
    CHECK(to_value(Color::blue).dump() == R"("blue")");
    CHECK(to_value(plain_b).dump() == R"("plain_b")");
    CHECK(to_value(Holder::Mode::safe).dump() == R"("safe")");
    CHECK(to_value(other_lib::Level::high).dump() == R"("HIGH")");
    for (Color c : {Color::red, Color::green, Color::blue}) CHECK_ROUND_TRIPS(c);
    CHECK_ROUND_TRIPS(plain_a);
    CHECK_ROUND_TRIPS(Holder::Mode::fast);
    CHECK_ROUND_TRIPS(other_lib::Level::low);
    STATIC_REQUIRE(zanj::named_enum<Color>);
    STATIC_REQUIRE_FALSE(zanj::named_enum<Unnamed>);
}

TEST_CASE("enums without names keep their underlying integer", "[types][enum]") {
    CHECK(to_value(Unnamed::y).dump() == "200");
    CHECK(from_value<Unnamed>(zanj::value(3)) == Unnamed::x);
    CHECK_ROUND_TRIPS(Unnamed::y);
    CHECK(to_value(std::map<Unnamed, int>{{Unnamed::y, 1}}).dump() == R"({"200": 1})");
}

TEST_CASE("maps keyed by a named enum use the names as keys", "[types][enum]") {
    const std::map<Color, int> counts{{Color::blue, 2}, {Color::red, 1}};
    CHECK(to_value(counts).dump() == R"({"red": 1, "blue": 2})"); // map order: red (-1) before blue (127)
    CHECK_ROUND_TRIPS(counts);
    const std::unordered_map<Color, int> unordered{{Color::green, 3}, {Color::blue, 4}};
    CHECK(to_value(unordered).dump() == R"({"blue": 4, "green": 3})");
    CHECK_ROUND_TRIPS(unordered);
}

TEST_CASE("a struct with named enums round-trips", "[types][enum]") {
    const Paint paint{Color::green, {{Color::red, 1}}, {Color::blue, Color::red}, Color::blue, Unnamed::y};
    CHECK_ROUND_TRIPS(paint);
    const zanj::value v = to_value(paint);
    CHECK(v["color"].dump() == R"("green")");
    CHECK(v["palette"].dump() == R"(["blue", "red"])");
}

TEST_CASE("loading a named enum checks the name", "[types][enum][errors]") {
    SECTION("an unknown name lists the valid ones and names the path") {
        zanj::value v = to_value(Paint{});
        v["color"] = "purple";
        CHECK_THROWS_AS(from_value<Paint>(v), zanj::type_error);
        CHECK_THROWS_WITH(from_value<Paint>(v),
                          Catch::Contains("unknown enum name 'purple'; valid names: red, green, blue") &&
                              Catch::Contains("(at /color)"));
    }
    SECTION("an unknown map key too") {
        zanj::value v = to_value(Paint{});
        v["counts"] = zanj::value::dict_type{{"mauve", zanj::value(1)}};
        CHECK_THROWS_WITH(from_value<Paint>(v),
                          Catch::Contains("unknown enum name 'mauve'") && Catch::Contains("(at /counts)"));
    }
    SECTION("the integer of a named value loads (files written before the names were listed)") {
        CHECK(from_value<Color>(zanj::value(2)) == Color::green);
        CHECK(from_value<Color>(zanj::value(-1)) == Color::red);
        CHECK_THROWS_WITH(from_value<Color>(zanj::value(3)),
                          Catch::Contains("enum value 3 has no name; valid names: red, green, blue"));
    }
    SECTION("other JSON kinds") {
        CHECK_THROWS_AS(from_value<Color>(zanj::value(1.5)), zanj::type_error);
        CHECK_THROWS_WITH(from_value<Color>(zanj::value::list()),
                          Catch::Contains("expected an enum name (red, green, blue)"));
    }
    SECTION("a value without a name cannot be saved") {
        CHECK_THROWS_AS(to_value(static_cast<Color>(5)), zanj::type_error);
        CHECK_THROWS_WITH(to_value(std::vector<Color>{Color::red, static_cast<Color>(5)}),
                          Catch::Contains("enum value 5 has no name; named values: red, green, blue") &&
                              Catch::Contains("(at /1)"));
        zanj::config warn;
        warn.error_mode = zanj::error_mode::ignore;
        CHECK(to_value(static_cast<Color>(5), warn).as_string().starts_with("<zanj: not serialized:"));
    }
}

TEST_CASE("enum names move both ways with Python", "[types][enum][python]") {
    // Python writes Enum members by name: ["red", "blue"].
    zanj::ZANJ z;
    const auto python_file = zanj_test::python_types_archive();
    CHECK(z.open(python_file).read<std::vector<Color>>("/colors") == std::vector<Color>{Color::red, Color::blue});

    const Paint paint{Color::blue, {{Color::green, 7}}, {Color::red}, std::nullopt, Unnamed::x};
    const auto ours = z.save(paint, zanj_test::fresh_dir("enum_python") / "paint");
    const nlohmann::json seen = zanj_test::python_view(ours);
    CHECK(seen["color"] == "blue");
    CHECK(seen["counts"] == nlohmann::json{{"green", 7}});
    CHECK(seen["palette"] == nlohmann::json::array({"red"}));
    CHECK(seen["raw"] == 3);
}
