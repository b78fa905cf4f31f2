#pragma once
// Shared by the libFuzzer targets (fuzz_*.cpp) and the seed writer (make_seeds.cpp): the limits
// every target reads with, and one dataclass that exercises most handlers, so that the seeds our
// writer makes are archives the typed targets can load field by field.

#include <zanj/zanj.hpp>

#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

#include <array>
#include <chrono>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

namespace zanj_fuzz {

/// The defaults, tightened so that what one input may make the reader allocate stays far below
/// the fuzzers' -malloc_limit_mb (scripts/run-fuzz.sh): decompression is capped at 16 MiB per
/// input, so every allocation is bounded by the input's size plus that.
inline zanj::read_limits limits() {
    zanj::read_limits l;
    l.max_total_uncompressed = std::uint64_t{16} << 20;
    l.ratio_checked_above = std::uint64_t{64} << 10;
    l.max_json_depth = 200;
    l.max_members = 4096;
    return l;
}

/// Settings of every read: the limits above, one thread, warnings dropped (printing them would
/// slow the fuzzers down).
inline zanj::config settings() {
    zanj::config c;
    c.limits = limits();
    c.threads = 1;
    c.warning_sink = [](std::string_view) {};
    return c;
}

enum class color : std::uint8_t { red, green, blue };
ZANJ_ENUM(color, red, green, blue);

struct layer {
    std::string name;
    xt::xarray<float> w;
    std::vector<int> shape;
    std::optional<double> scale;
    bool operator==(const layer&) const = default;
};
ZANJ_DATACLASS(layer, name, w, shape, scale);

struct run {
    std::string title;
    double lr = 1e-3;
    std::int64_t steps = 0;
    bool done = false;
    color tint = color::red;
    std::map<std::string, double> metrics;
    std::vector<layer> layers;
    std::optional<std::string> note;
    std::set<int> ids;
    std::tuple<int, std::string, double> triple;
    std::variant<int, std::string, std::vector<double>> choice;
    std::map<int, std::vector<std::string>> lookup;
    std::array<std::uint8_t, 4> tag{};
    std::deque<std::complex<double>> roots;
    std::chrono::milliseconds elapsed{};
    xt::xtensor<double, 2> grid;
    xt::xarray<std::int16_t> counts;
    std::vector<std::vector<float>> rows;
    zanj::value extra;
};
ZANJ_DATACLASS(run, title, lr, steps, done, tint, metrics, layers, note, ids, triple, choice, lookup, tag, roots,
               elapsed, grid, counts, rows, extra);

/// A registry that rebuilds `run` and `layer` items in untyped reads, besides the built-in loaders.
inline std::shared_ptr<const zanj::loader_registry> registry() {
    auto r = std::make_shared<zanj::loader_registry>();
    r->add<run>();
    r->add<layer>();
    return r;
}

} // namespace zanj_fuzz
