#include <zanj/detail/crc32.hpp>

#include <array>
#include <libdeflate.h>

namespace zanj::detail {

namespace {

// CRC-32 is a remainder modulo the polynomial P over GF(2), kept bit-reflected: bit 31 holds the
// coefficient of x^0. Appending n zero bytes to a message multiplies its remainder by x^(8n), so
// combining needs products modulo P and powers of x.
constexpr std::uint32_t reflected_polynomial = 0xEDB88320;
constexpr std::uint32_t x_to_the_0 = 1u << 31;

constexpr std::uint32_t multiply_mod_p(std::uint32_t a, std::uint32_t b) noexcept {
    std::uint32_t product = 0;
    for (std::uint32_t bit = x_to_the_0; bit != 0; bit >>= 1) {
        if (a & bit) product ^= b;
        b = (b & 1) ? (b >> 1) ^ reflected_polynomial : b >> 1; // b *= x
    }
    return product;
}

// x^(2^k) mod P for k = 0..63: enough for any 64-bit bit count.
constexpr std::array<std::uint32_t, 64> powers_of_two_powers = [] {
    std::array<std::uint32_t, 64> table{};
    table[0] = x_to_the_0 >> 1; // x^1
    for (std::size_t k = 1; k < table.size(); ++k) table[k] = multiply_mod_p(table[k - 1], table[k - 1]);
    return table;
}();

// x^(8 * bytes) mod P, by the binary expansion of the bit count.
std::uint32_t x_to_the_bits_of(std::uint64_t bytes) noexcept {
    std::uint32_t result = x_to_the_0;
    std::size_t k = 3; // 8 * bytes = bytes << 3
    for (; bytes != 0 && k < powers_of_two_powers.size(); bytes >>= 1, ++k)
        if (bytes & 1) result = multiply_mod_p(powers_of_two_powers[k], result);
    return result;
}

} // namespace

std::uint32_t crc32(std::uint32_t crc, std::span<const std::byte> bytes) noexcept {
    // libdeflate returns its initial value (0) for a null buffer whatever the running CRC, and
    // empty spans (an empty array's data, say) may well be null.
    if (bytes.empty()) return crc;
    return libdeflate_crc32(crc, bytes.data(), bytes.size());
}

std::uint32_t crc32_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t length_b) noexcept {
    // The initial and final inversions of both CRCs cancel out in the sum.
    return multiply_mod_p(x_to_the_bits_of(length_b), crc_a) ^ crc_b;
}

} // namespace zanj::detail
