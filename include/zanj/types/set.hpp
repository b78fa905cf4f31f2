#pragma once
/// \file
/// Handlers for std::set and std::unordered_set: Python `set` items,
/// `{"__muutils_format__": "set", "data": [...]}`. Unordered sets are written sorted when their
/// elements can be ordered, so that equal sets give equal files.

#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

#include <algorithm>
#include <set>
#include <unordered_set>
#include <vector>

namespace zanj {

namespace detail {

template <class Set>
value serialize_set(const Set& s, serializer& ser) {
    std::vector<const typename Set::value_type*> items;
    items.reserve(s.size());
    for (const auto& x : s) items.push_back(&x);
    if constexpr (requires(const typename Set::value_type& a) { a < a; })
        std::sort(items.begin(), items.end(), [](auto* a, auto* b) { return *a < *b; });
    value::list_type data;
    data.reserve(items.size());
    serializer::path_guard guard(ser, "data");
    for (std::size_t i = 0; i < items.size(); ++i) data.push_back(ser.serialize_element(i, *items[i]));
    value::dict_type out;
    out.insert_or_assign(format_key, "set");
    out.insert_or_assign("data", value(std::move(data)));
    return out;
}

template <class Set>
Set load_set(const value& v, loader& l) {
    Set out;
    const auto& items = l.sequence(v);
    for (std::size_t i = 0; i < items.size(); ++i) out.insert(l.load_element<typename Set::value_type>(items[i], i));
    return out;
}

} // namespace detail

/// std::set: a Python set item.
template <class T, class C, class A>
struct handler<std::set<T, C, A>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::set<T, C, A>& s, serializer& ser) { return detail::serialize_set(s, ser); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::set<T, C, A> load(const value& v, loader& l) { return detail::load_set<std::set<T, C, A>>(v, l); }
};

/// std::unordered_set: a Python set item, sorted when its elements can be ordered.
template <class T, class H, class E, class A>
struct handler<std::unordered_set<T, H, E, A>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::unordered_set<T, H, E, A>& s, serializer& ser) {
        return detail::serialize_set(s, ser);
    }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::unordered_set<T, H, E, A> load(const value& v, loader& l) {
        return detail::load_set<std::unordered_set<T, H, E, A>>(v, l);
    }
};

} // namespace zanj
