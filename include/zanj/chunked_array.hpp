#pragma once
/// \file
/// `zanj::chunked_array`: an array that is saved piece by piece from a producer, so that it
/// never has to be in memory whole. It is a saving-side type: it reads back as any array
/// (`zanj::ndarray`, xtensor containers...).

#include <zanj/dtype.hpp>
#include <zanj/ndarray.hpp>

#include <cstddef>
#include <functional>
#include <span>
#include <utility>

namespace zanj {

/// An array produced piece by piece while it is saved (see this file's description).
class chunked_array {
public:
    /// Fills `out`, which holds whole elements, with the elements from index `first` on (in C
    /// order, native endianness).
    using producer = std::function<void(std::size_t first, std::span<std::byte> out)>;

    /// An array of `type` and `shape` whose elements `fill` produces when the array is written.
    chunked_array(zanj::dtype type, shape_type shape, producer fill)
        : type_(type), shape_(std::move(shape)), size_(shape_elements(shape_)), fill_(std::move(fill)) {}

    /// The same with typed chunks: `fill(first, out)` gets a span of T.
    template <array_element T>
    static chunked_array of(shape_type shape, std::function<void(std::size_t first, std::span<T> out)> fill) {
        return chunked_array(dtype_of<T>, std::move(shape),
                             [fill = std::move(fill)](std::size_t first, std::span<std::byte> out) {
                                 fill(first, {reinterpret_cast<T*>(out.data()), out.size() / sizeof(T)});
                             });
    }

    /// Element type.
    zanj::dtype type() const noexcept { return type_; }
    /// Extents, outermost first.
    const shape_type& shape() const noexcept { return shape_; }
    /// Number of elements.
    std::size_t size() const noexcept { return size_; }
    /// Size of the data in bytes.
    std::size_t nbytes() const noexcept { return size_ * dtype_size(type_); }
    /// Asks the producer for the elements from `first` on.
    void fill(std::size_t first, std::span<std::byte> out) const { fill_(first, out); }

private:
    zanj::dtype type_;
    shape_type shape_;
    std::size_t size_;
    producer fill_;
};

} // namespace zanj
