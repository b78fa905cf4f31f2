#pragma once
/// \file
/// 16-bit floating-point scalars: `zanj::float16` (IEEE half, numpy's float16) and
/// `zanj::bfloat16` (the top half of a float32, as torch and ml_dtypes store it). Both are
/// storage types: they hold the bits, convert to and from float, and are array elements, so
/// `xt::xarray<zanj::bfloat16>` and `std::vector<zanj::float16>` save and load like float arrays.

#include <bit>
#include <cstdint>

namespace zanj {

namespace detail {
/// IEEE half precision to and from float; float to half rounds to nearest even.
float half_to_float(std::uint16_t h) noexcept;
std::uint16_t float_to_half(float f) noexcept;

/// bfloat16 is the high 16 bits of a float32: widening is exact.
constexpr float bfloat16_to_float(std::uint16_t b) noexcept { return std::bit_cast<float>(std::uint32_t(b) << 16); }

/// Rounds to nearest even on the 16 dropped bits. A NaN stays a NaN of the same sign (quieted,
/// so that a payload only in the dropped bits does not turn it into infinity).
constexpr std::uint16_t float_to_bfloat16(float f) noexcept {
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((x >> 16) | 0x0040u);
    const std::uint32_t rounding = 0x7FFFu + ((x >> 16) & 1u);
    return static_cast<std::uint16_t>((x + rounding) >> 16);
}
} // namespace detail

/// IEEE 754 half precision (binary16, numpy's `float16`), stored as its bits.
class float16 {
public:
    constexpr float16() noexcept = default;
    /// Rounds to nearest even; too large values become infinities, NaN stays NaN.
    explicit float16(float f) noexcept : bits_(detail::float_to_half(f)) {}
    /// The float16 with these bits (no conversion).
    static constexpr float16 from_bits(std::uint16_t bits) noexcept {
        float16 h;
        h.bits_ = bits;
        return h;
    }
    /// The IEEE binary16 bits.
    constexpr std::uint16_t bits() const noexcept { return bits_; }
    /// Exact: every half is a float.
    operator float() const noexcept { return detail::half_to_float(bits_); }

private:
    std::uint16_t bits_ = 0;
};

/// Brain floating point (bfloat16): float32's sign and exponent with 7 mantissa bits, stored as
/// its bits. numpy has no such dtype: in `.npy` members and inline items its bits are `<u2`, and
/// the item records `"dtype": "bfloat16"`.
class bfloat16 {
public:
    constexpr bfloat16() noexcept = default;
    /// Rounds to nearest even; too large values become infinities, NaN stays NaN.
    constexpr explicit bfloat16(float f) noexcept : bits_(detail::float_to_bfloat16(f)) {}
    /// The bfloat16 with these bits (no conversion).
    static constexpr bfloat16 from_bits(std::uint16_t bits) noexcept {
        bfloat16 b;
        b.bits_ = bits;
        return b;
    }
    /// The bits: the high half of the float32.
    constexpr std::uint16_t bits() const noexcept { return bits_; }
    /// Exact: every bfloat16 is a float.
    constexpr operator float() const noexcept { return detail::bfloat16_to_float(bits_); }

private:
    std::uint16_t bits_ = 0;
};

static_assert(sizeof(float16) == 2 && sizeof(bfloat16) == 2, "zanj: 16-bit floats must be 2 bytes, for arrays of them");

} // namespace zanj
