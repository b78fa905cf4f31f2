#pragma once
/// \file
/// Handlers for `std::shared_ptr<T>`, `std::unique_ptr<T>`, `std::weak_ptr<T>` and raw pointers
/// `T*` to class types. A null pointer is null (Python's None). The object of an owning pointer
/// is written in full where the save first reaches it; every later pointer to the same object
/// (same address) is a ref item naming that place by its JSON Pointer:
///
///     {"__muutils_format__": "zanj::object_ref", "same_as": "/nodes/0"}
///
/// and a typed read gives all of them one object. A cycle through shared_ptr or unique_ptr is a
/// usage_error naming both paths; weak_ptr and raw pointers are always refs, so they may point
/// back to an enclosing object. A pointer to a polymorphic T whose object is a derived class is
/// saved as that class when it is registered (zanj/polymorphic.hpp). See docs/types.md.

#include <zanj/loader.hpp>
#include <zanj/polymorphic.hpp>
#include <zanj/serializer.hpp>

#include <memory>
#include <type_traits>
#include <typeinfo>

namespace zanj {

namespace detail {

/// A pointer's object can be saved: T has a handler, or its dynamic type may be a registered one.
template <class T>
concept pointee_serializable = serializable<T> || std::is_polymorphic_v<T>;
/// A pointer's object can be loaded.
template <class T>
concept pointee_loadable = loadable<T> || std::is_polymorphic_v<T>;

/// The item of `obj`, through its dynamic type when that is a class derived from T.
template <class T>
value serialize_pointee(const T& obj, serializer& s) {
    if constexpr (std::is_polymorphic_v<T>) {
        if (typeid(obj) != typeid(T))
            return serialize_polymorphic(dynamic_cast<const void*>(&obj), typeid(obj), typeid(T), s);
    }
    if constexpr (serializable<T>) {
        return s.serialize(obj);
    } else {
        s.fail("the object is a " + type_name(typeid(T)) +
               " itself, which has no handler (only types derived from it "
               "are registered)");
    }
}

template <class T>
value serialize_owning(const T* p, bool unique, serializer& s) {
    if (!p) return value{};
    return s.serialize_owned(identity_of(p), unique, [&] { return serialize_pointee(*p, s); });
}

} // namespace detail

/// std::shared_ptr: the object, or a ref item where it was written before; null when empty.
template <class T>
struct handler<std::shared_ptr<T>> {
    using element = std::remove_const_t<T>;
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::shared_ptr<T>& p, serializer& s) requires detail::pointee_serializable<element> {
        return detail::serialize_owning<element>(p.get(), false, s);
    }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::shared_ptr<T> load(const value& v, loader& l) requires detail::pointee_loadable<element> {
        if (v.is_null()) return nullptr;
        const auto& info = detail::pointee_info_of<element>();
        detail::loaded_object& o = l.load_pointee(v, info, detail::pointer_kind::shared);
        return std::shared_ptr<T>(o.shared, static_cast<element*>(l.cast_pointee(o, info)));
    }
};

/// std::unique_ptr (with the default deleter): the object; null when empty.
template <class T>
struct handler<std::unique_ptr<T>> {
    using element = std::remove_const_t<T>;
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::unique_ptr<T>& p, serializer& s) requires detail::pointee_serializable<element> {
        return detail::serialize_owning<element>(p.get(), true, s);
    }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::unique_ptr<T> load(const value& v, loader& l) requires detail::pointee_loadable<element> {
        if (v.is_null()) return nullptr;
        const auto& info = detail::pointee_info_of<element>();
        detail::loaded_object& o = l.load_pointee(v, info, detail::pointer_kind::unique);
        auto* object = static_cast<element*>(l.cast_pointee(o, info));
        o.pending_unique.release(); // now owned by the returned pointer; the table keeps the address
        return std::unique_ptr<T>(object);
    }
};

/// std::weak_ptr: a ref item naming its object, which a shared_ptr saved before it (or is
/// saving: a weak_ptr may point to an enclosing object); null when expired.
template <class T>
struct handler<std::weak_ptr<T>> {
    using element = std::remove_const_t<T>;
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::weak_ptr<T>& w, serializer& s) requires detail::pointee_serializable<element> {
        std::shared_ptr<T> p = w.lock();
        if (!p) return value{};
        return s.serialize_reference(detail::identity_of<element>(p.get()), "weak_ptr");
    }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::weak_ptr<T> load(const value& v, loader& l) requires detail::pointee_loadable<element> {
        if (v.is_null()) return {};
        const auto& info = detail::pointee_info_of<element>();
        detail::loaded_object& o = l.load_pointee(v, info, detail::pointer_kind::weak);
        return std::shared_ptr<T>(o.shared, static_cast<element*>(l.cast_pointee(o, info)));
    }
};

/// Raw pointers to class types, which own nothing: a ref item naming the object, which an owning
/// pointer saved before it (or is saving); null when null. Loaded as a pointer into the object
/// that owning pointer holds in the result, so it stays valid while the result lives (its
/// objects are on the heap, and do not move when the result does).
template <class T>
requires std::is_class_v<T>
struct handler<T*> {
    using element = std::remove_const_t<T>;
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const T* p, serializer& s) requires detail::pointee_serializable<element> {
        if (!p) return value{};
        return s.serialize_reference(detail::identity_of<element>(p), "raw pointer");
    }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static T* load(const value& v, loader& l) requires detail::pointee_loadable<element> {
        if (v.is_null()) return nullptr;
        const auto& info = detail::pointee_info_of<element>();
        return static_cast<element*>(l.cast_pointee(l.load_pointee(v, info, detail::pointer_kind::raw), info));
    }
};

} // namespace zanj
