// `zanj ls`, `zanj cat` and `zanj meta`: read-only views of an archive, without reading more
// than they show.

#include "cli.hpp"

#include <zanj/archive.hpp>
#include <zanj/detail/zip.hpp>
#include <zanj/error.hpp>
#include <zanj/load_any.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

namespace zanj::cli {

namespace {

// One line of `ls`, from an archive's item_info or from a walk of a loaded npy/npz/safetensors.
struct row {
    std::string path;
    std::size_t depth = 0;
    std::string name;
    item_kind kind = item_kind::null;
    std::string format;
    std::size_t length = 0;
    std::string member;
    std::optional<array_info> array;
};

std::string step_name(const path_segment& s) {
    if (const auto* key = std::get_if<std::string>(&s)) return *key;
    return std::to_string(std::get<std::size_t>(s));
}

row row_of(const item_info& item) {
    row r;
    r.path = item.path.str();
    r.depth = item.path.size();
    r.name = item.path.empty() ? "/" : step_name(item.path.segments().back());
    r.kind = item.kind;
    r.format = item.format;
    r.length = item.length;
    r.member = item.member;
    r.array = item.array;
    return r;
}

// Rows of a tree that load_any read: its arrays are in memory, so there are no members, except
// in an npz whose zip directory says how each `.npy` is stored.
void walk(const value& v, object_path& path, const detail::zip_reader* npz, std::vector<row>& out) {
    row r;
    r.path = path.str();
    r.depth = path.size();
    r.name = path.empty() ? "/" : step_name(path.segments().back());
    switch (v.type()) {
    case value::kind::null: r.kind = item_kind::null; break;
    case value::kind::boolean: r.kind = item_kind::boolean; break;
    case value::kind::integer:
    case value::kind::unsigned_integer: r.kind = item_kind::integer; break;
    case value::kind::floating: r.kind = item_kind::floating; break;
    case value::kind::string: r.kind = item_kind::string; break;
    case value::kind::set:
        r.kind = item_kind::object;
        r.format = v.as_set().frozen ? "frozenset" : "set";
        r.length = v.size();
        break;
    case value::kind::list:
        r.kind = item_kind::list;
        r.length = v.size();
        break;
    case value::kind::dict:
        r.kind = item_kind::dict;
        r.length = v.size();
        break;
    case value::kind::array: {
        r.kind = item_kind::array;
        const ndarray& a = v.as_array();
        array_info info{a.type(), a.shape(), {}, "ndarray", compression_method::store, 0, 0};
        if (npz != nullptr && path.size() == 1) {
            const std::string member = path.joined() + ".npy";
            if (const detail::zip_entry* e = npz->find(member)) {
                info.member = r.member = member;
                info.mode = "external";
                info.method = e->method;
                info.compressed_size = e->compressed_size;
                info.uncompressed_size = e->uncompressed_size;
            }
        }
        r.array = std::move(info);
        break;
    }
    }
    out.push_back(std::move(r));
    if (v.is_dict()) {
        for (const auto& [key, item] : v.as_dict()) {
            path.push(key);
            walk(item, path, npz, out);
            path.pop();
        }
    } else if (v.is_list()) {
        for (std::size_t i = 0; i < v.size(); ++i) {
            path.push(i);
            walk(v.as_list()[i], path, npz, out);
            path.pop();
        }
    }
}

std::string kind_text(const row& r) { return r.format.empty() ? std::string(to_string(r.kind)) : r.format; }

std::string array_text(const array_info& a) { return std::string(dtype_name(a.dtype)) + " " + shape_string(a.shape); }

// `type_width` aligns the members after the arrays' dtype and shape.
std::string detail_text(const row& r, std::size_t type_width) {
    std::string out;
    switch (r.kind) {
    case item_kind::list:
    case item_kind::dict: out = std::to_string(r.length) + (r.length == 1 ? " item" : " items"); break;
    case item_kind::external_list:
        out = std::to_string(r.length) + (r.length == 1 ? " row" : " rows") + "  " + r.member;
        break;
    case item_kind::array: {
        const array_info& a = *r.array;
        out = array_text(a);
        if (!a.member.empty()) {
            out.resize(std::max(out.size(), type_width), ' ');
            out += "  " + a.member + "  " + std::string(to_string(a.method)) + " " +
                   std::to_string(a.uncompressed_size) + " B";
            if (a.method != compression_method::store) out += " -> " + std::to_string(a.compressed_size) + " B";
        } else if (a.mode != "ndarray") {
            out.resize(std::max(out.size(), type_width), ' ');
            out += "  inline"; // the mode is in the format key
            if (r.format.find(a.mode) == std::string::npos) out += " " + a.mode;
        }
        break;
    }
    default: break;
    }
    return out;
}

nlohmann::ordered_json row_json(const row& r) {
    nlohmann::ordered_json j;
    j["path"] = r.path;
    j["kind"] = std::string(to_string(r.kind));
    j["format"] = r.format.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.format);
    if (r.kind == item_kind::list || r.kind == item_kind::dict || r.kind == item_kind::external_list)
        j["length"] = r.length;
    j["member"] = r.member.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.member);
    if (r.array) {
        const array_info& a = *r.array;
        j["dtype"] = std::string(dtype_name(a.dtype));
        j["shape"] = a.shape;
        j["mode"] = a.mode;
        if (!a.member.empty()) {
            j["method"] = std::string(to_string(a.method));
            j["compressed_size"] = a.compressed_size;
            j["uncompressed_size"] = a.uncompressed_size;
        }
    }
    return j;
}

[[noreturn]] void no_item(const std::string& path, const std::filesystem::path& file) {
    throw usage_error("no item at " + path + " in " + file.string(), path);
}

} // namespace

int run_ls(const ls_options& o, const read_limits& limits) {
    const std::string prefix = normalize_path(o.object_path);
    std::vector<row> rows;
    if (detect_format(o.file) == file_format::zanj) {
        archive a(o.file, reading_config(limits));
        if (!a.find(prefix)) no_item(prefix, o.file);
        for (const item_info& item : a.items())
            if (path_under(item.path.str(), prefix)) rows.push_back(row_of(item));
        if (rows.empty()) { // inside an external list, whose items live in its member
            object_path where;
            const std::string p = prefix;
            for (std::size_t i = 1; i < p.size();) {
                const std::size_t end = std::min(p.find('/', i), p.size());
                where.push(std::string_view(p).substr(i, end - i));
                i = end + 1;
            }
            walk(a.read(prefix, {access::view, false}), where, nullptr, rows);
        }
    } else {
        const value tree = load_any(o.file, limits);
        std::optional<detail::zip_reader> zip;
        if (detect_format(o.file) == file_format::npz) zip.emplace(o.file, limits);
        std::vector<row> all;
        object_path root;
        walk(tree, root, zip ? &*zip : nullptr, all);
        for (row& r : all)
            if (path_under(r.path, prefix)) rows.push_back(std::move(r));
        if (rows.empty()) no_item(prefix, o.file);
    }

    if (o.json) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const row& r : rows) out.push_back(row_json(r));
        std::cout << out.dump(2) << "\n";
        return exit_ok;
    }
    // The first row names its whole path, the others their key, indented under their parent.
    const std::size_t base = rows.front().depth;
    rows.front().name = rows.front().path;
    std::size_t name_width = 0, kind_width = 0, type_width = 0;
    for (const row& r : rows) {
        name_width = std::max(name_width, 2 * (r.depth - base) + r.name.size());
        kind_width = std::max(kind_width, kind_text(r).size());
        if (r.array) type_width = std::max(type_width, array_text(*r.array).size());
    }
    for (const row& r : rows) {
        std::string line(2 * (r.depth - base), ' ');
        line += r.name;
        line.resize(name_width + 2, ' ');
        const std::string detail = detail_text(r, type_width);
        line += kind_text(r);
        if (!detail.empty()) {
            line.resize(name_width + 2 + kind_width + 2, ' ');
            line += detail;
        }
        std::cout << line << "\n";
    }
    return exit_ok;
}

int run_cat(const cat_options& o, const read_limits& limits) {
    const std::string path = normalize_path(o.object_path);
    value v;
    if (detect_format(o.file) == file_format::zanj) {
        archive a(o.file, reading_config(limits));
        if (!a.find(path)) no_item(path, o.file);
        v = a.read(path, {access::view, false});
    } else {
        const value tree = load_any(o.file, limits);
        const value* node = value_at(tree, path);
        if (node == nullptr) no_item(path, o.file);
        v = *node;
    }
    std::cout << pretty_json(v, o.full) << "\n";
    return exit_ok;
}

int run_meta(const meta_options& o, const read_limits& limits) {
    archive a(o.file, reading_config(limits));
    std::cout << pretty_json(a.meta()) << "\n";
    return exit_ok;
}

} // namespace zanj::cli
