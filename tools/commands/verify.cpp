// `zanj verify`: every check the library knows, reporting every problem it finds rather than
// stopping at the first. zanj::archive refuses a file at its first problem, as a reader must;
// this walks the same contract (FORMAT.md) and notes each failure before going on.

#include "cli.hpp"

#include <zanj/detail/array_codec.hpp>
#include <zanj/detail/json_io.hpp>
#include <zanj/detail/npy.hpp>
#include <zanj/detail/zip.hpp>
#include <zanj/error.hpp>
#include <zanj/value.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace zanj::cli {

namespace {

constexpr std::string_view tree_member = "__zanj__.json";
constexpr std::string_view meta_member = "__zanj_meta__.json";

std::string path_text(const value::list_type& path) {
    std::string out;
    for (const value& step : path) out += "/" + (step.is_string() ? step.as_string() : step.dump());
    return out.empty() ? "/" : out;
}

class auditor {
public:
    explicit auditor(const detail::zip_reader& zip) : zip_(zip) {}

    std::vector<std::string> run() {
        check_members();
        if (zip_.find(tree_member) == nullptr && zip_.find(meta_member) == nullptr) {
            note("not a zanj archive: it has neither " + std::string(tree_member) + " nor " + std::string(meta_member));
            return std::move(problems_);
        }
        const std::optional<value> tree = json_member(tree_member);
        const std::optional<value> meta = json_member(meta_member);
        if (tree && meta) check_externals(*tree, *meta);
        return std::move(problems_);
    }

private:
    void note(std::string problem) {
        if (std::find(problems_.begin(), problems_.end(), problem) == problems_.end())
            problems_.push_back(std::move(problem));
    }
    void note(const error& e) { note(std::string(e.what())); }

    // Every member's local header and CRC-32, member by member, so that one bad member does not
    // hide the next. Damaged members are left out of the checks below: reading them again would
    // only repeat the problem.
    void check_members() {
        for (const detail::zip_entry& e : zip_.entries()) {
            try {
                (void)zip_.data_offset(e);
                zip_.verify(e);
            } catch (const error& failure) {
                note(failure);
                damaged_.insert(e.name);
            }
        }
    }

    // The member's bytes, or nothing when it is missing, damaged or unreadable (noted).
    std::optional<std::string> text_of(std::string_view name) {
        const detail::zip_entry* e = zip_.find(name);
        if (e == nullptr || damaged_.contains(e->name)) return std::nullopt;
        try {
            const std::shared_ptr<std::byte> data = zip_.read(*e);
            return std::string(reinterpret_cast<const char*>(data.get()), e->uncompressed_size);
        } catch (const error& failure) {
            note(failure);
            damaged_.insert(e->name);
            return std::nullopt;
        }
    }

    std::optional<value> json_member(std::string_view name) {
        if (zip_.find(name) == nullptr) {
            note("not a zanj archive: it has no member " + std::string(name));
            return std::nullopt;
        }
        const std::optional<std::string> text = text_of(name);
        if (!text) return std::nullopt;
        try {
            return detail::parse_json(*text, name, false, zip_.limits().max_json_depth);
        } catch (const error& failure) {
            note(failure);
            return std::nullopt;
        }
    }

    // The items of a `.jsonl` member, parsed once; nothing when it cannot be read (noted).
    const value* jsonl(const std::string& member) {
        if (auto it = jsonl_.find(member); it != jsonl_.end()) return it->second ? &*it->second : nullptr;
        std::optional<value>& slot = jsonl_[member];
        const std::optional<std::string> text = text_of(member);
        if (!text) return nullptr;
        value::list_type items;
        std::string_view rest = *text;
        bool sound = true;
        for (std::size_t line = 1; !rest.empty(); ++line) {
            const std::size_t end = std::min(rest.find('\n'), rest.size());
            std::string_view row = rest.substr(0, end);
            rest.remove_prefix(std::min(end + 1, rest.size()));
            if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
            if (row.find_first_not_of(" \t") == std::string_view::npos) continue;
            try {
                items.push_back(detail::parse_json(row, member + " line " + std::to_string(line), false,
                                                   zip_.limits().max_json_depth));
            } catch (const error& failure) {
                note(failure);
                sound = false;
            }
        }
        if (!sound) return nullptr;
        slot = value(std::move(items));
        return &*slot;
    }

    // Python's walk from the root along `path`, entering external lists through their members.
    // Nothing when the path is not there (noted) or crosses a member that cannot be read.
    const value* walk(const value& tree, const value::list_type& path, const std::string& member) {
        const value* cur = &tree;
        for (const value& step : path) {
            if (const value* ref = cur->find(ref_key); cur->is_dict() && ref && ref->is_string() &&
                                                       ref->as_string().ends_with(".jsonl") && !cur->contains("data")) {
                cur = jsonl(ref->as_string());
                if (cur == nullptr) return nullptr;
            }
            const value* next = cur->step_into(step);
            if (next == nullptr) {
                note(format_error("externals_info gives member '" + member + "' the path " + path_text(path) +
                                      ", which does not exist in the tree",
                                  path_text(path), member));
                return nullptr;
            }
            cur = next;
        }
        return cur;
    }

    // The `.npy` member's header against its size and its stub.
    void check_npy(const detail::zip_entry& e, const value& stub, const std::string& where) {
        try {
            std::vector<std::byte> head;
            std::shared_ptr<std::byte> whole;
            std::span<const std::byte> bytes;
            if (e.method == compression_method::store) { // the header is enough: the CRC covered the rest
                const std::uint64_t longest = 12 + std::min<std::uint64_t>(zip_.limits().max_npy_header_size, 1 << 20);
                head.resize(static_cast<std::size_t>(std::min(e.uncompressed_size, longest)));
                zip_.read_stored(e, 0, head);
                bytes = head;
            } else {
                whole = zip_.read(e);
                bytes = {whole.get(), static_cast<std::size_t>(e.uncompressed_size)};
            }
            const detail::npy_header_info h =
                detail::npy_parse_header(bytes, e.name, zip_.limits().max_npy_header_size);
            detail::npy_check_size(h, e.uncompressed_size, e.name);
            detail::check_stub(stub, detail::recorded_dtype(stub, h.type), h.shape, e.name);
        } catch (const error& failure) {
            note(format_error(failure.reason(), where, e.name));
        }
    }

    void check_externals(const value& tree, const value& meta) {
        std::set<std::string> listed;
        const value* info = meta.is_dict() ? meta.find("externals_info") : nullptr;
        if (!meta.is_dict())
            note(format_error("__zanj_meta__.json is not a JSON object", {}, std::string(meta_member)));
        if (info != nullptr && !info->is_dict())
            note(format_error("externals_info is not an object", {}, std::string(meta_member)));
        if (info != nullptr && info->is_dict())
            for (const auto& [member, entry] : info->as_dict()) {
                listed.insert(member);
                check_external(tree, member, entry);
            }
        // Members nobody refers to, and stubs of members externals_info does not list.
        for (const detail::zip_entry& e : zip_.entries())
            if (e.name != tree_member && e.name != meta_member && !listed.contains(e.name))
                note(format_error("member '" + e.name + "' is not listed in externals_info", {}, e.name));
        object_path path;
        unlisted_stubs(tree, path, listed);
        for (const auto& [member, items] : jsonl_)
            if (items) unlisted_stubs(*items, path, listed); // paths inside those lists start at the list
    }

    void check_external(const value& tree, const std::string& member, const value& entry) {
        const value* type = entry.find("item_type");
        const value* path = entry.find("path");
        if (!type || !type->is_string() || !path || !path->is_list()) {
            note(format_error("externals_info entry of '" + member + "' lacks \"item_type\" or \"path\"", {}, member));
            return;
        }
        const std::string& kind = type->as_string();
        const std::string where = path_text(path->as_list());
        if (kind != "npy" && kind != "jsonl") {
            note(format_error("externals_info gives '" + member + "' the unknown item_type '" + kind + "'", where,
                              member));
            return;
        }
        if (!member.ends_with("." + kind))
            note(format_error("externals_info gives '" + member + "' the item_type '" + kind + "'", where, member));
        const detail::zip_entry* e = zip_.find(member);
        if (e == nullptr) {
            note(format_error("externals_info lists member '" + member + "', which the archive does not hold", where,
                              member));
            return;
        }
        const value* stub = walk(tree, path->as_list(), member);
        if (stub == nullptr) return;
        const value* ref = stub->find(ref_key);
        if (!stub->is_dict() || !ref || !ref->is_string() || ref->as_string() != member) {
            note(format_error("the item at " + where + " is not the stub of member '" + member + "' (its $ref is " +
                                  (ref ? ref->dump() : std::string("missing")) + ")",
                              where, member));
            return;
        }
        if (damaged_.contains(member)) return;
        if (kind == "npy")
            check_npy(*e, *stub, where);
        else
            (void)jsonl(member);
    }

    void unlisted_stubs(const value& v, object_path& path, const std::set<std::string>& listed) {
        if (v.is_dict()) {
            if (const value* ref = v.find(ref_key); ref && ref->is_string() && !listed.contains(ref->as_string()))
                note(format_error("the item at " + path.str() + " refers to member '" + ref->as_string() +
                                      "', which externals_info does not list",
                                  path.str(), ref->as_string()));
            for (const auto& [key, item] : v.as_dict()) {
                path.push(key);
                unlisted_stubs(item, path, listed);
                path.pop();
            }
        } else if (v.is_list()) {
            for (std::size_t i = 0; i < v.size(); ++i) {
                path.push(i);
                unlisted_stubs(v.as_list()[i], path, listed);
                path.pop();
            }
        }
    }

    const detail::zip_reader& zip_;
    std::vector<std::string> problems_;
    std::set<std::string> damaged_;
    std::map<std::string, std::optional<value>> jsonl_;
};

} // namespace

int run_verify(const verify_options& o, const read_limits& limits) {
    // An unreadable file, no zip at all, or a zip directory the validator refuses (overlaps,
    // unsafe names, limits) is exit 3 (thrown to main): nothing in it can be trusted.
    detail::zip_reader zip(o.file, limits);
    const std::vector<std::string> problems = auditor(zip).run();

    for (std::string_view p : problems) {
        if (p.starts_with("zanj: ")) p.remove_prefix(6);
        std::cout << o.file.string() << ": " << p << "\n";
    }
    if (!problems.empty()) {
        std::cout << o.file.string() << ": " << problems.size() << (problems.size() == 1 ? " problem" : " problems")
                  << "\n";
        return exit_problems;
    }
    if (!o.quiet) std::cout << o.file.string() << ": ok\n";
    return exit_ok;
}

} // namespace zanj::cli
