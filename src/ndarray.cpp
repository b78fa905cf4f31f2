#include <zanj/ndarray.hpp>

#include <algorithm>
#include <limits>
#include <new>

namespace zanj {

std::size_t shape_elements(std::span<const std::size_t> shape) {
    // Empty whatever the other extents, even when their product would overflow.
    if (std::find(shape.begin(), shape.end(), std::size_t{0}) != shape.end()) return 0;
    std::size_t n = 1;
    for (std::size_t extent : shape) {
        if (extent != 0 && n > std::numeric_limits<std::size_t>::max() / extent)
            throw format_error("array shape overflows the address space");
        n *= extent;
    }
    return n;
}

namespace detail {
std::shared_ptr<std::byte> allocate_aligned(std::size_t n, bool zero) {
    constexpr std::align_val_t alignment{64};
    // Round up so a zero-size request still yields a unique, valid pointer.
    if (n > std::numeric_limits<std::size_t>::max() - 63) throw std::bad_alloc(); // rounding up would wrap
    std::size_t padded = (n + 63) / 64 * 64;
    if (padded == 0) padded = 64;
    auto* p = static_cast<std::byte*>(::operator new(padded, alignment));
    if (zero) std::memset(p, 0, padded);
    return {p, [](std::byte* q) { ::operator delete (q, std::align_val_t{64}); }};
}
} // namespace detail

ndarray::ndarray() : ndarray(dtype::float64, {0}) {}

ndarray::ndarray(zanj::dtype type, shape_type shape)
    : type_(type), shape_(std::move(shape)), size_(shape_elements(shape_)) {
    if (size_ > std::numeric_limits<std::size_t>::max() / dtype_size(type_))
        throw format_error("array of shape " + shape_string() + " overflows the address space");
    auto storage = detail::allocate_aligned(nbytes(), true);
    data_ = storage.get();
    owner_ = std::move(storage);
}

ndarray::ndarray(zanj::dtype type, shape_type shape, std::shared_ptr<const void> owner, std::byte* data)
    : type_(type), shape_(std::move(shape)), size_(shape_elements(shape_)), owner_(std::move(owner)), data_(data) {}

ndarray ndarray::rows(std::size_t begin, std::size_t end) const {
    if (shape_.empty()) throw usage_error("a 0-d array has no rows to select");
    if (begin > end || end > shape_[0])
        throw usage_error("rows " + std::to_string(begin) + " to " + std::to_string(end) +
                          " are outside an array of shape " + shape_string());
    shape_type part = shape_;
    part[0] = end - begin;
    const std::size_t row_bytes = shape_[0] ? nbytes() / shape_[0] : 0;
    return ndarray(type_, std::move(part), owner_, data_ + begin * row_bytes);
}

ndarray ndarray::clone() const {
    ndarray out(type_, shape_);
    if (nbytes()) std::memcpy(out.data_, data_, nbytes());
    return out;
}

ndarray ndarray::view_as(zanj::dtype type) const {
    if (dtype_size(type) != dtype_size(type_))
        throw usage_error("cannot view an array of " + std::string(dtype_name(type_)) + " as " +
                          std::string(dtype_name(type)) + ": the element sizes differ");
    return ndarray(type, shape_, owner_, data_);
}

std::string shape_string(std::span<const std::size_t> shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    if (shape.size() == 1) s += ",";
    return s + ")";
}

std::string ndarray::shape_string() const { return zanj::shape_string(shape_); }

void ndarray::check_type(zanj::dtype wanted) const {
    if (wanted != type_)
        throw type_error("array holds " + std::string(dtype_name(type_)) + ", not " + std::string(dtype_name(wanted)));
}

bool operator==(const ndarray& a, const ndarray& b) {
    return a.type_ == b.type_ && a.shape_ == b.shape_ &&
           (a.nbytes() == 0 || std::memcmp(a.data_, b.data_, a.nbytes()) == 0);
}

} // namespace zanj
