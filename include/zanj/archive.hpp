#pragma once
/// \file
/// `zanj::archive`: an open `.zanj` file, read lazily. Opening reads the zip directory and the
/// two JSON members only; arrays and long lists are read when asked for, arrays as copies or as
/// zero-copy views of a memory mapping, whole or by rows.

#include <zanj/config.hpp>
#include <zanj/dtype.hpp>
#include <zanj/loader.hpp>
#include <zanj/ndarray.hpp>
#include <zanj/object_path.hpp>
#include <zanj/value.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace zanj {

/// What an item of the tree is.
enum class item_kind {
    null,
    boolean,
    integer,
    floating,
    string,
    list,          ///< a JSON list
    dict,          ///< a JSON object without a format key
    array,         ///< an array, inline or in a `.npy` member
    external_list, ///< a list, tuple or table in a `.jsonl` member
    object,        ///< another typed item: a dataclass, a set, a user type...
};

/// The kind's short name ("null", "bool", "int"...), for listings and messages.
std::string_view to_string(item_kind k) noexcept;

/// An array's type and where its bytes are.
struct array_info {
    /// Element type, as the item's `"dtype"` names it.
    zanj::dtype dtype = dtype::float64;
    /// Extents, outermost first.
    shape_type shape;
    /// The member holding it, or empty when it is inline in `__zanj__.json`.
    std::string member;
    /// The inline mode ("array_list_meta", "array_hex_meta", "array_b64_meta", "zero_dim") or
    /// "external".
    std::string mode;
    /// For members: how they are stored, and their sizes in the zip.
    compression_method method = compression_method::store;
    /// The member's size in the zip (0 for inline arrays).
    std::uint64_t compressed_size = 0;
    /// The member's size once decompressed (0 for inline arrays).
    std::uint64_t uncompressed_size = 0;
};

/// One item of the tree, as the zip directory and the JSON describe it (no array is read).
struct item_info {
    /// Where the item sits in the tree.
    object_path path;
    /// What the item is.
    item_kind kind = item_kind::null;
    /// The format key (`__muutils_format__`), or empty.
    std::string format;
    /// Items of lists and dicts, rows of external lists (when their stub records it).
    std::size_t length = 0;
    /// The `.npy` or `.jsonl` member of an external item, or empty.
    std::string member;
    /// Set for arrays.
    std::optional<array_info> array;
};

/// How a read delivers arrays.
enum class access {
    /// Every array gets storage of its own, and its member's CRC-32 is checked.
    copy,
    /// Stored, aligned, little-endian C-order arrays are views of a private copy-on-write mapping
    /// of the file: nothing is copied or read until used, writing to them never touches the file,
    /// and each keeps the mapping alive. Other arrays are copies.
    view,
};

/// Options of one read.
struct read_options {
    /// Copies (checked) or views.
    zanj::access access = access::copy;
    /// With views: check each viewed member's CRC-32 first (this reads all its bytes). Copies
    /// are always checked.
    bool verify = false;
};

/// The format key `archive::read_filter` gives the items it skips.
inline constexpr std::string_view not_loaded_format = "zanj:not_loaded";

/// True for what `archive::read_filter` left in place of an item it skipped: a dict with the
/// format key `zanj:not_loaded`, the item's `path`, and its own `format`, `$ref`, `shape` and
/// `dtype` where it had them.
bool is_not_loaded(const value& v) noexcept;

/// An open `.zanj` archive.
///
/// Thread safety: one archive may be read from several threads at once, through every const
/// member (`items`, `find`, `read`, `read_filter`, `array`, `view`, `rows`, `verify`); its lazy
/// caches (item list, parsed `.jsonl` members, header offsets, the mapping) are filled under
/// locks or once. Moving, assigning or destroying it while another thread reads it is not.
/// Arrays and views it returned stay valid after it is gone. See docs/robustness.md.
///
/// \code
/// zanj::archive a("run.zanj");
/// for (const auto& item : a.items())                   // no array is read
///     std::cout << item.path.str() << " " << zanj::to_string(item.kind) << "\n";
/// auto w = a.view("/layers/0/w");                      // zero-copy, 0 bytes read
/// auto head = a.rows("/data", 0, 100);                 // reads only those rows
/// Layer layer = a.read<Layer>("/layers/0");            // a typed sub-tree
/// \endcode
class archive {
public:
    /// Opens `file`: reads the zip directory, parses `__zanj__.json` into a document that
    /// listing and reads of single items walk (see tree()), and copies `__zanj_meta__.json` as
    /// stored (decompressed when first needed). Listing (`items`, `find`, `tree`) needs nothing
    /// more; the first read of data (and `verify`) parses `externals_info` and checks it against
    /// the tree, throwing format_error there when they disagree or the meta is not valid JSON.
    /// `registry` rebuilds typed items in untyped reads (zanj's built-in loaders when null).
    explicit archive(const std::filesystem::path& file, config settings = {},
                     std::shared_ptr<const loader_registry> registry = nullptr);
    /// Opens an archive held in memory, which must stay unchanged while the archive (not what
    /// it returned) is in use. Arrays are always copies here.
    static archive from_bytes(std::span<const std::byte> bytes, config settings = {},
                              std::shared_ptr<const loader_registry> registry = nullptr);
    /// The same, keeping `bytes` alive itself.
    static archive from_bytes(std::vector<std::byte>&& bytes, config settings = {},
                              std::shared_ptr<const loader_registry> registry = nullptr);
    /// Reads `in` to its end and opens what it held. Throws io_error when the stream fails.
    static archive from_stream(std::istream& in, config settings = {},
                               std::shared_ptr<const loader_registry> registry = nullptr);
    ~archive();
    /// Movable, not copyable; views taken from it stay valid.
    archive(archive&&) noexcept;
    /// Move assignment; views taken from either archive stay valid.
    archive& operator=(archive&&) noexcept;

    /// The file this archive was opened from ("<archive in memory>" for those held in memory).
    const std::filesystem::path& path() const noexcept;
    /// `__zanj_meta__.json`, parsed when first asked for (reads of data parse only
    /// externals_info's item types, paths and lengths from it).
    const value& meta() const;
    /// `__zanj__.json` as it is: external items are stubs (`$ref`) without their data. Built
    /// on first call (listing and reads of single items walk the parsed document instead).
    const value& tree() const;

    /// Every item, parents first, in the tree's order; the items inside external lists are not
    /// listed (they live in their `.jsonl` member). Built on first call.
    const std::vector<item_info>& items() const;
    /// The item at `path` ("/layers/0/w", "/" for the root), or nothing. Paths may go into
    /// external lists (their member is then read), not into arrays (their keys are metadata).
    std::optional<item_info> find(std::string_view path) const;
    /// The same, step by step: keys may contain '/'. Every path of `items()` is found.
    std::optional<item_info> find(const object_path& path) const;

    /// The item at `path` as a T. Throws usage_error when there is no such item.
    template <class T>
    T read(std::string_view path = "/", read_options options = {}) const;
    /// The item at `path` loaded by `load(item, loader)`, for loading that needs options a
    /// handler cannot take (what ConfiguredModel's non-strict read does): the loader reads
    /// externals as `options` says and names paths from `path` on.
    template <class Load>
    auto load_with(std::string_view path, Load&& load, read_options options = {}) const
        -> std::invoke_result_t<Load&, const value&, loader&>;
    /// The item at `path` untyped, as `ZANJ::read` gives whole archives.
    value read(std::string_view path = "/", read_options options = {}) const;
    /// The whole tree untyped, reading only the items `keep` accepts: it is asked top-down, and
    /// an item it refuses is replaced by a placeholder (see `is_not_loaded`) without looking
    /// inside it.
    value read_filter(const std::function<bool(const item_info&)>& keep, read_options options = {}) const;

    /// The array at `path` (an array item, inline or external).
    ndarray array(std::string_view path, read_options options = {}) const;
    /// The array at `path` with `access::view`: zero-copy when it is stored and aligned.
    ndarray view(std::string_view path, bool verify = false) const { return array(path, {access::view, verify}); }
    /// Rows [begin, end) of the array at `path`, along its first axis. For stored members only
    /// those bytes are read (a copy, unchecked: checking needs the whole member) or mapped (a
    /// view); compressed and inline arrays are read whole first.
    ndarray rows(std::string_view path, std::size_t begin, std::size_t end, read_options options = {}) const;

    /// Checks the whole archive: every member's local header and CRC-32, every `.npy` header
    /// against its stub, every `.jsonl` member's lines. Throws the first problem found.
    void verify() const;

private:
    struct impl;
    struct source;
    explicit archive(std::unique_ptr<impl> opened);
    friend class ZANJ;
    // An open that a read of the whole archive follows (ZANJ::read): externals_info, which such
    // a read needs, is parsed on a second thread while the tree is.
    static archive open_for_whole_read(const std::filesystem::path& file, config settings,
                                       std::shared_ptr<const loader_registry> registry);
    // The item at `path`: a node of tree(), or its values built in `built` when the tree is not.
    const value& node_at(std::string_view path, object_path& where, std::optional<value>& built) const;
    // `whole_tree`: the read covers the root, and goes by externals_info (see archive::source).
    // `loaded`: the node the read loads, whose compressed arrays are decompressed ahead of it on
    // the other threads; none for a read of one array.
    std::unique_ptr<detail::external_source> make_source(read_options options, bool whole_tree,
                                                         const value* loaded) const;
    const config& settings() const noexcept;
    const loader_registry* registry() const noexcept;

    std::unique_ptr<impl> impl_;
};

template <class T>
T archive::read(std::string_view path, read_options options) const {
    return load_with(
        path, [](const value& node, loader& l) { return l.load<T>(node); }, options);
}

template <class Load>
auto archive::load_with(std::string_view path, Load&& load, read_options options) const
    -> std::invoke_result_t<Load&, const value&, loader&> {
    object_path where;
    std::optional<value> built;
    const value& node = node_at(path, where, built);
    auto externals = make_source(options, where.empty(), &node);
    loader l(settings(), registry(), externals.get(), std::move(where));
    auto loaded = load(node, l);
    externals->finish();
    return loaded;
}

} // namespace zanj
