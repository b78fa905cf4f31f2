#pragma once
/// \file
/// Handlers for std::vector, std::array, std::deque and std::list: JSON lists, or `.jsonl`
/// members (`list:external`) at or above `external_list_threshold` items. A vector of numbers
/// also loads from a 1-d array item of the same dtype.

#include <zanj/dtype.hpp>
#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>
// Byte buffers are arrays, not lists: every user of the sequence handlers sees that specialisation.
#include <zanj/types/byte.hpp>

#include <array>
#include <cstddef>
#include <cstring>
#include <deque>
#include <list>
#include <string>
#include <type_traits>
#include <vector>

namespace zanj {

namespace detail {

// std::vector<bool> iterates over proxies; serialize plain bools instead.
template <class Range>
value serialize_range(const Range& r, serializer& s) {
    using element = typename Range::value_type;
    if constexpr (std::is_same_v<element, bool>) {
        value::list_type items;
        items.reserve(r.size());
        std::size_t i = 0;
        for (bool b : r) items.push_back(s.serialize_element(i++, b));
        return s.finish_sequence(std::move(items));
    } else {
        return s.serialize_sequence(r);
    }
}

// Appends the elements of `v` (a list, a list:external item, a set, or a 1-d array of the
// element's dtype) to `out` through `push`.
template <class Element, class Push>
void load_range(const value& v, loader& l, Push&& push) {
    if constexpr (array_element<Element>) {
        if (v.is_array() ||
            (v.is_dict() && (v.format().starts_with("numpy.ndarray:") || v.format().starts_with("torch.Tensor:")))) {
            ndarray a = l.array(v);
            if (a.ndim() != 1) l.fail("expected a list or 1-d array, found an array of shape " + a.shape_string());
            if (a.type() != dtype_of<Element>)
                l.fail("array holds " + std::string(dtype_name(a.type())) + ", a sequence of " +
                       std::string(dtype_name(dtype_of<Element>)) + " was asked for");
            for (const Element& x : a.values<Element>()) push(Element(x));
            return;
        }
    }
    const auto& items = l.sequence(v);
    for (std::size_t i = 0; i < items.size(); ++i) push(l.load_element<Element>(items[i], i));
}

} // namespace detail

/// std::vector: a list, or a `.jsonl` member from `external_list_threshold` items.
template <class T, class A>
struct handler<std::vector<T, A>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::vector<T, A>& v, serializer& s) { return detail::serialize_range(v, s); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::vector<T, A> load(const value& v, loader& l) {
        std::vector<T, A> out;
        out.reserve(v.is_list() ? v.size() : 0);
        detail::load_range<T>(v, l, [&](T&& x) { out.push_back(std::move(x)); });
        return out;
    }
};

/// std::deque: as std::vector.
template <class T, class A>
struct handler<std::deque<T, A>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::deque<T, A>& v, serializer& s) { return detail::serialize_range(v, s); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::deque<T, A> load(const value& v, loader& l) {
        std::deque<T, A> out;
        detail::load_range<T>(v, l, [&](T&& x) { out.push_back(std::move(x)); });
        return out;
    }
};

/// std::list: as std::vector.
template <class T, class A>
struct handler<std::list<T, A>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::list<T, A>& v, serializer& s) { return detail::serialize_range(v, s); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::list<T, A> load(const value& v, loader& l) {
        std::list<T, A> out;
        detail::load_range<T>(v, l, [&](T&& x) { out.push_back(std::move(x)); });
        return out;
    }
};

/// std::array: as std::vector, with exactly N items on load.
template <class T, std::size_t N>
struct handler<std::array<T, N>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::array<T, N>& v, serializer& s) { return detail::serialize_range(v, s); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::array<T, N> load(const value& v, loader& l) {
        static_assert(std::is_default_constructible_v<T>,
                      "zanj: std::array<T, N> loads need a default-constructible T");
        std::array<T, N> out{};
        std::size_t n = 0;
        detail::load_range<T>(v, l, [&](T&& x) {
            if (n < N) out[n] = std::move(x);
            ++n;
        });
        if (n != N) l.fail("expected " + std::to_string(N) + " items for a std::array, found " + std::to_string(n));
        return out;
    }
};

} // namespace zanj
