#pragma once
/// \file
/// CRC-32 (the zip polynomial) through libdeflate, plus combining the CRCs of adjacent pieces so
/// that large members can be checked in parallel chunks.

#include <cstddef>
#include <cstdint>
#include <span>

namespace zanj::detail {

/// Continues `crc` over `bytes` (start from 0).
std::uint32_t crc32(std::uint32_t crc, std::span<const std::byte> bytes) noexcept;

/// The CRC of A followed by B, from crc(A), crc(B) and the length of B.
std::uint32_t crc32_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t length_b) noexcept;

} // namespace zanj::detail
