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
///
/// `ZANJ_SCHEMA(Type, ...)` beside it declares, still without touching the struct, the old names
/// of renamed fields and the type's version with an upgrade hook (see zanj/schema.hpp):
/// \code
/// ZANJ_SCHEMA(Layer, zanj::aliases(&Layer::w, "weights"), zanj::schema_version(2, upgrade_layer));
/// \endcode

#include <zanj/handler.hpp>
#include <zanj/loader.hpp>
#include <zanj/schema.hpp>
#include <zanj/serializer.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace zanj {

/// One field of a dataclass: its name on disk and its member pointer.
template <class Class, class Member>
struct field_info {
    using member_type = Member;
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

// ---- ZANJ_SCHEMA --------------------------------------------------------------------------------

void zanj_schema() = delete; // poison pill: found only through ADL

template <class T>
concept has_schema = requires {
    zanj_schema(tag<T>{});
};

template <class S>
struct is_version_spec : std::false_type {};
template <class Hook>
struct is_version_spec<version_spec<Hook>> : std::true_type {};
template <class S>
struct is_alias_spec : std::false_type {};
template <class C, class M, std::size_t N>
struct is_alias_spec<alias_spec<C, M, N>> : std::true_type {};

template <class Class, class S>
constexpr bool spec_fits() {
    if constexpr (is_alias_spec<S>::value) {
        return requires(S spec, Class obj) { obj.*(spec.field); };
    } else if constexpr (is_version_spec<S>::value) {
        using hook = decltype(S::upgrade);
        return std::is_null_pointer_v<hook> || std::is_invocable_v<const hook&, value&, std::uint32_t> ||
               std::is_invocable_v<const hook&, value&, std::uint32_t, loader&>;
    } else {
        return false;
    }
}

/// What ZANJ_SCHEMA records of a type: its version spec and aliases, checked here so that
/// mistakes fail at the macro.
template <class Class, class... Specs>
std::tuple<Specs...> describe_schema(Specs... specs) {
    static_assert(
        ((is_version_spec<Specs>::value || is_alias_spec<Specs>::value) && ...),
        "zanj: ZANJ_SCHEMA(Type, ...) takes zanj::schema_version(n), zanj::schema_version(n, upgrade_hook) and "
        "zanj::aliases(&Type::field, \"old_name\", ...)");
    static_assert((0 + ... + int(is_version_spec<Specs>::value)) <= 1,
                  "zanj: ZANJ_SCHEMA(Type, ...) takes at most one zanj::schema_version(...)");
    static_assert((spec_fits<Class, Specs>() && ...),
                  "zanj: in ZANJ_SCHEMA(Type, ...), zanj::aliases must name a member of Type (&Type::field), and the "
                  "hook of zanj::schema_version(n, hook) must be callable as void(zanj::value& item, std::uint32_t "
                  "stored_version) or void(zanj::value&, std::uint32_t, zanj::loader&)");
    return std::tuple<Specs...>(specs...);
}

/// The schema of T: what ZANJ_SCHEMA declared, or an empty tuple.
template <class T>
auto schema_of() {
    if constexpr (has_schema<T>) {
        return zanj_schema(tag<T>{});
    } else {
        return std::tuple<>{};
    }
}

/// The position of the version spec in a schema tuple, or its size when there is none.
template <class Tuple>
struct version_index;
template <class... S>
struct version_index<std::tuple<S...>> {
    static constexpr std::size_t value = [] {
        constexpr bool flags[] = {is_version_spec<S>::value..., false};
        std::size_t i = 0;
        while (i < sizeof...(S) && !flags[i]) ++i;
        return i;
    }();
};

/// Calls `fn(old_name)` for every alias the schema declares for the member `pointer`.
template <class Schema, class Pointer, class Fn>
void for_each_alias(const Schema& schema, Pointer pointer, Fn&& fn) {
    if constexpr (std::tuple_size_v<Schema> != 0)
        std::apply(
            [&](const auto&... spec) {
                [[maybe_unused]] auto one = [&](const auto& s) {
                    if constexpr (is_alias_spec<std::remove_cvref_t<decltype(s)>>::value) {
                        if constexpr (requires { s.field == pointer; })
                            if (s.field == pointer)
                                for (std::string_view name : s.names) fn(name);
                    }
                };
                (one(spec), ...);
            },
            schema);
}

/// Calls `fn(pointer)` for the member pointer of every alias spec.
template <class Schema, class Fn>
void for_each_aliased_member(const Schema& schema, Fn&& fn) {
    if constexpr (std::tuple_size_v<Schema> != 0)
        std::apply(
            [&](const auto&... spec) {
                [[maybe_unused]] auto one = [&](const auto& s) {
                    if constexpr (is_alias_spec<std::remove_cvref_t<decltype(s)>>::value) fn(s.field, s.names);
                };
                (one(spec), ...);
            },
            schema);
}

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
    static const std::string& format_key() {
        // Built once: every item of the type, written or read, asks for it.
        static const std::string key =
            std::string(detail::unqualified_name(description().name)) + "(SerializableDataclass)";
        return key;
    }

    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const T& obj, serializer& s) {
        // Made in one vector: inserting key by key grew it four times for a struct of five fields.
        const auto fields = description().fields;
        std::vector<value_dict::item_type> items;
        items.reserve(1 + versioned + std::tuple_size_v<decltype(fields)>);
        items.emplace_back(zanj::format_key, format_key());
        if constexpr (versioned) items.emplace_back(version_key, std::get<version_at>(schema()).current);
        std::apply(
            [&](const auto&... f) { (items.emplace_back(f.name, s.serialize_field(f.name, obj.*(f.pointer))), ...); },
            fields);
        return value(value_dict(std::move(items)));
    }

    /// Whether every field's handler writes its item as text (see write_json).
    static constexpr bool fields_write_json() {
        return []<class... F>(std::tuple<F...>*) {
            return (detail::has_handler_write_json<typename F::member_type> && ...);
        }(static_cast<decltype(description().fields)*>(nullptr));
    }

    /// Writes serialize()'s item as text straight from the object (the contract of
    /// zanj/handler.hpp): for the lines of a long list of records, a value per record was most
    /// of the save.
    static void write_json(const T& obj, detail::json_text& out) requires(fields_write_json()) {
        // serialize() keeps the last of repeated keys: leave such a type to it.
        static const bool keys_distinct = distinct_keys();
        if (!keys_distinct)
            throw usage_error(std::string(description().name) + " has repeated keys: its items go through serialize()");
        // The keys and the format string as JSON text, escaped once: scanning them again for
        // every record was a fifth of writing (d)'s 100,000 lines.
        static const quoted_texts texts;
        out.begin_object();
        out.prepared_key(texts.format_key);
        out.raw(texts.format);
        if constexpr (versioned) {
            out.prepared_key(texts.version_key);
            out.unsigned_integer(std::get<version_at>(schema()).current);
        }
        std::size_t i = 0;
        std::apply(
            [&](const auto&... f) {
                ((out.prepared_key(texts.fields[i++]),
                  handler<typename std::remove_cvref_t<decltype(f)>::member_type>::write_json(obj.*(f.pointer), out)),
                 ...);
            },
            description().fields);
        out.end_object();
    }

    /// What ZANJ_SCHEMA declared (aliases, version), or an empty tuple.
    static auto schema() { return detail::schema_of<T>(); }

    /// Whether ZANJ_SCHEMA gave the type a version (written as `__zanj_version__`).
    static constexpr bool versioned = detail::version_index<decltype(detail::schema_of<T>())>::value <
                                      std::tuple_size_v<decltype(detail::schema_of<T>())>;

    /// Reads the item back (the contract of zanj/handler.hpp), following `config::schema` for
    /// missing and unknown fields, reading renamed fields from their aliases, and upgrading
    /// items of another version through the type's hook first.
    static T load(const value& v, loader& l) {
        static_assert(std::is_default_constructible_v<T>,
                      "zanj: a ZANJ_DATACLASS type must be default constructible to be loaded (its fields are "
                      "assigned one by one); otherwise write a handler<T> whose load() constructs it");
        const std::string& key = format_key();
        if (!v.is_dict()) l.expect(v, value::kind::dict, "a dict for " + key);
        std::string_view found = v.format();
        // Python matches a class whose format string is a prefix of the item's; a plain dict is accepted too.
        if (!found.empty() && !found.starts_with(key))
            l.fail("expected a " + key + " item, found '" + std::string(found) + "'");
        const auto declared = schema();
        if constexpr (std::tuple_size_v<decltype(declared)> != 0) {
            // Checked once: an alias of an unlisted member, or one that shadows a field, is a mistake.
            static const bool checked = check_schema(declared);
            (void)checked;
        }
        const value* item = &v;
        value upgraded;
        if constexpr (versioned) {
            if (upgrade(v, l, key, declared, upgraded)) item = &upgraded;
        }
        T obj{};
        std::size_t found_fields = 0;
        std::apply([&](const auto&... f) { ((found_fields += load_member(obj, f, *item, l, key, declared)), ...); },
                   description().fields);
        if (l.settings().schema.unknown_fields != unknown_field::ignore) {
            // When every key is a field found, the format key or the version, none is unknown:
            // the common case skips comparing each key with every field name.
            const std::size_t known = found_fields + (item->find(zanj::format_key) != nullptr) +
                                      (versioned && item->find(version_key) != nullptr);
            if (item->size() != known) check_unknown(*item, l, key, declared);
        }
        return obj;
    }

private:
    static constexpr std::size_t version_at = detail::version_index<decltype(detail::schema_of<T>())>::value;

    template <class Schema>
    static bool check_schema(const Schema& declared) {
        detail::for_each_aliased_member(declared, [&](auto pointer, const auto& names) {
            bool listed = false;
            std::apply(
                [&](const auto&... f) {
                    auto same = [&](const auto& field) {
                        if constexpr (requires { field.pointer == pointer; }) return field.pointer == pointer;
                        return false;
                    };
                    listed = (same(f) || ...);
                },
                description().fields);
            if (!listed)
                throw usage_error("zanj::aliases in ZANJ_SCHEMA(" + std::string(description().name) +
                                  ", ...) names a member that ZANJ_DATACLASS does not list");
            for (std::string_view name : names)
                if (is_field_name(name))
                    throw usage_error("the alias '" + std::string(name) + "' in ZANJ_SCHEMA(" +
                                      std::string(description().name) + ", ...) is the name of a field");
        });
        return true;
    }

    // What write_json writes of every item whatever its fields hold.
    struct quoted_texts {
        std::string format_key = detail::json_text::prepare_key(zanj::format_key);
        std::string format = detail::json_text::quoted(handler::format_key());
        std::string version_key = detail::json_text::prepare_key(zanj::version_key);
        std::vector<std::string> fields = std::apply(
            [](const auto&... f) { return std::vector<std::string>{detail::json_text::prepare_key(f.name)...}; },
            description().fields);
    };

    static bool distinct_keys() {
        std::vector<std::string_view> keys{zanj::format_key, version_key};
        std::apply([&](const auto&... f) { (keys.push_back(f.name), ...); }, description().fields);
        std::sort(keys.begin(), keys.end());
        return std::adjacent_find(keys.begin(), keys.end()) == keys.end();
    }

    static bool is_field_name(std::string_view name) {
        return std::apply([&](const auto&... f) { return ((f.name == name) || ...); }, description().fields);
    }

    // Runs the upgrade hook on a copy of an item of another version; false when nothing changed.
    template <class Schema>
    static bool upgrade(const value& v, loader& l, const std::string& key, const Schema& declared, value& upgraded) {
        const auto& spec = std::get<version_at>(declared);
        std::uint32_t stored = 0; // items written before the type had a version
        if (const value* number = v.find(version_key)) {
            loader::path_guard guard(l, version_key);
            stored = l.load<std::uint32_t>(*number);
        }
        if (stored == spec.current) return false;
        using hook = std::remove_cvref_t<decltype(spec.upgrade)>;
        if constexpr (std::is_null_pointer_v<hook>) {
            if (stored > spec.current) newer_version(l, key, stored, spec.current);
            return false;
        } else {
            upgraded = v;
            if constexpr (std::is_invocable_v<const hook&, value&, std::uint32_t, loader&>)
                spec.upgrade(upgraded, stored, l);
            else
                spec.upgrade(upgraded, stored);
            if (!upgraded.is_dict())
                l.fail("the upgrade hook of " + key + " turned the item of version " + std::to_string(stored) +
                       " into a " + std::string(upgraded.type_name()) + "; it must stay a dict");
            return true;
        }
    }

    // A file from a newer program, and no hook to say what to do: treated as an unknown field.
    static void newer_version(loader& l, const std::string& key, std::uint32_t stored, std::uint32_t current) {
        std::string why = "the " + key + " item is version " + std::to_string(stored) + ", newer than version " +
                          std::to_string(current) + " that this program reads";
        switch (l.settings().schema.unknown_fields) {
        case unknown_field::ignore: return;
        case unknown_field::warn: l.warn(why + "; its fields are read as they are"); return;
        case unknown_field::error: l.fail(why);
        }
    }

    // Whether the item holds the field (under its name or an alias).
    template <class Field, class Schema>
    static bool load_member(T& obj, const Field& f, const value& item, loader& l, const std::string& key,
                            const Schema& declared) {
        std::string_view name = f.name;
        const value* member = item.find(name);
        if (!member)
            detail::for_each_alias(declared, f.pointer, [&](std::string_view old) {
                if (!member && (member = item.find(old))) name = old;
            });
        if (!member) {
            switch (l.settings().schema.missing_fields) {
            case missing_field::keep: return false;
            case missing_field::warn:
                l.warn("missing field '" + std::string(f.name) + "' of " + key + ": it keeps its default value");
                return false;
            case missing_field::error: l.fail("missing field '" + std::string(f.name) + "' of " + key);
            }
        }
        loader::path_guard guard(l, name);
        obj.*(f.pointer) = l.template load<std::remove_cvref_t<decltype(obj.*(f.pointer))>>(*member);
        return true;
    }

    template <class Schema>
    static void check_unknown(const value& item, loader& l, const std::string& key, const Schema& declared) {
        for (const auto& entry : item.as_dict()) {
            const std::string& k = entry.first; // not a structured binding: clang 14 cannot capture those
            if (k == zanj::format_key || k == version_key || is_field_name(k)) continue;
            bool alias = false;
            detail::for_each_aliased_member(declared, [&](auto, const auto& names) {
                for (std::string_view name : names) alias = alias || name == k;
            });
            if (alias) continue;
            std::string why = "unknown field '" + k + "' in a " + key + " item";
            if (l.settings().schema.unknown_fields == unknown_field::error) l.fail(why);
            l.warn(why + ": ignored");
        }
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

/// Declares how `Type` (a ZANJ_DATACLASS) evolves, without changing it: `zanj::aliases(&Type::field,
/// "old_name", ...)` for renamed fields and `zanj::schema_version(n)` or `zanj::schema_version(n, upgrade_hook)`
/// (see zanj/schema.hpp). Use beside ZANJ_DATACLASS, in the namespace that declares `Type`.
#define ZANJ_SCHEMA(Type, ...)                                                                                         \
    [[maybe_unused]] inline auto zanj_schema(::zanj::tag<Type>) {                                                      \
        return ::zanj::detail::describe_schema<Type>(__VA_ARGS__);                                                     \
    }

/// As ZANJ_DATACLASS, with the Python class name given: `ZANJ_DATACLASS_NAMED(RunCfg, "RunConfig", lr)`.
#define ZANJ_DATACLASS_NAMED(Type, python_name, ...)                                                                   \
    [[maybe_unused]] inline auto zanj_dataclass(::zanj::tag<Type>) {                                                   \
        return ::zanj::detail::describe_dataclass<Type>(python_name,                                                   \
                                                        ZANJ_DETAIL_FOR_EACH(ZANJ_DETAIL_FIELD, Type, __VA_ARGS__));   \
    }
