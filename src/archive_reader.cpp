#include <zanj/archive.hpp>

#include <zanj/detail/json_io.hpp>
#include <zanj/detail/npy.hpp>
#include <zanj/detail/zip.hpp>

#include <algorithm>
#include <string>

namespace zanj::detail {

namespace {

constexpr std::string_view tree_member = "__zanj__.json";
constexpr std::string_view meta_member = "__zanj_meta__.json";

struct external_entry {
    std::string member;
    std::string item_type;
    const value::list_type* path;
};

std::string path_text(const value::list_type& path) {
    std::string out;
    for (const auto& p : path) out += "/" + (p.is_string() ? p.as_string() : p.dump());
    return out.empty() ? "/" : out;
}

std::string_view member_text(const std::shared_ptr<std::byte>& data, const zip_entry& e) {
    return {reinterpret_cast<const char*>(data.get()), static_cast<std::size_t>(e.uncompressed_size)};
}

value parse_member(const zip_reader& zip, const zip_entry& e) {
    return parse_json(member_text(zip.read(e), e), e.name);
}

// One of the two JSON members every zanj archive has.
const zip_entry& require_member(const zip_reader& zip, std::string_view name) {
    const zip_entry* e = zip.find(name);
    if (!e)
        throw format_error("not a zanj archive (a zip without " + std::string(name) + "): " + zip.path().string());
    return *e;
}

value read_jsonl(const zip_reader& zip, const zip_entry& e) {
    auto data = zip.read(e);
    std::string_view text = member_text(data, e);
    value::list_type items;
    std::size_t line_number = 0;
    while (!text.empty()) {
        auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find_first_not_of(" \t") != std::string_view::npos)
            items.push_back(parse_json(line, e.name + " line " + std::to_string(line_number)));
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return value(std::move(items));
}

// Python's walk: from the root along `path`, entering an already-filled external list through
// its "data"; integer steps on dicts name the key str(i), as Python's dict keys do.
value& walk(value& root, const value::list_type& path, const std::string& member) {
    value* cur = &root;
    std::string where;
    for (const auto& step : path) {
        if (cur->is_dict() && cur->contains(ref_key) && cur->contains("data")) cur = &(*cur)["data"];
        where += "/" + (step.is_string() ? step.as_string() : step.dump());
        value* next = nullptr;
        if (cur->is_dict()) {
            std::string key = step.is_string() ? step.as_string() : step.dump();
            next = cur->as_dict().find(key);
        } else if (cur->is_list() && step.is_integer() && step.type() == value::kind::integer && step.as_int() >= 0 &&
                   static_cast<std::size_t>(step.as_int()) < cur->size()) {
            next = &cur->as_list()[static_cast<std::size_t>(step.as_int())];
        }
        if (!next)
            throw format_error("externals_info gives member '" + member + "' the path " + path_text(path) +
                                   ", which does not exist in __zanj__.json",
                               where, member);
        cur = next;
    }
    return *cur;
}

} // namespace

archive_contents read_archive(const std::filesystem::path& file, const config&) {
    zip_reader zip(file);
    const zip_entry& tree_entry = require_member(zip, tree_member);
    archive_contents out{parse_member(zip, tree_entry), parse_member(zip, require_member(zip, meta_member))};
    if (!out.meta.is_dict()) throw format_error("__zanj_meta__.json is not a JSON object", {}, std::string(meta_member));
    const value* info = out.meta.find("externals_info");
    if (!info) return out; // an archive without externals may omit it
    if (!info->is_dict())
        throw format_error("externals_info in __zanj_meta__.json is not an object", {}, std::string(meta_member));

    std::vector<external_entry> externals;
    for (const auto& [member, entry] : info->as_dict()) {
        const value* type = entry.find("item_type");
        const value* path = entry.find("path");
        if (!type || !type->is_string() || !path || !path->is_list())
            throw format_error("externals_info entry of '" + member + "' lacks \"item_type\" or \"path\"", {},
                               std::string(meta_member));
        if (type->as_string() != "npy" && type->as_string() != "jsonl")
            throw format_error("externals_info gives '" + member + "' the unknown item_type '" + type->as_string() + "'",
                               {}, member);
        externals.push_back({member, type->as_string(), &path->as_list()});
    }
    // Parents before children: a list external must be filled before the externals inside it.
    std::stable_sort(externals.begin(), externals.end(),
                     [](const auto& a, const auto& b) { return a.path->size() < b.path->size(); });

    for (const auto& ext : externals) {
        const zip_entry* entry = zip.find(ext.member);
        if (!entry)
            throw format_error("externals_info lists member '" + ext.member + "', which the archive does not hold",
                               path_text(*ext.path), ext.member);
        value loaded;
        if (ext.item_type == "npy") {
            auto data = zip.read(*entry);
            loaded = value(npy_decode(std::move(data), static_cast<std::size_t>(entry->uncompressed_size), ext.member));
        } else {
            loaded = read_jsonl(zip, *entry);
        }
        value& stub = walk(out.tree, *ext.path, ext.member);
        const value* ref = stub.find(ref_key);
        if (!ref || !ref->is_string() || ref->as_string() != ext.member)
            throw format_error("the item at " + path_text(*ext.path) + " is not the stub of member '" + ext.member +
                                   "' (its $ref is " + (ref ? ref->dump() : std::string("missing")) + ")",
                               path_text(*ext.path), ext.member);
        stub.as_dict().insert_or_assign("data", std::move(loaded));
    }
    return out;
}

} // namespace zanj::detail

namespace zanj {

value ZANJ::read(const std::filesystem::path& file) const {
    detail::archive_contents contents = detail::read_archive(file, settings_);
    loader l(settings_, registry_.get());
    return registry_->rebuild(std::move(contents.tree), l);
}

value ZANJ::read_meta(const std::filesystem::path& file) const {
    detail::zip_reader zip(file);
    return detail::parse_member(zip, detail::require_member(zip, detail::meta_member));
}

} // namespace zanj
