#pragma once
/// \file
/// Handlers for std::chrono durations and time points.
///
/// A duration is its tick count and tick period (seconds per tick, as a fraction), plus the
/// length in seconds as a float for people and Python:
///
///     {"__muutils_format__": "std::chrono::duration", "count": 1500, "period": [1, 1000], "seconds": 1.5}
///
/// A time point is the duration since its clock's epoch, with the clock's name; a system_clock
/// time point also carries the UTC date as ISO 8601, with as many fraction digits as its period
/// needs (written when the period is a decimal fraction of a second, as all of std::chrono's
/// are, and the date falls in years 1 to 9999, Python's datetime range):
///
///     {"__muutils_format__": "std::chrono::time_point", "clock": "system_clock",
///      "iso": "2024-05-01T12:34:56.123456789Z", "count": 1714566896123456789,
///      "period": [1, 1000000000], "seconds": 1714566896.1234567}
///
/// Loading uses `count` and `period` when present (then `iso`, then `seconds`, so Python may
/// write any one of them). Integer counts convert exactly or not at all: 1500 ms load into
/// std::chrono::seconds as a type_error, never as 1 s. Float counts, and `seconds` alone, are
/// rounded to the nearest tick of an integer duration. A time point of another clock is a
/// type_error; an item without `clock` is a system_clock one.

#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace zanj {

/// The name a time point item records for its clock. Specialise it to save time points of
/// your own clocks; loading checks that the names agree.
template <class Clock>
inline constexpr std::string_view clock_name{};
template <>
inline constexpr std::string_view clock_name<std::chrono::system_clock> = "system_clock";
template <>
inline constexpr std::string_view clock_name<std::chrono::steady_clock> = "steady_clock";
template <>
inline constexpr std::string_view clock_name<std::chrono::file_clock> = "file_clock";

namespace detail {

/// Seconds per tick, as a fraction.
struct tick_period {
    std::int64_t num = 1;
    std::int64_t den = 1;
};

template <class Period>
inline constexpr tick_period tick_period_of{static_cast<std::int64_t>(Period::num),
                                            static_cast<std::int64_t>(Period::den)};

/// Adds "count", "period" and "seconds" for `count` ticks (an integer or float value) of `period`.
void add_duration_fields(value::dict_type& item, const value& count, tick_period period);

/// The ISO 8601 UTC form of a system_clock time `count` ticks of `period` after the epoch
/// ("2024-05-01T12:34:56.250Z"), or empty when `period` is not a decimal fraction of a second
/// or the date lies outside years 1 to 9999.
std::string iso_utc(std::int64_t count, tick_period period);

/// Checks that `item` is a chrono item of `format` ("std::chrono::duration" or
/// "std::chrono::time_point") and, for time points, of the clock `clock`.
void expect_chrono_item(const value& item, loader& l, std::string_view format, std::string_view clock = {});

/// The item's time in ticks of `to`: exact from integer counts (a type_error when `to` cannot
/// hold it exactly, or when it does not fit in 64 bits), to the nearest tick from floats.
std::int64_t load_integer_ticks(const value& item, loader& l, tick_period to);
/// The item's time in ticks of `to`, as a float.
long double load_floating_ticks(const value& item, loader& l, tick_period to);

template <class Rep>
value count_value(Rep count) {
    static_assert(std::is_arithmetic_v<Rep> && !std::is_same_v<Rep, bool>,
                  "zanj: durations and time points are saved for arithmetic tick counts only");
    if constexpr (std::is_floating_point_v<Rep>)
        return value(static_cast<double>(count));
    else
        return value(count);
}

template <class Rep>
Rep load_count(const value& item, loader& l, tick_period to) {
    if constexpr (std::is_floating_point_v<Rep>) {
        return static_cast<Rep>(load_floating_ticks(item, l, to));
    } else {
        const std::int64_t ticks = load_integer_ticks(item, l, to);
        if (!std::in_range<Rep>(ticks))
            l.fail(std::to_string(ticks) + " ticks do not fit in the duration's " + std::to_string(sizeof(Rep) * 8) +
                   "-bit count");
        return static_cast<Rep>(ticks);
    }
}

} // namespace detail

/// std::chrono::duration: its tick count and period (see this file's description).
template <class Rep, class Period>
struct handler<std::chrono::duration<Rep, Period>> {
    /// The duration type handled.
    using duration = std::chrono::duration<Rep, Period>;

    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const duration& d, serializer&) {
        value::dict_type out;
        out.insert_or_assign(format_key, "std::chrono::duration");
        detail::add_duration_fields(out, detail::count_value(d.count()), detail::tick_period_of<Period>);
        return out;
    }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static duration load(const value& v, loader& l) {
        detail::expect_chrono_item(v, l, "std::chrono::duration");
        return duration(detail::load_count<Rep>(v, l, detail::tick_period_of<Period>));
    }
};

/// std::chrono::time_point: the duration since its clock's epoch, with the clock's name.
template <class Clock, class Duration>
struct handler<std::chrono::time_point<Clock, Duration>> {
    /// The time point type handled.
    using time_point = std::chrono::time_point<Clock, Duration>;
    /// Its tick count type.
    using rep = typename Duration::rep;
    /// Its tick period.
    using period = typename Duration::period;
    static_assert(!clock_name<Clock>.empty(),
                  "zanj: this clock has no name; specialise zanj::clock_name<Clock> (a std::string_view) to save its "
                  "time points");

    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const time_point& t, serializer&) {
        value::dict_type out;
        out.insert_or_assign(format_key, "std::chrono::time_point");
        out.insert_or_assign("clock", clock_name<Clock>);
        const rep count = t.time_since_epoch().count();
        if constexpr (std::is_same_v<Clock, std::chrono::system_clock> && std::is_integral_v<rep>) {
            if (std::string iso = detail::iso_utc(static_cast<std::int64_t>(count), detail::tick_period_of<period>);
                !iso.empty())
                out.insert_or_assign("iso", std::move(iso));
        }
        detail::add_duration_fields(out, detail::count_value(count), detail::tick_period_of<period>);
        return out;
    }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static time_point load(const value& v, loader& l) {
        detail::expect_chrono_item(v, l, "std::chrono::time_point", clock_name<Clock>);
        return time_point(Duration(detail::load_count<rep>(v, l, detail::tick_period_of<period>)));
    }
};

} // namespace zanj
