#pragma once
/// \file
/// Handlers for std::string, std::string_view, C strings (save only) and std::filesystem::path
/// (as a POSIX string, as Python writes paths).

#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace zanj {

/// std::string: a JSON string, checked to be UTF-8.
template <>
struct handler<std::string> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::string& s, serializer& ser) { return ser.write_string(s); }
    /// Writes serialize()'s item as text (the contract of zanj/handler.hpp); throws type_error,
    /// without the object path, on text that is not UTF-8.
    static void write_json(const std::string& s, detail::json_text& out) { out.string(s); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::string load(const value& v, loader& l) {
        l.expect(v, value::kind::string, "a string");
        return v.as_string();
    }
};

/// std::string_view: a JSON string (save only; load std::string).
template <>
struct handler<std::string_view> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(std::string_view s, serializer& ser) { return ser.write_string(s); }
};

/// C strings: JSON strings (save only; load std::string).
template <>
struct handler<const char*> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const char* s, serializer& ser) {
        if (!s) return value{};
        return ser.write_string(s);
    }
};
template <>
struct handler<char*> : handler<const char*> {};
/// String literals and char arrays: JSON strings (save only).
template <std::size_t N>
struct handler<char[N]> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const char (&s)[N], serializer& ser) {
        return ser.write_string(std::string_view(s, std::char_traits<char>::length(s)));
    }
};

/// std::filesystem::path: a POSIX string.
template <>
struct handler<std::filesystem::path> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::filesystem::path& p, serializer& ser) {
        return ser.write_string(p.generic_string());
    }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::filesystem::path load(const value& v, loader& l) {
        l.expect(v, value::kind::string, "a path string");
        return std::filesystem::path(v.as_string());
    }
};

} // namespace zanj
