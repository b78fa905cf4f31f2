#pragma once
/// \file
/// Element types of arrays, named as numpy names them (and as ml_dtypes names the ones numpy
/// lacks: bfloat16 and the float8 types).

#include <zanj/half.hpp>

#include <complex>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

namespace zanj {

/// An array element type. The names are numpy's; `bool_` because `bool` is a keyword. The last
/// three have no numpy dtype: `.npy` members and inline items hold their bits as `storage_dtype`
/// and record the name in the item's `"dtype"`.
enum class dtype : std::uint8_t {
    bool_,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
    float16,
    float32,
    float64,
    complex64,
    complex128,
    bfloat16,      ///< bits held as uint16
    float8_e4m3fn, ///< OCP FP8 E4M3 (no infinities; safetensors' F8_E4M3), bits held as uint8
    float8_e5m2,   ///< OCP FP8 E5M2 (safetensors' F8_E5M2), bits held as uint8
};

/// numpy's name of the type: "bool", "int32", "float64", "complex64", ...
std::string_view dtype_name(dtype t) noexcept;

/// Size of one element in bytes.
std::size_t dtype_size(dtype t) noexcept;

/// Parses numpy's names ("float32"), torch's ("torch.float32") and numpy's short aliases
/// ("float", "int", "complex", "bool_"). Returns nothing for anything else.
std::optional<dtype> dtype_from_name(std::string_view name) noexcept;

/// The NPY `descr` of the type in little-endian byte order: "<f4", "|b1", "|u1", "<c16"; for a
/// type numpy lacks, that of its storage dtype ("<u2" for bfloat16).
std::string_view npy_descr(dtype t) noexcept;

/// The numpy dtype whose elements hold t's bits: uint16 for bfloat16, uint8 for the float8
/// types, t itself for every numpy dtype.
dtype storage_dtype(dtype t) noexcept;

/// True for complex64 and complex128.
constexpr bool is_complex(dtype t) noexcept { return t == dtype::complex64 || t == dtype::complex128; }

namespace detail {
// `long long` and `long` are distinct types even where they have the same width.
template <class T>
using dtype_key_t = std::conditional_t<
    std::is_integral_v<T> && !std::is_same_v<T, bool>,
    std::conditional_t<
        std::is_signed_v<T>,
        std::conditional_t<sizeof(T) == 1, std::int8_t,
                           std::conditional_t<sizeof(T) == 2, std::int16_t,
                                              std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>>>,
        std::conditional_t<sizeof(T) == 1, std::uint8_t,
                           std::conditional_t<sizeof(T) == 2, std::uint16_t,
                                              std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>>,
    T>;

// Every element type with its dtype, one entry each.
template <class T, dtype D>
struct dtype_entry {
    using type = T;
    static constexpr dtype value = D;
};
using dtype_entries =
    std::tuple<dtype_entry<bool, dtype::bool_>, dtype_entry<std::int8_t, dtype::int8>,
               dtype_entry<std::int16_t, dtype::int16>, dtype_entry<std::int32_t, dtype::int32>,
               dtype_entry<std::int64_t, dtype::int64>, dtype_entry<std::uint8_t, dtype::uint8>,
               dtype_entry<std::uint16_t, dtype::uint16>, dtype_entry<std::uint32_t, dtype::uint32>,
               dtype_entry<std::uint64_t, dtype::uint64>, dtype_entry<zanj::float16, dtype::float16>,
               dtype_entry<zanj::bfloat16, dtype::bfloat16>, dtype_entry<float, dtype::float32>,
               dtype_entry<double, dtype::float64>, dtype_entry<std::complex<float>, dtype::complex64>,
               dtype_entry<std::complex<double>, dtype::complex128>>;

// The dtype of K (a type already keyed by dtype_key_t), or nothing when K has none.
template <class K, class... Entries>
constexpr std::optional<dtype> dtype_in(std::tuple<Entries...>*) noexcept {
    std::optional<dtype> found;
    ((std::is_same_v<K, typename Entries::type> ? void(found = Entries::value) : void()), ...);
    return found;
}
template <class K>
constexpr std::optional<dtype> dtype_for() noexcept {
    return dtype_in<K>(static_cast<dtype_entries*>(nullptr));
}
} // namespace detail

/// True when T is a C++ element type with a dtype (bool, fixed-width integers, float, double,
/// std::complex<float>, std::complex<double>, zanj::float16, zanj::bfloat16).
template <class T>
concept array_element = detail::dtype_for<detail::dtype_key_t<std::remove_cv_t<T>>>()
.has_value();

/// The dtype of a C++ element type.
template <array_element T>
inline constexpr dtype dtype_of = *detail::dtype_for<detail::dtype_key_t<std::remove_cv_t<T>>>();

} // namespace zanj
