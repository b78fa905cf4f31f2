#pragma once
/// \file
/// The writing half of the facade: the external sink that puts `.npy` / `.jsonl` members and the
/// two JSON members into a zip.

#include <zanj/config.hpp>
#include <zanj/detail/zip.hpp>
#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>
#include <zanj/value.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace zanj::detail {

/// Writes an archive: externals as the serializer produces them, then `__zanj__.json` and
/// `__zanj_meta__.json`; nothing appears at the destination until `finish` succeeds.
class archive_writer final : public external_sink {
public:
    archive_writer(const std::filesystem::path& file, const config& settings, const loader_registry& registry);
    /// Writes the members into `zip`, owned by the caller (an editor's update in place); `finish`
    /// then takes the metadata from the caller.
    archive_writer(zip_writer& zip, const config& settings, const loader_registry& registry);
    /// Writes to memory instead: `zip().contents()` or `zip().copy_to()` read it back after `finish`.
    archive_writer(in_memory_t, const config& settings, const loader_registry& registry);
    ~archive_writer() override;
    archive_writer(const archive_writer&) = delete;
    archive_writer& operator=(const archive_writer&) = delete;

    void add_npy(const std::string& member, const object_path& path, const array_view& array,
                 const compression& method) override;
    void add_npy_chunked(const std::string& member, const object_path& path, const chunked_array& array,
                         const compression& method) override;
    void add_jsonl(const std::string& member, const object_path& path, std::vector<std::string> pieces,
                   std::size_t length, std::string_view kind, const compression& method) override;

    /// Writes the tree and the metadata and moves the archive into place.
    void finish(const value& tree);

    /// Writes the tree and the given metadata, and commits the zip.
    void finish(const value& tree, const value& meta);

    /// A member written, with its externals_info entry.
    struct written_external {
        std::string member;
        value info;
    };
    /// The members written since the last call, in order.
    std::vector<written_external> take_written();

    /// The zip being written.
    const zip_writer& zip() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// Python's rule: ".zanj" is appended when missing; missing parent folders are created.
std::filesystem::path prepare_save_path(const std::filesystem::path& file);

} // namespace zanj::detail
