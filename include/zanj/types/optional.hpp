#pragma once
/// \file
/// Handlers for std::optional (null when empty), std::nullopt_t and std::nullptr_t (null).

#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

#include <cstddef>
#include <optional>

namespace zanj {

/// std::optional: its value, or null when empty.
template <class T>
struct handler<std::optional<T>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::optional<T>& o, serializer& s) { return o ? s.serialize(*o) : value{}; }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::optional<T> load(const value& v, loader& l) {
        if (v.is_null()) return std::nullopt;
        return l.load<T>(v);
    }
};

/// std::nullopt: null (save only).
template <>
struct handler<std::nullopt_t> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(std::nullopt_t, serializer&) { return value{}; }
};

/// std::nullptr_t: null.
template <>
struct handler<std::nullptr_t> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(std::nullptr_t, serializer&) { return value{}; }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::nullptr_t load(const value& v, loader& l) {
        l.expect(v, value::kind::null, "null");
        return nullptr;
    }
};

} // namespace zanj
