#pragma once
/// \file
/// `zanj::ZANJ`, the facade: save an object to a `.zanj` archive and read it back, typed or
/// untyped, in one call. (The class keeps the name of Python's `ZANJ`, which it mirrors.)

#include <zanj/archive.hpp>
#include <zanj/config.hpp>
#include <zanj/detail/archive_writer.hpp>
#include <zanj/editor.hpp>
#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>
#include <zanj/value.hpp>

#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace zanj {

/// Saves objects to `.zanj` archives and reads them back.
///
/// Thread safety: `save`, `read`, `open`, `register_type` and `loaders().add` may be called
/// from several threads at once on one facade; changing `settings()` meanwhile may not. A save
/// writes a temporary file beside the destination and renames it over it, so the destination
/// always holds a complete archive, the old one or the new one (see docs/robustness.md).
///
/// \code
/// zanj::ZANJ z;                                // Python's defaults
/// auto path = z.save(run, "out/run");          // writes out/run.zanj
/// Run back = z.read<Run>(path);                // typed
/// zanj::value tree = z.read(path);             // untyped: arrays as ndarray, sets as sets
/// zanj::archive a = z.open(path);              // lazy: list items, view or slice arrays
/// \endcode
class ZANJ {
public:
    /// Saves and reads with these settings (Python's defaults when omitted).
    explicit ZANJ(config settings = {})
        : settings_(std::move(settings)), registry_(std::make_shared<loader_registry>()) {}

    /// The settings of later saves and reads.
    config& settings() noexcept { return settings_; }
    /// The settings of later saves and reads.
    const config& settings() const noexcept { return settings_; }

    /// The loaders untyped reads use; add your own format keys here.
    loader_registry& loaders() noexcept { return *registry_; }
    /// The same, read-only.
    const loader_registry& loaders() const noexcept { return *registry_; }

    /// Lets untyped reads rebuild items of T's format key as T (see `value::instance<T>()`).
    template <class T>
    void register_type() {
        registry_->add<T>();
    }

    /// Registers a run-time marshaler for T (zanj/marshaler.hpp): saves and typed reads try it
    /// before T's compile-time handler (Python's `handlers_pre`), untyped reads rebuild items of
    /// its format key through it, and `__zanj_meta__.json` lists it. A format key registered
    /// twice is a usage_error.
    template <class T>
    void add_marshaler(marshaler<T> m) {
        registry_->add_marshaler(std::move(m));
    }

    /// The run-time marshalers registered so far.
    const marshaler_registry& marshalers() const noexcept { return registry_->marshalers(); }

    /// Saves `obj` to `file` (".zanj" appended when missing, parent folders created) and returns
    /// the path written. The file appears complete or not at all; temporaries that killed saves
    /// of `file` left behind are removed. Throws io_error naming the file and the system's
    /// reason when the disk refuses (the old file then stays as it was).
    template <class T>
    std::filesystem::path save(const T& obj, const std::filesystem::path& file) const {
        std::filesystem::path target = detail::prepare_save_path(file);
        detail::archive_writer writer(target, settings_, *registry_);
        write(obj, writer);
        return target;
    }

    /// Saves `obj` as the bytes of a `.zanj` archive, the same as `save` would write to a file
    /// (but for the timestamps).
    template <class T>
    std::vector<std::byte> save_to_bytes(const T& obj) const {
        detail::archive_writer writer(detail::in_memory, settings_, *registry_);
        write(obj, writer);
        return writer.zip().contents();
    }

    /// Saves `obj` as a `.zanj` archive written to `out`, which needs no seeking: the archive is
    /// built in memory (a memfd, which the kernel may page out) and then copied to `out`.
    /// Throws io_error when the stream fails.
    template <class T>
    void save(const T& obj, std::ostream& out) const {
        detail::archive_writer writer(detail::in_memory, settings_, *registry_);
        write(obj, writer);
        copy_to_stream(writer, out);
    }

    /// Opens `file` lazily (see `zanj::archive`), with these settings and loaders.
    archive open(const std::filesystem::path& file) const { return archive(file, settings_, registry_); }
    /// Opens an archive held in memory; `bytes` must stay unchanged while the archive is in use.
    archive open(std::span<const std::byte> bytes) const { return archive::from_bytes(bytes, settings_, registry_); }
    /// Opens an archive held in memory, keeping `bytes`.
    archive open(std::vector<std::byte>&& bytes) const {
        return archive::from_bytes(std::move(bytes), settings_, registry_);
    }
    /// Reads `in` to its end and opens the archive it held.
    archive open(std::istream& in) const { return archive::from_stream(in, settings_, registry_); }

    /// Opens `file` for update in place (see `zanj::editor`) with these settings and loaders;
    /// `mode` is "r+", "a" or "w" (or an open_mode). ".zanj" is appended when "a" or "w" create it.
    editor edit(const std::filesystem::path& file, open_mode mode = open_mode::read_write) const {
        return editor(file, mode, settings_, registry_);
    }
    /// The same with the mode as h5py spells it.
    editor edit(const std::filesystem::path& file, std::string_view mode) const {
        return edit(file, parse_open_mode(mode));
    }

    /// Reads `file` as a T; every array is copied and checked.
    template <class T>
    T read(const std::filesystem::path& file) const {
        return archive::open_for_whole_read(file, settings_, registry_).read<T>();
    }

    /// Reads `file` untyped: the tree with arrays as ndarray, sets as sets, externals filled in,
    /// and registered types rebuilt.
    value read(const std::filesystem::path& file) const {
        return archive::open_for_whole_read(file, settings_, registry_).read();
    }

    /// Reads the archive held in `bytes` (from `save_to_bytes`, say) as a T.
    template <class T>
    T read(std::span<const std::byte> bytes) const {
        return open(bytes).read<T>();
    }
    /// Reads the archive held in `bytes` untyped.
    value read(std::span<const std::byte> bytes) const { return open(bytes).read(); }
    /// Reads the archive `in` holds, to its end, as a T.
    template <class T>
    T read(std::istream& in) const {
        return open(in).read<T>();
    }
    /// Reads the archive `in` holds, to its end, untyped.
    value read(std::istream& in) const { return open(in).read(); }

    /// The archive's `__zanj_meta__.json`, without reading the rest.
    value read_meta(const std::filesystem::path& file) const;

private:
    template <class T>
    void write(const T& obj, detail::archive_writer& writer) const {
        serializer s(settings_, &writer, &registry_->marshalers());
        writer.finish(s.serialize(obj));
    }
    static void copy_to_stream(const detail::archive_writer& writer, std::ostream& out);

    config settings_;
    std::shared_ptr<loader_registry> registry_;
};

} // namespace zanj
