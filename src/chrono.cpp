#include <zanj/types/chrono.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <optional>

namespace zanj::detail {

namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b) {
    if (a == 0 || b == 0) return 0;
    const bool overflow =
        a > 0 ? (b > 0 ? a > int64_max / b : b < int64_min / a) : (b > 0 ? a < int64_min / b : b < int64_max / a);
    if (overflow) return std::nullopt;
    return a * b;
}

std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) {
    if ((b > 0 && a > int64_max - b) || (b < 0 && a < int64_min - b)) return std::nullopt;
    return a + b;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

// "1 s", "1/1000 s", "60 s": for messages.
// Built by appending: GCC 12 warns falsely (-Wrestrict, GCC bug 105329) about "/" + std::string.
std::string period_text(tick_period p) {
    std::string out = std::to_string(p.num);
    if (p.den != 1) {
        out += '/';
        out += std::to_string(p.den);
    }
    out += " s";
    return out;
}

// 10^k when den (reduced against num) is 2^a * 5^b with k = max(a, b), else nothing.
std::optional<std::int64_t> decimal_scale(tick_period p) {
    std::int64_t den = p.den / std::gcd(p.num, p.den);
    int twos = 0, fives = 0;
    for (; den % 2 == 0; den /= 2) ++twos;
    for (; den % 5 == 0; den /= 5) ++fives;
    if (den != 1) return std::nullopt;
    std::int64_t scale = 1;
    for (int i = 0; i < std::max(twos, fives); ++i) scale *= 10;
    return scale;
}

// A time as a count of ticks of a period, with its count an integer or a float.
struct ticks {
    std::optional<std::int64_t> integer;
    long double floating = 0;
    tick_period period;
};

tick_period load_period(const value& item, loader& l) {
    const value& p = l.field(item, "period");
    loader::path_guard guard(l, "period");
    if (!p.is_list() || p.size() != 2 || !p[0].is_integer() || !p[1].is_integer() ||
        p[0].type() == value::kind::unsigned_integer || p[1].type() == value::kind::unsigned_integer ||
        p[0].as_int() <= 0 || p[1].as_int() <= 0)
        l.fail("expected the tick period as [numerator, denominator] of two positive integers, found " + p.dump());
    return {p[0].as_int(), p[1].as_int()};
}

// ISO 8601 with a UTC offset: YYYY-MM-DD('T'|' ')HH:MM:SS[.fraction]('Z'|+HH:MM|-HH:MM), as
// ticks of 1/10^digits s. Returns nothing when `s` does not have that form.
std::optional<ticks> parse_iso(std::string_view s, std::string& why) {
    std::size_t pos = 0;
    auto number = [&](std::size_t digits, std::int64_t& out) {
        if (pos + digits > s.size()) return false;
        out = 0;
        for (std::size_t i = 0; i < digits; ++i) {
            const char c = s[pos + i];
            if (c < '0' || c > '9') return false;
            out = out * 10 + (c - '0');
        }
        pos += digits;
        return true;
    };
    auto literal = [&](std::string_view options) {
        if (pos < s.size() && options.find(s[pos]) != std::string_view::npos) return ++pos, true;
        return false;
    };
    std::int64_t y = 0, mo = 0, d = 0, hour = 0, minute = 0, second = 0;
    if (!(number(4, y) && literal("-") && number(2, mo) && literal("-") && number(2, d) && literal("Tt ") &&
          number(2, hour) && literal(":") && number(2, minute) && literal(":") && number(2, second))) {
        why = "expected YYYY-MM-DDTHH:MM:SS";
        return std::nullopt;
    }
    std::int64_t fraction = 0, scale = 1;
    if (literal(".,")) {
        const std::size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (pos - start == 18) {
                why = "more than 18 fraction digits";
                return std::nullopt;
            }
            fraction = fraction * 10 + (s[pos++] - '0');
            scale *= 10;
        }
        if (pos == start) {
            why = "no digits after the decimal point";
            return std::nullopt;
        }
    }
    std::int64_t offset = 0;
    if (literal("Zz")) {
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        const std::int64_t sign = s[pos++] == '-' ? -1 : 1;
        std::int64_t oh = 0, om = 0;
        if (!(number(2, oh) && literal(":") && number(2, om)) || oh > 23 || om > 59) {
            why = "the UTC offset is not +HH:MM or -HH:MM";
            return std::nullopt;
        }
        offset = sign * (oh * 3600 + om * 60);
    } else {
        why = "no UTC offset: add 'Z' or +HH:MM (a local time is ambiguous)";
        return std::nullopt;
    }
    if (pos != s.size()) {
        why = "unexpected text after the UTC offset";
        return std::nullopt;
    }
    const std::chrono::year_month_day date{std::chrono::year{static_cast<int>(y)},
                                           std::chrono::month{static_cast<unsigned>(mo)},
                                           std::chrono::day{static_cast<unsigned>(d)}};
    if (!date.ok() || hour > 23 || minute > 59 || second > 59) {
        why = "not a valid date and time";
        return std::nullopt;
    }
    const std::int64_t day_number = std::chrono::sys_days(date).time_since_epoch().count();
    const std::int64_t seconds = day_number * 86400 + hour * 3600 + minute * 60 + second - offset;
    auto count = checked_mul(seconds, scale);
    if (count) count = checked_add(*count, fraction);
    if (!count) {
        why = "too many fraction digits for a 64-bit tick count";
        return std::nullopt;
    }
    return ticks{count, 0, {1, scale}};
}

ticks load_ticks(const value& item, loader& l) {
    if (const value* count = item.find("count")) {
        const tick_period period = load_period(item, l);
        loader::path_guard guard(l, "count");
        if (count->type() == value::kind::integer) return {count->as_int(), 0, period};
        if (count->is_float()) return {std::nullopt, count->as_double(), period};
        l.fail(count->is_integer() ? "tick count " + count->dump() + " does not fit in 64 bits"
                                   : "expected the tick count as a number, found " + count->dump());
    }
    if (const value* iso = item.find("iso")) {
        loader::path_guard guard(l, "iso");
        if (!iso->is_string()) l.fail("expected an ISO 8601 string, found " + iso->dump());
        std::string why;
        if (auto parsed = parse_iso(iso->as_string(), why)) return *parsed;
        l.fail("'" + iso->as_string() + "' is not an ISO 8601 UTC time: " + why);
    }
    if (const value* seconds = item.find("seconds")) {
        loader::path_guard guard(l, "seconds");
        if (!seconds->is_number()) l.fail("expected seconds as a number, found " + seconds->dump());
        return {std::nullopt, seconds->as_double(), {1, 1}};
    }
    l.fail("expected 'count' and 'period', 'iso' or 'seconds' in " + item.dump());
}

// from.num/from.den / (to.num/to.den), as a reduced fraction factor / divisor.
bool conversion_factor(tick_period from, tick_period to, std::int64_t& factor, std::int64_t& divisor) {
    const std::int64_t g_num = std::gcd(from.num, to.num);
    const std::int64_t g_den = std::gcd(from.den, to.den);
    auto f = checked_mul(from.num / g_num, to.den / g_den);
    auto d = checked_mul(to.num / g_num, from.den / g_den);
    if (!f || !d) return false;
    const std::int64_t g = std::gcd(*f, *d);
    factor = *f / g;
    divisor = *d / g;
    return true;
}

long double as_floating(const ticks& t, tick_period to) {
    const long double count = t.integer ? static_cast<long double>(*t.integer) : t.floating;
    return count * static_cast<long double>(t.period.num) / static_cast<long double>(t.period.den) *
           static_cast<long double>(to.den) / static_cast<long double>(to.num);
}

} // namespace

void add_duration_fields(value::dict_type& item, const value& count, tick_period period) {
    item.insert_or_assign("count", count);
    item.insert_or_assign("period", value(value::list_type{value(period.num), value(period.den)}));
    const long double c = count.is_float()                                ? static_cast<long double>(count.as_double())
                          : count.type() == value::kind::unsigned_integer ? static_cast<long double>(count.as_uint())
                                                                          : static_cast<long double>(count.as_int());
    item.insert_or_assign("seconds", static_cast<double>(c * static_cast<long double>(period.num) /
                                                         static_cast<long double>(period.den)));
}

std::string iso_utc(std::int64_t count, tick_period period) {
    const auto scale = decimal_scale(period);
    if (!scale) return {};
    // In ticks of 1/scale s: exact, since scale is a multiple of the reduced denominator.
    std::int64_t factor = 0, divisor = 0;
    if (!conversion_factor(period, {1, *scale}, factor, divisor) || divisor != 1) return {};
    const auto scaled = checked_mul(count, factor);
    if (!scaled) return {};
    const std::int64_t seconds = floor_div(*scaled, *scale);
    const std::int64_t fraction = *scaled - seconds * *scale;
    const std::int64_t day_number = floor_div(seconds, 86400);
    const std::int64_t in_day = seconds - day_number * 86400;
    // Far outside years 1..9999, and year_month_day's own range.
    if (day_number < -1000000000 || day_number > 1000000000) return {};
    const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{day_number}}};
    const int y = static_cast<int>(date.year());
    if (y < 1 || y > 9999) return {};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", y, static_cast<unsigned>(date.month()),
                  static_cast<unsigned>(date.day()), static_cast<int>(in_day / 3600),
                  static_cast<int>(in_day / 60 % 60), static_cast<int>(in_day % 60));
    std::string out = buf;
    if (*scale > 1) {
        std::string digits = std::to_string(fraction);
        const std::size_t width = std::to_string(*scale).size() - 1;
        out += '.';
        out.append(width - digits.size(), '0');
        out += digits;
    }
    return out + "Z";
}

void expect_chrono_item(const value& item, loader& l, std::string_view format, std::string_view clock) {
    l.expect(item, value::kind::dict, "a " + std::string(format) + " item");
    if (item.format() != format)
        l.fail("expected a " + std::string(format) + " item, found " +
               (item.format().empty() ? std::string("a dict without a format key")
                                      : "a '" + std::string(item.format()) + "' item"));
    if (clock.empty()) return;
    const value* found = item.find("clock");
    const std::string_view name = found && found->is_string() ? std::string_view(found->as_string()) : "system_clock";
    if (found && !found->is_string()) l.fail("expected the clock's name as a string, found " + found->dump());
    if (name != clock)
        l.fail("the time point is of clock '" + std::string(name) + "', a time point of '" + std::string(clock) +
               "' was asked for (clocks have different epochs)");
}

std::int64_t load_integer_ticks(const value& item, loader& l, tick_period to) {
    const ticks t = load_ticks(item, l);
    if (!t.integer) {
        const long double x = std::nearbyint(as_floating(t, to));
        if (!std::isfinite(x) || x < -9.2e18L || x > 9.2e18L)
            l.fail("the time (" + std::to_string(static_cast<double>(t.floating)) + " ticks of " +
                   period_text(t.period) + ") does not fit in a 64-bit count of ticks of " + period_text(to));
        return static_cast<std::int64_t>(x);
    }
    std::int64_t factor = 0, divisor = 0;
    const std::string what = "the time (" + std::to_string(*t.integer) + " ticks of " + period_text(t.period) + ")";
    if (!conversion_factor(t.period, to, factor, divisor))
        l.fail(what + " cannot be converted to ticks of " + period_text(to));
    if (*t.integer % divisor != 0)
        l.fail(what + " is not a whole number of ticks of " + period_text(to) + ": load it into a finer duration");
    const auto out = checked_mul(*t.integer / divisor, factor);
    if (!out) l.fail(what + " does not fit in a 64-bit count of ticks of " + period_text(to));
    return *out;
}

long double load_floating_ticks(const value& item, loader& l, tick_period to) {
    return as_floating(load_ticks(item, l), to);
}

} // namespace zanj::detail
