#pragma once
/// \file
/// `ZANJ_DATACLASS(Type, field...)`: declares a struct that is saved field by field, as Python's
/// `SerializableDataclass`, with the format key `Type(SerializableDataclass)` so that a Python
/// class of the same name loads it and vice versa.
///
/// \code
/// struct Layer { std::string name; xt::xarray<float> w; };
/// ZANJ_DATACLASS(Layer, name, w);   // at namespace scope, in Layer's namespace
/// \endcode
///
/// Non-intrusive: the struct is untouched; the fields must be accessible and the struct default
/// constructible (loading assigns the fields of a default-constructed object).

#include <zanj/handler.hpp>
#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

namespace zanj {

/// One field of a dataclass: its name on disk and its member pointer.
template <class Class, class Member>
struct field_info {
    /// The field's key on disk.
    std::string_view name;
    /// The member it is read from and assigned to.
    Member Class::*pointer;
};

namespace detail {

template <class Class, class Member>
constexpr field_info<Class, Member> make_field(std::string_view name, Member Class::*pointer) {
    return {name, pointer};
}

/// What ZANJ_DATACLASS records of a type: its name and fields.
template <class Class, class... Fields>
struct dataclass_description {
    std::string_view name;
    std::tuple<Fields...> fields;
};

template <class Class, class... Fields>
constexpr dataclass_description<Class, Fields...> describe_dataclass(std::string_view name, Fields... fields) {
    return {name, std::tuple<Fields...>(fields...)};
}

/// "ns::Layer" -> "Layer": Python knows classes by their bare name.
constexpr std::string_view unqualified_name(std::string_view name) {
    auto colon = name.rfind("::");
    return colon == std::string_view::npos ? name : name.substr(colon + 2);
}

void zanj_dataclass() = delete; // poison pill: found only through ADL

template <class T>
concept is_dataclass = requires {
    zanj_dataclass(tag<T>{});
};

} // namespace detail

/// The handler every ZANJ_DATACLASS type gets.
template <class T>
requires detail::is_dataclass<T>
struct handler<T> {
    /// The name and fields the macro listed.
    static auto description() {
        using detail::zanj_dataclass;
        return zanj_dataclass(tag<T>{});
    }

    /// "Name(SerializableDataclass)".
    static std::string format_key() {
        return std::string(detail::unqualified_name(description().name)) + "(SerializableDataclass)";
    }

    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const T& obj, serializer& s) {
        value::dict_type out;
        out.insert_or_assign(zanj::format_key, format_key());
        std::apply(
            [&](const auto&... f) { (out.insert_or_assign(f.name, s.serialize_field(f.name, obj.*(f.pointer))), ...); },
            description().fields);
        return out;
    }

    /// Reads the item back (the contract of zanj/handler.hpp).
    static T load(const value& v, loader& l) {
        static_assert(std::is_default_constructible_v<T>,
                      "zanj: a ZANJ_DATACLASS type must be default constructible to be loaded (its fields are "
                      "assigned one by one); otherwise write a handler<T> whose load() constructs it");
        const std::string key = format_key();
        l.expect(v, value::kind::dict, "a dict for " + key);
        std::string_view found = v.format();
        // Python matches a class whose format string is a prefix of the item's; a plain dict is accepted too.
        if (!found.empty() && !found.starts_with(key))
            l.fail("expected a " + key + " item, found '" + std::string(found) + "'");
        T obj{};
        std::apply(
            [&](const auto&... f) {
                ((obj.*(f.pointer) = l.template load_field<std::remove_cvref_t<decltype(obj.*(f.pointer))>>(v, f.name)),
                 ...);
            },
            description().fields);
        return obj;
    }
};

} // namespace zanj

// ---- the macro ---------------------------------------------------------------------------------
// A C++20 __VA_OPT__ for-each: up to 256 fields.
#define ZANJ_DETAIL_PARENS ()
#define ZANJ_DETAIL_EXPAND(...)                                                                                        \
    ZANJ_DETAIL_EXPAND4(ZANJ_DETAIL_EXPAND4(ZANJ_DETAIL_EXPAND4(ZANJ_DETAIL_EXPAND4(__VA_ARGS__))))
#define ZANJ_DETAIL_EXPAND4(...)                                                                                       \
    ZANJ_DETAIL_EXPAND3(ZANJ_DETAIL_EXPAND3(ZANJ_DETAIL_EXPAND3(ZANJ_DETAIL_EXPAND3(__VA_ARGS__))))
#define ZANJ_DETAIL_EXPAND3(...)                                                                                       \
    ZANJ_DETAIL_EXPAND2(ZANJ_DETAIL_EXPAND2(ZANJ_DETAIL_EXPAND2(ZANJ_DETAIL_EXPAND2(__VA_ARGS__))))
#define ZANJ_DETAIL_EXPAND2(...)                                                                                       \
    ZANJ_DETAIL_EXPAND1(ZANJ_DETAIL_EXPAND1(ZANJ_DETAIL_EXPAND1(ZANJ_DETAIL_EXPAND1(__VA_ARGS__))))
#define ZANJ_DETAIL_EXPAND1(...) __VA_ARGS__
#define ZANJ_DETAIL_FOR_EACH(macro, type, ...)                                                                         \
    __VA_OPT__(ZANJ_DETAIL_EXPAND(ZANJ_DETAIL_FOR_EACH_STEP(macro, type, __VA_ARGS__)))
#define ZANJ_DETAIL_FOR_EACH_STEP(macro, type, first, ...)                                                             \
    macro(type, first) __VA_OPT__(, ZANJ_DETAIL_FOR_EACH_AGAIN ZANJ_DETAIL_PARENS(macro, type, __VA_ARGS__))
#define ZANJ_DETAIL_FOR_EACH_AGAIN() ZANJ_DETAIL_FOR_EACH_STEP
#define ZANJ_DETAIL_FIELD(type, field) ::zanj::detail::make_field(#field, &type::field)

/// Declares `Type` a dataclass saved with the listed fields, under the Python class name `Type`.
/// Use at namespace scope in the namespace that declares `Type`.
#define ZANJ_DATACLASS(Type, ...) ZANJ_DATACLASS_NAMED(Type, #Type, __VA_ARGS__)

/// As ZANJ_DATACLASS, with the Python class name given: `ZANJ_DATACLASS_NAMED(RunCfg, "RunConfig", lr)`.
#define ZANJ_DATACLASS_NAMED(Type, python_name, ...)                                                                   \
    [[maybe_unused]] inline auto zanj_dataclass(::zanj::tag<Type>) {                                                   \
        return ::zanj::detail::describe_dataclass<Type>(python_name,                                                   \
                                                        ZANJ_DETAIL_FOR_EACH(ZANJ_DETAIL_FIELD, Type, __VA_ARGS__));   \
    }
