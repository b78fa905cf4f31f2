// `zanj diff`: two files compared item by item, numbers and arrays within a tolerance, as
// numpy.allclose does (|a - b| <= atol + rtol * |b|, NaN equal to NaN).

#include "cli.hpp"

#include <zanj/load_any.hpp>

#include <cmath>
#include <iostream>
#include <string>
#include <vector>

namespace zanj::cli {

namespace {

struct comparer {
    double rtol;
    double atol;
    std::vector<std::string> out;

    bool close(double a, double b) const {
        if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
        if (a == b) return true; // infinities of one sign
        return std::abs(a - b) <= atol + rtol * std::abs(b);
    }

    static std::string child(const std::string& path, const std::string& step) {
        return path == "/" ? "/" + step : path + "/" + step;
    }

    static std::string brief(const value& v) {
        std::string s = v.dump();
        return s.size() > 60 ? s.substr(0, 57) + "..." : s;
    }

    void arrays(const ndarray& a, const ndarray& b, const std::string& path) {
        if (a.type() != b.type())
            out.push_back(path + ": dtype " + std::string(dtype_name(a.type())) + " in A, " +
                          std::string(dtype_name(b.type())) + " in B");
        if (a.shape() != b.shape()) {
            out.push_back(path + ": shape " + a.shape_string() + " in A, " + b.shape_string() + " in B");
            return;
        }
        std::size_t differing = 0, first = 0;
        double worst = 0.0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            const double ar = element_real(a, i), br = element_real(b, i);
            const double ai = element_imag(a, i), bi = element_imag(b, i);
            if (close(ar, br) && close(ai, bi)) continue;
            if (differing++ == 0) first = i;
            if (!std::isnan(ar) && !std::isnan(br)) worst = std::max(worst, std::abs(ar - br));
        }
        if (differing > 0)
            out.push_back(path + ": " + std::to_string(differing) + " of " + std::to_string(a.size()) +
                          " elements differ (first at flat index " + std::to_string(first) + ": " +
                          element_string(a, first) + " vs " + element_string(b, first) +
                          "; max |A - B| = " + std::to_string(worst) + ")");
    }

    void compare(const value& a, const value& b, const std::string& path) {
        if (a.is_number() && b.is_number()) {
            const bool exact = a.is_integer() && b.is_integer();
            if (exact ? !(a == b) : !close(a.as_double(), b.as_double()))
                out.push_back(path + ": " + brief(a) + " in A, " + brief(b) + " in B");
            return;
        }
        if (a.type_name() != b.type_name()) {
            out.push_back(path + ": " + std::string(a.type_name()) + " in A, " + std::string(b.type_name()) + " in B");
            return;
        }
        switch (a.type()) {
        case value::kind::array: arrays(a.as_array(), b.as_array(), path); return;
        case value::kind::dict: {
            for (const auto& [key, item] : a.as_dict()) {
                const value* other = b.find(key);
                if (other == nullptr)
                    out.push_back(child(path, key) + ": only in A");
                else
                    compare(item, *other, child(path, key));
            }
            for (const auto& [key, item] : b.as_dict())
                if (!a.contains(key)) out.push_back(child(path, key) + ": only in B");
            return;
        }
        case value::kind::list: {
            const auto& la = a.as_list();
            const auto& lb = b.as_list();
            if (la.size() != lb.size())
                out.push_back(path + ": " + std::to_string(la.size()) + " items in A, " + std::to_string(lb.size()) +
                              " in B");
            for (std::size_t i = 0; i < std::min(la.size(), lb.size()); ++i)
                compare(la[i], lb[i], child(path, std::to_string(i)));
            return;
        }
        default:
            if (!(a == b)) out.push_back(path + ": " + brief(a) + " in A, " + brief(b) + " in B");
            return;
        }
    }
};

} // namespace

int run_diff(const diff_options& o) {
    const value a = load_any(o.a);
    const value b = load_any(o.b);
    comparer c{o.rtol, o.atol, {}};
    c.compare(a, b, "/");
    for (const std::string& line : c.out) std::cout << line << "\n";
    if (c.out.empty()) {
        std::cout << "no differences\n";
        return exit_ok;
    }
    std::cout << c.out.size() << (c.out.size() == 1 ? " difference\n" : " differences\n");
    return exit_problems;
}

} // namespace zanj::cli
