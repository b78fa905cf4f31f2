#pragma once
// The canonical JSON form of a tree that tests/python/read_zanj.py prints (see its docstring),
// and a comparison that reports the first difference by path.

#include <zanj/value.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <optional>
#include <string>

namespace zanj_test {

inline std::string hex_of(const zanj::ndarray& a) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(a.nbytes() * 2);
    for (std::byte b : a.byte_span()) {
        out += digits[static_cast<unsigned>(b) >> 4];
        out += digits[static_cast<unsigned>(b) & 0xF];
    }
    return out;
}

inline nlohmann::json canonical(const zanj::value& v) {
    using kind = zanj::value::kind;
    switch (v.type()) {
    case kind::null: return nullptr;
    case kind::boolean: return v.as_bool();
    case kind::integer: return v.as_int();
    case kind::unsigned_integer: return v.as_uint();
    case kind::floating: {
        double d = v.as_double();
        if (std::isnan(d)) return {{"__float__", "nan"}};
        if (std::isinf(d)) return {{"__float__", d > 0 ? "inf" : "-inf"}};
        return d;
    }
    case kind::string: return v.as_string();
    case kind::list: {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& x : v.as_list()) out.push_back(canonical(x));
        return out;
    }
    case kind::dict: {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& [k, x] : v.as_dict()) out[k] = canonical(x);
        return out;
    }
    case kind::set: {
        nlohmann::json items = nlohmann::json::array();
        for (const auto& x : v.as_set().items) items.push_back(canonical(x));
        return {{"__set__", items}, {"frozen", v.as_set().frozen}};
    }
    case kind::array: {
        const auto& a = v.as_array();
        return {{"__ndarray__",
                 {{"dtype", std::string(zanj::dtype_name(a.type()))}, {"shape", a.shape()}, {"hex", hex_of(a)}}}};
    }
    }
    return nullptr;
}

// The first difference between two canonical values, as "path: a != b"; sets compare without
// order; integers and floats are different kinds, as in Python.
inline std::optional<std::string> canonical_diff(const nlohmann::json& a, const nlohmann::json& b,
                                                 const std::string& path = "") {
    auto where = path.empty() ? std::string("/") : path;
    auto mismatch = [&] { return where + ": " + a.dump() + " != " + b.dump(); };
    auto category = [](const nlohmann::json& j) {
        if (j.is_number_integer()) return 1; // signed and unsigned alike
        if (j.is_number_float()) return 2;
        return 3 + static_cast<int>(j.type());
    };
    if (category(a) != category(b)) return mismatch();
    if (a.is_object()) {
        if (a.contains("__set__") && b.contains("__set__")) {
            if (a["frozen"] != b["frozen"] || a["__set__"].size() != b["__set__"].size()) return mismatch();
            for (const auto& x : a["__set__"]) {
                bool found = false;
                for (const auto& y : b["__set__"]) found = found || !canonical_diff(x, y);
                if (!found) return where + ": set item " + x.dump() + " missing in " + b.dump();
            }
            return std::nullopt;
        }
        if (a.size() != b.size()) return mismatch();
        for (auto it = a.begin(); it != a.end(); ++it) {
            if (!b.contains(it.key())) return where + ": key '" + it.key() + "' missing on the right";
            if (auto d = canonical_diff(*it, b[it.key()], path + "/" + it.key())) return d;
        }
        return std::nullopt;
    }
    if (a.is_array()) {
        if (a.size() != b.size()) return mismatch();
        for (std::size_t i = 0; i < a.size(); ++i)
            if (auto d = canonical_diff(a[i], b[i], path + "/" + std::to_string(i))) return d;
        return std::nullopt;
    }
    if (a.is_number_float()) {
        double x = a.get<double>(), y = b.get<double>();
        if (x != y || std::signbit(x) != std::signbit(y)) return mismatch();
        return std::nullopt;
    }
    if (a.is_number_integer()) {
        bool a_neg = a.is_number_integer() && !a.is_number_unsigned() && a.get<std::int64_t>() < 0;
        bool b_neg = b.is_number_integer() && !b.is_number_unsigned() && b.get<std::int64_t>() < 0;
        if (a_neg != b_neg) return mismatch();
        if (a_neg ? a.get<std::int64_t>() != b.get<std::int64_t>() : a.get<std::uint64_t>() != b.get<std::uint64_t>())
            return mismatch();
        return std::nullopt;
    }
    if (a != b) return mismatch();
    return std::nullopt;
}

} // namespace zanj_test
