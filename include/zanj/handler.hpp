#pragma once
/// \file
/// The extension contract: how zanj learns to save and load a type.
///
/// A type T is handled when one of these exists, looked up in this order:
///
/// 1. A specialisation of `zanj::handler<T>` with
///    \code
///    template <> struct zanj::handler<T> {
///        static zanj::value serialize(const T& obj, zanj::serializer& s);  // save
///        static T load(const zanj::value& v, zanj::loader& l);             // read, by value
///    };
///    \endcode
///    Either function may be left out: a type that is only saved needs no `load`.
///    `serialize` returns the JSON form of `obj`; it calls `s.serialize(member)` or
///    `s.serialize_field("name", member)` for nested values, and `s.write_array(...)` for array
///    data, which decides between inline JSON and an external `.npy` member. `load` gets that form
///    back (with externals already resolved) and calls `l.load<U>(v)` or
///    `l.load_field<U>(v, "name")` for nested values and `l.array(v)` for arrays; it reports bad
///    input with `l.fail("...")`, which names the object path.
/// 2. Free functions found by argument-dependent lookup, for types in your own namespace:
///    \code
///    zanj::value zanj_serialize(const T& obj, zanj::serializer& s);
///    T zanj_load(zanj::tag<T>, const zanj::value& v, zanj::loader& l);
///    \endcode
/// 3. `ZANJ_DATACLASS(T, field...)` (zanj/dataclass.hpp), which writes the second form for a
///    struct saved field by field, as Python's `SerializableDataclass`.
///
/// A handler may also have `static void write_json(const T& obj, zanj::detail::json_text& out)`,
/// which writes the text of serialize()'s item straight from the object, with no `value` in
/// between. zanj uses it for the items of long lists of plain records (bool, numbers, strings
/// and dataclasses of them), where building a value per item was most of a save's time; ours
/// have it for those types. It must write exactly what serialize() would and may throw instead
/// (serialize() then writes the item, or reports its error with the object path); it is used
/// only when no run-time marshaler is registered.
///
/// Handlers for the standard library and xtensor live in zanj/types/. A specialisation of yours
/// for a standard type (say `handler<std::vector<MyPoint>>`) takes priority over ours.

#include <zanj/fwd.hpp>

#include <concepts>
#include <type_traits>

namespace zanj {

namespace detail {
// Poison pills: unqualified lookup must not find anything in namespace zanj, only ADL.
void zanj_serialize() = delete;
void zanj_load() = delete;

template <class T>
concept has_handler_serialize = requires(const T& obj, serializer& s) {
    { handler<T>::serialize(obj, s) } -> std::convertible_to<value>;
};
template <class T>
concept has_handler_load = requires(const value& v, loader& l) {
    { handler<T>::load(v, l) } -> std::convertible_to<T>;
};
class json_text;
template <class T>
concept has_handler_write_json = requires(const T& obj, json_text& out) {
    handler<T>::write_json(obj, out);
};
template <class T>
concept has_adl_serialize = requires(const T& obj, serializer& s) {
    { zanj_serialize(obj, s) } -> std::convertible_to<value>;
};
template <class T>
concept has_adl_load = requires(const value& v, loader& l) {
    { zanj_load(tag<T>{}, v, l) } -> std::convertible_to<T>;
};

template <class T>
inline constexpr bool always_false = false;

// Instantiated only when a type has no handler: the compiler's message names T here.
template <class T>
struct no_handler_for_type {
    static_assert(always_false<T>,
                  "zanj: no handler for this type (see the type in 'no_handler_for_type<...>' above). "
                  "Declare it with ZANJ_DATACLASS(Type, field1, field2, ...), or specialise "
                  "zanj::handler<Type> with static zanj::value serialize(const Type&, zanj::serializer&) "
                  "and static Type load(const zanj::value&, zanj::loader&), or include the zanj/types/ "
                  "header that handles it.");
    static constexpr bool value = false;
};
template <class T>
struct no_loader_for_type {
    static_assert(always_false<T>,
                  "zanj: this type can be saved but not loaded (see the type in 'no_loader_for_type<...>' "
                  "above): its handler has no static T load(const zanj::value&, zanj::loader&). "
                  "Types like const char* and std::string_view are save-only; load std::string instead.");
    static constexpr bool value = false;
};
} // namespace detail

/// T can be saved.
template <class T>
concept serializable = detail::has_handler_serialize<T> || detail::has_adl_serialize<T>;
/// T can be loaded.
template <class T>
concept loadable = detail::has_handler_load<T> || detail::has_adl_load<T>;

} // namespace zanj
