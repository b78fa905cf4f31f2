#pragma once
/// \file
/// Handlers for zanj's own `value` (any tree, arrays and sets included), `ndarray` and
/// `chunked_array`.

#include <zanj/chunked_array.hpp>
#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

namespace zanj {

/// zanj::ndarray: an array item, inline or a `.npy` member.
template <>
struct handler<ndarray> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const ndarray& a, serializer& s) { return s.write_array(a); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static ndarray load(const value& v, loader& l) { return l.array(v); }
};

/// Saving only: a chunked array reads back as an ndarray or any other array type.
template <>
struct handler<chunked_array> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const chunked_array& a, serializer& s) { return s.write_array(a); }
};

/// zanj::value: any untyped tree, saved as an untyped read gives it back.
template <>
struct handler<value> {
    /// Walks the tree: arrays, long lists and sets go through the same rules as typed data.
    static value serialize(const value& v, serializer& s);
    /// The tree as an untyped read would give it (typed items rebuilt by the loader registry).
    static value load(const value& v, loader& l);
};

} // namespace zanj
