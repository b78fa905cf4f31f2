#pragma once
/// \file
/// Handlers for std::variant and std::monostate. A variant records which alternative it holds:
///
///     {"__muutils_format__": "std::variant", "index": 1, "type": "str", "value": "text"}
///
/// `index` is the alternative's position and decides the load; `type` names the alternative for
/// people and Python ("None" for std::monostate, "bool", numpy's dtype names for numbers, "str",
/// the format key of dataclasses and other types that declare one) and is left out for other
/// types. When both the file and the C++ type name an alternative, the names must agree: that
/// catches alternatives that changed order. std::monostate alone is `null`.

#include <zanj/dtype.hpp>
#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace zanj {

/// std::monostate: null.
template <>
struct handler<std::monostate> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(std::monostate, serializer&) { return value{}; }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::monostate load(const value& v, loader& l) {
        l.expect(v, value::kind::null, "null for std::monostate");
        return {};
    }
};

namespace detail {

/// The name a variant item records for an alternative of type T, or empty when T has none that
/// is the same on every compiler.
template <class T>
std::string variant_alternative_name() {
    if constexpr (std::is_same_v<T, std::monostate> || std::is_same_v<T, std::nullptr_t>)
        return "None";
    else if constexpr (std::is_same_v<T, bool>)
        return "bool";
    else if constexpr (array_element<T>)
        return std::string(dtype_name(dtype_of<T>));
    else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::filesystem::path>)
        return "str";
    else if constexpr (requires { handler<T>::format_key(); })
        return handler<T>::format_key();
    else
        return {};
}

} // namespace detail

/// std::variant: an item recording which alternative it holds (see this file's description).
template <class... Ts>
struct handler<std::variant<Ts...>> {
    /// The variant type handled.
    using variant_type = std::variant<Ts...>;
    /// Number of alternatives.
    static constexpr std::size_t size = sizeof...(Ts);

    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const variant_type& v, serializer& s) {
        if (v.valueless_by_exception()) s.fail("a std::variant that is valueless by exception cannot be saved");
        value::dict_type out;
        out.insert_or_assign(format_key, "std::variant");
        out.insert_or_assign("index", v.index());
        if (std::string name = alternative_name(v.index()); !name.empty())
            out.insert_or_assign("type", std::move(name));
        out.insert_or_assign("value", std::visit([&](const auto& x) { return s.serialize_field("value", x); }, v));
        return out;
    }

    /// Reads the item back (the contract of zanj/handler.hpp).
    static variant_type load(const value& v, loader& l) {
        l.expect(v, value::kind::dict, "a std::variant item");
        if (v.format() != "std::variant")
            l.fail("expected a std::variant item, found " + (v.format().empty()
                                                                 ? std::string("a dict without a format key")
                                                                 : "a '" + std::string(v.format()) + "' item"));
        const auto index = l.load_field<std::size_t>(v, "index");
        if (index >= size)
            l.fail("std::variant index " + std::to_string(index) + " is out of range: this std::variant has " +
                   std::to_string(size) + " alternatives (" + alternative_list() + ")");
        const std::string expected = alternative_name(index);
        if (const value* type = v.find("type");
            type && type->is_string() && !expected.empty() && type->as_string() != expected)
            l.fail("the file's std::variant alternative " + std::to_string(index) + " is '" + type->as_string() +
                   "', this std::variant's is '" + expected + "' (did the alternatives change order?)");
        const value& payload = l.field(v, "value");
        loader::path_guard guard(l, "value");
        try {
            return load_alternative(index, payload, l);
        } catch (const type_error& e) {
            throw type_error("std::variant alternative " + std::to_string(index) +
                                 (expected.empty() ? std::string() : " (" + expected + ")") + ": " + e.reason(),
                             e.object_path(), e.member());
        }
    }

private:
    static std::string alternative_name(std::size_t index) {
        static constexpr std::array<std::string (*)(), size> names{&detail::variant_alternative_name<Ts>...};
        return names[index]();
    }

    // "int32, str, alternative 2", for messages.
    static std::string alternative_list() {
        std::string out;
        for (std::size_t i = 0; i < size; ++i) {
            std::string name = alternative_name(i);
            if (i) out += ", ";
            out += name.empty() ? "alternative " + std::to_string(i) : name;
        }
        return out;
    }

    template <std::size_t I>
    static variant_type load_alternative(const value& v, loader& l) {
        return variant_type(std::in_place_index<I>, l.load<std::variant_alternative_t<I, variant_type>>(v));
    }

    static variant_type load_alternative(std::size_t index, const value& v, loader& l) {
        static constexpr auto loaders = []<std::size_t... I>(std::index_sequence<I...>) {
            return std::array<variant_type (*)(const value&, loader&), size>{&load_alternative<I>...};
        }
        (std::index_sequence_for<Ts...>{});
        return loaders[index](v, l);
    }
};

} // namespace zanj
