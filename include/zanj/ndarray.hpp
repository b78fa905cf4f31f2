#pragma once
/// \file
/// `zanj::ndarray`: an n-dimensional array whose element type is known at run time, the form in
/// which arrays travel between the archive and typed containers (xtensor, vectors...).

#include <zanj/dtype.hpp>
#include <zanj/error.hpp>

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace zanj {

/// Shape of an array: extents, outermost first.
using shape_type = std::vector<std::size_t>;

/// Number of elements of a shape; throws `format_error` when the product overflows.
std::size_t shape_elements(std::span<const std::size_t> shape);

/// "(3, 4)", "(5,)" or "()", as numpy prints shapes.
std::string shape_string(std::span<const std::size_t> shape);

/// A row-major (C order) n-dimensional array of native-endian elements of a run-time dtype.
///
/// Storage is shared, as with numpy arrays: copying an ndarray copies a handle, not the data
/// (use `clone()` for an independent copy). The storage owner may be a heap block or, later, a
/// mapping of the archive; the ndarray keeps it alive.
class ndarray {
public:
    /// An empty float64 array of shape (0).
    ndarray();
    /// A zero-filled array; storage is 64-byte aligned.
    ndarray(zanj::dtype type, shape_type shape);
    /// An array over storage owned by `owner`, starting at `data`.
    ndarray(zanj::dtype type, shape_type shape, std::shared_ptr<const void> owner, std::byte* data);

    /// Copies `values` into a new array of the given shape (1-d of values.size() when empty).
    template <array_element T>
    static ndarray from(std::span<const T> values, shape_type shape = {}) {
        if (shape.empty()) shape = {values.size()};
        ndarray out(dtype_of<T>, std::move(shape));
        if (out.size() != values.size())
            throw usage_error("ndarray::from: " + std::to_string(values.size()) + " values do not fill the shape " +
                              out.shape_string());
        if (!values.empty()) std::memcpy(out.data_, values.data(), out.nbytes());
        return out;
    }
    /// Copies a vector, `std::vector<bool>` (which has no contiguous storage) included.
    template <array_element T>
    static ndarray from(const std::vector<T>& values, shape_type shape = {}) {
        if constexpr (std::is_same_v<T, bool>) {
            const std::vector<std::uint8_t> bytes(values.begin(), values.end());
            ndarray out = from(std::span<const std::uint8_t>(bytes), std::move(shape));
            out.type_ = zanj::dtype::bool_;
            return out;
        } else {
            return from(std::span<const T>(values), std::move(shape));
        }
    }

    /// Element type.
    zanj::dtype type() const noexcept { return type_; }
    /// Extents, outermost first.
    const shape_type& shape() const noexcept { return shape_; }
    /// Number of dimensions (0 for a 0-d array).
    std::size_t ndim() const noexcept { return shape_.size(); }
    /// Number of elements.
    std::size_t size() const noexcept { return size_; }
    /// Size of the data in bytes.
    std::size_t nbytes() const noexcept { return size_ * dtype_size(type_); }

    /// The first byte of the data.
    const std::byte* bytes() const noexcept { return data_; }
    /// The same, writable (writes to a view stay in its private mapping).
    std::byte* bytes() noexcept { return data_; }
    /// The data as bytes.
    std::span<const std::byte> byte_span() const noexcept { return {data_, nbytes()}; }

    /// The elements as T; throws `type_error` when T is not the array's dtype.
    template <array_element T>
    std::span<const T> values() const {
        check_type(dtype_of<T>);
        return {reinterpret_cast<const T*>(data_), size_};
    }
    /// The elements as T, writable; throws `type_error` when T is not the array's dtype.
    template <array_element T>
    std::span<T> values() {
        check_type(dtype_of<T>);
        return {reinterpret_cast<T*>(data_), size_};
    }

    /// Rows [begin, end) along the first axis, sharing this array's storage (no copy).
    /// Throws usage_error for a 0-d array or rows outside the array.
    ndarray rows(std::size_t begin, std::size_t end) const;

    /// A deep copy with storage of its own.
    ndarray clone() const;

    /// The same storage read as another dtype of the same element size, as numpy's `view(dtype)`:
    /// how uint16 bits become the bfloat16 they hold. Throws usage_error when the sizes differ.
    ndarray view_as(zanj::dtype type) const;

    /// "(3, 4)" as numpy prints shapes.
    std::string shape_string() const;

    /// Same dtype, same shape, same bytes.
    friend bool operator==(const ndarray& a, const ndarray& b);

private:
    void check_type(zanj::dtype wanted) const;

    zanj::dtype type_;
    shape_type shape_;
    std::size_t size_;
    std::shared_ptr<const void> owner_;
    std::byte* data_;
};

/// Element `i` of `a` as a double (bool as 0 or 1, complex as its real part).
double element_real(const ndarray& a, std::size_t i);
/// The imaginary part of element `i` of a complex array, 0 for other dtypes.
double element_imag(const ndarray& a, std::size_t i);
/// Element `i` of `a` as numpy prints it: `0.5`, `1.0`, `nan`, `True`, `(1+2j)`.
std::string element_string(const ndarray& a, std::size_t i);

namespace detail {
/// Allocates `n` bytes aligned to 64 (zero-filled when `zero`), owned by the returned pointer.
std::shared_ptr<std::byte> allocate_aligned(std::size_t n, bool zero = false);
} // namespace detail

} // namespace zanj
