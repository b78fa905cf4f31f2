#pragma once
/// \file
/// Schema evolution: reading files written by an older or newer version of a struct.
///
/// - `schema_options` (the `schema` member of `zanj::config`) says what a typed read does with a
///   field the file lacks and with a key the struct does not have; by default it keeps the
///   default value, or skips the key, and warns through `config::warning_sink`.
/// - `ZANJ_SCHEMA(Type, ...)` (zanj/dataclass.hpp), next to `ZANJ_DATACLASS`, declares the old
///   names a field is also read from (`zanj::aliases`) and the type's version with an upgrade hook
///   (`zanj::schema_version`), without changing the struct:
///
/// \code
/// struct Run { std::string title; double lr = 1e-3; int epochs = 10; };
/// ZANJ_DATACLASS(Run, title, lr, epochs);
/// ZANJ_SCHEMA(Run, zanj::aliases(&Run::lr, "learning_rate"),
///             zanj::schema_version(2, [](zanj::value& item, std::uint32_t from) {
///                 if (from < 2) item["epochs"] = item["steps"].as_integer() / 100;
///             }));
/// \endcode

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace zanj {

/// What a typed read does when a dataclass field is absent from the item.
enum class missing_field {
    keep,  ///< keep the default-constructed value, silently
    warn,  ///< keep the default-constructed value and report it (default)
    error, ///< throw a type_error naming the object path and the field
};

/// What a typed read does with a key of the item that is no field (nor alias) of the dataclass.
enum class unknown_field {
    ignore, ///< skip it silently
    warn,   ///< skip it and report it (default)
    error,  ///< throw a type_error naming the object path and the key
};

/// How typed reads treat items written by another version of a type (`config::schema`).
/// Warnings go to `config::warning_sink` and name the object path and the field.
struct schema_options {
    /// A field the item lacks.
    missing_field missing_fields = missing_field::warn;
    /// A key the type does not know. A version newer than the type's is treated the same way.
    unknown_field unknown_fields = unknown_field::warn;

    /// Same policies.
    friend bool operator==(const schema_options&, const schema_options&) = default;
};

/// "keep", "warn" or "error".
constexpr std::string_view to_string(missing_field m) noexcept {
    return m == missing_field::keep ? "keep" : m == missing_field::warn ? "warn" : "error";
}
/// "ignore", "warn" or "error".
constexpr std::string_view to_string(unknown_field u) noexcept {
    return u == unknown_field::ignore ? "ignore" : u == unknown_field::warn ? "warn" : "error";
}

/// The key of a versioned dataclass item that holds its version (see docs/format.md): a key
/// beside the fields, which Python's `SerializableDataclass.load` skips like any extra key.
inline constexpr std::string_view version_key = "__zanj_version__";

/// A type's version and its upgrade hook, made by `zanj::schema_version`.
template <class Hook>
struct version_spec {
    /// The version this program writes.
    std::uint32_t current;
    /// Called with the stored item (a mutable `zanj::value`) and the version it was written with
    /// (0 when it has none), when that differs from `current`, before the fields are read.
    Hook upgrade;
};

/// The old names a field is also read from, made by `zanj::aliases`.
template <class Class, class Member, std::size_t N>
struct alias_spec {
    /// The field, as listed in ZANJ_DATACLASS.
    Member Class::*field;
    /// Its former names, tried in order when the current name is absent.
    std::array<std::string_view, N> names;
};

/// For ZANJ_SCHEMA: the type is at version `current`; items without a version are version 0.
constexpr version_spec<std::nullptr_t> schema_version(std::uint32_t current) noexcept { return {current, nullptr}; }

/// For ZANJ_SCHEMA: the type is at version `current`, and `upgrade` rewrites older (or newer)
/// items before their fields are read. It is called as `upgrade(zanj::value& item, std::uint32_t
/// stored_version)` or, to report errors with `l.fail`, `upgrade(item, stored_version, zanj::loader& l)`.
template <class Hook>
constexpr version_spec<Hook> schema_version(std::uint32_t current, Hook upgrade) {
    return {current, upgrade};
}

/// For ZANJ_SCHEMA: `field` (a member pointer, `&Run::lr`) is also read from the keys `names`
/// when its own name is absent; saving uses its current name.
template <class Class, class Member, class... Names>
constexpr alias_spec<Class, Member, sizeof...(Names)> aliases(Member Class::*field, Names... names) {
    static_assert(sizeof...(Names) > 0, "zanj::aliases(&Type::field, \"old_name\", ...) needs at least one old name");
    static_assert((std::is_convertible_v<Names, std::string_view> && ...),
                  "zanj::aliases(&Type::field, \"old_name\", ...): the old names must be strings");
    return {field, {std::string_view(names)...}};
}

} // namespace zanj
