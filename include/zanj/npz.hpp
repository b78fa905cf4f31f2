#pragma once
/// \file
/// numpy's own files: `.npy` (one array, `np.save`) and `.npz` (a zip of `.npy` members,
/// `np.savez` and `np.savez_compressed`), read and written.
///
/// \code
/// zanj::ndarray a = zanj::read_npy("w.npy");
/// zanj::value arrays = zanj::read_npz("run.npz");      // {"w": ndarray, "b": ndarray}
/// zanj::write_npz("out.npz", arrays, {zanj::compression_method::deflate});
/// \endcode

#include <zanj/config.hpp>
#include <zanj/ndarray.hpp>
#include <zanj/value.hpp>

#include <filesystem>

namespace zanj {

/// Reads a `.npy` file: NPY 1.0 to 3.0, either byte order, C or Fortran order, as a native
/// C-order array. Throws format_error naming the file for anything numpy would refuse, and
/// for object, string and structured dtypes.
ndarray read_npy(const std::filesystem::path& file);

/// Writes `array` to `file` (the name is used as given) in NPY 1.0, little-endian C order, as
/// `np.save` does. Atomic: a temporary file renamed over `file`. bfloat16 and float8 arrays,
/// which numpy lacks, are written as their uint16 / uint8 bits. `progress` (see
/// progress_callback) counts the file's bytes, in pieces of at most 8 MiB.
void write_npy(const std::filesystem::path& file, const ndarray& array, const progress_callback& progress = {});

/// Reads an `.npz` archive, stored or deflated, ZIP64 or not: a dict from each member's name
/// without `.npy` to its array, in the archive's order. A member that is not `.npy` is a
/// format_error; going beyond `limits` (decompressed size, ratio, NPY header...) a limit_error.
value read_npz(const std::filesystem::path& file, const read_limits& limits = {});

/// Writes `arrays`, a dict of name -> ndarray (as read_npz, load_any or flatten_arrays give),
/// to `file` as `np.savez` (`method` store, the default) or `np.savez_compressed` (deflate)
/// would: a member `name.npy` per array, with a ZIP64 extra field, readable by `np.load`.
/// zstd is refused (usage_error): numpy cannot read it. Atomic, like every zanj save.
/// `progress` is called after each member with the uncompressed bytes (`.npy` headers and
/// data) written so far.
void write_npz(const std::filesystem::path& file, const value& arrays, compression method = {},
               const progress_callback& progress = {});

} // namespace zanj
