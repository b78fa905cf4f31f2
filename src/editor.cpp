#include <zanj/editor.hpp>

#include "zip_format.hpp"

#include <zanj/archive.hpp>
#include <zanj/detail/archive_writer.hpp>
#include <zanj/detail/array_codec.hpp>
#include <zanj/detail/crc32.hpp>
#include <zanj/detail/file_io.hpp>
#include <zanj/detail/journal.hpp>
#include <zanj/detail/npy.hpp>
#include <zanj/detail/zip.hpp>
#include <zanj/error.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace zanj {

namespace {

namespace fs = std::filesystem;
namespace zf = detail::zip_format;
using detail::zip_entry;

constexpr std::string_view tree_member = "__zanj__.json";
constexpr std::string_view meta_member = "__zanj_meta__.json";

// The steps of `path`, owned: they outlive the caller's string.
std::vector<std::string> steps_of(std::string_view path) {
    const auto views = path_steps(path);
    return {views.begin(), views.end()};
}

std::optional<std::size_t> index_of(std::string_view step) {
    std::size_t index = 0;
    auto [end, ec] = std::from_chars(step.data(), step.data() + step.size(), index);
    if (ec != std::errc{} || end != step.data() + step.size()) return std::nullopt;
    return index;
}

std::string text_of(const std::vector<std::string>& steps, std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) out += "/" + steps[i];
    return out.empty() ? "/" : out;
}

// Whether the externals_info path `info_path` is `steps` or lies below it.
bool lies_under(const value& info_path, const std::vector<std::string>& steps) {
    if (!info_path.is_list() || info_path.size() < steps.size()) return false;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const value& p = info_path[i];
        if ((p.is_string() ? p.as_string() : p.dump()) != steps[i]) return false;
    }
    return true;
}

bool is_external_list(const value& node) {
    return node.is_dict() && !node.contains("data") && node.find(ref_key) && node.format() != "numpy.ndarray:external";
}

std::pair<std::uint64_t, std::uint64_t> identity(const struct stat& st) {
    return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

// An empty archive (a `{}` root), written as every save is: atomically.
void create_empty(const fs::path& file, const config& settings, const loader_registry& registry) {
    detail::archive_writer writer(detail::prepare_save_path(file), settings, registry);
    writer.finish(value(value::dict_type{}));
}

// A new array holding `a`'s rows followed by `b`'s.
ndarray join_rows(const ndarray& a, const ndarray& b, std::size_t b_rows) {
    shape_type shape = a.shape();
    shape[0] += b_rows;
    ndarray out(a.type(), shape);
    if (a.nbytes() > 0) std::memcpy(out.bytes(), a.bytes(), a.nbytes());
    if (b.nbytes() > 0) std::memcpy(out.bytes() + a.nbytes(), b.bytes(), b.nbytes());
    return out;
}

} // namespace

open_mode parse_open_mode(std::string_view mode) {
    if (mode == "r+") return open_mode::read_write;
    if (mode == "a") return open_mode::append;
    if (mode == "w") return open_mode::write;
    throw usage_error("unknown open mode '" + std::string(mode) +
                      "': an editor opens with \"r+\", \"a\" or \"w\" (read with zanj::archive)");
}

struct editor::impl {
    fs::path path;
    config settings;
    std::shared_ptr<const loader_registry> registry;
    detail::file_handle file; // holds the writer lock
    int uncaught_at_open = std::uncaught_exceptions();

    // The archive as last committed.
    std::optional<detail::zip_reader> zip;
    std::optional<archive> committed;
    // Staged: the tree, externals_info, and the members kept (the JSON members never are).
    value tree;
    value meta;
    value::dict_type externals;
    std::vector<zip_entry> kept;
    std::uint64_t tail = 0; // end of the last kept member's data
    bool dirty = false;

    // The update in progress, from its first write to the file.
    bool active = false;
    std::uint64_t original_size = 0;
    std::vector<detail::saved_bytes> saved;
    std::optional<detail::update_in_progress> marker;
    std::unique_ptr<detail::zip_writer> writer;
    std::unique_ptr<detail::archive_writer> sink;

    void load();
    void check_still_ours() const;
    void begin();
    void save_before_write(std::uint64_t offset, std::uint64_t length);
    void ensure_writer();
    // `in_writer`: also leave them out of the writer's directory (set_item did that already).
    void drop_members_under(const std::vector<std::string>& steps, bool in_writer);
    value* parent_for(const std::vector<std::string>& steps, bool create, const std::string& where);
    const value* node_at(const std::vector<std::string>& steps) const;
    bool grow_in_place(const std::string& member, const ndarray& rows, std::size_t rows_added);
    object_path object_path_of(const std::vector<std::string>& steps) const;
    void end_update() noexcept;
    void roll_back_update();
};

// Reads the archive as committed and stages nothing.
void editor::impl::load() {
    committed.reset();
    zip.emplace(path, settings.limits);
    committed.emplace(path, settings, registry);
    tree = committed->tree();
    meta = committed->meta();
    externals = value::dict_type{};
    if (const value* info = meta.find("externals_info"); info && info->is_dict()) externals = info->as_dict();
    kept.clear();
    tail = 0;
    for (const zip_entry& e : zip->entries()) {
        if (e.name == tree_member || e.name == meta_member) continue;
        kept.push_back(e);
        tail = std::max(tail, zip->data_offset(e) + e.compressed_size);
    }
    dirty = false;
}

// A save() replaces the file under the same name: an update of the old file would be lost.
void editor::impl::check_still_ours() const {
    struct stat named {};
    struct stat opened {};
    if (::stat(path.c_str(), &named) != 0 || ::fstat(file.fd(), &opened) != 0 || identity(named) != identity(opened))
        throw io_error(path.string() + " was replaced (by a save?) while open for update; reopen it to edit the new "
                                       "file");
}

void editor::impl::begin() {
    if (active) return;
    check_still_ours();
    detail::take_lock(file, detail::archive_lock::update, true, true);
    try {
        original_size = detail::file_size(file);
        saved.clear();
        marker.emplace(file);
        active = true;
        save_before_write(tail, original_size - std::min(tail, original_size));
    } catch (...) {
        end_update();
        throw;
    }
}

// Keeps the bytes an update is about to overwrite in the journal, before it does.
void editor::impl::save_before_write(std::uint64_t offset, std::uint64_t length) {
    if (offset >= original_size) length = 0;
    length = std::min(length, original_size - std::min(offset, original_size));
    for (const auto& s : saved)
        if (offset >= s.offset && offset + length <= s.offset + s.bytes.size()) return;
    if (length == 0 && !saved.empty()) return;
    detail::saved_bytes range{offset, std::vector<std::byte>(static_cast<std::size_t>(length))};
    if (length > 0) detail::pread_all(file, range.bytes, offset);
    saved.push_back(std::move(range));
    detail::write_journal(file, original_size, saved);
}

void editor::impl::ensure_writer() {
    begin();
    if (writer) return;
    writer = std::make_unique<detail::zip_writer>(detail::in_place, detail::duplicate(file), tail, kept);
    sink = std::make_unique<detail::archive_writer>(*writer, settings, *registry);
}

void editor::impl::end_update() noexcept {
    sink.reset();
    writer.reset();
    marker.reset();
    saved.clear();
    if (active) detail::release_lock(file, detail::archive_lock::update);
    active = false;
}

void editor::impl::roll_back_update() {
    if (active) {
        sink.reset();
        writer.reset();
        detail::roll_back(path, file);
        end_update();
    }
    load();
}

// Leaves out of the archive every member whose item is at or below `steps`.
void editor::impl::drop_members_under(const std::vector<std::string>& steps, bool in_writer) {
    std::vector<std::string> gone;
    for (const auto& [member, info] : externals) {
        const value* p = info.find("path");
        if (p && lies_under(*p, steps)) gone.push_back(member);
    }
    for (const std::string& member : gone) {
        externals.erase(member);
        std::erase_if(kept, [&](const zip_entry& e) { return e.name == member; });
        if (writer && in_writer) writer->forget(member);
    }
}

const value* editor::impl::node_at(const std::vector<std::string>& steps) const {
    const value* cur = &tree;
    for (const std::string& step : steps) {
        if (cur->is_dict() && !is_external_list(*cur)) {
            cur = cur->find(step);
        } else if (cur->is_list()) {
            const auto i = index_of(step);
            cur = i && *i < cur->size() ? &(*cur)[*i] : nullptr;
        } else {
            return nullptr;
        }
        if (!cur) return nullptr;
    }
    return cur;
}

// The dict or list that holds the item at `steps`, creating missing dicts when `create`.
value* editor::impl::parent_for(const std::vector<std::string>& steps, bool create, const std::string& where) {
    value* cur = &tree;
    for (std::size_t i = 0; i + 1 < steps.size(); ++i) {
        const std::string here = text_of(steps, i + 1);
        if (is_external_list(*cur) || (cur->is_dict() && detail::is_array_format(cur->format())))
            throw usage_error("cannot change " + where + ": " + text_of(steps, i) +
                              " is an array or an external list, whose items are not edited one by one; set it whole");
        if (cur->is_dict()) {
            value* next = cur->as_dict().find(steps[i]);
            if (!next) {
                if (!create) throw usage_error("no item at " + here + " (while changing " + where + ")");
                next = &cur->as_dict().insert_or_assign(steps[i], value(value::dict_type{}));
            }
            cur = next;
        } else if (cur->is_list()) {
            const auto index = index_of(steps[i]);
            if (!index || *index >= cur->size())
                throw usage_error("no item at " + here + " (while changing " + where + ")");
            cur = &(*cur)[*index];
        } else {
            throw usage_error("cannot change " + where + ": " + text_of(steps, i) + " is a " +
                              std::string(cur->type_name()) + ", not a dict or a list");
        }
    }
    if (is_external_list(*cur) || (cur->is_dict() && detail::is_array_format(cur->format())))
        throw usage_error("cannot change " + where + ": " + text_of(steps, steps.size() - 1) +
                          " is an array or an external list, whose items are not edited one by one; set it whole");
    if (!cur->is_dict() && !cur->is_list())
        throw usage_error("cannot change " + where + ": " + text_of(steps, steps.size() - 1) + " is a " +
                          std::string(cur->type_name()) + ", not a dict or a list");
    return cur;
}

// Appends `rows` to a stored member that ends where the kept data ends, in place: the rows go
// after its data, its NPY header gets the new shape (padded to its old length) and its local
// header the new sizes and CRC. False when the member is not laid out for that.
bool editor::impl::grow_in_place(const std::string& member, const ndarray& rows, std::size_t rows_added) {
    if (writer) return false; // new members already follow the kept ones
    auto it = std::find_if(kept.begin(), kept.end(), [&](const zip_entry& e) { return e.name == member; });
    if (it == kept.end()) return false;
    zip_entry& e = *it;
    if (e.method != compression_method::store || (e.flags & zf::flag_data_descriptor) != 0) return false;
    // Read here rather than through the zip reader, whose entry of the member a previous
    // append made stale.
    std::vector<std::byte> fixed(zf::local_header_size);
    detail::pread_all(file, fixed, e.local_header_offset);
    if (zf::get32(fixed.data()) != zf::local_header_signature) return false;
    const std::uint64_t data_start =
        e.local_header_offset + zf::local_header_size + zf::get16(fixed.data() + 26) + zf::get16(fixed.data() + 28);
    if (data_start + e.compressed_size != tail) return false;

    // The NPY header as it is, and the same with the new shape.
    std::vector<std::byte> head(static_cast<std::size_t>(std::min<std::uint64_t>(e.uncompressed_size, 10)));
    detail::pread_all(file, head, data_start);
    if (head.size() < 10 || static_cast<std::uint8_t>(head[6]) != 1) return false;
    const std::uint64_t header_size = 10 + zf::get16(head.data() + 8);
    if (header_size > e.uncompressed_size || header_size > settings.limits.max_npy_header_size) return false;
    std::vector<std::byte> old_header(static_cast<std::size_t>(header_size));
    detail::pread_all(file, old_header, data_start);
    const detail::npy_header_info info =
        detail::npy_parse_header(old_header, member, settings.limits.max_npy_header_size);
    if (info.big_endian || (info.fortran_order && info.shape.size() > 1) || info.shape.empty()) return false;
    shape_type shape = info.shape;
    shape[0] += rows_added;
    const std::string new_header = detail::npy_header_of_length(info.type, shape, old_header.size());
    if (new_header.empty()) return false;

    // The local header: its sizes are in a ZIP64 field, or must stay below 4 GiB.
    std::vector<std::byte> local(static_cast<std::size_t>(data_start - e.local_header_offset));
    detail::pread_all(file, local, e.local_header_offset);
    const std::uint64_t new_size = e.uncompressed_size + rows.nbytes();
    const std::size_t name_size = zf::get16(local.data() + 26);
    const std::size_t extra_size = zf::get16(local.data() + 28);
    std::optional<std::size_t> zip64_sizes;
    for (std::size_t pos = zf::local_header_size + name_size;
         pos + 4 <= zf::local_header_size + name_size + extra_size;) {
        const std::uint16_t id = zf::get16(local.data() + pos);
        const std::uint16_t size = zf::get16(local.data() + pos + 2);
        if (id == zf::zip64_extra_id && size >= 16) zip64_sizes = pos + 4;
        pos += 4 + size;
    }
    const bool sizes_in_zip64 = zf::get32(local.data() + 18) == zf::max32 && zip64_sizes;
    if (!sizes_in_zip64 && new_size >= zf::max32) return false;

    // crc(H'‖D) from crc(H‖D): the two differ by crc(H‖0…) ^ crc(H'‖0…), and appending the
    // zeros of D to a CRC is what combining with an empty CRC of that length does.
    const std::uint64_t data_size = e.uncompressed_size - old_header.size();
    const auto as_span = [](const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); };
    std::uint32_t crc = e.crc32 ^ detail::crc32_combine(detail::crc32(0, old_header), 0, data_size) ^
                        detail::crc32_combine(detail::crc32(0, as_span(new_header)), 0, data_size);
    crc = detail::crc32_combine(crc, detail::crc32(0, rows.byte_span()), rows.nbytes());

    save_before_write(e.local_header_offset, data_start - e.local_header_offset + old_header.size());
    detail::pwrite_all(file, rows.byte_span(), tail);
    detail::pwrite_all(file, as_span(new_header), data_start);
    std::vector<std::byte> field;
    zf::field_writer(field).u32(crc);
    detail::pwrite_all(file, field, e.local_header_offset + zf::local_header_crc_offset);
    field.clear();
    zf::field_writer f(field);
    if (sizes_in_zip64) {
        f.u64(new_size);
        f.u64(new_size);
        detail::pwrite_all(file, field, e.local_header_offset + *zip64_sizes);
    } else {
        f.u32(static_cast<std::uint32_t>(new_size));
        f.u32(static_cast<std::uint32_t>(new_size));
        detail::pwrite_all(file, field, e.local_header_offset + 18);
    }
    e.crc32 = crc;
    e.compressed_size = e.uncompressed_size = new_size;
    tail += rows.nbytes();
    return true;
}

// The object path of `steps` as the serializer names it: list steps are indices, dict steps keys
// (where the tree does not reach yet, keys).
object_path editor::impl::object_path_of(const std::vector<std::string>& steps) const {
    object_path at;
    const value* cur = &tree;
    for (const std::string& step : steps) {
        const auto index = index_of(step);
        if (cur && cur->is_list() && index) {
            at.push(*index);
            cur = *index < cur->size() ? &(*cur)[*index] : nullptr;
        } else {
            at.push(step);
            cur = cur && cur->is_dict() ? cur->find(step) : nullptr;
        }
    }
    return at;
}

// ---- editor -------------------------------------------------------------------------------------

editor::editor(const fs::path& file, open_mode mode, config settings, std::shared_ptr<const loader_registry> registry)
    : impl_(std::make_unique<impl>()) {
    impl& ed = *impl_;
    ed.settings = std::move(settings);
    ed.registry = registry ? std::move(registry) : std::make_shared<const loader_registry>();
    ed.path = mode == open_mode::read_write ? file : detail::prepare_save_path(file);
    std::error_code missing;
    const bool exists = fs::exists(ed.path, missing);
    if (mode == open_mode::write && exists) {
        // Not while another editor has it.
        detail::file_handle old = detail::open_for_update(ed.path);
        if (!detail::take_lock(old, detail::archive_lock::writer, true, false))
            throw io_error(ed.path.string() + " is open for update by another editor");
    }
    if (mode == open_mode::write || (mode == open_mode::append && !exists))
        create_empty(ed.path, ed.settings, *ed.registry);
    ed.file = detail::open_for_update(ed.path);
    if (!detail::take_lock(ed.file, detail::archive_lock::writer, true, false))
        throw io_error(ed.path.string() + " is open for update by another editor (one writer at a time)");
    // An update whose editor died is undone first.
    if (fs::exists(detail::journal_path(ed.path), missing)) {
        detail::take_lock(ed.file, detail::archive_lock::update, true, true);
        detail::roll_back(ed.path, ed.file);
        detail::release_lock(ed.file, detail::archive_lock::update);
    }
    ed.load();
}

editor::~editor() {
    if (!impl_ || !has_changes()) return;
    if (std::uncaught_exceptions() > impl_->uncaught_at_open) {
        try {
            rollback();
        } catch (...) { // the journal stays; the next open rolls back
        }
        return;
    }
    try {
        commit();
    } catch (const std::exception& e) {
        std::fprintf(stderr,
                     "zanj: committing the changes to %s when its editor closed failed, so they were "
                     "rolled back: %s\n",
                     impl_->path.c_str(), e.what());
        try {
            rollback();
        } catch (...) {}
    }
}

editor::editor(editor&&) noexcept = default;

const fs::path& editor::path() const noexcept { return impl_->path; }
const value& editor::tree() const noexcept { return impl_->tree; }
bool editor::has_changes() const noexcept { return impl_->dirty || impl_->active; }

bool editor::contains(std::string_view path) const { return impl_->node_at(steps_of(path)) != nullptr; }

void editor::set_item(std::string_view path, const std::function<value(serializer&)>& write) {
    impl& ed = *impl_;
    const std::vector<std::string> steps = steps_of(path);
    const std::string where = text_of(steps, steps.size());
    value* parent = steps.empty() ? nullptr : ed.parent_for(steps, true, where);
    std::optional<std::size_t> index;
    if (parent && parent->is_list()) {
        index = index_of(steps.back());
        if (!index || *index > parent->size())
            throw usage_error("cannot set " + where + ": the list at " + text_of(steps, steps.size() - 1) + " has " +
                              std::to_string(parent->size()) + " items (set an existing index or the next one)");
    }

    const object_path at = ed.object_path_of(steps);
    ed.ensure_writer();
    std::vector<std::string> taken;
    for (const auto& [member, info] : ed.externals) {
        const value* p = info.find("path");
        if (!p || !lies_under(*p, steps)) taken.push_back(member);
    }
    // The old item's members leave the directory first, so that the new ones may take their
    // names; they come back if writing the new item fails.
    std::vector<zip_entry> parked;
    for (const auto& [member, info] : ed.externals) {
        const value* p = info.find("path");
        if (p && lies_under(*p, steps))
            if (auto e = ed.writer->forget(member)) parked.push_back(std::move(*e));
    }
    value node;
    try {
        serializer s(ed.settings, ed.sink.get(), &ed.registry->marshalers());
        s.start_at(at, taken);
        node = write(s);
    } catch (const io_error&) {
        ed.roll_back_update(); // the zip writer cannot go on after a failed write
        throw;
    } catch (...) {
        // Members written before the failure stay unreferenced; the old ones come back.
        for (const auto& written : ed.sink->take_written()) ed.writer->forget(written.member);
        for (const zip_entry& e : parked) ed.writer->restore(e);
        throw;
    }
    ed.drop_members_under(steps, false);
    for (auto& written : ed.sink->take_written())
        ed.externals.insert_or_assign(written.member, std::move(written.info));
    if (!parent) {
        ed.tree = std::move(node);
    } else if (parent->is_dict()) {
        parent->as_dict().insert_or_assign(steps.back(), std::move(node));
    } else if (*index == parent->size()) {
        parent->as_list().push_back(std::move(node));
    } else {
        parent->as_list()[*index] = std::move(node);
    }
    ed.dirty = true;
}

void editor::erase(std::string_view path) {
    impl& ed = *impl_;
    const std::vector<std::string> steps = steps_of(path);
    const std::string where = text_of(steps, steps.size());
    if (steps.empty()) throw usage_error("cannot erase the root; set(\"/\", ...) replaces it");
    value* parent = ed.parent_for(steps, false, where);
    if (parent->is_dict()) {
        if (!parent->find(steps.back())) throw usage_error("no item at " + where + " to erase");
        parent->as_dict().erase(steps.back());
    } else {
        const auto index = index_of(steps.back());
        if (!index || *index >= parent->size()) throw usage_error("no item at " + where + " to erase");
        if (*index + 1 != parent->size())
            throw usage_error("cannot erase " + where +
                              ": only the last item of a list can be erased (the later "
                              "items' paths would change); set the list instead");
        parent->as_list().pop_back();
    }
    ed.drop_members_under(steps, true);
    ed.dirty = true;
}

ndarray editor::as_array(std::string_view path, const std::function<value(serializer&)>& write) const {
    config inline_arrays = impl_->settings;
    inline_arrays.internal_array_mode = array_mode::array_b64_meta;
    inline_arrays.storage_hints.clear();
    serializer s(inline_arrays);
    value item = write(s);
    try {
        return detail::array_from_item(item);
    } catch (const error& e) {
        throw type_error("rows appended to " + std::string(path) + " must be an array: " + e.reason());
    }
}

void editor::append_rows(std::string_view path, const ndarray& rows) {
    impl& ed = *impl_;
    const std::vector<std::string> steps = steps_of(path);
    const std::string where = text_of(steps, steps.size());
    const value* node = ed.node_at(steps);
    if (!node) throw usage_error("no array at " + where + " to append rows to");
    const auto header = detail::inline_array_header(*node);
    if (!header) throw type_error("cannot append rows to " + where + ": it is not an array", where);
    if (header->shape.empty()) throw usage_error("cannot append rows to " + where + ": it is 0-dimensional");
    const shape_type trailing(header->shape.begin() + 1, header->shape.end());
    std::size_t added = 0;
    if (rows.shape() == trailing) {
        added = 1;
    } else if (rows.ndim() == header->shape.size() &&
               std::equal(trailing.begin(), trailing.end(), rows.shape().begin() + 1)) {
        added = rows.shape()[0];
    } else {
        throw type_error("cannot append rows of shape " + rows.shape_string() + " to " + where + ", of shape " +
                             shape_string(header->shape) + ": the extents after the first must agree",
                         where);
    }
    if (rows.type() != header->type)
        throw type_error("cannot append " + std::string(dtype_name(rows.type())) + " rows to " + where + ", a " +
                             std::string(dtype_name(header->type)) + " array",
                         where);
    if (added == 0) return;

    const value* ref = node->find(ref_key);
    const std::string member = ref && ref->is_string() && !node->contains("data") ? ref->as_string() : "";
    if (!member.empty() && ed.externals.contains(member)) {
        ed.begin();
        bool grown = false;
        try {
            grown = ed.grow_in_place(member, rows, added);
        } catch (...) {
            ed.roll_back_update();
            throw;
        }
        if (grown) {
            shape_type shape = header->shape;
            shape[0] += added;
            const array_view grown_view{header->type, shape, nullptr};
            value& stub = const_cast<value&>(*node);
            detail::add_array_metadata(stub.as_dict(), grown_view);
            value& info = *ed.externals.find(member);
            detail::add_array_metadata(info.as_dict(), grown_view);
            info.as_dict().insert_or_assign("len(data)", shape[0]);
            ed.dirty = true;
            return;
        }
    }
    // Read, join, write again.
    ndarray old;
    if (member.empty()) {
        old = detail::array_from_item(*node);
    } else if (std::any_of(ed.kept.begin(), ed.kept.end(), [&](const zip_entry& e) { return e.name == member; })) {
        old = ed.committed->array(where);
    } else {
        throw usage_error("cannot append rows to " + where +
                          ": it was set in this uncommitted update and is "
                          "not the last member; commit() first");
    }
    const ndarray joined = join_rows(old, rows, added);
    set_item(where, [&joined](serializer& s) { return s.write_array(joined); });
}

void editor::commit() {
    impl& ed = *impl_;
    if (!has_changes()) return;
    try {
        ed.ensure_writer();
        value meta = ed.meta;
        if (!meta.is_dict()) meta = value(value::dict_type{});
        meta.as_dict().insert_or_assign("externals_info", value(ed.externals));
        const auto now = std::chrono::system_clock::now().time_since_epoch();
        meta.as_dict().insert_or_assign("timestamp", std::chrono::duration<double>(now).count());
        ed.sink->finish(ed.tree, meta);
        ed.check_still_ours();
        detail::remove_journal(ed.path);
    } catch (...) {
        ed.roll_back_update();
        throw;
    }
    ed.end_update();
    ed.load();
}

void editor::rollback() { impl_->roll_back_update(); }

} // namespace zanj
