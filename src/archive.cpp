#include <zanj/archive.hpp>

#include <zanj/detail/array_codec.hpp>
#include <zanj/detail/crc32.hpp>
#include <zanj/detail/decode_ahead.hpp>
#include <zanj/detail/journal.hpp>
#include <zanj/detail/json_io.hpp>
#include <zanj/detail/key_index.hpp>
#include <zanj/detail/npy.hpp>
#include <zanj/detail/parallel.hpp>
#include <zanj/detail/zip.hpp>

#include "json_dom.hpp"
#include "tree_nodes.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstring>
#include <istream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

namespace zanj {

namespace {

using detail::value_node;
using detail::zip_entry;
using detail::zip_reader;

constexpr std::string_view tree_member = "__zanj__.json";
constexpr std::string_view meta_member = "__zanj_meta__.json";

enum class external_type { npy, jsonl };

// An entry of externals_info.
struct external_entry {
    std::string_view member; // its key in meta_pruned
    external_type type = external_type::npy;
    const value::list_type* path = nullptr;
    // The member's stub, once found: its "dtype" restores types numpy lacks (bfloat16 over
    // uint16 bits). Set under jsonl_mutex for externals nested in a `.jsonl` list, and read
    // without it by concurrent reads: hence atomic.
    mutable std::atomic<const value*> stub{nullptr};
};

std::string path_text(const value::list_type& path) {
    std::string out;
    for (const auto& p : path) out += "/" + (p.is_string() ? p.as_string() : p.dump());
    return out.empty() ? "/" : out;
}

std::string_view member_text(const std::shared_ptr<std::byte>& data, const zip_entry& e) {
    return {reinterpret_cast<const char*>(data.get()), static_cast<std::size_t>(e.uncompressed_size)};
}

// The text of a JSON member read (or unpacked) with detail::json_padding bytes after it.
detail::padded_json json_member_text(const std::shared_ptr<std::byte>& data, const zip_entry& e) {
    return {member_text(data, e)};
}

// Read with room for the parser to read ahead, so that it needs no copy of the text.
value parse_member(const zip_reader& zip, const zip_entry& e) {
    return detail::parse_json(json_member_text(zip.read(e, detail::json_padding), e), e.name, false,
                              zip.limits().max_json_depth);
}

// One of the two JSON members every zanj archive has.
const zip_entry& require_member(const zip_reader& zip, std::string_view name) {
    const zip_entry* e = zip.find(name);
    if (!e) throw format_error("not a zanj archive (a zip without " + std::string(name) + "): " + zip.path().string());
    return *e;
}

// The line ends in `text`, found with memchr: vectorized at any optimization level, where
// std::count is not at GCC's -O2.
std::size_t count_line_ends(std::string_view text) {
    std::size_t count = 0;
    for (std::size_t at = 0; at < text.size(); ++count) {
        const void* end = std::memchr(text.data() + at, '\n', text.size() - at);
        if (!end) break;
        at = static_cast<std::size_t>(static_cast<const char*>(end) - text.data()) + 1;
    }
    return count;
}

// The items of whole lines of a .jsonl member, the first of them line `first_line`; `line_ends`
// counts the lines ended in `text`.
value::list_type parse_lines(std::string_view text, std::size_t first_line, std::size_t line_ends, const zip_entry& e,
                             std::uint64_t max_depth) {
    value::list_type items;
    // One item a line, blank lines aside: growing the list by doubling moved and faulted in
    // twice the room.
    items.reserve(line_ends + 1);
    // Where each line comes from, for messages: written into one buffer rather than made anew
    // for each of 100,000 lines.
    std::string source = e.name + " line ";
    const std::size_t source_prefix = source.size();
    std::size_t line_number = first_line - 1;
    while (!text.empty()) {
        auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find_first_not_of(" \t") != std::string_view::npos) {
            source.resize(source_prefix);
            source += std::to_string(line_number);
            // The member was read with json_padding bytes after it, and every line is followed
            // by at least those: the parser reads the line where it is, with no copy.
            items.push_back(detail::parse_json(detail::padded_json{line}, source, false, max_depth));
        }
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return items;
}

// A member of several MiB is parsed in parts of whole lines on up to `threads` threads.
value parse_jsonl(const zip_reader& zip, const zip_entry& e, unsigned threads) {
    auto data = zip.read(e, detail::json_padding);
    const std::string_view text = member_text(data, e);
    // Below this a thread costs about what it saves.
    constexpr std::size_t part_size = std::size_t{4} << 20;
    const std::size_t parts = std::clamp<std::size_t>(text.size() / part_size, 1, detail::resolve_threads(threads));
    std::vector<std::string_view> slices;
    std::vector<std::size_t> first_lines, line_ends;
    std::size_t at = 0, line = 1;
    for (std::size_t k = 1; k <= parts; ++k) {
        std::size_t end = k == parts ? text.size() : text.find('\n', std::max(at, text.size() / parts * k));
        end = end == std::string_view::npos ? text.size() : std::min(end + 1, text.size());
        slices.push_back(text.substr(at, end - at));
        first_lines.push_back(line);
        line_ends.push_back(count_line_ends(slices.back()));
        line += line_ends.back();
        at = end;
    }
    std::vector<value::list_type> lists(slices.size());
    std::vector<std::exception_ptr> failures(slices.size());
    detail::parallel_for(slices.size(), threads, [&](std::size_t k) {
        try {
            lists[k] = parse_lines(slices[k], first_lines[k], line_ends[k], e, zip.limits().max_json_depth);
        } catch (...) {
            failures[k] = std::current_exception();
        }
    });
    // The failure of the earliest line, as one thread reports it.
    for (const std::exception_ptr& failure : failures)
        if (failure) std::rethrow_exception(failure);
    value::list_type items = std::move(lists[0]);
    std::size_t total = 0;
    for (const value::list_type& part : lists) total += part.size();
    items.reserve(total);
    for (std::size_t k = 1; k < lists.size(); ++k)
        std::move(lists[k].begin(), lists[k].end(), std::back_inserter(items));
    return value(std::move(items));
}

// The member of an external stub whose data is not in the tree, or empty. A value's dict finds
// keys by hash, a DOM's by scanning all of them.
std::string_view stub_member(const value& v) noexcept {
    if (!v.is_dict() || v.contains("data")) return {};
    const value* ref = v.find(ref_key);
    return ref && ref->is_string() ? std::string_view(ref->as_string()) : std::string_view{};
}
std::string_view stub_member(const detail::dom_node& v) { return detail::item_keys<detail::dom_node>(v).member(); }

std::optional<std::size_t> parse_index(std::string_view step) {
    std::size_t index = 0;
    auto [end, ec] = std::from_chars(step.data(), step.data() + step.size(), index);
    if (ec != std::errc{} || end != step.data() + step.size()) return std::nullopt;
    return index;
}

// The child an item path's `step` names: a dict's key or a list's index. An array's keys are its
// metadata, not items (as in items()).
template <class Node>
std::optional<Node> item_child(const Node& cur, std::string_view step) {
    if (cur.is_dict()) return detail::is_array_format(cur.format()) ? std::nullopt : cur.find(step);
    if (const auto index = parse_index(step); index && cur.is_list()) return cur.at(*index);
    return std::nullopt;
}

// Notes the step a walk took: a dict's key, or a list's index (item_child checked it parses).
void push_step(object_path& where, bool dict, std::string_view step) {
    if (dict)
        where.push(step);
    else
        where.push(*parse_index(step));
}

// The walk to `path` found nothing at `step` below `where`, whose node is `cur`.
template <class Node>
[[noreturn]] void throw_no_item(const Node& cur, std::string_view step, std::string_view path,
                                const object_path& where) {
    const bool array = cur.is_dict() && detail::is_array_format(cur.format());
    throw usage_error("the archive has no item at " + std::string(path) + " (" +
                          (array ? where.str() + " is an array"
                                 : std::string(cur.is_list() ? "no index '" : "no key '") + std::string(step) +
                                       "' in " + where.str()) +
                          ")",
                      where.str());
}

std::string step_text(const path_segment& s) {
    if (const auto* key = std::get_if<std::string>(&s)) return *key;
    return std::to_string(std::get<std::size_t>(s));
}

// A header of an NPY member whose data is plain: little-endian (or byte-sized) C order, so that
// its bytes are the array's as they are.
bool is_plain(const detail::npy_header_info& h) { return !h.big_endian && !(h.fortran_order && h.shape.size() > 1); }

} // namespace

std::string_view to_string(item_kind k) noexcept {
    switch (k) {
    case item_kind::null: return "null";
    case item_kind::boolean: return "bool";
    case item_kind::integer: return "int";
    case item_kind::floating: return "float";
    case item_kind::string: return "str";
    case item_kind::list: return "list";
    case item_kind::dict: return "dict";
    case item_kind::array: return "array";
    case item_kind::external_list: return "external list";
    case item_kind::object: return "object";
    }
    return "?";
}

bool is_not_loaded(const value& v) noexcept { return v.is_dict() && v.format() == not_loaded_format; }

// ---- the open archive ---------------------------------------------------------------------------

struct archive::impl {
    zip_reader zip;
    config settings;
    std::shared_ptr<const loader_registry> registry;
    // __zanj__.json as simdjson's DOM, which listing and reads of single items walk; the value
    // tree is built from it when something needs all of it (a read of the root, read_filter,
    // externals_info's checks). Null when the open built the tree at once: for a whole read
    // (ZANJ::read), and for text simdjson does not take, with repeated keys or nested too deep.
    std::unique_ptr<detail::json_dom> dom;
    mutable std::once_flag tree_once;
    mutable std::atomic<bool> tree_built{false};
    mutable value tree_;
    const value& tree() const {
        if (dom && !tree_built.load(std::memory_order_acquire))
            std::call_once(tree_once, [this] {
                tree_ = detail::dom_node(dom->root()).to_value();
                tree_built.store(true, std::memory_order_release);
            });
        return tree_;
    }
    // The DOM's dicts and lists of more than `scanned_children` items, by path, indexed at the
    // open: simdjson finds a key or an index by scanning, which for a root of 10,000 arrays made
    // reading each of them in turn quadratic.
    static constexpr std::size_t scanned_children = 32;
    struct dom_children {
        std::vector<std::pair<std::string_view, detail::dom_node>> items; // keys empty for lists
        detail::key_index keys;                                           // for dicts
        bool array = false; // a dict with an array's format key: its keys are no items
        bool stub = false;  // a dict naming a member that holds its data
    };
    std::map<std::vector<path_segment>, dom_children> large_containers;
    // __zanj_meta__.json as stored, read at the open (an update in place may overwrite the
    // member later) and decompressed when needed: listing items never needs it. The whole of it
    // is parsed when meta() is first asked for; each externals_info entry's item_type, path and
    // len(data) (meta_pruned) by the first read that needs them.
    detail::zip_reader::packed_member meta_packed;
    mutable std::once_flag meta_once;
    mutable value meta;
    // externals_info, read and checked against the tree on the first read that needs it: listing
    // an archive (items) needs the tree alone, and with many externals the meta's externals_info
    // is as large as the tree, doubling the cost of opening.
    mutable std::once_flag externals_once;
    // Why reading it failed: every later call throws it again. call_once would run again after
    // a failure, but a call on another thread (checked_behind) then never returns under
    // ThreadSanitizer, whose call_once does not recover from exceptions.
    mutable std::exception_ptr externals_failure;
    // The stubs of the tree (outside external lists) by member: what reads of single items go
    // by, with no need of externals_info. Views into the tree's (or the DOM's) strings, which
    // never change.
    struct stub_entry {
        std::string_view member;
        std::string_view format;
        std::string_view dtype; // empty when the stub records none
        // Set by a check of externals_info behind a whole read (checked_behind) for the stubs
        // it lists as npy, and read once that check is over.
        mutable bool listed_npy = false;
    };
    std::vector<stub_entry> tree_stubs;
    detail::key_index tree_stub_index; // finds tree_stubs by member
    // The stub of `member` in the tree, or null.
    const stub_entry* tree_stub(std::string_view member) const {
        return tree_stub(member, detail::key_index::hash(member));
    }
    const stub_entry* tree_stub(std::string_view member, std::uint32_t hash) const {
        const std::ptrdiff_t at =
            tree_stub_index.find(member, hash, [&](std::size_t i) { return tree_stubs[i].member; });
        return at < 0 ? nullptr : &tree_stubs[static_cast<std::size_t>(at)];
    }
    // Room for a stub of every member: most trees name each once, and growing the index and the
    // list was a tenth of opening 10,000 of them.
    void reserve_stubs() {
        tree_stubs.reserve(zip.entries().size());
        tree_stub_index.reset(zip.entries().size());
    }
    // A member named twice keeps its first stub, as Python's walk does.
    template <class Node>
    void add_stub(const detail::item_keys<Node>& stub) {
        const std::string_view member = stub.member();
        const std::uint32_t hash = detail::key_index::hash(member);
        if (tree_stub(member, hash)) return;
        tree_stub_index.add_growing(tree_stubs.size(), hash, tree_stubs.size() + 1,
                                    [&](std::size_t i) { return tree_stubs[i].member; });
        tree_stubs.push_back({member, stub.format_text(), stub.dtype ? stub.dtype->as_string() : std::string_view{}});
    }
    mutable value meta_pruned;
    // The entries of meta_pruned's externals_info, in its order: its dict's index finds them.
    mutable const value::dict_type* externals_info_ = nullptr;
    mutable std::unique_ptr<external_entry[]> externals_;
    mutable std::size_t external_count_ = 0;
    // Entries of externals_info whose path goes through an external list: checked when that
    // list's member is parsed, since the tree alone cannot reach them.
    mutable std::unordered_multimap<std::string, std::string> nested_in; // list member -> member

    mutable std::mutex jsonl_mutex;
    mutable std::unordered_map<std::string, std::unique_ptr<const value>> jsonl_cache;
    // Opened for one whole read (ZANJ::read) on one thread: a list is dropped from jsonl_cache
    // once loaded (drop_jsonl), so that reading many lists holds one list's values at a time.
    bool whole_read_only = false;
    mutable std::once_flag items_once;
    mutable std::vector<item_info> item_list;

    // An open for a whole read (ZANJ::read) with a large meta parses and checks externals_info
    // on this worker while the read loads (checked_behind, see archive::source): with many
    // arrays that took as long as parsing the tree, and the load waited for it. Under error_mode
    // warn or ignore the read needs externals_info before it loads, and the worker only parses
    // it (meta_pruned_ahead) while the caller parses the tree. Last, so that it is waited for
    // before anything its job uses is destroyed.
    bool checked_behind = false;
    mutable std::optional<value> meta_pruned_ahead;
    mutable std::unique_ptr<detail::background_worker> meta_worker;

    explicit impl(zip_reader opened) : zip(std::move(opened)) {}
    static std::unique_ptr<impl> open_members(zip_reader zip, config settings,
                                              std::shared_ptr<const loader_registry> registry, bool whole_read);
    static std::unique_ptr<impl> open_file(const std::filesystem::path& file, config settings,
                                           std::shared_ptr<const loader_registry> registry, bool whole_read);

    // externals_info's entries, read and checked the first time.
    std::span<const external_entry> externals() const {
        std::call_once(externals_once, [this] {
            try {
                read_externals_info();
            } catch (...) {
                externals_failure = std::current_exception();
            }
        });
        if (externals_failure) std::rethrow_exception(externals_failure);
        return {externals_.get(), external_count_};
    }
    // The entry of `member`, or null.
    const external_entry* external(std::string_view member) const {
        externals();
        const std::ptrdiff_t at = externals_info_ ? externals_info_->index_of(member) : -1;
        return at < 0 ? nullptr : &externals_[static_cast<std::size_t>(at)];
    }
    // The entry of a member its caller knows to be listed.
    const external_entry& listed(std::string_view member) const {
        if (const external_entry* entry = external(member)) return *entry;
        throw format_error("member '" + std::string(member) + "' is not listed in externals_info", {},
                           std::string(member));
    }
    void read_externals_info() const;
    // externals_info's item types, paths and lengths from the meta (meta_pruned).
    value parse_meta_pruned() const;
    void open_tree(const zip_entry& e);
    void index_stubs(const value& node);
    // f(keys) for each stub in `node` (outside external lists), in the order of the tree.
    template <class F>
    void for_each_stub(const value& node, F&& f) const {
        if (node.is_list()) {
            for (const value& child : node.as_list()) for_each_stub(child, f);
        } else if (node.is_dict()) {
            if (const detail::item_keys<value_node> keys{value_node(node)}; !keys.member().empty()) return f(keys);
            for (const auto& item : node.as_dict()) for_each_stub(item.second, f);
        }
    }
    // Whether any .npy member is compressed: reads of archives without one look for none.
    bool any_compressed_array = false;
    // One walk over the DOM at the open: indexes its stubs and large containers, and tells
    // whether the DOM can stand for the tree (no repeated keys, nesting within the limit).
    struct dom_walk_step; // where the walk is, without building paths it does not need
    bool index_dom(const detail::dom_node& node, std::uint64_t depth, bool in_stub, const dom_walk_step* at);
    std::optional<detail::dom_node> dom_node_at(const std::vector<std::string_view>& steps, std::string_view path,
                                                object_path& where) const;
    bool is_item_external(std::string_view member, external_type type) const;
    // The zip entry of the member an array stub of the tree names, or null: another kind of
    // stub, or no such member.
    const zip_entry* array_entry(const stub_entry* stub) const {
        return stub && detail::is_array_format(stub->format) ? zip.find(stub->member) : nullptr;
    }
    // Whether externals_info lists `member` with that item_type.
    bool listed_as(std::string_view member, external_type type) const {
        const external_entry* entry = external(member);
        return entry && entry->type == type;
    }
    const value* walk(const value& root, const value::list_type& path, std::size_t first, const std::string& member,
                      std::string* crossed) const;
    void check_stub_at(const value& stub, const external_entry& entry) const;
    const value& jsonl(std::string_view member) const;
    void drop_jsonl(std::string_view member) const;
    void check_row_count(const std::string& member, std::size_t rows) const;
    const value& stub_of(const std::string& member) const;
    const zip_entry& entry_of(std::string_view member) const { return *zip.find(member); }
    dtype recorded_dtype(std::string_view member, dtype stored) const;
    detail::npy_header_info npy_header(const zip_entry& e) const;
    ndarray npy(std::string_view member, const read_options& options) const;
    // `stub`: the member's stub in the tree when known, for the dtype it records.
    void npy_into(const zip_entry& e, const stub_entry* stub, const array_placer& place) const;
    // Copies `a`, member e's array as npy() gives it, into the room `place` gives.
    static void place_copy(const zip_entry& e, const ndarray& a, const array_placer& place);
    // Where the stub of `member` sits in the tree: for messages.
    std::string stub_path(std::string_view member) const;
    template <class Node>
    item_info describe(const Node& node, object_path path) const;
    const value& node_at(const std::vector<std::string_view>& steps, std::string_view path, object_path& where,
                         std::optional<value>& built) const;
    const value& value_node_at(const std::vector<std::string_view>& steps, std::string_view path,
                               object_path& where) const;
    std::optional<item_info> find(const std::vector<std::string_view>& steps, std::string_view path) const;
    template <class Node>
    void list_items(const Node& node, object_path& path, std::vector<item_info>& out) const;
    value filtered(const value& node, object_path& path, const std::function<bool(const item_info&)>& keep) const;
};

// Python's walk from `root` along `path` (from step `first`): integer steps on dicts name the
// key str(i), as Python's dict keys do. Returns null when the path enters an external list
// whose data is elsewhere, naming that list's member in `crossed`.
const value* archive::impl::walk(const value& root, const value::list_type& path, std::size_t first,
                                 const std::string& member, std::string* crossed) const {
    const value* cur = &root;
    for (std::size_t i = first; i < path.size(); ++i) {
        const value& step = path[i];
        if (std::string_view list = stub_member(*cur); !list.empty()) {
            *crossed = std::string(list);
            return nullptr;
        }
        const value* next = cur->step_into(step);
        if (!next) {
            const value::list_type reached(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(i + 1));
            throw format_error("externals_info gives member '" + member + "' the path " + path_text(path) +
                                   ", which does not exist in __zanj__.json",
                               path_text(reached), member);
        }
        cur = next;
    }
    return cur;
}

void archive::impl::check_stub_at(const value& stub, const external_entry& entry) const {
    const value* ref = stub.find(ref_key);
    if (!ref || !ref->is_string() || ref->as_string() != entry.member) {
        const std::string member(entry.member);
        throw format_error("the item at " + path_text(*entry.path) + " is not the stub of member '" + member +
                               "' (its $ref is " + (ref ? ref->dump() : std::string("missing")) + ")",
                           path_text(*entry.path), member);
    }
    entry.stub.store(&stub, std::memory_order_release);
}

dtype archive::impl::recorded_dtype(std::string_view member, dtype stored) const {
    if (const stub_entry* in_tree = tree_stub(member)) return detail::recorded_dtype(in_tree->dtype, stored);
    if (const external_entry* entry = external(member)) // nested in a list
        if (const value* stub = entry->stub.load(std::memory_order_acquire))
            return detail::recorded_dtype(*stub, stored);
    return stored;
}

void archive::impl::index_stubs(const value& node) {
    for_each_stub(node, [&](const detail::item_keys<value_node>& keys) { add_stub(keys); });
}

struct archive::impl::dom_walk_step {
    const dom_walk_step* parent;
    std::string_view key; // for a dict's item
    std::size_t index;    // for a list's
    bool is_key;
};

bool archive::impl::index_dom(const detail::dom_node& node, std::uint64_t depth, bool in_stub,
                              const dom_walk_step* at) {
    // As parse_json counts: the root container is depth 1.
    if (++depth > zip.limits().max_json_depth) return false;
    const std::size_t size = node.size();
    dom_children* children = nullptr;
    if (size > scanned_children) {
        std::vector<path_segment> path;
        for (const dom_walk_step* s = at; s; s = s->parent)
            path.push_back(s->is_key ? path_segment(std::string(s->key)) : path_segment(s->index));
        std::reverse(path.begin(), path.end());
        children = &large_containers[std::move(path)];
        children->items.reserve(size);
        if (node.is_dict()) children->keys.reset(size);
    }
    bool fine = true;
    if (node.is_list()) {
        std::size_t i = 0;
        node.for_each_item([&](const detail::dom_node& child) {
            if (children) children->items.emplace_back(std::string_view{}, child);
            if (fine && (child.is_dict() || child.is_list())) {
                const dom_walk_step step{at, {}, i, false};
                fine = index_dom(child, depth, in_stub, &step);
            }
            ++i;
        });
        return fine;
    }
    // One pass over the keys: repeats (Python keeps a repeated key's last value at its first
    // place, and the value tree is built for such a DOM), what a stub needs, the index of a
    // large dict. A second over the dicts and lists below.
    detail::item_keys<detail::dom_node> keys;
    // Left uninitialized (string_views would be zeroed on every call).
    std::array<const char*, scanned_children> seen_data;
    std::array<std::size_t, scanned_children> seen_size;
    std::size_t count = 0;
    bool repeated = false;
    node.for_each_key([&](std::string_view key, const detail::dom_node& child) {
        keys.take(key, child);
        if (children) {
            const std::uint32_t h = detail::key_index::hash(key);
            if (children->keys.find(key, h, [&](std::size_t k) { return children->items[k].first; }) >= 0)
                repeated = true;
            children->keys.add(children->items.size(), h);
            children->items.emplace_back(key, child);
        } else {
            for (std::size_t i = 0; i < count; ++i)
                repeated = repeated || std::string_view(seen_data[i], seen_size[i]) == key;
            seen_data[count] = key.data();
            seen_size[count++] = key.size();
        }
    });
    if (repeated) return false;
    const bool stub = !keys.member().empty();
    if (stub && !in_stub) add_stub(keys);
    if (children) {
        children->array = detail::is_array_format(keys.format_text());
        children->stub = stub;
    }
    node.for_each_key([&](std::string_view key, const detail::dom_node& child) {
        if (!fine || !(child.is_dict() || child.is_list())) return;
        const dom_walk_step step{at, key, 0, true};
        fine = index_dom(child, depth, in_stub || stub, &step);
    });
    return fine;
}

// Whether a read of one item loads `member` as an external of that type: an array by its stub
// in the tree; a list, or a member nested in one, by externals_info (reading a list checks it).
bool archive::impl::is_item_external(std::string_view member, external_type type) const {
    if (const stub_entry* in_tree = tree_stub(member)) {
        if (detail::is_array_format(in_tree->format)) return type == external_type::npy && array_entry(in_tree);
        if (type == external_type::npy) return false; // a list's stub
    }
    return listed_as(member, type);
}

value archive::impl::parse_meta_pruned() const {
    const zip_entry& meta_entry = meta_packed.entry;
    return detail::parse_json_pruned(
        json_member_text(zip.unpack(meta_packed, detail::json_padding), meta_entry), meta_entry.name,
        [](std::size_t depth, std::string_view key) {
            return depth == 0   ? key == "externals_info"
                   : depth == 2 ? key == "item_type" || key == "path" || key == "len(data)"
                                : true;
        },
        zip.limits().max_json_depth);
}

void archive::impl::read_externals_info() const {
    if (meta_worker && !checked_behind) {
        const std::unique_ptr<detail::background_worker> worker = std::move(meta_worker);
        worker->wait();
        meta_pruned = std::move(*meta_pruned_ahead);
        meta_pruned_ahead.reset();
    } else {
        meta_pruned = parse_meta_pruned();
    }
    if (!meta_pruned.is_dict())
        throw format_error("__zanj_meta__.json is not a JSON object", {}, std::string(meta_member));
    const value* info = meta_pruned.find("externals_info");
    if (!info) return; // an archive without externals may omit it
    if (!info->is_dict())
        throw format_error("externals_info in __zanj_meta__.json is not an object", {}, std::string(meta_member));
    auto entries = std::make_unique<external_entry[]>(info->size());
    std::size_t i = 0;
    for (const auto& [member, fields] : info->as_dict()) {
        const value* type = fields.find("item_type");
        const value* path = fields.find("path");
        if (!type || !type->is_string() || !path || !path->is_list())
            throw format_error("externals_info entry of '" + member + "' lacks \"item_type\" or \"path\"", {},
                               std::string(meta_member));
        if (type->as_string() != "npy" && type->as_string() != "jsonl")
            throw format_error(
                "externals_info gives '" + member + "' the unknown item_type '" + type->as_string() + "'", {}, member);
        if (!zip.find(member))
            throw format_error("externals_info lists member '" + member + "', which the archive does not hold",
                               path_text(path->as_list()), member);
        external_entry& entry = entries[i++];
        entry.member = member;
        entry.type = type->as_string() == "npy" ? external_type::npy : external_type::jsonl;
        entry.path = &path->as_list();
        if (checked_behind && entry.type == external_type::npy)
            if (const stub_entry* stub = tree_stub(member)) stub->listed_npy = true;
        std::string crossed;
        if (const value* stub = walk(tree(), path->as_list(), 0, member, &crossed))
            check_stub_at(*stub, entry);
        else
            nested_in.emplace(crossed, member);
    }
    externals_ = std::move(entries);
    external_count_ = i;
    externals_info_ = &info->as_dict();
}

const value& archive::impl::jsonl(std::string_view member) const {
    // Items find external lists by their stub; only members externals_info lists are read.
    if (!listed_as(member, external_type::jsonl))
        throw format_error("external list '" + std::string(member) + "' is not listed in externals_info as jsonl", {},
                           std::string(member));
    std::lock_guard lock(jsonl_mutex);
    const std::string name(member);
    if (auto it = jsonl_cache.find(name); it != jsonl_cache.end()) return *it->second;
    auto parsed = std::make_unique<const value>(parse_jsonl(zip, entry_of(member), settings.threads));
    check_row_count(name, parsed->size());
    // The externals listed inside this list can be checked now. Their paths are absolute: skip
    // the steps to the list's own stub.
    const std::size_t depth = listed(name).path->size();
    auto [first, last] = nested_in.equal_range(name);
    for (auto it = first; it != last; ++it) {
        const external_entry& nested = listed(it->second);
        std::string crossed;
        if (nested.path->size() < depth + 1) continue;
        if (const value* stub = walk(*parsed, *nested.path, depth, it->second, &crossed)) check_stub_at(*stub, nested);
    }
    return *jsonl_cache.emplace(name, std::move(parsed)).first->second;
}

void archive::impl::drop_jsonl(std::string_view member) const {
    std::lock_guard lock(jsonl_mutex);
    const auto it = jsonl_cache.find(std::string(member));
    if (it == jsonl_cache.end()) return;
    // The stubs of the externals nested in it go with it; parsing it again finds them again.
    auto [first, last] = nested_in.equal_range(it->first);
    for (auto n = first; n != last; ++n)
        if (const external_entry* nested = external(n->second)) nested->stub.store(nullptr, std::memory_order_release);
    jsonl_cache.erase(it);
}

// A member cut short at a line end still passes its CRC when it was written short: the row count
// its stub and externals_info record is the only witness.
void archive::impl::check_row_count(const std::string& member, std::size_t rows) const {
    const value* recorded[2] = {nullptr, nullptr};
    if (const value* info = meta_pruned.find("externals_info"); info && info->find(member))
        recorded[0] = info->find(member)->find("len(data)");
    std::string crossed;
    if (const value* stub = walk(tree(), *listed(member).path, 0, member, &crossed))
        recorded[1] = stub->find("len(data)");
    for (const value* length : recorded) {
        if (!length || length->type() != value::kind::integer || length->as_int() < 0) continue;
        if (static_cast<std::uint64_t>(length->as_int()) != rows)
            throw format_error("member '" + member + "' holds " + std::to_string(rows) +
                                   " rows, but the archive records " + std::to_string(length->as_int()) +
                                   " (len(data)): it is truncated or inconsistent",
                               path_text(*listed(member).path), member);
    }
}

// The stub of an external, inside the external lists its path goes through (their members are read).
const value& archive::impl::stub_of(const std::string& member) const {
    const value::list_type& path = *listed(member).path;
    const value* root = &tree();
    std::size_t first = 0;
    while (true) {
        std::string crossed;
        if (const value* stub = walk(*root, path, first, member, &crossed)) return *stub;
        const external_entry* list = external(crossed);
        if (!list || list->type != external_type::jsonl || list->path->size() <= first)
            throw format_error("externals_info gives member '" + member + "' the path " + path_text(path) +
                                   ", which goes through the external '" + crossed + "'",
                               path_text(path), member);
        root = &jsonl(crossed);
        first = list->path->size();
    }
}

detail::npy_header_info archive::impl::npy_header(const zip_entry& e) const {
    // numpy's headers are short; read the start, then the rest if the length field asks for it.
    std::vector<std::byte> head(static_cast<std::size_t>(std::min<std::uint64_t>(e.uncompressed_size, 256)));
    zip.read_stored(e, 0, head);
    if (const std::optional<detail::npy_header_extent> extent = detail::npy_extent_of(head)) {
        // A header over the limit is refused from its length field alone.
        const std::size_t wanted = extent->length > zip.limits().max_npy_header_size ? 0 : extent->length;
        const std::size_t total = std::min<std::uint64_t>(e.uncompressed_size, extent->prefix + wanted);
        if (total > head.size()) {
            head.resize(total);
            zip.read_stored(e, 0, head);
        }
    }
    detail::npy_header_info info = detail::npy_parse_header(head, e.name, zip.limits().max_npy_header_size);
    detail::npy_check_size(info, e.uncompressed_size, e.name);
    info.type = recorded_dtype(e.name, info.type);
    return info;
}

namespace {
// Stored members up to this size are read whole in one call, local header, NPY header and data
// together (zip_reader::read_small): for archives of many small arrays the calls, not the
// bytes, are the cost.
constexpr std::uint64_t small_member = detail::zip_reader::small_member_size;

// The NPY header at the start of a member's bytes (all of them, or at least the header's).
detail::npy_header_info parse_npy_header(std::span<const std::byte> bytes, const zip_entry& e,
                                         const read_limits& limits) {
    detail::npy_header_info info = detail::npy_parse_header(bytes, e.name, limits.max_npy_header_size);
    detail::npy_check_size(info, e.uncompressed_size, e.name);
    return info;
}

// The NPY header at the start of a member being read as a stream: its first bytes, then as many
// as its length field gives. Empty when the member is too short for one, is no NPY data, or the
// length is over the limit: a whole read then says what is wrong.
std::vector<std::byte> npy_header_bytes(detail::zip_reader::member_stream& in, const read_limits& limits) {
    std::vector<std::byte> head(
        static_cast<std::size_t>(std::min<std::uint64_t>(in.remaining(), detail::npy_prefix_max)));
    in.read(head);
    const std::optional<detail::npy_header_extent> extent = detail::npy_extent_of(head);
    if (!extent || extent->length > limits.max_npy_header_size) return {};
    const std::size_t end = extent->prefix + extent->length;
    if (end < head.size() || end - head.size() > in.remaining()) return {};
    const std::size_t start = head.size();
    head.resize(end);
    in.read(std::span(head).subspan(start));
    return head;
}
} // namespace

ndarray archive::impl::npy(std::string_view member, const read_options& options) const {
    const zip_entry& e = entry_of(member);
    const unsigned threads = settings.threads;
    if (e.method == compression_method::store) {
        if (options.access == access::view) {
            detail::mapped_member m = zip.map(e);
            if (m.owner) {
                // The header through a read, not the mapping: touching a mapped page costs a page
                // fault, dearer than a small pread (on virtual machines by far).
                detail::npy_header_info h = npy_header(e);
                std::byte* data = m.bytes.data() + h.data_offset;
                if (is_plain(h) && reinterpret_cast<std::uintptr_t>(data) % dtype_size(h.type) == 0) {
                    if (options.verify && detail::crc32(0, m.bytes) != e.crc32)
                        throw format_error("CRC-32 mismatch in member '" + e.name + "' (" + zip.path().string() +
                                           "): the archive is corrupt");
                    return ndarray(h.type, std::move(h.shape), std::move(m.owner), data);
                }
            }
        }
        if (e.uncompressed_size <= small_member) {
            const auto size = static_cast<std::size_t>(e.uncompressed_size);
            std::shared_ptr<std::byte> storage = detail::allocate_aligned(size);
            if (size) std::memcpy(storage.get(), zip.read_small(e).data(), size);
            detail::npy_header_info h = parse_npy_header({storage.get(), size}, e, zip.limits());
            if (is_plain(h)) {
                h.type = recorded_dtype(e.name, h.type);
                std::byte* data = storage.get() + h.data_offset;
                if (reinterpret_cast<std::uintptr_t>(data) % dtype_size(h.type) == 0)
                    return ndarray(h.type, std::move(h.shape), std::move(storage), data);
            }
        } else if (detail::npy_header_info h = npy_header(e); is_plain(h)) {
            const std::size_t nbytes = static_cast<std::size_t>(e.uncompressed_size) - h.data_offset;
            std::shared_ptr<std::byte> storage = detail::allocate_aligned(nbytes);
            std::vector<std::byte> header(h.data_offset);
            zip.read_into(e, header, {storage.get(), nbytes}, threads);
            std::byte* data = storage.get();
            return ndarray(h.type, std::move(h.shape), std::move(storage), data);
        }
    }
    ndarray a = detail::npy_decode(zip.read(e), static_cast<std::size_t>(e.uncompressed_size), e.name,
                                   zip.limits().max_npy_header_size);
    const dtype recorded = recorded_dtype(member, a.type());
    return recorded == a.type() ? a : a.view_as(recorded);
}

namespace {
// The room `place` gives member e's array of `nbytes`: exactly that, or the placer is wrong.
std::span<std::byte> room_for(const zip_entry& e, const array_placer& place, dtype type, const shape_type& shape,
                              std::size_t nbytes) {
    std::span<std::byte> out = place(type, shape);
    if (out.size() != nbytes)
        throw usage_error("room for " + std::to_string(out.size()) + " bytes given for member '" + e.name +
                          "', whose array has " + std::to_string(nbytes));
    return out;
}

void fill(const zip_entry& e, const array_placer& place, dtype type, const shape_type& shape,
          std::span<const std::byte> bytes) {
    std::span<std::byte> out = room_for(e, place, type, shape, bytes.size());
    if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size());
}
} // namespace

void archive::impl::place_copy(const zip_entry& e, const ndarray& a, const array_placer& place) {
    fill(e, place, a.type(), a.shape(), a.byte_span());
}

void archive::impl::npy_into(const zip_entry& e, const stub_entry* stub, const array_placer& place) const {
    auto recorded = [&](dtype stored) {
        return stub ? detail::recorded_dtype(stub->dtype, stored) : recorded_dtype(e.name, stored);
    };
    if (e.method == compression_method::store && e.uncompressed_size <= small_member) {
        const std::span<const std::byte> bytes = zip.read_small(e);
        detail::npy_header_info h = parse_npy_header(bytes, e, zip.limits());
        if (is_plain(h)) {
            h.type = recorded(h.type);
            fill(e, place, h.type, h.shape, bytes.subspan(h.data_offset));
            return;
        }
    } else if (e.method == compression_method::store) {
        detail::npy_header_info h = npy_header(e);
        if (is_plain(h)) {
            std::span<std::byte> out =
                room_for(e, place, h.type, h.shape, static_cast<std::size_t>(e.uncompressed_size) - h.data_offset);
            std::vector<std::byte> header(h.data_offset);
            zip.read_into(e, header, out, settings.threads);
            return;
        }
    } else {
        // The header first, then the data decompressed straight into its place: (d)'s two
        // 16 MB zstd arrays were decompressed into buffers of their own and copied.
        detail::zip_reader::member_stream in(zip, e);
        if (const std::vector<std::byte> head = npy_header_bytes(in, zip.limits()); !head.empty()) {
            detail::npy_header_info h = parse_npy_header(head, e, zip.limits());
            if (is_plain(h)) {
                h.type = recorded(h.type);
                in.read(room_for(e, place, h.type, h.shape, static_cast<std::size_t>(in.remaining())));
                in.finish();
                return;
            }
        }
    }
    place_copy(e, npy(e.name, {}), place);
}

std::string archive::impl::stub_path(std::string_view member) const {
    object_path at;
    auto find = [&](auto& self, const value& node) -> bool {
        if (node.is_list()) {
            for (std::size_t i = 0; i < node.size(); ++i) {
                at.push(i);
                if (self(self, node.as_list()[i])) return true;
                at.pop();
            }
        } else if (node.is_dict()) {
            if (stub_member(node) == member) return true;
            for (const auto& [key, child] : node.as_dict()) {
                at.push(key);
                if (self(self, child)) return true;
                at.pop();
            }
        }
        return false;
    };
    return find(find, tree()) ? at.str() : std::string{};
}

template <class Node>
item_info archive::impl::describe(const Node& node, object_path path) const {
    item_info info;
    info.path = std::move(path);
    switch (node.type()) {
    case value::kind::null: info.kind = item_kind::null; return info;
    case value::kind::boolean: info.kind = item_kind::boolean; return info;
    case value::kind::integer:
    case value::kind::unsigned_integer: info.kind = item_kind::integer; return info;
    case value::kind::floating: info.kind = item_kind::floating; return info;
    case value::kind::string: info.kind = item_kind::string; return info;
    case value::kind::list:
        info.kind = item_kind::list;
        info.length = node.size();
        return info;
    case value::kind::set:
        info.kind = item_kind::object;
        info.length = node.size();
        return info;
    case value::kind::array:
        if constexpr (std::is_same_v<Node, value_node>) {
            info.kind = item_kind::array;
            const ndarray& a = node.get().as_array();
            info.array = array_info{a.type(), a.shape(), {}, "ndarray", compression_method::store, 0, 0};
        }
        return info;
    case value::kind::dict: break;
    }
    const detail::item_keys<Node> keys(node);
    info.format = std::string(keys.format_text());
    info.length = node.size();
    // From the stub and the zip directory alone (externals_info is read by the first load): a
    // stub's member exists, and a non-array one holds a list.
    const std::string_view member = keys.member();
    const zip_entry* entry = member.empty() ? nullptr : zip.find(member);
    if (entry) info.member = member;
    if (info.format.empty()) {
        info.kind = item_kind::dict;
    } else if (auto header = detail::array_header_of(keys)) {
        info.kind = item_kind::array;
        array_info a;
        a.dtype = header->type;
        a.shape = std::move(header->shape);
        a.mode = info.format.substr(info.format.find(':') + 1);
        if (entry) {
            a.member = member;
            a.method = entry->method;
            a.compressed_size = entry->compressed_size;
            a.uncompressed_size = entry->uncompressed_size;
        }
        info.array = std::move(a);
    } else if (info.member.ends_with(".jsonl")) {
        info.kind = item_kind::external_list;
        // A length that is no count is left out of the listing; a read checks the rows anyway.
        info.length = 0;
        if (keys.length && keys.length->is_integer()) {
            try {
                info.length = static_cast<std::size_t>(keys.length->as_uint());
            } catch (const type_error&) { // negative
            }
        }
    } else {
        info.kind = item_kind::object;
    }
    return info;
}

template <class Node>
void archive::impl::list_items(const Node& node, object_path& path, std::vector<item_info>& out) const {
    out.push_back(describe(node, path));
    const item_kind kind = out.back().kind;
    // Arrays' and external lists' keys are their metadata, not items.
    if (kind == item_kind::array || kind == item_kind::external_list) return;
    if (node.is_list()) {
        std::size_t i = 0;
        node.for_each_item([&](const Node& child) {
            path.push(i++);
            list_items(child, path, out);
            path.pop();
        });
    } else if (node.is_dict()) {
        node.for_each_key([&](std::string_view key, const Node& child) {
            if (key == format_key) return;
            path.push(key);
            list_items(child, path, out);
            path.pop();
        });
    }
}

value archive::impl::filtered(const value& node, object_path& path,
                              const std::function<bool(const item_info&)>& keep) const {
    item_info info = describe(value_node(node), path);
    if (!keep(info)) {
        value::dict_type placeholder;
        placeholder.insert_or_assign(format_key, std::string(not_loaded_format));
        placeholder.insert_or_assign("path", path.str());
        if (!info.format.empty()) placeholder.insert_or_assign("format", info.format);
        for (std::string_view key : {ref_key, std::string_view("shape"), std::string_view("dtype")})
            if (const value* v = node.is_dict() ? node.find(key) : nullptr) placeholder.insert_or_assign(key, *v);
        return value(std::move(placeholder));
    }
    if (info.kind == item_kind::array) return node;
    if (info.kind == item_kind::external_list) {
        value out = node;
        value data = jsonl(info.member);
        for (std::size_t i = 0; i < data.size(); ++i) {
            path.push(i);
            data.as_list()[i] = filtered(data.as_list()[i], path, keep);
            path.pop();
        }
        out.as_dict().insert_or_assign("data", std::move(data));
        return out;
    }
    if (node.is_list()) {
        value::list_type items;
        items.reserve(node.size());
        for (std::size_t i = 0; i < node.size(); ++i) {
            path.push(i);
            items.push_back(filtered(node.as_list()[i], path, keep));
            path.pop();
        }
        return value(std::move(items));
    }
    if (node.is_dict()) {
        value::dict_type dict;
        for (const auto& [key, child] : node.as_dict()) {
            if (key == format_key) {
                dict.insert_or_assign(key, child);
                continue;
            }
            path.push(key);
            dict.insert_or_assign(key, filtered(child, path, keep));
            path.pop();
        }
        return value(std::move(dict));
    }
    return node;
}

// What a loader reads external members through, with the options of one read.
struct archive::source final : detail::external_source {
    const impl& archive;
    read_options options;
    // A read of the whole tree goes by externals_info, checked against the tree first, as
    // Python's reader does; a read of one item or sub-tree goes by its arrays' stubs and the zip
    // directory, so that it costs no more than the item.
    bool whole;
    // A whole read whose check of externals_info runs behind it (impl::checked_behind) loads
    // the arrays of the tree's stubs meanwhile, and at its end (finish) requires each of them
    // to have been listed, as they would have had to be to load.
    bool behind;
    mutable std::vector<const impl::stub_entry*> loaded_unchecked;
    // The array has_npy found last, which npy_into then reads without looking it up again.
    mutable const impl::stub_entry* found_stub = nullptr;
    mutable const zip_entry* found_entry = nullptr;

    // A whole read takes its small members in the file's order: through windows of it.
    std::optional<zip_reader::read_ahead> ahead;
    // The compressed arrays of the node a read loads are decompressed on worker threads ahead
    // of it: by member name, the item each is there. Declared last, so that its workers stop
    // first.
    std::unordered_map<std::string_view, std::size_t> decoded_item;
    std::unique_ptr<detail::decode_ahead> decoded;

    source(const impl& a, read_options o, bool whole_tree, const value* loaded)
        : archive(a), options(o), whole(whole_tree), behind(whole_tree && a.checked_behind) {
        if (whole && !behind) archive.externals();
        if (whole) ahead.emplace(archive.zip);
        if (loaded) decode_ahead_of(*loaded);
    }

    // The arrays being decoded ahead, or decoded and not yet taken, hold at most 64 MiB, or
    // room for two arrays more than there are workers when that is more, up to 1 GiB (and one
    // array always). With room for one 64 MiB array, the read waited on the worker for each.
    static constexpr std::uint64_t decode_ahead_budget = std::uint64_t{64} << 20;
    static constexpr std::uint64_t decode_ahead_budget_cap = std::uint64_t{1} << 30;
    static constexpr std::uint64_t decode_ahead_minimum = std::uint64_t{1} << 20;
    static std::uint64_t decode_ahead_room(unsigned workers, std::uint64_t largest) {
        const std::uint64_t arrays = std::uint64_t{workers} + 2;
        const std::uint64_t room =
            largest > decode_ahead_budget_cap / arrays ? decode_ahead_budget_cap : arrays * largest;
        return std::max(decode_ahead_budget, room);
    }

    void decode_ahead_of(const value& node) {
        const unsigned threads = detail::resolve_threads(archive.settings.threads);
        if (threads <= 1 || !archive.any_compressed_array) return;
        std::vector<const zip_entry*> entries;
        auto add = [&](std::string_view member) {
            const zip_entry* e = archive.zip.find(member);
            // Keyed by the entry's name: the node may go before the read ends (read_filter's).
            if (e && e->method != compression_method::store && decoded_item.emplace(e->name, entries.size()).second)
                entries.push_back(e);
        };
        // The root's stubs are indexed already, in the order of the tree.
        if (&node == &archive.tree_) {
            for (const impl::stub_entry& stub : archive.tree_stubs)
                if (detail::is_array_format(stub.format)) add(stub.member);
        } else {
            archive.for_each_stub(node, [&](const detail::item_keys<value_node>& keys) {
                if (detail::is_array_format(keys.format_text())) add(keys.member());
            });
        }
        std::vector<std::uint64_t> sizes;
        std::uint64_t total = 0, largest = 0;
        for (const zip_entry* e : entries) {
            total += sizes.emplace_back(e->uncompressed_size);
            largest = std::max(largest, e->uncompressed_size);
        }
        // One array alone has nothing to overlap with, and starting a thread costs about what
        // decompressing 1 MiB does.
        if (entries.size() < 2 || total < decode_ahead_minimum) {
            decoded_item.clear();
            return;
        }
        // The reader decodes the first array itself: no more workers than the others.
        const auto workers = static_cast<unsigned>(std::min<std::size_t>(threads - 1, entries.size() - 1));
        decoded = std::make_unique<detail::decode_ahead>(
            std::move(sizes),
            [&a = archive, entries = std::move(entries)](std::size_t i) { return a.npy(entries[i]->name, {}); },
            workers, decode_ahead_room(workers, largest));
    }
    // `member`'s array as a worker decoded it, or nullopt: then the caller decodes it.
    std::optional<ndarray> take_decoded(std::string_view member) const {
        if (!decoded) return std::nullopt;
        const auto it = decoded_item.find(member);
        return it == decoded_item.end() ? std::nullopt : decoded->take(it->second);
    }

    bool has(std::string_view member, external_type type) const {
        if (behind && type == external_type::npy) {
            const impl::stub_entry* stub = archive.tree_stub(member);
            if (const zip_entry* entry = archive.array_entry(stub)) {
                loaded_unchecked.push_back(stub);
                found_stub = stub;
                found_entry = entry;
                return true;
            }
        }
        return whole ? archive.listed_as(member, type) : archive.is_item_external(member, type);
    }
    bool has_jsonl(std::string_view member) const override { return has(member, external_type::jsonl); }
    bool has_npy(std::string_view member) const override { return has(member, external_type::npy); }
    const value& jsonl(std::string_view member) const override { return archive.jsonl(member); }
    void release_jsonl(std::string_view member) const override {
        if (whole && archive.whole_read_only) archive.drop_jsonl(member);
    }
    ndarray npy(std::string_view member) const override {
        if (std::optional<ndarray> a = take_decoded(member)) return std::move(*a);
        return archive.npy(member, options);
    }
    // The caller's storage is a copy whatever the access, and copies are checked.
    void npy_into(std::string_view member, const array_placer& place) const override {
        const bool found = found_stub && found_stub->member == member;
        const zip_entry& e = found ? *found_entry : archive.entry_of(member);
        if (std::optional<ndarray> a = take_decoded(member)) return impl::place_copy(e, *a, place);
        archive.npy_into(e, found ? found_stub : nullptr, place);
    }
    void finish() const override {
        if (!behind) return;
        archive.externals(); // waits for the check, and throws what it found
        for (const impl::stub_entry* stub : loaded_unchecked)
            if (!stub->listed_npy)
                throw format_error("external array '" + std::string(stub->member) +
                                       "' was not loaded (missing from externals_info?)",
                                   archive.stub_path(stub->member), std::string(stub->member));
    }
};

namespace {
constexpr std::string_view in_memory_name = "<archive in memory>";
} // namespace

// Reads what every archive needs before its first read: the tree, and the meta as stored.
std::unique_ptr<archive::impl> archive::impl::open_members(zip_reader zip, config settings,
                                                           std::shared_ptr<const loader_registry> registry,
                                                           bool whole_read) {
    auto a = std::make_unique<impl>(std::move(zip));
    a->settings = std::move(settings);
    for (const zip_entry& e : a->zip.entries())
        if (e.method != compression_method::store && e.name.ends_with(".npy")) a->any_compressed_array = true;
    a->registry = registry ? std::move(registry) : std::make_shared<const loader_registry>();
    const zip_entry& tree_entry = require_member(a->zip, tree_member);
    const zip_entry& meta_entry = require_member(a->zip, meta_member);
    // Read now (an update in place may rewrite it later), parsed when first needed.
    a->meta_packed = a->zip.read_packed(meta_entry);
    // Below this a thread costs about what it saves.
    constexpr std::uint64_t parse_ahead_size = std::uint64_t{256} << 10;
    const bool worth_a_thread = whole_read && meta_entry.uncompressed_size >= parse_ahead_size &&
                                detail::resolve_threads(a->settings.threads) > 1;
    // Under error_mode ignore an untyped read keeps the stub of an array externals_info does not
    // list: such a read must know the list before it loads anything.
    const bool check_behind = worth_a_thread && a->settings.error_mode == error_mode::except;
    if (worth_a_thread && !check_behind) {
        a->meta_worker = std::make_unique<detail::background_worker>();
        a->meta_worker->run([&ahead = a->meta_pruned_ahead, &opened = *a] { ahead = opened.parse_meta_pruned(); });
    }
    if (whole_read) {
        a->whole_read_only = true;
        a->tree_ = parse_member(a->zip, tree_entry);
        a->reserve_stubs();
        a->index_stubs(a->tree_);
        if (check_behind) {
            a->checked_behind = true;
            a->meta_worker = std::make_unique<detail::background_worker>();
            // externals() keeps a failure, and the read's own call (source::finish) throws it.
            a->meta_worker->run([&opened = *a] { opened.externals(); });
        }
    } else {
        a->open_tree(tree_entry);
    }
    return a;
}

void archive::impl::open_tree(const zip_entry& e) {
    const std::shared_ptr<std::byte> text = zip.read(e, detail::json_padding);
    const detail::padded_json json = json_member_text(text, e);
    dom = detail::json_dom::parse(json);
    reserve_stubs();
    if (dom) {
        const detail::dom_node root(dom->root());
        if (!(root.is_dict() || root.is_list()) || index_dom(root, 0, false, nullptr)) return;
    }
    dom.reset();
    large_containers.clear();
    tree_stubs.clear();
    reserve_stubs();
    tree_ = detail::parse_json(json, e.name, false, zip.limits().max_json_depth);
    index_stubs(tree_);
}

archive::archive(std::unique_ptr<impl> opened) : impl_(std::move(opened)) {}

std::unique_ptr<archive::impl> archive::impl::open_file(const std::filesystem::path& file, config settings,
                                                        std::shared_ptr<const loader_registry> registry,
                                                        bool whole_read) {
    // Never read an archive half-way through an update in place (zanj::editor).
    detail::read_guard guard(file);
    return open_members(zip_reader(file, settings.limits), settings, std::move(registry), whole_read);
}

archive::archive(const std::filesystem::path& file, config settings, std::shared_ptr<const loader_registry> registry)
    : impl_(impl::open_file(file, std::move(settings), std::move(registry), false)) {}

archive archive::open_for_whole_read(const std::filesystem::path& file, config settings,
                                     std::shared_ptr<const loader_registry> registry) {
    return archive(impl::open_file(file, std::move(settings), std::move(registry), true));
}

archive archive::from_bytes(std::span<const std::byte> bytes, config settings,
                            std::shared_ptr<const loader_registry> registry) {
    zip_reader zip(bytes, nullptr, std::string(in_memory_name), settings.limits);
    return archive(impl::open_members(std::move(zip), settings, std::move(registry), false));
}

archive archive::from_bytes(std::vector<std::byte>&& bytes, config settings,
                            std::shared_ptr<const loader_registry> registry) {
    auto owned = std::make_shared<const std::vector<std::byte>>(std::move(bytes));
    zip_reader zip(std::span<const std::byte>(*owned), owned, std::string(in_memory_name), settings.limits);
    return archive(impl::open_members(std::move(zip), settings, std::move(registry), false));
}

archive archive::from_stream(std::istream& in, config settings, std::shared_ptr<const loader_registry> registry) {
    std::vector<std::byte> bytes;
    constexpr std::size_t piece = std::size_t{1} << 20;
    while (in) {
        const std::size_t had = bytes.size();
        bytes.resize(had + piece);
        in.read(reinterpret_cast<char*>(bytes.data() + had), static_cast<std::streamsize>(piece));
        bytes.resize(had + static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad())
        throw io_error("cannot read an archive from the stream: it failed after " + std::to_string(bytes.size()) +
                       " bytes");
    return from_bytes(std::move(bytes), std::move(settings), std::move(registry));
}

archive::~archive() = default;
archive::archive(archive&&) noexcept = default;
archive& archive::operator=(archive&&) noexcept = default;

const std::filesystem::path& archive::path() const noexcept { return impl_->zip.path(); }
const value& archive::meta() const {
    impl& a = *impl_;
    std::call_once(a.meta_once, [&a] {
        const zip_entry& e = a.meta_packed.entry;
        a.meta = detail::parse_json(json_member_text(a.zip.unpack(a.meta_packed, detail::json_padding), e), e.name,
                                    false, a.zip.limits().max_json_depth);
    });
    return a.meta;
}
const value& archive::tree() const { return impl_->tree(); }
const config& archive::settings() const noexcept { return impl_->settings; }
const loader_registry* archive::registry() const noexcept { return impl_->registry.get(); }

std::unique_ptr<detail::external_source> archive::make_source(read_options options, bool whole_tree,
                                                              const value* loaded) const {
    return std::make_unique<source>(*impl_, options, whole_tree, loaded);
}

const std::vector<item_info>& archive::items() const {
    std::call_once(impl_->items_once, [&] {
        object_path root;
        impl_->item_list.reserve(impl_->tree_stubs.size() + 1); // every stub is an item
        try {
            if (impl_->dom)
                impl_->list_items(detail::dom_node(impl_->dom->root()), root, impl_->item_list);
            else
                impl_->list_items(value_node(impl_->tree_), root, impl_->item_list);
        } catch (...) {
            impl_->item_list.clear(); // call_once runs again at the next call: from the start
            throw;
        }
    });
    return impl_->item_list;
}

// The node at `steps` in the DOM, or nothing when the walk would step into a stub (an external
// list's items or an array's keys): the value tree, and the list's member, go on from there.
std::optional<detail::dom_node> archive::impl::dom_node_at(const std::vector<std::string_view>& steps,
                                                           std::string_view path, object_path& where) const {
    detail::dom_node cur(dom->root());
    for (std::string_view step : steps) {
        std::optional<detail::dom_node> next;
        if (cur.size() <= scanned_children) {
            if (!stub_member(cur).empty()) return std::nullopt;
            next = item_child(cur, step);
        } else if (const dom_children& children = large_containers.at(where.segments()); children.stub) {
            return std::nullopt;
        } else if (!children.array) {
            std::ptrdiff_t at = -1;
            if (cur.is_dict()) {
                at = children.keys.find(step, detail::key_index::hash(step),
                                        [&](std::size_t i) { return children.items[i].first; });
            } else if (const auto index = parse_index(step); index && *index < children.items.size()) {
                at = static_cast<std::ptrdiff_t>(*index);
            }
            if (at >= 0) next = children.items[static_cast<std::size_t>(at)].second;
        }
        if (!next) throw_no_item(cur, step, path, where);
        push_step(where, cur.is_dict(), step);
        cur = *next;
    }
    return cur;
}

const value& archive::impl::value_node_at(const std::vector<std::string_view>& steps, std::string_view path,
                                          object_path& where) const {
    const value* cur = &tree();
    for (std::string_view step : steps) {
        if (std::string_view list = stub_member(*cur); !list.empty() && listed_as(list, external_type::jsonl))
            cur = &jsonl(list);
        const std::optional<value_node> next = item_child(value_node(*cur), step);
        if (!next) throw_no_item(value_node(*cur), step, path, where);
        push_step(where, cur->is_dict(), step);
        cur = &next->get();
    }
    return *cur;
}

// A read of an item below the root builds the values of that item alone, in `built`, while
// the tree is not built.
const value& archive::impl::node_at(const std::vector<std::string_view>& steps, std::string_view path,
                                    object_path& where, std::optional<value>& built) const {
    if (dom && !steps.empty() && !tree_built.load(std::memory_order_acquire)) {
        if (const std::optional<detail::dom_node> node = dom_node_at(steps, path, where))
            return built.emplace(node->to_value());
        where = object_path();
    }
    return value_node_at(steps, path, where);
}

const value& archive::node_at(std::string_view path, object_path& where, std::optional<value>& built) const {
    return impl_->node_at(path_steps(path), path, where, built);
}

std::optional<item_info> archive::impl::find(const std::vector<std::string_view>& steps, std::string_view path) const {
    object_path where;
    try {
        if (dom) {
            if (const std::optional<detail::dom_node> node = dom_node_at(steps, path, where))
                return describe(*node, std::move(where));
            where = object_path();
        }
        return describe(value_node(value_node_at(steps, path, where)), where);
    } catch (const usage_error&) {
        return std::nullopt;
    }
}

std::optional<item_info> archive::find(std::string_view path) const { return impl_->find(path_steps(path), path); }

std::optional<item_info> archive::find(const object_path& path) const {
    // Step by step: a key may hold a slash.
    std::vector<std::string> texts;
    texts.reserve(path.size());
    for (const auto& s : path.segments()) texts.push_back(step_text(s));
    return impl_->find(std::vector<std::string_view>(texts.begin(), texts.end()), path.str());
}

value archive::read(std::string_view path, read_options options) const {
    object_path where;
    std::optional<value> built;
    const value& node = node_at(path, where, built);
    auto externals = make_source(options, where.empty(), &node);
    loader l(impl_->settings, impl_->registry.get(), externals.get(), std::move(where));
    value loaded = impl_->registry->rebuild(node, l);
    externals->finish();
    return loaded;
}

value archive::read_filter(const std::function<bool(const item_info&)>& keep, read_options options) const {
    object_path root;
    value tree = impl_->filtered(impl_->tree(), root, keep);
    auto externals = make_source(options, true, &tree);
    loader l(impl_->settings, impl_->registry.get(), externals.get());
    return impl_->registry->rebuild(std::move(tree), l);
}

ndarray archive::array(std::string_view path, read_options options) const {
    object_path where;
    std::optional<value> built;
    const value& node = node_at(path, where, built);
    auto externals = make_source(options, false, nullptr);
    loader l(impl_->settings, impl_->registry.get(), externals.get(), std::move(where));
    return l.array(node);
}

ndarray archive::rows(std::string_view path, std::size_t begin, std::size_t end, read_options options) const {
    object_path where;
    std::optional<value> built;
    const value& node = node_at(path, where, built);
    const std::string member(stub_member(node));
    const bool npy_member = !member.empty() && impl_->is_item_external(member, external_type::npy);
    if (npy_member && impl_->entry_of(member).method == compression_method::store) {
        const zip_entry& e = impl_->entry_of(member);
        try {
            detail::npy_header_info h = impl_->npy_header(e);
            if (is_plain(h) && !h.shape.empty()) {
                if (begin > end || end > h.shape[0])
                    throw usage_error("rows " + std::to_string(begin) + " to " + std::to_string(end) +
                                      " are outside an array of shape " + shape_string(h.shape));
                const std::size_t nbytes = detail::npy_check_size(h, e.uncompressed_size, e.name);
                const std::size_t row_bytes = h.shape[0] ? nbytes / h.shape[0] : 0;
                const std::size_t offset = h.data_offset + begin * row_bytes;
                const std::size_t length = (end - begin) * row_bytes;
                shape_type shape = std::move(h.shape);
                shape[0] = end - begin;
                if (options.access == access::view) {
                    if (options.verify) impl_->zip.verify(e, impl_->settings.threads);
                    detail::mapped_member m = impl_->zip.map(e);
                    std::byte* data = m.bytes.data() + offset;
                    if (m.owner && reinterpret_cast<std::uintptr_t>(data) % dtype_size(h.type) == 0)
                        return ndarray(h.type, std::move(shape), std::move(m.owner), data);
                }
                std::shared_ptr<std::byte> storage = detail::allocate_aligned(length);
                impl_->zip.read_stored(e, offset, {storage.get(), length});
                std::byte* data = storage.get();
                return ndarray(h.type, std::move(shape), std::move(storage), data);
            }
        } catch (const error& failure) {
            detail::rethrow_at(failure, where.str(), member);
        }
    }
    try {
        return array(path, options).rows(begin, end);
    } catch (const usage_error& failure) {
        detail::rethrow_at(failure, where.str(), member);
    }
}

void archive::verify() const {
    const impl& a = *impl_;
    a.zip.check_local_headers();
    for (const zip_entry& e : a.zip.entries()) a.zip.verify(e, a.settings.threads);
    for (const external_entry& external : a.externals()) {
        const std::string member(external.member);
        if (external.type == external_type::jsonl) {
            a.jsonl(member);
            continue;
        }
        const value& stub = a.stub_of(member);
        const zip_entry& e = a.entry_of(member);
        if (e.method == compression_method::store) { // checked above: its header is enough
            const detail::npy_header_info h = a.npy_header(e);
            detail::check_stub(stub, h.type, h.shape, member);
        } else {
            ndarray array = a.npy(member, {});
            detail::check_stub(stub, array.type(), array.shape(), member);
        }
    }
}

} // namespace zanj
