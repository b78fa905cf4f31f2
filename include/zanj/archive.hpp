#pragma once
/// \file
/// `zanj::ZANJ`, the facade: save an object to a `.zanj` archive and read it back, typed or
/// untyped. (The class keeps the name of Python's `ZANJ`, which it mirrors.)

#include <zanj/config.hpp>
#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>
#include <zanj/value.hpp>

#include <filesystem>
#include <memory>

namespace zanj {

namespace detail {

/// Writes an archive: externals as the serializer produces them, then `__zanj__.json` and
/// `__zanj_meta__.json`; nothing appears at the destination until `finish` succeeds.
class archive_writer final : public external_sink {
public:
    archive_writer(const std::filesystem::path& file, const config& settings, const loader_registry& registry);
    ~archive_writer() override;
    archive_writer(const archive_writer&) = delete;
    archive_writer& operator=(const archive_writer&) = delete;

    void add_npy(const std::string& member, const object_path& path, const array_view& array) override;
    void add_jsonl(const std::string& member, const object_path& path, std::string lines, std::size_t length,
                   std::string_view kind) override;

    /// Writes the tree and the metadata and moves the archive into place.
    void finish(const value& tree);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// An archive's tree with every external loaded into its stub's "data", and its metadata.
struct archive_contents {
    value tree;
    value meta;
};

/// Reads the archive as Python's reader does, up to (not including) rebuilding typed items.
archive_contents read_archive(const std::filesystem::path& file, const config& settings);

/// Python's rule: ".zanj" is appended when missing; missing parent folders are created.
std::filesystem::path prepare_save_path(const std::filesystem::path& file);

} // namespace detail

/// Saves objects to `.zanj` archives and reads them back.
///
/// \code
/// zanj::ZANJ z;                                // Python's defaults
/// auto path = z.save(run, "out/run");          // writes out/run.zanj
/// Run back = z.read<Run>(path);                // typed
/// zanj::value tree = z.read(path);             // untyped: arrays as ndarray, sets as sets
/// \endcode
class ZANJ {
public:
    explicit ZANJ(config settings = {}) : settings_(std::move(settings)), registry_(std::make_shared<loader_registry>()) {}

    config& settings() noexcept { return settings_; }
    const config& settings() const noexcept { return settings_; }

    /// The loaders untyped reads use; add your own format keys here.
    loader_registry& loaders() noexcept { return *registry_; }
    const loader_registry& loaders() const noexcept { return *registry_; }

    /// Lets untyped reads rebuild items of T's format key as T (see `value::instance<T>()`).
    template <class T>
    void register_type() {
        registry_->add<T>();
    }

    /// Saves `obj` to `file` (".zanj" appended when missing, parent folders created) and returns
    /// the path written. The file appears complete or not at all.
    template <class T>
    std::filesystem::path save(const T& obj, const std::filesystem::path& file) const {
        std::filesystem::path target = detail::prepare_save_path(file);
        detail::archive_writer writer(target, settings_, *registry_);
        serializer s(settings_, &writer);
        value tree = s.serialize(obj);
        writer.finish(tree);
        return target;
    }

    /// Reads `file` as a T.
    template <class T>
    T read(const std::filesystem::path& file) const {
        detail::archive_contents contents = detail::read_archive(file, settings_);
        loader l(settings_, registry_.get());
        return l.load<T>(contents.tree);
    }

    /// Reads `file` untyped: the tree with arrays as ndarray, sets as sets, externals filled in,
    /// and registered types rebuilt.
    value read(const std::filesystem::path& file) const;

    /// The archive's `__zanj_meta__.json`.
    value read_meta(const std::filesystem::path& file) const;

private:
    config settings_;
    std::shared_ptr<loader_registry> registry_;
};

} // namespace zanj
