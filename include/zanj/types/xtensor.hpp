#pragma once
/// \file
/// Handlers for xtensor containers (xt::xarray, xt::xtensor, xt::xtensor_fixed) of any
/// array_element type: saved as arrays without copying when row-major; loaded with their dtype,
/// rank and (for fixed shapes) shape checked.

#include <zanj/dtype.hpp>
#include <zanj/loader.hpp>
#include <zanj/ndarray.hpp>
#include <zanj/serializer.hpp>

#include <xtensor/xarray.hpp>
#include <xtensor/xfixed.hpp>
#include <xtensor/xtensor.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace zanj {

namespace detail {

template <class Container>
value serialize_xcontainer(const Container& c, serializer& s) {
    using element = typename Container::value_type;
    static_assert(array_element<element>, "zanj: xtensor containers of this element type have no numpy dtype");
    std::vector<std::size_t> shape(c.shape().begin(), c.shape().end());
    if (c.layout() == xt::layout_type::row_major) {
        return s.write_array({dtype_of<element>, shape, reinterpret_cast<const std::byte*>(c.data())});
    }
    // Column-major data is written in row-major order, as numpy's C order.
    xt::xarray<element, xt::layout_type::row_major> row_major = c;
    return s.write_array({dtype_of<element>, shape, reinterpret_cast<const std::byte*>(row_major.data())});
}

// A type_error at the current path that also names the array's member when it is external.
[[noreturn]] inline void fail_array(const value& v, loader& l, const std::string& why) {
    const value* ref = v.find(ref_key);
    if (ref && ref->is_string()) throw type_error(why, l.path().str(), ref->as_string());
    l.fail(why);
}

// Checks dtype (and rank, for fixed-rank containers).
template <class Element>
void check_array_for(dtype type, const shape_type& shape, const value& v, loader& l, std::size_t rank,
                     const char* container) {
    if (type != dtype_of<Element>)
        fail_array(v, l,
                   "dtype mismatch: the archive holds " + std::string(dtype_name(type)) + ", " + container + " needs " +
                       std::string(dtype_name(dtype_of<Element>)));
    if (rank != std::size_t(-1) && shape.size() != rank)
        fail_array(v, l,
                   "rank mismatch: the archive holds an array of shape " + shape_string(shape) + ", " + container +
                       " needs rank " + std::to_string(rank));
}

template <class Element>
ndarray load_array_for(const value& v, loader& l, std::size_t rank, const char* container) {
    ndarray a = l.array(v);
    check_array_for<Element>(a.type(), a.shape(), v, l, rank, container);
    return a;
}

template <class Container>
void copy_into(Container& c, const ndarray& a) {
    if (a.nbytes()) {
        // A statically row-major container never needs the copy below; not instantiating it
        // also spares rank-0 xtensors a GCC -Wnonnull false positive inside xtensor.
        if constexpr (Container::static_layout == xt::layout_type::row_major) {
            std::memcpy(c.data(), a.bytes(), a.nbytes());
        } else if (c.layout() == xt::layout_type::row_major) {
            std::memcpy(c.data(), a.bytes(), a.nbytes());
        } else {
            using element = typename Container::value_type;
            auto src = a.values<element>();
            xt::xarray<element, xt::layout_type::row_major> tmp(a.shape());
            std::copy(src.begin(), src.end(), tmp.data());
            c = tmp;
        }
    }
}

// Loads into `c`, which `resize(shape)` sizes once the array's shape is known: a row-major
// container is filled straight from the archive, others through a row-major copy.
template <class Container, class Resize>
void load_into(Container& c, const value& v, loader& l, std::size_t rank, const char* container_name, Resize resize) {
    using element = typename Container::value_type;
    if constexpr (Container::static_layout == xt::layout_type::row_major) {
        l.array_into(v, [&](dtype type, const shape_type& shape) {
            check_array_for<element>(type, shape, v, l, rank, container_name);
            resize(shape);
            return std::as_writable_bytes(std::span(c.data(), c.size()));
        });
    } else {
        ndarray a = load_array_for<element>(v, l, rank, container_name);
        resize(a.shape());
        copy_into(c, a);
    }
}

} // namespace detail

/// xt::xarray: an array item of its element's dtype, any rank.
template <class EC, xt::layout_type L, class SC, class Tag>
struct handler<xt::xarray_container<EC, L, SC, Tag>> {
    /// The container type handled.
    using container = xt::xarray_container<EC, L, SC, Tag>;
    /// Its element type.
    using element = typename container::value_type;
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const container& c, serializer& s) { return detail::serialize_xcontainer(c, s); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static container load(const value& v, loader& l) {
        container c;
        detail::load_into(c, v, l, std::size_t(-1), "xt::xarray", [&](const shape_type& shape) {
            c.resize(typename container::shape_type(shape.begin(), shape.end()));
        });
        return c;
    }
};

/// xt::xtensor: an array item; its rank must match on load.
template <class EC, std::size_t N, xt::layout_type L, class Tag>
struct handler<xt::xtensor_container<EC, N, L, Tag>> {
    /// The container type handled.
    using container = xt::xtensor_container<EC, N, L, Tag>;
    /// Its element type.
    using element = typename container::value_type;
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const container& c, serializer& s) { return detail::serialize_xcontainer(c, s); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static container load(const value& v, loader& l) {
        container c;
        detail::load_into(c, v, l, N, "xt::xtensor", [&](const shape_type& shape) {
            typename container::shape_type fixed{};
            if constexpr (N > 0) std::copy(shape.begin(), shape.end(), fixed.begin());
            c.resize(fixed);
        });
        return c;
    }
};

/// xt::xtensor_fixed: an array item; its shape must match on load.
template <class ET, class S, xt::layout_type L, bool SH, class Tag>
struct handler<xt::xfixed_container<ET, S, L, SH, Tag>> {
    /// The container type handled.
    using container = xt::xfixed_container<ET, S, L, SH, Tag>;
    /// Its element type.
    using element = typename container::value_type;
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const container& c, serializer& s) { return detail::serialize_xcontainer(c, s); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static container load(const value& v, loader& l) {
        container c;
        detail::load_into(c, v, l, c.dimension(), "xt::xtensor_fixed", [&](const shape_type& shape) {
            if (!std::equal(shape.begin(), shape.end(), c.shape().begin()))
                detail::fail_array(v, l,
                                   "shape mismatch: the archive holds an array of shape " + shape_string(shape) +
                                       ", the xt::xtensor_fixed has shape " +
                                       shape_string(shape_type(c.shape().begin(), c.shape().end())));
        });
        return c;
    }
};

namespace detail {
/// Model parameters held in xtensor containers (see zanj/model.hpp): row-major ones only, since
/// the file holds C order and loading writes straight into the container.
template <class Container>
struct xcontainer_parameter {
    static dtype type(const Container&) { return dtype_of<typename Container::value_type>; }
    static shape_type shape(const Container& c) { return shape_type(c.shape().begin(), c.shape().end()); }
    static std::byte* data(Container& c) {
        if (c.layout() != xt::layout_type::row_major)
            throw usage_error("a model parameter in an xtensor container must be row-major");
        return reinterpret_cast<std::byte*>(c.data());
    }
};
} // namespace detail

/// xt::xarray as a model parameter.
template <class EC, xt::layout_type L, class SC, class Tag>
struct parameter_traits<xt::xarray_container<EC, L, SC, Tag>>
    : detail::xcontainer_parameter<xt::xarray_container<EC, L, SC, Tag>> {};
/// xt::xtensor as a model parameter.
template <class EC, std::size_t N, xt::layout_type L, class Tag>
struct parameter_traits<xt::xtensor_container<EC, N, L, Tag>>
    : detail::xcontainer_parameter<xt::xtensor_container<EC, N, L, Tag>> {};
/// xt::xtensor_fixed as a model parameter.
template <class ET, class S, xt::layout_type L, bool SH, class Tag>
struct parameter_traits<xt::xfixed_container<ET, S, L, SH, Tag>>
    : detail::xcontainer_parameter<xt::xfixed_container<ET, S, L, SH, Tag>> {};

} // namespace zanj
