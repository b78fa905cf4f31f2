#include <zanj/half.hpp>

namespace zanj::detail {

float half_to_float(std::uint16_t h) noexcept {
    std::uint32_t sign = std::uint32_t(h & 0x8000) << 16;
    std::uint32_t exp = (h >> 10) & 0x1F;
    std::uint32_t mant = h & 0x3FF;
    std::uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { // subnormal: normalise
            int e = -1;
            do {
                ++e;
                mant <<= 1;
            } while (!(mant & 0x400));
            bits = sign | std::uint32_t(127 - 15 - e) << 23 | (mant & 0x3FF) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | mant << 13;
    } else {
        bits = sign | (exp + 127 - 15) << 23 | mant << 13;
    }
    return std::bit_cast<float>(bits);
}

std::uint16_t float_to_half(float f) noexcept {
    std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000);
    std::uint32_t abs = x & 0x7FFFFFFF;
    if (abs >= 0x7F800000) // inf or NaN
        return static_cast<std::uint16_t>(sign | 0x7C00 | (abs > 0x7F800000 ? 0x200 : 0));
    if (abs >= 0x477FF000) return static_cast<std::uint16_t>(sign | 0x7C00); // overflow to inf
    if (abs < 0x38800000) {                                                  // subnormal or zero
        if (abs < 0x33000000) return sign;
        // The value is mant * 2^(e - 150); in half subnormal units of 2^-24 that is mant >> (126 - e).
        std::uint32_t mant = (abs & 0x7FFFFF) | 0x800000;
        int shift = 126 - int(abs >> 23);
        std::uint32_t half = mant >> shift;
        std::uint32_t rem = mant & ((1u << shift) - 1);
        std::uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) ++half;
        return static_cast<std::uint16_t>(sign | half);
    }
    // Normal: round to nearest even on the 13 dropped bits.
    std::uint32_t h = ((abs >> 13) - ((127 - 15) << 10));
    std::uint32_t rem = abs & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;
    return static_cast<std::uint16_t>(sign | h);
}

} // namespace zanj::detail
