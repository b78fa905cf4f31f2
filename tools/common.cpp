// Helpers shared by the subcommands: object paths, numpy-like printing of arrays, indented JSON.

#include "cli.hpp"

#include <zanj/detail/json_io.hpp>
#include <zanj/dtype.hpp>
#include <zanj/error.hpp>

#include <charconv>
#include <fstream>

namespace zanj::cli {

config reading_config(const read_limits& limits) {
    config settings;
    settings.limits = limits;
    return settings;
}

std::string normalize_path(std::string_view p) {
    std::string out;
    std::size_t i = 0;
    while (i < p.size()) {
        while (i < p.size() && p[i] == '/') ++i;
        const std::size_t end = std::min(p.find('/', i), p.size());
        if (end > i) out.append("/").append(p.substr(i, end - i));
        i = end;
    }
    return out.empty() ? "/" : out;
}

bool path_under(std::string_view path, std::string_view prefix) {
    if (prefix == "/" || path == prefix) return true;
    return path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix && path[prefix.size()] == '/';
}

namespace {

// Elements [first, first + count along the axes from `axis` on), nested as numpy prints them.
void nested(const ndarray& a, std::size_t axis, std::size_t& next, std::string& out) {
    if (axis == a.ndim()) {
        out += element_string(a, next++);
        return;
    }
    out += "[";
    for (std::size_t k = 0; k < a.shape()[axis]; ++k) {
        if (k > 0) out += ", ";
        nested(a, axis + 1, next, out);
    }
    out += "]";
}

} // namespace

std::string array_preview(const ndarray& a, bool full) {
    std::string out = "array(";
    const std::size_t n = a.size();
    if (a.ndim() == 0) {
        out += element_string(a, 0);
    } else if (full) {
        std::size_t next = 0;
        nested(a, 0, next, out);
    } else {
        out += "[";
        const bool elide = n > 6;
        for (std::size_t i = 0; i < n; ++i) {
            if (elide && i == 3) {
                out += ", ...";
                i = n - 4;
                continue;
            }
            if (i > 0) out += ", ";
            out += element_string(a, i);
        }
        out += "]";
    }
    out += ", dtype=";
    out += dtype_name(a.type());
    out += ", shape=" + a.shape_string() + ")";
    return out;
}

namespace {

void pretty(const value& v, bool full, int depth, std::string& out) {
    const std::string pad(static_cast<std::size_t>(depth + 1) * 2, ' ');
    const std::string close_pad(static_cast<std::size_t>(depth) * 2, ' ');
    switch (v.type()) {
    case value::kind::array: out += array_preview(v.as_array(), full); return;
    case value::kind::set: {
        // As it is written to disk: a typed item holding a list.
        value_dict d;
        d.insert_or_assign(format_key, value(v.as_set().frozen ? "frozenset" : "set"));
        d.insert_or_assign("data", value(v.as_set().items));
        pretty(value(std::move(d)), full, depth, out);
        return;
    }
    case value::kind::list: {
        const auto& l = v.as_list();
        if (l.empty()) {
            out += "[]";
            return;
        }
        // Short lists of scalars on one line, as `[32, 4]`.
        bool scalars = l.size() <= 16;
        for (const value& item : l)
            scalars = scalars && !item.is_list() && !item.is_dict() && !item.is_set() && !item.is_array();
        if (scalars) {
            std::string line = "[";
            for (std::size_t i = 0; i < l.size(); ++i) {
                if (i > 0) line += ", ";
                detail::write_json(l[i], line, {-1, false});
            }
            line += "]";
            if (line.size() <= 72) {
                out += line;
                return;
            }
        }
        out += "[\n";
        for (std::size_t i = 0; i < l.size(); ++i) {
            out += pad;
            pretty(l[i], full, depth + 1, out);
            out += i + 1 < l.size() ? ",\n" : "\n";
        }
        out += close_pad + "]";
        return;
    }
    case value::kind::dict: {
        const auto& d = v.as_dict();
        if (d.empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        std::size_t i = 0;
        for (const auto& [key, item] : d) {
            out += pad;
            detail::write_json(value(key), out, {-1, false});
            out += ": ";
            pretty(item, full, depth + 1, out);
            out += ++i < d.size() ? ",\n" : "\n";
        }
        out += close_pad + "}";
        return;
    }
    default: detail::write_json(v, out, {-1, false}); return;
    }
}

} // namespace

std::string pretty_json(const value& v, bool full_arrays) {
    std::string out;
    pretty(v, full_arrays, 0, out);
    return out;
}

const value* value_at(const value& root, std::string_view path) {
    const value* node = &root;
    const std::string p = normalize_path(path);
    std::size_t i = 1;
    while (i < p.size()) {
        const std::size_t end = std::min(p.find('/', i), p.size());
        const std::string_view step = std::string_view(p).substr(i, end - i);
        i = end + 1;
        if (node->is_dict()) {
            node = node->find(step);
        } else if (node->is_list()) {
            std::size_t index = 0;
            const auto r = std::from_chars(step.data(), step.data() + step.size(), index);
            if (r.ec != std::errc{} || r.ptr != step.data() + step.size() || index >= node->as_list().size())
                return nullptr;
            node = &node->as_list()[index];
        } else {
            return nullptr;
        }
        if (node == nullptr) return nullptr;
    }
    return node;
}

void write_file(const std::filesystem::path& file, std::string_view bytes) {
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    if (!f) throw io_error("cannot create " + file.string());
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) throw io_error("cannot write " + file.string());
}

} // namespace zanj::cli
