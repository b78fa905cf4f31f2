#pragma once
/// \file
/// Handlers for std::pair and std::tuple: JSON lists of fixed length (Python writes tuples as
/// lists too).

#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

#include <string>
#include <tuple>
#include <utility>

namespace zanj {

namespace detail {
template <class Tuple, std::size_t... I>
value serialize_tuple(const Tuple& t, serializer& s, std::index_sequence<I...>) {
    return value(value::list_type{s.serialize_element(I, std::get<I>(t))...});
}
template <class Tuple, std::size_t... I>
Tuple load_tuple(const value& v, loader& l, std::index_sequence<I...>) {
    const auto& items = l.sequence(v);
    if (items.size() != sizeof...(I))
        l.fail("expected a list of " + std::to_string(sizeof...(I)) + " items, found " + std::to_string(items.size()));
    return Tuple{l.load_element<std::tuple_element_t<I, Tuple>>(items[I], I)...};
}
} // namespace detail

/// std::pair: a list of two items.
template <class A, class B>
struct handler<std::pair<A, B>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::pair<A, B>& p, serializer& s) {
        return detail::serialize_tuple(p, s, std::index_sequence_for<A, B>{});
    }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::pair<A, B> load(const value& v, loader& l) {
        return detail::load_tuple<std::pair<A, B>>(v, l, std::index_sequence_for<A, B>{});
    }
};

/// std::tuple: a list of fixed length.
template <class... T>
struct handler<std::tuple<T...>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::tuple<T...>& t, serializer& s) {
        return detail::serialize_tuple(t, s, std::index_sequence_for<T...>{});
    }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::tuple<T...> load(const value& v, loader& l) {
        return detail::load_tuple<std::tuple<T...>>(v, l, std::index_sequence_for<T...>{});
    }
};

} // namespace zanj
