#pragma once
/// \file
/// Settings of a ZANJ archive, mirroring Python's `ZANJ(...)` arguments.

#include <cstddef>
#include <cstdint>
#include <zanj/limits.hpp>
#include <zanj/object_path.hpp>
#include <zanj/schema.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zanj {

/// What happens when an item cannot be serialized or loaded as asked (Python's `error_mode`).
enum class error_mode {
    except, ///< throw (default)
    warn,   ///< report through `config::warning_sink` and keep the item as plain JSON
    ignore, ///< keep the item as plain JSON silently
};

/// How arrays below `external_array_threshold` are written inside `__zanj__.json`.
enum class array_mode {
    array_list_meta, ///< metadata plus nested lists (default, human-readable)
    array_hex_meta,  ///< metadata plus hex of the raw little-endian bytes
    array_b64_meta,  ///< metadata plus base64 of the raw bytes
    list,            ///< bare nested lists, no metadata (dtype is lost)
};

/// Zip compression method of a member.
enum class compression_method : unsigned short {
    store = 0,   ///< no compression: fastest, and stored arrays can be memory-mapped
    deflate = 8, ///< readable by every zip tool and by Python's zipfile
    zstd = 93,   ///< faster and smaller than deflate; Python's zipfile before 3.14 cannot read it
};

/// A method with a level; `level` < 0 means the method's default (deflate 6, zstd 3).
struct compression {
    /// The zip method.
    compression_method method = compression_method::store;
    /// The method's level; below 0 for its default.
    int level = -1;
    /// Compress only members that a sample shows to be worth it, and store the rest: dense float
    /// weights gain a few percent at a large cost in speed (and stored arrays can be mapped).
    bool adaptive = false;

    /// `method` for members whose sample compresses to at most 90% of its size; store the others.
    static compression adaptive_of(compression_method method, int level = -1) { return {method, level, true}; }

    /// Same method, level and adaptivity.
    friend bool operator==(const compression&, const compression&) = default;
};

/// Which compression each kind of member gets.
struct compression_policy {
    /// `__zanj__.json`, `__zanj_meta__.json` and `.jsonl` members.
    compression json{compression_method::deflate};
    /// `.npy` members. Stored by default: dense numeric data rarely compresses well, and stored
    /// arrays are aligned (see config::small_array_alignment) so they can be mapped.
    compression arrays{compression_method::store};

    /// Python's `compress=True`: deflate everywhere.
    static compression_policy python() { return {{compression_method::deflate}, {compression_method::deflate}}; }
    /// Python's `compress=False`: store everywhere.
    static compression_policy none() { return {{compression_method::store}, {compression_method::store}}; }
    /// One method (and level) for every member.
    static compression_policy all(compression c) { return {c, c}; }

    /// Same compression for both kinds of member.
    friend bool operator==(const compression_policy&, const compression_policy&) = default;
};

/// How the items at some object paths are stored, overriding the archive's settings for them
/// (the type being saved does not change).
struct storage_hint {
    /// Which items: an object path pattern ("/layers/*/w", "/**/bias"; see object_path::matches).
    std::string path;
    /// Arrays and lists: always a member of their own (true) or always inline (false), whatever
    /// their size.
    std::optional<bool> external;
    /// Inline arrays: their mode.
    std::optional<zanj::array_mode> array_mode;
    /// External arrays and lists: their member's compression.
    std::optional<zanj::compression> compression;
};

/// Receives the progress of a save: the bytes written so far, counting each member (or tensor)
/// as its uncompressed size. Called after each member with growing values, the last of them the
/// total. A progress bar's hook; it should not throw (an exception abandons the save).
using progress_callback = std::function<void(std::uint64_t bytes_done)>;

/// Arrays of fewer bytes than this are laid out compactly (see config::small_array_alignment).
inline constexpr std::size_t small_array_bytes = std::size_t{64} << 10;

/// Settings of an archive; the defaults are Python's, except `compress` (see compression_policy).
struct config {
    /// What happens to an item that cannot be saved or loaded.
    zanj::error_mode error_mode = error_mode::except;
    /// How arrays below `external_array_threshold` are written inline.
    array_mode internal_array_mode = array_mode::array_list_meta;
    /// Arrays with at least this many elements become `.npy` members.
    std::size_t external_array_threshold = 256;
    /// Lists and tuples with at least this many items become `.jsonl` members.
    std::size_t external_list_threshold = 256;
    /// The compression of each kind of member (JSON deflated, arrays stored by default).
    compression_policy compress{};
    /// Where the data of a `.npy` member starts in the file, and so in a mapped view: arrays of
    /// 64 KiB or more on a multiple of 64 bytes (a cache line) with numpy's own header layout;
    /// smaller arrays on a multiple of this (a power of two up to 64), with the NPY header's
    /// padding doing the aligning and no ZIP64 field, so that an archive of many small arrays
    /// stays within a few percent of its payload. 16 is what malloc and numpy give an array;
    /// 64 puts every array on a cache line.
    std::size_t small_array_alignment = 16;
    /// Threads for compressing, decompressing and checking large members; 0 uses every core.
    unsigned threads = 0;
    /// Per-item storage; for each item the first hint whose pattern matches applies.
    std::vector<storage_hint> storage_hints{};
    /// What a read may cost (sizes, compression ratios, nesting...); see zanj/limits.hpp.
    read_limits limits{};
    /// What typed reads do with fields missing from an item and keys the type does not know
    /// (default: keep the default, skip the key, and warn); see zanj/schema.hpp.
    schema_options schema{};

    /// The first hint matching `path`, or nullptr.
    const storage_hint* hint_for(const object_path& path) const;
    /// Receives warnings under `error_mode::warn` and those of `schema`; the default prints to stderr.
    std::function<void(std::string_view)> warning_sink{};
    /// Called during saves as members are written (see progress_callback); none by default.
    progress_callback progress{};
};

/// "except", "warn" or "ignore", as Python names the modes.
std::string_view to_string(error_mode m) noexcept;
/// The mode's name, as in the format key ("array_list_meta"...).
std::string_view to_string(array_mode m) noexcept;
/// "store", "deflate" or "zstd".
std::string_view to_string(compression_method m) noexcept;

} // namespace zanj
