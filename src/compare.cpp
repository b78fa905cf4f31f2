#include <zanj/compare.hpp>

#include <algorithm>
#include <cmath>

namespace zanj {

namespace {

class comparer {
public:
    explicit comparer(const compare_options& o) : o_(o) {}

    std::vector<difference> out;

    void compare(const value& a, const value& b, const std::string& path) {
        if (a.is_number() && b.is_number()) {
            const bool exact = a.is_integer() && b.is_integer();
            if (exact ? !(a == b) : !close(a.as_double(), b.as_double())) both(path, brief(a), brief(b));
            return;
        }
        if (a.type_name() != b.type_name()) {
            both(path, std::string(a.type_name()), std::string(b.type_name()));
            return;
        }
        switch (a.type()) {
        case value::kind::array: arrays(a.as_array(), b.as_array(), path); return;
        case value::kind::dict:
            for (const auto& [key, item] : a.as_dict()) {
                const value* other = b.find(key);
                if (other == nullptr)
                    out.push_back({child(path, key), "only in " + o_.a_name});
                else
                    compare(item, *other, child(path, key));
            }
            for (const auto& [key, item] : b.as_dict())
                if (!a.contains(key)) out.push_back({child(path, key), "only in " + o_.b_name});
            return;
        case value::kind::list: {
            const auto& la = a.as_list();
            const auto& lb = b.as_list();
            if (la.size() != lb.size())
                both(path, std::to_string(la.size()) + " items", std::to_string(lb.size()) + " items");
            for (std::size_t i = 0; i < std::min(la.size(), lb.size()); ++i)
                compare(la[i], lb[i], child(path, std::to_string(i)));
            return;
        }
        default:
            if (!(a == b)) both(path, brief(a), brief(b));
            return;
        }
    }

private:
    const compare_options& o_;

    bool close(double a, double b) const {
        if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
        if (a == b) return true; // infinities of one sign
        return std::abs(a - b) <= o_.atol + o_.rtol * std::abs(b);
    }

    void both(const std::string& path, const std::string& in_a, const std::string& in_b) {
        out.push_back({path, in_a + " in " + o_.a_name + ", " + in_b + " in " + o_.b_name});
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
            both(path, "dtype " + std::string(dtype_name(a.type())), "dtype " + std::string(dtype_name(b.type())));
        if (a.shape() != b.shape()) {
            both(path, "shape " + a.shape_string(), "shape " + b.shape_string());
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
            out.push_back({path, std::to_string(differing) + " of " + std::to_string(a.size()) +
                                     " elements differ (first at flat index " + std::to_string(first) + ": " +
                                     element_string(a, first) + " in " + o_.a_name + " vs " + element_string(b, first) +
                                     " in " + o_.b_name + "; max |" + o_.a_name + " - " + o_.b_name +
                                     "| = " + std::to_string(worst) + ")"});
    }
};

} // namespace

std::vector<difference> compare(const value& a, const value& b, const compare_options& options) {
    comparer c(options);
    c.compare(a, b, "/");
    return std::move(c.out);
}

std::string to_string(const std::vector<difference>& differences) {
    std::string out;
    for (const difference& d : differences) {
        if (!out.empty()) out += "\n";
        out += d.str();
    }
    return out;
}

} // namespace zanj
