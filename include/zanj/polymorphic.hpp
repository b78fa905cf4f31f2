#pragma once
/// \file
/// Polymorphism: a `std::shared_ptr<Base>` or `std::unique_ptr<Base>` whose object is a
/// registered derived class is saved with the derived class's format key and read back as that
/// class. Registration is one explicit call, which works at any time and in any shared library:
///
/// \code
/// struct Shape { virtual ~Shape() = default; std::string name; };
/// struct Circle : Shape { double r = 0; };
/// ZANJ_DATACLASS(Circle, name, r);                   // Circle's format key and fields
///
/// zanj::register_polymorphic<Circle, Shape>();      // once, before saving or reading
/// // or, at namespace scope in one .cpp file, during static initialisation:
/// ZANJ_REGISTER_POLYMORPHIC(Circle, Shape);
/// \endcode
///
/// The registry is process-wide and thread-safe; registering the same type again is harmless,
/// another type with the same format key is a usage_error. Relations chain: after
/// `register_polymorphic<Circle, Shape>()` and `register_polymorphic<Shape, Object>()`, a
/// `Circle` loads through a `shared_ptr<Object>` too. Untyped reads attach a registered type's
/// object to its item, reachable through its base with `value::instance_as<Base>()`.

#include <zanj/handler.hpp>
#include <zanj/loader.hpp>
#include <zanj/marshaler.hpp>
#include <zanj/serializer.hpp>
#include <zanj/value.hpp>

#include <any>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

namespace zanj {

namespace detail {

/// A type registered with `register_polymorphic`, type-erased.
struct polymorphic_type {
    /// The derived type.
    std::type_index type;
    /// Its name (demangled), for messages.
    std::string name;
    /// Its format key (the handler's `format_key()`).
    std::string format;
    /// Python-style matching: the type owns every format key that starts with `format`.
    bool prefix;
    /// The item of an object of this type, given its most-derived address.
    value (*serialize)(const void* object, serializer& s);
    /// Creates an object from its item and records it in the loader's table.
    loaded_object& (*create)(const value& item, loader& l, bool unique);
    /// The object an untyped read attaches to its item (`value::instance<T>()`).
    std::shared_ptr<const std::any> (*rebuild)(const value& item, loader& l);
    /// The object held by an attached instance, or nullptr when it holds another type.
    const void* (*in_any)(const std::any& instance) noexcept;
};

/// Adds a type (idempotent for the same type and format key; another type with that format key,
/// or the type with another format key, is a usage_error).
void register_polymorphic_type(polymorphic_type type);
/// Records that `derived` converts to `base` through `upcast`.
void register_polymorphic_relation(std::type_index derived, std::type_index base, std::string base_name,
                                   void* (*upcast)(void*));
/// The registered type, by type or by format key (exact first, then the longest prefix).
const polymorphic_type* find_polymorphic(std::type_index type) noexcept;
/// The same, by format key.
const polymorphic_type* find_polymorphic(std::string_view format) noexcept;
/// `object` (a `from`) as a `to`, through registered relations; nullptr when unrelated.
void* polymorphic_cast(void* object, std::type_index from, std::type_index to) noexcept;
/// Whether a `from` converts to a `to` through registered relations (or is one).
bool polymorphic_related(std::type_index from, std::type_index to) noexcept;
/// The names of the types registered as derived (directly or not) from `base`, sorted.
std::vector<std::string> derived_type_names(std::type_index base);
/// The item of the object `most_derived` (of dynamic type `dynamic`) held by a pointer to
/// `base`: through its registered type; fails naming both types and the path when `dynamic`
/// is not registered, or not registered as derived from `base`.
value serialize_polymorphic(const void* most_derived, std::type_index dynamic, std::type_index base, serializer& s);

/// Creates a T from `item` and records it in the loader's table. A default-constructible,
/// move-assignable T exists before its item loads, so that weak_ptr and raw pointers inside it
/// that point back to it find it.
template <class T>
loaded_object& create_pointee(const value& item, loader& l, bool unique) {
    loaded_object object;
    object.type = typeid(T);
    object.unique = unique;
    auto own = [&](T* raw) {
        object.address = raw;
        if (unique)
            object.pending_unique =
                std::unique_ptr<void, void (*)(void*)>(raw, [](void* p) { delete static_cast<T*>(p); });
        else
            object.shared = std::shared_ptr<T>(raw);
    };
    if constexpr (std::is_default_constructible_v<T> && std::is_move_assignable_v<T>) {
        own(new T());
        T* raw = static_cast<T*>(object.address);
        loaded_object& recorded = l.remember(item, std::move(object));
        try {
            *raw = l.load<T>(item);
        } catch (...) {
            l.forget(item);
            throw;
        }
        recorded.complete = true;
        return recorded;
    } else {
        own(new T(l.load<T>(item)));
        object.complete = true;
        return l.remember(item, std::move(object));
    }
}

/// What the loader needs to know of a pointee type T.
template <class T>
const pointee_info& pointee_info_of() {
    static const pointee_info info = [] {
        loaded_object& (*create)(const value&, loader&, bool) = nullptr;
        if constexpr (!std::is_abstract_v<T> && loadable<T>) create = &create_pointee<T>;
        std::string format;
        if constexpr (requires { handler<T>::format_key(); }) format = handler<T>::format_key();
        return pointee_info{typeid(T), type_name(typeid(T)), std::is_polymorphic_v<T>, std::has_virtual_destructor_v<T>,
                            create,    std::move(format)};
    }();
    return info;
}

/// The identity of the object `p` points to: its most-derived address and dynamic type, so that
/// pointers of several static types to one object agree.
template <class T>
object_identity identity_of(const T* p) {
    if constexpr (std::is_polymorphic_v<T>)
        return {dynamic_cast<const void*>(p), typeid(*p)};
    else
        return {static_cast<const void*>(p), typeid(T)};
}

template <class D>
std::shared_ptr<const std::any> rebuild_polymorphic(const value& item, loader& l) {
    // Untyped reads rebuild a copy of the item: refs inside it are followed inside it.
    loader::object_scope scope(l, item);
    if constexpr (std::is_copy_constructible_v<D>)
        return std::make_shared<const std::any>(l.load<D>(item));
    else
        return std::make_shared<const std::any>(std::shared_ptr<const D>(std::make_shared<D>(l.load<D>(item))));
}

template <class D>
const void* polymorphic_in_any(const std::any& instance) noexcept {
    if (const D* direct = std::any_cast<D>(&instance)) return direct;
    const auto* shared = std::any_cast<std::shared_ptr<const D>>(&instance);
    return shared ? shared->get() : nullptr;
}

} // namespace detail

/// Registers `Derived` as a derived type of each of `Bases`: a pointer to a base whose object is
/// a Derived is saved with Derived's format key and read back as a Derived. Derived needs a
/// format key (`ZANJ_DATACLASS`, or a handler with `static std::string format_key()`), a save
/// and a load. Thread-safe; may be called again with the same types.
template <class Derived, class... Bases>
void register_polymorphic() {
    static_assert(sizeof...(Bases) > 0,
                  "zanj: register_polymorphic<Derived, Base...>() / ZANJ_REGISTER_POLYMORPHIC(Derived, Base...) "
                  "needs at least one base class");
    static_assert((std::is_polymorphic_v<Bases> && ...),
                  "zanj: register_polymorphic<Derived, Base...>(): every Base must be polymorphic (declare a virtual "
                  "function, at least `virtual ~Base() = default;`), or zanj cannot find an object's dynamic type");
    static_assert((std::is_base_of_v<Bases, Derived> && ...),
                  "zanj: register_polymorphic<Derived, Base...>(): Derived must derive publicly from every Base");
    static_assert(
        requires { handler<Derived>::format_key(); },
        "zanj: register_polymorphic<Derived, Base...>() needs Derived's format key, which names it in the file: "
        "declare it with ZANJ_DATACLASS(Derived, ...), or give handler<Derived> a static std::string format_key()");
    static_assert(serializable<Derived> && loadable<Derived>,
                  "zanj: register_polymorphic<Derived, Base...>(): Derived must be both saved and loaded");
    static_assert(!std::is_abstract_v<Derived>, "zanj: register_polymorphic<Derived, Base...>(): Derived is abstract");
    bool prefix = true;
    if constexpr (requires { handler<Derived>::exact_format_key; }) prefix = !handler<Derived>::exact_format_key;
    detail::register_polymorphic_type({
        typeid(Derived),
        detail::type_name(typeid(Derived)),
        handler<Derived>::format_key(),
        prefix,
        [](const void* object, serializer& s) { return s.serialize(*static_cast<const Derived*>(object)); },
        &detail::create_pointee<Derived>,
        &detail::rebuild_polymorphic<Derived>,
        &detail::polymorphic_in_any<Derived>,
    });
    (detail::register_polymorphic_relation(
         typeid(Derived), typeid(Bases), detail::type_name(typeid(Bases)),
         [](void* p) -> void* { return static_cast<Bases*>(static_cast<Derived*>(p)); }),
     ...);
}

} // namespace zanj

#define ZANJ_DETAIL_CONCAT_INNER(a, b) a##b
#define ZANJ_DETAIL_CONCAT(a, b) ZANJ_DETAIL_CONCAT_INNER(a, b)

/// Registers `Derived` as derived from the listed bases during static initialisation: one line at
/// namespace scope in a .cpp file (`ZANJ_REGISTER_POLYMORPHIC(Circle, Shape);`). In a shared
/// library that may be loaded late, or to choose when, call `zanj::register_polymorphic<Derived,
/// Base...>()` instead.
#define ZANJ_REGISTER_POLYMORPHIC(Derived, ...)                                                                        \
    [[maybe_unused]] static const bool ZANJ_DETAIL_CONCAT(zanj_polymorphic_registered_, __COUNTER__) =                 \
        (::zanj::register_polymorphic<Derived, __VA_ARGS__>(), true)
