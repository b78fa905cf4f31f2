#pragma once
/// \file
/// Run-time marshalers: serialize and load functions registered for a type while the program
/// runs, with a format key and a priority, consulted before the compile-time handlers (Python's
/// `handlers_pre`). For types you cannot change and do not want to write a `handler<T>` for, or
/// to choose the form of a type per object or per archive.
///
/// \code
/// ZANJ_RUNTIME_MARSHALED(lib::Color);   // at global scope: lib::Color has no compile-time handler
///
/// zanj::ZANJ z;
/// z.add_marshaler<lib::Color>({
///     .format = "lib.Color",
///     .serialize = [](const lib::Color& c, zanj::serializer& s) {
///         zanj::value::dict_type d;
///         d.insert_or_assign("rgb", s.serialize_field("rgb", c.rgb()));
///         return zanj::value(std::move(d));       // the format key is added
///     },
///     .load = [](const zanj::value& v, zanj::loader& l) { return lib::Color(l.load_field<std::uint32_t>(v, "rgb")); },
///     .priority = 10,
///     .description = "lib::Color as its RGB integer",
/// });
/// \endcode

#include <zanj/fwd.hpp>
#include <zanj/value.hpp>

#include <any>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <unordered_map>
#include <vector>

namespace zanj {

/// True for types saved and loaded only through run-time marshalers: such a type compiles
/// without a handler, and saving or loading one with no marshaler registered is a usage_error.
/// Specialise it with ZANJ_RUNTIME_MARSHALED(Type). Types that have a compile-time handler need
/// no declaration: a registered marshaler comes first, the handler is the fallback.
template <class T>
struct runtime_marshaled : std::false_type {};

/// Serialize and load functions for T, registered at run time (see `ZANJ::add_marshaler`).
/// Designated initialisers must follow this order: format, serialize, load, priority, applies,
/// check, description.
template <class T>
struct marshaler {
    /// The item's format key (`__muutils_format__`): added to a dict that `serialize` returns
    /// without one; typed reads pick this marshaler for items of this key, and untyped reads
    /// rebuild them through it. Unique among the registered marshalers.
    std::string format;
    /// The JSON form of an object, as `handler<T>::serialize`.
    std::function<value(const T&, serializer&)> serialize;
    /// The object back from its item, as `handler<T>::load`; leave empty for a save-only type.
    std::function<T(const value&, loader&)> load{};
    /// Among the marshalers of T, higher priorities are tried first (ties: first registered).
    int priority = 0;
    /// Whether this marshaler saves a given object; empty: every object. A declined object goes
    /// to the next marshaler, then to the compile-time handler.
    std::function<bool(const T&)> applies{};
    /// Whether this marshaler loads a given item; empty: items whose format key is `format`.
    /// Needed when `serialize` returns something other than a dict (Python's `check`).
    std::function<bool(const value&)> check{};
    /// For `__zanj_meta__.json`.
    std::string description{};
};

/// What `marshaler_registry::list()` tells of a registered marshaler.
struct marshaler_info {
    /// Its format key.
    std::string format;
    /// Its priority.
    int priority;
    /// The C++ type it handles (demangled where the compiler allows).
    std::string type;
    /// Its description.
    std::string description;
    /// Whether it has a load function.
    bool loads;
    /// Whether it has a per-object predicate.
    bool has_predicate;
};

namespace detail {

/// A marshaler with its type erased.
struct marshaler_entry {
    std::type_index type;
    std::string type_name{};
    std::string format{};
    int priority = 0;
    std::string description{};
    std::function<bool(const void*)> applies{};
    std::function<value(const void*, serializer&)> serialize{};
    std::function<bool(const value&)> check{};
    // Constructs the object into `out`, a std::optional<T>*.
    std::function<void(const value&, loader&, void* out)> load{};
    // Wraps `load` for untyped reads (an item_loader's function), or empty.
    std::function<value(value, loader&)> rebuild{};
};

/// The readable name of a type.
std::string type_name(std::type_index type);

template <class T>
marshaler_entry erase_marshaler(marshaler<T>&& m) {
    marshaler_entry e{.type = typeid(T),
                      .type_name = type_name(typeid(T)),
                      .format = std::move(m.format),
                      .priority = m.priority,
                      .description = std::move(m.description)};
    if (m.applies) e.applies = [f = std::move(m.applies)](const void* obj) { return f(*static_cast<const T*>(obj)); };
    if (m.serialize)
        e.serialize = [f = std::move(m.serialize)](const void* obj, serializer& s) {
            return f(*static_cast<const T*>(obj), s);
        };
    e.check = std::move(m.check);
    if (m.load) {
        auto load = std::make_shared<std::function<T(const value&, loader&)>>(std::move(m.load));
        e.load = [load](const value& v, loader& l, void* out) {
            static_cast<std::optional<T>*>(out)->emplace((*load)(v, l));
        };
        // Untyped reads keep the object beside the item; std::any needs a copyable type.
        if constexpr (std::is_copy_constructible_v<T>)
            e.rebuild = [load](value item, loader& l) {
                auto obj = std::make_shared<const std::any>((*load)(item, l));
                item.set_instance(std::move(obj));
                return item;
            };
    }
    return e;
}

} // namespace detail

/// The run-time marshalers of an archive's settings, by type and priority. Filled through
/// `loader_registry::add_marshaler` (or `ZANJ::add_marshaler`), read by the serializer and the
/// loader; when it is empty they skip it at the cost of one pointer test per item.
class marshaler_registry {
public:
    /// Whether no marshaler is registered.
    bool empty() const noexcept { return entries_.empty(); }

    /// Every marshaler, in registration order.
    std::vector<marshaler_info> list() const;

    /// The marshaler of format key `format`, or nullptr.
    const detail::marshaler_entry* find(std::string_view format) const noexcept;

    /// The first marshaler of `type`, by priority, that saves the object `obj` (a pointer to
    /// that type), or nullptr.
    const detail::marshaler_entry* for_object(std::type_index type, const void* obj) const;

    /// The first marshaler of `type`, by priority, with a load function that accepts `item`,
    /// or nullptr.
    const detail::marshaler_entry* for_item(std::type_index type, const value& item) const;

    /// The format keys of the marshalers of `type` (for messages), or "none".
    std::string formats_of(std::type_index type) const;

private:
    friend class loader_registry;
    // Checks the entry, refuses a format key already registered, and files it by priority.
    void add(detail::marshaler_entry e);

    std::vector<detail::marshaler_entry> entries_;
    // Per type, positions in entries_, highest priority first.
    std::unordered_map<std::type_index, std::vector<std::size_t>> by_type_;
};

} // namespace zanj

/// Declares that `Type` is saved and loaded through run-time marshalers only (it has no
/// compile-time handler). Use at global scope.
#define ZANJ_RUNTIME_MARSHALED(Type)                                                                                   \
    template <>                                                                                                        \
    struct zanj::runtime_marshaled<Type> : std::true_type {}
