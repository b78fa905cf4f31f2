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
template <class T>
struct dtype_of_impl {};
template <>
struct dtype_of_impl<bool> {
    static constexpr dtype value = dtype::bool_;
};
template <>
struct dtype_of_impl<std::int8_t> {
    static constexpr dtype value = dtype::int8;
};
template <>
struct dtype_of_impl<std::int16_t> {
    static constexpr dtype value = dtype::int16;
};
template <>
struct dtype_of_impl<std::int32_t> {
    static constexpr dtype value = dtype::int32;
};
template <>
struct dtype_of_impl<std::int64_t> {
    static constexpr dtype value = dtype::int64;
};
template <>
struct dtype_of_impl<std::uint8_t> {
    static constexpr dtype value = dtype::uint8;
};
template <>
struct dtype_of_impl<std::uint16_t> {
    static constexpr dtype value = dtype::uint16;
};
template <>
struct dtype_of_impl<std::uint32_t> {
    static constexpr dtype value = dtype::uint32;
};
template <>
struct dtype_of_impl<std::uint64_t> {
    static constexpr dtype value = dtype::uint64;
};
template <>
struct dtype_of_impl<float> {
    static constexpr dtype value = dtype::float32;
};
template <>
struct dtype_of_impl<double> {
    static constexpr dtype value = dtype::float64;
};
template <>
struct dtype_of_impl<std::complex<float>> {
    static constexpr dtype value = dtype::complex64;
};
template <>
struct dtype_of_impl<std::complex<double>> {
    static constexpr dtype value = dtype::complex128;
};
template <>
struct dtype_of_impl<zanj::float16> {
    static constexpr dtype value = dtype::float16;
};
template <>
struct dtype_of_impl<zanj::bfloat16> {
    static constexpr dtype value = dtype::bfloat16;
};

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
} // namespace detail

/// True when T is a C++ element type with a dtype (bool, fixed-width integers, float, double,
/// std::complex<float>, std::complex<double>, zanj::float16, zanj::bfloat16).
template <class T>
concept array_element = requires {
    detail::dtype_of_impl<detail::dtype_key_t<std::remove_cv_t<T>>>::value;
};

/// The dtype of a C++ element type.
template <array_element T>
inline constexpr dtype dtype_of = detail::dtype_of_impl<detail::dtype_key_t<std::remove_cv_t<T>>>::value;

} // namespace zanj
