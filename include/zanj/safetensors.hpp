#pragma once
/// \file
/// Hugging Face's `.safetensors` files, read and written: an 8-byte little-endian header
/// length N, N bytes of JSON (`{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets":
/// [begin, end]}, ..., "__metadata__": {"key": "text"}}`), then the tensors' bytes.
///
/// Dtypes: BOOL, U8, I8, I16, U16, I32, U32, I64, U64, F16, BF16 (zanj's bfloat16), F32, F64,
/// C64 (complex64), and F8_E4M3 / F8_E5M2 (zanj's float8_e4m3fn / float8_e5m2, whose bits
/// numpy holds as uint8). Other safetensors dtypes (F8_E8M0, F4, F6_*) are refused by name.
///
/// \code
/// zanj::safetensors_file f = zanj::read_safetensors("model.safetensors");
/// const zanj::ndarray& w = f.tensors["layers.0.w"].as_array();
/// zanj::write_safetensors("out.safetensors", f.tensors, {{"format", "pt"}});
/// \endcode

#include <zanj/config.hpp>
#include <zanj/value.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace zanj {

/// The largest header safetensors reads (its reference implementation's limit), in bytes.
inline constexpr std::uint64_t safetensors_max_header_size = 100'000'000;

/// What a `.safetensors` file holds.
struct safetensors_file {
    /// Tensor name -> ndarray, in the order of their data in the file.
    value tensors = value::dict();
    /// The header's `__metadata__` (empty when it has none).
    std::map<std::string, std::string> metadata;
};

/// Reads a `.safetensors` file, checking it as the format requires: the header length within
/// the limit and the file, the header a JSON object without duplicate names, every dtype
/// known, shapes and offsets non-negative integers, each tensor's bytes matching its shape and
/// dtype, and the tensors covering the data exactly (no overlap, no gap, nothing after). Any
/// failure is a format_error naming the file and the tensor.
safetensors_file read_safetensors(const std::filesystem::path& file);

/// Writes `tensors`, a dict of name -> ndarray, and `metadata` to `file` as the reference
/// implementation does: tensors laid out by decreasing alignment then name, so that each is
/// aligned in the file, and the header padded with spaces to a multiple of 8. Atomic. Throws
/// usage_error for a dtype safetensors lacks (complex128) or an invalid name. `progress` (see
/// progress_callback) counts the file's bytes, in pieces of at most 8 MiB.
void write_safetensors(const std::filesystem::path& file, const value& tensors,
                       const std::map<std::string, std::string>& metadata = {}, const progress_callback& progress = {});

} // namespace zanj
