// `zanj extract`: members to files. Every name is checked before anything is written, so a
// hostile archive ("zip slip") is refused whole, as is a folder holding a symbolic link on the
// way of a member.

#include "cli.hpp"

#include <zanj/archive.hpp>
#include <zanj/detail/zip.hpp>
#include <zanj/error.hpp>
#include <zanj/load_any.hpp>

#include <iostream>
#include <set>
#include <string>
#include <vector>

namespace zanj::cli {

namespace {

// Why `name` could land outside the target folder (or is unsafe on some system), or empty.
std::string unsafe_reason(std::string_view name) {
    if (name.empty()) return "an empty name";
    if (name.front() == '/') return "an absolute path";
    if (name.find('\\') != std::string_view::npos) return "a backslash";
    if (name.find('\0') != std::string_view::npos) return "a NUL byte";
    if (name.size() >= 2 && name[1] == ':') return "a drive letter";
    std::size_t i = 0;
    while (i <= name.size()) {
        const std::size_t end = std::min(name.find('/', i), name.size());
        if (name.substr(i, end - i) == "..") return "a '..' component";
        i = end + 1;
    }
    return {};
}

// The first path below `dir` on the way to `name` that is a symbolic link already, or empty: a
// link planted in DIR would carry the write outside it. (DIR itself may be a link: the user
// named it.)
std::filesystem::path planted_link(const std::filesystem::path& dir, std::string_view name) {
    std::filesystem::path at = dir;
    for (const auto& step : std::filesystem::path(name)) {
        at /= step;
        std::error_code ec;
        const auto status = std::filesystem::symlink_status(at, ec);
        if (ec || status.type() == std::filesystem::file_type::not_found) return {};
        if (status.type() == std::filesystem::file_type::symlink) return at;
    }
    return {};
}

} // namespace

int run_extract(const extract_options& o, const read_limits& limits) {
    detail::zip_reader zip(o.file, limits);
    for (const detail::zip_entry& e : zip.entries())
        if (const std::string why = unsafe_reason(e.name); !why.empty())
            throw format_error("refusing to extract member '" + e.name + "' of " + o.file.string() + ": it has " + why +
                                   " and could be written outside " + o.dir.string() + "; nothing was written",
                               {}, {});

    // Which members: all of them, or those of the items under OBJPATH.
    const std::string prefix = normalize_path(o.object_path);
    std::set<std::string> wanted;
    const bool all = prefix == "/";
    if (!all) {
        if (detect_format(o.file) != file_format::zanj)
            throw usage_error("extract OBJPATH needs a .zanj archive: " + o.file.string());
        archive a(o.file, reading_config(limits));
        if (!a.find(prefix)) throw usage_error("no item at " + prefix + " in " + o.file.string(), prefix);
        for (const item_info& item : a.items())
            if (!item.member.empty() && path_under(item.path.str(), prefix)) wanted.insert(item.member);
    }

    for (const detail::zip_entry& e : zip.entries()) {
        if (!all && !wanted.contains(e.name)) continue;
        if (const auto link = planted_link(o.dir, e.name); !link.empty())
            throw format_error("refusing to extract member '" + e.name + "' of " + o.file.string() + ": " +
                                   link.string() + " is a symbolic link, which could lead outside " + o.dir.string() +
                                   "; nothing was written",
                               {}, {});
    }

    std::filesystem::create_directories(o.dir);
    for (const detail::zip_entry& e : zip.entries()) {
        if (!all && !wanted.contains(e.name)) continue;
        const std::filesystem::path target = o.dir / std::filesystem::path(e.name);
        if (e.name.back() == '/') { // a folder entry
            std::filesystem::create_directories(target);
            continue;
        }
        if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
        const std::shared_ptr<std::byte> data = zip.read(e); // CRC checked
        write_file(target, e.uncompressed_size == 0
                               ? std::string_view()
                               : std::string_view(reinterpret_cast<const char*>(data.get()), e.uncompressed_size));
        std::cout << target.string() << "\n";
    }
    return exit_ok;
}

} // namespace zanj::cli
