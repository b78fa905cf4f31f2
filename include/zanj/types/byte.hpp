#pragma once
/// \file
/// Handlers for byte buffers: std::vector<std::byte>, std::array<std::byte, N> and (save only)
/// std::span<const std::byte> are 1-d `uint8` arrays, inline below `external_array_threshold`
/// bytes and `.npy` members from it, so Python gets a numpy array rather than a list of ints.
/// A single std::byte is an integer (it is an enum).

#include <zanj/dtype.hpp>
#include <zanj/enum.hpp>
#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace zanj {

namespace detail {

inline value write_bytes(std::span<const std::byte> bytes, serializer& s) {
    const std::array<std::size_t, 1> shape{bytes.size()};
    return s.write_array({dtype::uint8, shape, bytes.data()});
}

// Reads a byte buffer into the storage `resize(n)` returns: straight from the archive for uint8
// arrays, item by item for a bare list (array mode "list" does not record the dtype).
template <class Resize>
void load_bytes(const value& v, loader& l, Resize&& resize) {
    if (v.is_list()) {
        const auto& items = v.as_list();
        std::span<std::byte> out = resize(items.size());
        for (std::size_t i = 0; i < items.size(); ++i) out[i] = l.load_element<std::byte>(items[i], i);
        return;
    }
    l.array_into(v, [&](dtype type, const shape_type& shape) {
        if (type != dtype::uint8 || shape.size() != 1)
            l.fail("expected a 1-d uint8 array for std::byte data, found " + std::string(dtype_name(type)) +
                   " of shape " + shape_string(shape));
        return resize(shape[0]);
    });
}

} // namespace detail

/// std::vector<std::byte>: a 1-d uint8 array.
template <class A>
struct handler<std::vector<std::byte, A>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::vector<std::byte, A>& v, serializer& s) { return detail::write_bytes(v, s); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::vector<std::byte, A> load(const value& v, loader& l) {
        std::vector<std::byte, A> out;
        detail::load_bytes(v, l, [&](std::size_t n) {
            out.resize(n);
            return std::span<std::byte>(out);
        });
        return out;
    }
};

/// std::array<std::byte, N>: a 1-d uint8 array of N elements.
template <std::size_t N>
struct handler<std::array<std::byte, N>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::array<std::byte, N>& a, serializer& s) { return detail::write_bytes(a, s); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::array<std::byte, N> load(const value& v, loader& l) {
        std::array<std::byte, N> out{};
        detail::load_bytes(v, l, [&](std::size_t n) {
            if (n != N)
                l.fail("expected " + std::to_string(N) + " bytes for a std::array<std::byte, " + std::to_string(N) +
                       ">, found " + std::to_string(n));
            return std::span<std::byte>(out);
        });
        return out;
    }
};

/// std::span<const std::byte>: a 1-d uint8 array (save only).
template <std::size_t Extent>
struct handler<std::span<const std::byte, Extent>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(std::span<const std::byte, Extent> bytes, serializer& s) {
        return detail::write_bytes(bytes, s);
    }
};
/// std::span<std::byte>: a 1-d uint8 array (save only).
template <std::size_t Extent>
struct handler<std::span<std::byte, Extent>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(std::span<std::byte, Extent> bytes, serializer& s) { return detail::write_bytes(bytes, s); }
};

} // namespace zanj
