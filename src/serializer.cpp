#include <zanj/serializer.hpp>

#include <zanj/detail/array_codec.hpp>
#include <zanj/detail/json_io.hpp>
#include <zanj/detail/object_ref.hpp>
#include <zanj/types/value.hpp>

#include <iostream>
#include <set>
#include <unordered_map>

namespace zanj {

// Member names handed out so far, to enforce Python's rules: no two externals share a name,
// and no external's path is a "/"-prefix of another's.
struct serializer::member_names {
    std::set<std::string, std::less<>> stems;
};

// Where each object reached through a pointer was first written.
struct serializer::object_table {
    struct key_hash {
        std::size_t operator()(const detail::object_identity& id) const noexcept {
            return std::hash<const void*>{}(id.address) ^ (id.type.hash_code() * 31);
        }
    };
    struct key_equal {
        bool operator()(const detail::object_identity& a, const detail::object_identity& b) const noexcept {
            return a.address == b.address && a.type == b.type;
        }
    };
    struct entry {
        object_path path;
        bool written = false;
        bool unique = false;
    };
    std::unordered_map<detail::object_identity, entry, key_hash, key_equal> objects;
};

serializer::serializer(const config& settings, detail::external_sink* sink, const marshaler_registry* marshalers)
    : settings_(settings), sink_(sink), marshalers_(marshalers && !marshalers->empty() ? marshalers : nullptr),
      members_(std::make_unique<member_names>()) {}

serializer::~serializer() = default;

void serializer::start_at(object_path at, std::span<const std::string> taken) {
    path_ = std::move(at);
    for (const std::string& member : taken) {
        const auto slash = member.rfind('/');
        const auto dot = member.rfind('.');
        members_->stems.insert(
            dot != std::string::npos && (slash == std::string::npos || dot > slash) ? member.substr(0, dot) : member);
    }
}

namespace {
value ref_item(const object_path& target) {
    value::dict_type ref;
    ref.insert_or_assign(format_key, object_ref_format);
    ref.insert_or_assign(same_as_key, detail::json_pointer(target));
    return ref;
}
} // namespace

std::optional<value> serializer::owned_seen(const detail::object_identity& id, bool unique) {
    if (!objects_) objects_ = std::make_unique<object_table>();
    auto [it, inserted] = objects_->objects.try_emplace(id);
    auto& entry = it->second;
    if (inserted) {
        entry.path = path_;
        entry.unique = unique;
        return std::nullopt;
    }
    const char* owner = unique ? "unique_ptr" : "shared_ptr";
    if (!entry.written)
        throw usage_error(std::string("a cycle through ") + owner + ": " + path_.str() + " is " + entry.path.str() +
                              " again (break it with a weak_ptr or a raw pointer)",
                          path_.str());
    if (unique || entry.unique)
        throw usage_error("the " + detail::type_name(id.type) + " at " + path_.str() +
                              " is the object already saved at " + entry.path.str() +
                              ", and a unique_ptr owns one of them: a unique_ptr's object cannot "
                              "have a second owner",
                          path_.str());
    return ref_item(entry.path);
}

void serializer::owned_done(const detail::object_identity& id, bool written) noexcept {
    auto it = objects_->objects.find(id);
    if (it == objects_->objects.end()) return;
    if (written)
        it->second.written = true;
    else
        objects_->objects.erase(it);
}

value serializer::serialize_reference(const detail::object_identity& id, std::string_view what) {
    const object_table::entry* entry = nullptr;
    if (objects_)
        if (auto it = objects_->objects.find(id); it != objects_->objects.end()) entry = &it->second;
    if (!entry)
        throw usage_error("the " + std::string(what) + " points to a " + detail::type_name(id.type) +
                              " that no shared_ptr or unique_ptr saved before it: it is saved as a reference to "
                              "that place, so the owner must come first in the save",
                          path_.str());
    return ref_item(entry->path);
}

void serializer::fail(const std::string& why) const { throw type_error(why, path_.str()); }

value serializer::fallback(const error& e) {
    if (settings_.error_mode == error_mode::warn) {
        std::string message = std::string("zanj: warning: ") + e.what() + "; written as a string instead";
        if (settings_.warning_sink)
            settings_.warning_sink(message);
        else
            std::cerr << message << '\n';
    }
    return value("<zanj: not serialized: " + e.reason() + ">");
}

value serializer::marshal(const detail::marshaler_entry& m, const void* obj) {
    value out = m.serialize(obj, *this);
    if (!out.is_dict() || out.contains(format_key)) return out;
    // The format key first, as every item has it.
    value::dict_type stamped;
    stamped.insert_or_assign(format_key, m.format);
    for (auto& [k, v] : out.as_dict()) stamped.insert_or_assign(k, std::move(v));
    return stamped;
}

void serializer::no_marshaler(std::type_index type) const {
    throw usage_error("no run-time marshaler saves this " + detail::type_name(type) +
                          " (declared ZANJ_RUNTIME_MARSHALED): register one with add_marshaler, whose predicate, "
                          "if any, accepts this object",
                      path_.str());
}

value serializer::write_string(std::string_view s) {
    if (!detail::is_valid_utf8(s)) fail("string is not valid UTF-8; JSON and Python need UTF-8 text");
    return value(s);
}

std::string serializer::claim_member(std::string_view extension) {
    std::string stem = path_.joined();
    for (const auto& segment : path_.segments()) {
        if (const auto* key = std::get_if<std::string>(&segment)) {
            // These would make member names that escape the archive folder or that zip tools refuse.
            if (*key == ".." || *key == "." || key->find('\0') != std::string::npos ||
                key->find('\\') != std::string::npos)
                fail("the key '" + *key + "' cannot be part of an external member name");
        }
    }
    if (!stem.empty() && stem.front() == '/') fail("an external member name cannot start with '/'");
    auto& stems = members_->stems;
    if (stems.contains(stem))
        throw usage_error("two externals would share the member name '" + stem + "." + std::string(extension) + "'",
                          path_.str());
    // Is an existing stem below this one, or this one below an existing stem? Externals nested in
    // a .jsonl list (its items' arrays: "items/3/w" below "items") are claimed before the list
    // itself, whose items are serialized first; Python allows them, as FORMAT.md describes.
    auto below = stems.lower_bound(stem + "/");
    if (extension != "jsonl" && below != stems.end() && below->starts_with(stem + "/"))
        throw usage_error("external '" + stem + "' would be a folder prefix of external '" + *below + "'", path_.str());
    for (auto slash = stem.find('/'); slash != std::string::npos; slash = stem.find('/', slash + 1))
        if (stems.contains(std::string_view(stem).substr(0, slash)))
            throw usage_error("external '" + stem.substr(0, slash) + "' would be a folder prefix of external '" + stem +
                                  "'",
                              path_.str());
    stems.insert(stem);
    return stem + "." + std::string(extension);
}

value serializer::write_array(const array_view& array) {
    const storage_hint* hint = settings_.hint_for(path_);
    const bool large = !array.shape.empty() && shape_elements(array.shape) >= settings_.external_array_threshold;
    if (sink_ && (hint && hint->external ? *hint->external : large)) {
        std::string member = claim_member("npy");
        sink_->add_npy(member, path_, array,
                       hint && hint->compression ? *hint->compression : settings_.compress.arrays);
        return detail::external_array_stub(std::move(member), array);
    }
    return detail::array_to_item(array, hint && hint->array_mode ? *hint->array_mode : settings_.internal_array_mode);
}

value serializer::write_array(const chunked_array& array) {
    if (!sink_) {
        ndarray whole(array.type(), array.shape());
        if (whole.nbytes()) array.fill(0, {whole.bytes(), whole.nbytes()});
        return write_array(whole);
    }
    const storage_hint* hint = settings_.hint_for(path_);
    compression method = hint && hint->compression ? *hint->compression : settings_.compress.arrays;
    // Only zstd compresses as it goes; sampling needs data that is not produced yet.
    if (method.method != compression_method::zstd) method = compression{};
    method.adaptive = false;
    std::string member = claim_member("npy");
    sink_->add_npy_chunked(member, path_, array, method);
    return detail::external_array_stub(std::move(member), {array.type(), array.shape(), nullptr});
}

bool serializer::goes_external(std::size_t size) const {
    if (!sink_) return false;
    const storage_hint* hint = settings_.hint_for(path_);
    return hint && hint->external ? *hint->external : size >= settings_.external_list_threshold;
}

std::size_t serializer::line_parts(std::size_t size) const {
    // A part of fewer lines costs about as much to start as it saves.
    constexpr std::size_t min_lines_per_part = 8192;
    return std::clamp<std::size_t>(size / min_lines_per_part, 1, detail::resolve_threads(settings_.threads));
}

value serializer::finish_sequence(value::list_type items, std::string_view kind) {
    if (!goes_external(items.size())) return value(std::move(items));
    detail::jsonl_lines lines(items.size());
    for (value& item : items) lines.add(std::move(item));
    return finish_external(lines, kind);
}

value serializer::finish_external(detail::jsonl_lines& lines, std::string_view kind) {
    std::string member = claim_member("jsonl");
    value::dict_type stub;
    stub.insert_or_assign(format_key, std::string(kind) + ":external");
    stub.insert_or_assign(ref_key, member);
    lines.summarize(stub);
    const storage_hint* hint = settings_.hint_for(path_);
    sink_->add_jsonl(member, path_, lines.take_pieces(), lines.size(), kind,
                     hint && hint->compression ? *hint->compression : settings_.compress.json);
    return stub;
}

// ---- handler<value> ---------------------------------------------------------------------------

value handler<value>::serialize(const value& v, serializer& s) {
    switch (v.type()) {
    case value::kind::string: return s.write_string(v.as_string());
    case value::kind::list: return s.serialize_sequence(v.as_list());
    case value::kind::dict: {
        value::dict_type out;
        for (const auto& [k, item] : v.as_dict()) s.add_field(out, k, item);
        return out;
    }
    case value::kind::set: {
        const auto& set = v.as_set();
        value::list_type data;
        data.reserve(set.items.size());
        serializer::path_guard guard(s, "data");
        for (std::size_t i = 0; i < set.items.size(); ++i) data.push_back(s.serialize_element(i, set.items[i]));
        value::dict_type out;
        out.insert_or_assign(format_key, set.frozen ? "frozenset" : "set");
        out.insert_or_assign("data", value(std::move(data)));
        return out;
    }
    case value::kind::array: return s.write_array(v.as_array());
    default: return v;
    }
}

} // namespace zanj
