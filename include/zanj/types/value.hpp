#pragma once
/// \file
/// Handlers for zanj's own `value` (any tree, arrays and sets included) and `ndarray`.

#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

namespace zanj {

template <>
struct handler<ndarray> {
    static value serialize(const ndarray& a, serializer& s) { return s.write_array(a); }
    static ndarray load(const value& v, loader& l) { return l.array(v); }
};

template <>
struct handler<value> {
    /// Walks the tree: arrays, long lists and sets go through the same rules as typed data.
    static value serialize(const value& v, serializer& s);
    /// The tree as an untyped read would give it (typed items rebuilt by the loader registry).
    static value load(const value& v, loader& l);
};

} // namespace zanj
