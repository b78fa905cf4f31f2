#pragma once
/// \file
/// Enums: saved as their underlying integer, or by name once you list the names.
///
/// \code
/// enum class Color { red, green, blue };
/// ZANJ_ENUM(Color, red, green, blue);          // at namespace scope, in Color's namespace
/// // Color::green is saved as "green"; loading "purple" is a type_error listing the names.
///
/// template <> struct zanj::enum_names<lib::Mode> {   // for enums you cannot reach by ADL
///     static constexpr std::array<zanj::enum_entry<lib::Mode>, 2> entries{{{lib::Mode::fast, "fast"},
///                                                                          {lib::Mode::safe, "safe"}}};
/// };
/// \endcode
///
/// A named enum is a JSON string, and a map keyed by it has the names as keys. Loading also
/// accepts the integer of a named value, so files written before the names were listed still
/// load. An enum without names is its underlying integer, in values and in map keys.

#include <zanj/dataclass.hpp> // ZANJ_DETAIL_FOR_EACH
#include <zanj/handler.hpp>
#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

namespace zanj {

/// One named value of an enum.
template <class E>
struct enum_entry {
    /// The enumerator.
    E value;
    /// Its name on disk.
    std::string_view name;
};

/// Specialise with `static constexpr std::array<enum_entry<E>, N> entries` to name the values
/// of an enum that `ZANJ_ENUM` cannot reach (one declared in a namespace you do not own).
template <class E>
struct enum_names {};

namespace detail {

void zanj_enum_names() = delete; // poison pill: found only through ADL

template <class E>
concept has_enum_names_trait = requires {
    enum_names<E>::entries;
};
template <class E>
concept has_adl_enum_names = requires {
    zanj_enum_names(tag<E>{});
};

/// The names listed for E, by the trait first, then by ZANJ_ENUM.
template <class E>
constexpr auto enum_entries() {
    if constexpr (has_enum_names_trait<E>)
        return enum_names<E>::entries;
    else
        return zanj_enum_names(tag<E>{});
}

template <class E>
constexpr bool names_are_unique() {
    constexpr auto entries = enum_entries<E>();
    for (std::size_t i = 0; i < entries.size(); ++i)
        for (std::size_t j = i + 1; j < entries.size(); ++j)
            if (entries[i].name == entries[j].name || entries[i].value == entries[j].value) return false;
    return true;
}

} // namespace detail

/// True for enums whose values have names (ZANJ_ENUM or an enum_names specialisation).
template <class E>
concept named_enum = std::is_enum_v<E> &&(detail::has_enum_names_trait<E> || detail::has_adl_enum_names<E>);

namespace detail {

/// "red, green, blue", for messages.
template <named_enum E>
std::string enum_name_list() {
    std::string out;
    for (const auto& entry : enum_entries<E>()) {
        if (!out.empty()) out += ", ";
        out += entry.name;
    }
    return out;
}

/// The name of `e`, or empty when it has none.
template <named_enum E>
std::string_view enum_to_name(E e) noexcept {
    for (const auto& entry : enum_entries<E>())
        if (entry.value == e) return entry.name;
    return {};
}

/// The value named `name`; a type_error listing the names when there is none.
template <named_enum E>
E enum_from_name(std::string_view name, const loader& l) {
    for (const auto& entry : enum_entries<E>())
        if (entry.name == name) return entry.value;
    l.fail("unknown enum name '" + std::string(name) + "'; valid names: " + enum_name_list<E>());
}

/// The name of `e`; saving a value without a name is a type_error.
template <named_enum E>
std::string_view enum_name_for_saving(E e, const serializer& s) {
    std::string_view name = enum_to_name(e);
    if (name.empty())
        s.fail("enum value " + std::to_string(+static_cast<std::underlying_type_t<E>>(e)) +
               " has no name; named values: " + enum_name_list<E>());
    return name;
}

} // namespace detail

/// Enums: by name when they have names (ZANJ_ENUM, enum_names), otherwise as their underlying integer.
template <class E>
requires std::is_enum_v<E>
struct handler<E> {
    /// The enum's underlying integer type.
    using underlying = std::underlying_type_t<E>;

    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(E e, serializer& s) {
        if constexpr (named_enum<E>) {
            static_assert(detail::names_are_unique<E>(),
                          "zanj: the names of an enum must be unique, and so must their values");
            return s.write_string(detail::enum_name_for_saving(e, s));
        } else {
            return s.serialize(static_cast<underlying>(e));
        }
    }

    /// Reads the item back (the contract of zanj/handler.hpp).
    static E load(const value& v, loader& l) {
        if constexpr (named_enum<E>) {
            if (v.is_string()) return detail::enum_from_name<E>(v.as_string(), l);
            if (!v.is_integer())
                l.fail("expected an enum name (" + detail::enum_name_list<E>() + "), found " +
                       std::string(v.type_name()) + " " + v.dump());
            // An integer written before the enum was named: only the values that have a name.
            const E e = static_cast<E>(l.load<underlying>(v));
            if (detail::enum_to_name(e).empty())
                l.fail("enum value " + v.dump() + " has no name; valid names: " + detail::enum_name_list<E>());
            return e;
        } else {
            return static_cast<E>(l.load<underlying>(v));
        }
    }
};

} // namespace zanj

#define ZANJ_DETAIL_ENUM_ENTRY(type, name)                                                                             \
    ::zanj::enum_entry<type> { type::name, #name }

/// Names the listed values of the enum `Type`, which are then saved as these names. Use at
/// namespace scope in the namespace that declares `Type`; values left out cannot be saved.
#define ZANJ_ENUM(Type, ...)                                                                                           \
    [[maybe_unused]] constexpr auto zanj_enum_names(::zanj::tag<Type>) {                                               \
        return ::std::array{ZANJ_DETAIL_FOR_EACH(ZANJ_DETAIL_ENUM_ENTRY, Type, __VA_ARGS__)};                          \
    }
