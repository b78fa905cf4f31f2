// `zanj diff`: two files compared item by item, numbers and arrays within a tolerance, as
// numpy.allclose does (|a - b| <= atol + rtol * |b|, NaN equal to NaN).

#include "cli.hpp"

#include <zanj/compare.hpp>
#include <zanj/load_any.hpp>

#include <iostream>

namespace zanj::cli {

int run_diff(const diff_options& o, const read_limits& limits) {
    const value a = load_any(o.a, limits);
    const value b = load_any(o.b, limits);
    compare_options options;
    options.rtol = o.rtol;
    options.atol = o.atol;
    const std::vector<difference> found = compare(a, b, options);
    for (const difference& d : found) std::cout << d.str() << "\n";
    if (found.empty()) {
        std::cout << "no differences\n";
        return exit_ok;
    }
    std::cout << found.size() << (found.size() == 1 ? " difference\n" : " differences\n");
    return exit_problems;
}

} // namespace zanj::cli
