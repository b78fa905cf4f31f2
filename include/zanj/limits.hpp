#pragma once
/// \file
/// `zanj::read_limits`: how much a read may cost. A `.zanj` file (or an `.npz` or `.safetensors`
/// file read through `load_any`) may come from anywhere; these limits keep a hostile or damaged
/// file from exhausting memory or the stack. Every refusal is a `zanj::limit_error` naming the
/// limit (`read_limits::max_archive_ratio`...) and the member. The defaults read any honest
/// archive whose compressed members expand at most 100 times past 1 GiB in all (trained weights
/// expand about 1.1 times); raise a limit, or use `read_limits::none()`, for files you trust.

#include <cstddef>
#include <cstdint>
#include <limits>

namespace zanj {

/// Limits checked when an archive is opened and read (see docs/robustness.md).
///
/// \code
/// zanj::config c;
/// c.limits.max_archive_ratio = 10000;  // a trusted archive of 4 GiB of zeros
/// zanj::ZANJ z(c);                      // or: c.limits = read_limits::none();
/// \endcode
struct read_limits {
    /// A value that disables a limit.
    static constexpr std::uint64_t unlimited = std::numeric_limits<std::uint64_t>::max();

    /// Sum of the uncompressed sizes of an archive's compressed (deflate, zstd) members: what
    /// decompressing all of it could allocate. Stored members are not counted: their bytes are
    /// in the file, so they cannot amplify it (and large stored arrays are meant to be mapped).
    /// No bound by default: `max_archive_ratio` bounds that sum by the file's size; set one to
    /// cap what any read may allocate.
    std::uint64_t max_total_uncompressed = unlimited;
    /// Largest ratio of uncompressed to compressed size of one member, checked for members whose
    /// uncompressed size exceeds `ratio_checked_above`. The default is above what any codec can
    /// reach (deflate stops near 1032:1, zstd near 32768:1, on constant data such as an array
    /// of zeros), so it refuses only sizes that lie; lower it to refuse large, highly
    /// compressed members from files you do not trust.
    std::uint64_t max_compression_ratio = 65536;
    /// Members up to this uncompressed size are exempt from `max_compression_ratio`.
    std::uint64_t ratio_checked_above = std::uint64_t{1} << 20;
    /// Longest NPY header accepted, in bytes (numpy's own `max_header_size`).
    std::uint64_t max_npy_header_size = 10000;
    /// Deepest nesting of JSON arrays and objects in `__zanj__.json`, `__zanj_meta__.json`, each
    /// `.jsonl` line and a `.safetensors` header. Deeper trees would be rebuilt, and destroyed,
    /// recursively.
    std::uint64_t max_json_depth = 1000;
    /// Most members an archive may list.
    std::uint64_t max_members = std::uint64_t{1} << 20;
    // The archive-wide ratio came last: positional initialisers of the fields above keep their
    // meaning.
    /// Largest ratio of the sum `max_total_uncompressed` bounds to the size of the whole file,
    /// checked once that sum passes `archive_ratio_checked_above`: what a file may make a read
    /// allocate, per byte of it, beyond that free allowance. Honest archives stay far below
    /// (deflated float32 weights expand 1.1 times, int64 labels 11, a mask with 1% ones 49); a
    /// zip bomb (40 GB of zeros in a 39 MB file, 1030:1) does not. Raise it for archives of more
    /// than 1 GiB of nearly constant data, such as masks of one blob or arrays of zeros.
    std::uint64_t max_archive_ratio = 100;
    /// Archives whose compressed members expand to at most this in all are exempt from
    /// `max_archive_ratio`.
    std::uint64_t archive_ratio_checked_above = std::uint64_t{1} << 30;

    /// Every limit disabled, for files you trust. JSON depth is then bounded only by the stack.
    static constexpr read_limits none() noexcept {
        return {unlimited, unlimited, unlimited, unlimited, unlimited, unlimited, unlimited, unlimited};
    }

    /// Same limits.
    friend bool operator==(const read_limits&, const read_limits&) = default;
};

} // namespace zanj
