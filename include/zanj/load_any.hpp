#pragma once
/// \file
/// `zanj::load_any`: opens a `.zanj`, `.npy`, `.npz` or `.safetensors` file, telling them apart
/// by their bytes rather than their names, and returns its contents as a `zanj::value`.

#include <zanj/limits.hpp>
#include <zanj/value.hpp>

#include <filesystem>
#include <string_view>

namespace zanj {

/// The file formats load_any reads.
enum class file_format { zanj, npy, npz, safetensors };

/// "zanj", "npy", "npz", "safetensors".
std::string_view to_string(file_format f) noexcept;

/// The format of `file`, from its first bytes: `\x93NUMPY` is npy; a zip is zanj when it holds
/// `__zanj__.json`, npz otherwise; a `{` after the 8-byte length is safetensors. Throws
/// format_error for anything else, io_error when the file cannot be read.
file_format detect_format(const std::filesystem::path& file);

/// The contents of `file`: a `.zanj` archive's tree (as `ZANJ{}.read(file)`), an `.npy` file's
/// array, or a dict of name -> ndarray for `.npz` and `.safetensors` files (the latter's
/// `__metadata__` is in `read_safetensors`). `.zanj` and `.npz` files are read within `limits`.
value load_any(const std::filesystem::path& file, const read_limits& limits = {});

} // namespace zanj
