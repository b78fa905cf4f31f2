// std::chrono durations and time points: layouts, exact round trips, conversions between
// periods, ISO 8601 dates, errors, and Python both ways.

#include <catch2/catch.hpp>

#include "round_trip.hpp"
#include "types_interop.hpp"

#include <zanj/dataclass.hpp>
#include <zanj/facade.hpp>
#include <zanj/types/std.hpp>

#include <chrono>
#include <cstdint>
#include <ratio>

using zanj_test::from_value;
using zanj_test::to_value;
using namespace std::chrono_literals;
namespace chr = std::chrono;

namespace chrono_test {

using thirds = chr::duration<std::int32_t, std::ratio<1, 3>>;

struct Timing {
    chr::sys_time<chr::nanoseconds> start;
    chr::sys_seconds day;
    chr::milliseconds budget{};
    chr::duration<double> elapsed{};
    chr::steady_clock::time_point tick;
    chr::minutes slot{};
    thirds beat{};
    friend bool operator==(const Timing&, const Timing&) = default;
};
ZANJ_DATACLASS(Timing, start, day, budget, elapsed, tick, slot, beat);

// 2024-05-01T12:34:56Z
constexpr chr::sys_seconds may_first = chr::sys_days{chr::year{2024} / chr::May / 1} + 12h + 34min + 56s;

Timing sample_timing() {
    return {may_first + 123456789ns,
            chr::floor<chr::days>(may_first),
            1500ms,
            chr::duration<double>(0.125),
            chr::steady_clock::time_point(42s),
            90min,
            thirds(7)};
}

} // namespace chrono_test

using namespace chrono_test;

namespace {
zanj::value duration_item(zanj::value count, std::int64_t num, std::int64_t den) {
    zanj::value v = zanj::value::dict();
    v[zanj::format_key] = "std::chrono::duration";
    v["count"] = std::move(count);
    v["period"] = zanj::value::list_type{zanj::value(num), zanj::value(den)};
    return v;
}

zanj::value iso_item(const char* iso) {
    zanj::value v = zanj::value::dict();
    v[zanj::format_key] = "std::chrono::time_point";
    v["iso"] = iso;
    return v;
}
} // namespace

TEST_CASE("a duration is its count, its period and its length in seconds", "[types][chrono]") {
    CHECK(to_value(1500ms).dump() ==
          R"({"__muutils_format__": "std::chrono::duration", "count": 1500, "period": [1, 1000], "seconds": 1.5})");
    CHECK(to_value(90min).dump() ==
          R"({"__muutils_format__": "std::chrono::duration", "count": 90, "period": [60, 1], "seconds": 5400.0})");
    CHECK(to_value(chr::duration<double>(0.25))["count"].as_double() == 0.25);
    CHECK(to_value(thirds(2))["period"].dump() == "[1, 3]");
}

TEST_CASE("durations round-trip exactly", "[types][chrono]") {
    CHECK_ROUND_TRIPS(chr::nanoseconds(std::numeric_limits<std::int64_t>::max()));
    CHECK_ROUND_TRIPS(chr::nanoseconds(std::numeric_limits<std::int64_t>::min()));
    CHECK_ROUND_TRIPS(-1500ms);
    CHECK_ROUND_TRIPS(chr::hours(24 * 365));
    CHECK_ROUND_TRIPS(thirds(-7));
    CHECK_ROUND_TRIPS(chr::duration<double>(0.1));
    CHECK_ROUND_TRIPS(chr::duration<float, std::milli>(2.5f));
    CHECK_ROUND_TRIPS(chr::duration<std::uint16_t, std::micro>(65535));
}

TEST_CASE("a system_clock time point carries its UTC date as ISO 8601", "[types][chrono]") {
    const zanj::value ns = to_value(chr::sys_time<chr::nanoseconds>(may_first + 123456789ns));
    CHECK(ns.dump() == R"({"__muutils_format__": "std::chrono::time_point", "clock": "system_clock", )"
                       R"("iso": "2024-05-01T12:34:56.123456789Z", "count": 1714566896123456789, )"
                       R"("period": [1, 1000000000], "seconds": 1714566896.1234567})");
    CHECK(to_value(may_first)["iso"].as_string() == "2024-05-01T12:34:56Z");
    CHECK(to_value(chr::time_point_cast<chr::milliseconds>(may_first) + 5ms)["iso"].as_string() ==
          "2024-05-01T12:34:56.005Z");
    CHECK(to_value(chr::sys_time<chr::milliseconds>(-500ms))["iso"].as_string() == "1969-12-31T23:59:59.500Z");
    CHECK(to_value(chr::sys_time<chr::duration<std::int64_t, std::ratio<1, 8>>>(
              chr::duration<std::int64_t, std::ratio<1, 8>>(3)))["iso"]
              .as_string() == "1970-01-01T00:00:00.375Z");
    CHECK(to_value(chr::sys_seconds(chr::seconds(-62135596800)))["iso"].as_string() == "0001-01-01T00:00:00Z");
    CHECK(to_value(chr::sys_seconds(chr::seconds(253402300799)))["iso"].as_string() == "9999-12-31T23:59:59Z");
    // Outside Python's datetime range, or a period with no decimal fraction: count and period only.
    CHECK_FALSE(to_value(chr::sys_seconds(chr::seconds(-62135596801))).contains("iso"));
    CHECK_FALSE(to_value(chr::sys_time<thirds>(thirds(1))).contains("iso"));
    CHECK_FALSE(to_value(chr::sys_time<chr::duration<double>>(chr::duration<double>(1.5))).contains("iso"));
}

TEST_CASE("time points of every clock round-trip exactly", "[types][chrono]") {
    CHECK_ROUND_TRIPS(sample_timing());
    CHECK_ROUND_TRIPS(chr::sys_time<chr::nanoseconds>(-1ns));
    CHECK_ROUND_TRIPS(chr::sys_seconds(chr::seconds(-62135596801)));
    const zanj::value steady = to_value(chr::steady_clock::time_point(42s));
    CHECK(steady["clock"].as_string() == "steady_clock");
    CHECK_FALSE(steady.contains("iso"));
    CHECK_ROUND_TRIPS(chr::file_clock::time_point(5s));
}

TEST_CASE("loading converts between periods exactly, or says why not", "[types][chrono]") {
    CHECK(from_value<chr::seconds>(to_value(2000ms)) == 2s);
    CHECK(from_value<chr::milliseconds>(to_value(3s)) == 3000ms);
    CHECK(from_value<chr::nanoseconds>(to_value(thirds(3))) == 1s);
    CHECK(from_value<chr::duration<double>>(to_value(1500ms)).count() == 1.5);
    CHECK(from_value<chr::sys_seconds>(to_value(chr::sys_time<chr::milliseconds>(may_first))) == may_first);
    SECTION("a coarser integer duration cannot hold finer ticks") {
        CHECK_THROWS_AS(from_value<chr::seconds>(to_value(1500ms)), zanj::type_error);
        CHECK_THROWS_WITH(from_value<chr::seconds>(to_value(1500ms)),
                          Catch::Contains("the time (1500 ticks of 1/1000 s) is not a whole number of ticks of 1 s"));
        zanj::value t = to_value(sample_timing());
        t["day"] = to_value(chr::sys_time<chr::milliseconds>(may_first + 1ms));
        CHECK_THROWS_WITH(from_value<Timing>(t),
                          Catch::Contains("load it into a finer duration") && Catch::Contains("(at /day)"));
    }
    SECTION("counts that do not fit") {
        CHECK_THROWS_WITH((from_value<chr::duration<std::int32_t, std::milli>>(to_value(chr::seconds(3000000)))),
                          Catch::Contains("3000000000 ticks do not fit in the duration's 32-bit count"));
        CHECK_THROWS_WITH(from_value<chr::nanoseconds>(to_value(chr::hours(3000000))),
                          Catch::Contains("does not fit in a 64-bit count of ticks of 1/1000000000 s"));
    }
    SECTION("float counts and seconds alone round to the nearest tick") {
        CHECK(from_value<chr::milliseconds>(to_value(chr::duration<double>(0.1))) == 100ms);
        zanj::value seconds_only = zanj::value::dict();
        seconds_only[zanj::format_key] = "std::chrono::duration";
        seconds_only["seconds"] = 1.5;
        CHECK(from_value<chr::milliseconds>(seconds_only) == 1500ms);
        CHECK(from_value<chr::seconds>(seconds_only) == 2s);
    }
}

TEST_CASE("ISO 8601 time points from elsewhere", "[types][chrono]") {
    CHECK(from_value<chr::sys_seconds>(iso_item("2024-05-01T14:34:56+02:00")) == may_first);
    CHECK(from_value<chr::sys_seconds>(iso_item("2024-05-01 12:34:56Z")) == may_first);
    CHECK(from_value<chr::sys_seconds>(iso_item("2024-05-01T08:04:56-04:30")) == may_first);
    CHECK(from_value<chr::sys_time<chr::microseconds>>(iso_item("2024-05-01T12:34:56.25Z")) == may_first + 250ms);
    CHECK(from_value<chr::sys_time<chr::nanoseconds>>(iso_item("1969-12-31T23:59:59.999999999Z")) ==
          chr::sys_time<chr::nanoseconds>(-1ns));
    SECTION("errors") {
        CHECK_THROWS_WITH(from_value<chr::sys_seconds>(iso_item("2024-05-01T12:34:56")),
                          Catch::Contains("is not an ISO 8601 UTC time: no UTC offset") &&
                              Catch::Contains("(at /iso)"));
        CHECK_THROWS_WITH(from_value<chr::sys_seconds>(iso_item("2024-02-30T00:00:00Z")),
                          Catch::Contains("not a valid date and time"));
        CHECK_THROWS_WITH(from_value<chr::sys_seconds>(iso_item("May 1st")),
                          Catch::Contains("expected YYYY-MM-DDTHH:MM:SS"));
        CHECK_THROWS_WITH(from_value<chr::sys_seconds>(iso_item("2024-05-01T12:34:56.5Z")),
                          Catch::Contains("not a whole number of ticks of 1 s"));
    }
}

TEST_CASE("loading chrono items checks what they are", "[types][chrono][errors]") {
    const zanj::value tick = to_value(chr::system_clock::time_point{});
    CHECK_THROWS_AS(from_value<chr::steady_clock::time_point>(tick), zanj::type_error);
    CHECK_THROWS_WITH(
        from_value<chr::steady_clock::time_point>(tick),
        Catch::Contains("the time point is of clock 'system_clock', a time point of 'steady_clock' was asked for"));
    CHECK_THROWS_WITH(from_value<chr::seconds>(tick),
                      Catch::Contains("expected a std::chrono::duration item, found a 'std::chrono::time_point' item"));
    CHECK_THROWS_WITH(from_value<chr::seconds>(zanj::value(5)),
                      Catch::Contains("expected a std::chrono::duration item, found int 5"));
    zanj::value bad = duration_item(zanj::value(5), 0, 1);
    CHECK_THROWS_WITH(
        from_value<chr::seconds>(bad),
        Catch::Contains("expected the tick period as [numerator, denominator] of two positive integers") &&
            Catch::Contains("(at /period)"));
    bad = duration_item(zanj::value("five"), 1, 1);
    CHECK_THROWS_WITH(from_value<chr::seconds>(bad),
                      Catch::Contains("expected the tick count as a number") && Catch::Contains("(at /count)"));
    zanj::value empty = zanj::value::dict();
    empty[zanj::format_key] = "std::chrono::duration";
    CHECK_THROWS_WITH(from_value<chr::seconds>(empty),
                      Catch::Contains("expected 'count' and 'period', 'iso' or 'seconds'"));
}

TEST_CASE("untyped reads keep chrono items as they are", "[types][chrono][untyped]") {
    zanj::ZANJ z;
    const auto path = z.save(sample_timing(), zanj_test::fresh_dir("chrono") / "timing");
    const zanj::value tree = z.read(path);
    CHECK(tree["start"]["iso"].as_string() == "2024-05-01T12:34:56.123456789Z");
    CHECK(tree["budget"].get<chr::milliseconds>() == 1500ms);
}

TEST_CASE("chrono items move both ways with Python", "[types][chrono][python]") {
    zanj::ZANJ z;
    const auto python_file = zanj_test::python_types_archive();
    const zanj::archive a = z.open(python_file);
    CHECK(a.read<chr::sys_time<chr::microseconds>>("/when") == may_first + 123456us);
    CHECK(a.read<chr::sys_seconds>("/when_offset") == may_first);
    CHECK(a.read<chr::microseconds>("/elapsed") == 90s + 250us);
    CHECK(a.read<chr::milliseconds>("/elapsed_seconds_only") == 1500ms);
    CHECK_THROWS_WITH(a.read<chr::seconds>("/when"), Catch::Contains("expected a std::chrono::duration item"));

    const nlohmann::json seen =
        zanj_test::python_view(z.save(sample_timing(), zanj_test::fresh_dir("chrono_python") / "t"));
    CHECK(seen["start"]["__datetime__"]["iso"] == "2024-05-01T12:34:56.123456+00:00");
    CHECK(seen["start"]["__datetime__"]["exact_seconds"] == "1714566896123456789/1000000000");
    CHECK(seen["day"]["__datetime__"]["iso"] == "2024-05-01T00:00:00+00:00");
    CHECK(seen["budget"]["__timedelta__"]["total_seconds"] == 1.5);
    CHECK(seen["budget"]["__timedelta__"]["exact_seconds"] == "3/2");
    CHECK(seen["beat"]["__timedelta__"]["exact_seconds"] == "7/3");
    CHECK(seen["tick"]["__datetime__"]["exact_seconds"] == "42");
}
