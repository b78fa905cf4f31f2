#pragma once
/// \file
/// `zanj::serializer`: walks a C++ object through its handlers and produces the JSON tree of
/// `__zanj__.json`, sending large arrays and lists to external members as it goes.

#include <zanj/chunked_array.hpp>
#include <zanj/config.hpp>
#include <zanj/detail/jsonl_lines.hpp>
#include <zanj/detail/parallel.hpp>
#include <zanj/dtype.hpp>
#include <zanj/handler.hpp>
#include <zanj/marshaler.hpp>
#include <zanj/object_path.hpp>
#include <zanj/value.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <typeindex>
#include <utility>
#include <vector>

namespace zanj {

/// Array data to write, without copying it: contiguous, row-major, native-endian.
struct array_view {
    /// Element type.
    dtype type;
    /// Extents, outermost first.
    std::span<const std::size_t> shape;
    /// The first element; the others follow contiguously.
    const std::byte* data;
};

namespace detail {
/// Receives the members the serializer puts outside `__zanj__.json` (the archive writer).
class external_sink {
public:
    virtual ~external_sink() = default;
    /// An array as an `.npy` member. `member` is unique and checked by the serializer.
    virtual void add_npy(const std::string& member, const object_path& path, const array_view& array,
                         const compression& method) = 0;
    /// An array whose data comes from a producer, as an `.npy` member written chunk by chunk.
    virtual void add_npy_chunked(const std::string& member, const object_path& path, const chunked_array& array,
                                 const compression& method) = 0;
    /// A list or tuple as a `.jsonl` member holding the lines (one JSON value per line) that
    /// `pieces` hold one after the other: lines written on several threads come in several.
    virtual void add_jsonl(const std::string& member, const object_path& path, std::vector<std::string> pieces,
                           std::size_t length, std::string_view kind, const compression& method) = 0;
};
/// An object reached through a pointer: its most-derived address and its dynamic type.
struct object_identity {
    const void* address;
    std::type_index type;
};
} // namespace detail

/// Walks objects through their handlers; handlers receive it to serialize their members.
class serializer {
public:
    /// `sink` receives external members; without one, everything stays inline. `marshalers`
    /// (run-time marshalers, tried before the compile-time handlers) may be null.
    explicit serializer(const config& settings, detail::external_sink* sink = nullptr,
                        const marshaler_registry* marshalers = nullptr);
    ~serializer();
    serializer(const serializer&) = delete;
    serializer& operator=(const serializer&) = delete;

    /// Serializes the next object as the item at `at` of an archive that keeps the members
    /// `taken` (an update in place, see zanj::editor): member names follow from `at`, and never
    /// clash with those.
    void start_at(object_path at, std::span<const std::string> taken);

    /// The archive's settings.
    const config& settings() const noexcept { return settings_; }
    /// Where the item being serialized sits.
    const object_path& path() const noexcept { return path_; }

    /// The JSON form of `obj`, through its handler.
    template <class T>
    value serialize(const T& obj);

    /// `obj` as the member `key` of a dict: the path grows by `key` while it is serialized.
    template <class T>
    value serialize_field(std::string_view key, const T& obj) {
        path_guard guard(*this, key);
        return serialize(obj);
    }
    /// Adds `obj` to `dict` under `key`, which is checked to be UTF-8 like any JSON string.
    template <class T>
    void add_field(value::dict_type& dict, std::string_view key, const T& obj) {
        write_string(key);
        dict.insert_or_assign(key, serialize_field(key, obj));
    }
    /// `obj` as element `index` of a list.
    template <class T>
    value serialize_element(std::size_t index, const T& obj) {
        path_guard guard(*this, index);
        return serialize(obj);
    }

    /// A range as a list (`kind` "list") or tuple ("tuple"): inline, or a `.jsonl` member when it
    /// has at least `external_list_threshold` items (or a storage hint says so).
    template <class Range>
    value serialize_sequence(const Range& range, std::string_view kind = "list") {
        if constexpr (requires { range.size(); }) {
            // A long list goes to its member line by line: its items are never all held at once.
            if (const auto size = static_cast<std::size_t>(range.size()); goes_external(size)) {
                using item_type = std::remove_cvref_t<decltype(*std::ranges::begin(range))>;
                if constexpr (detail::has_handler_write_json<item_type>)
                    if (!marshalers_ && size > 0) return write_lines_directly(range, size, kind);
                detail::jsonl_lines lines(size);
                std::size_t i = 0;
                for (const auto& item : range) lines.add(serialize_element(i++, item));
                return finish_external(lines, kind);
            }
        }
        value::list_type items;
        if constexpr (requires { range.size(); }) items.reserve(range.size());
        std::size_t i = 0;
        for (const auto& item : range) items.push_back(serialize_element(i++, item));
        return finish_sequence(std::move(items), kind);
    }
    /// Items already serialized (each under its index in the path), made a list or `.jsonl` member.
    value finish_sequence(value::list_type items, std::string_view kind = "list");

    /// An array: inline in the archive's `internal_array_mode`, a zero_dim item for 0-d arrays,
    /// or an `.npy` member at or above `external_array_threshold` elements (storage hints
    /// override all three).
    value write_array(const array_view& array);
    /// The same for an ndarray, written from its storage without a copy.
    value write_array(const ndarray& array) { return write_array({array.type(), array.shape(), array.bytes()}); }
    /// An array from a producer: an `.npy` member written chunk by chunk, stored or zstd (other
    /// compressions store it); without an archive, it is produced whole and written inline.
    value write_array(const chunked_array& array);

    /// A string, checked to be valid UTF-8.
    value write_string(std::string_view s);

    /// Throws type_error naming the current object path.
    [[noreturn]] void fail(const std::string& why) const;

    // ---- pointers and shared objects (zanj/types/pointer.hpp) ----
    /// The item of an object an owning pointer (`unique` or shared) holds: written by `write()`
    /// the first time the object is reached in this save, a ref item naming that place after.
    /// Reaching the object again while it is being written is a cycle, a usage_error naming
    /// both paths.
    template <class Write>
    value serialize_owned(const detail::object_identity& id, bool unique, Write&& write) {
        if (std::optional<value> ref = owned_seen(id, unique)) return std::move(*ref);
        value out;
        try {
            out = write();
        } catch (...) {
            owned_done(id, false);
            throw;
        }
        owned_done(id, true);
        return out;
    }
    /// The ref item of an object a weak_ptr or raw pointer (`what`) points to: it must have been
    /// reached before (or be being written) through an owning pointer in this save.
    value serialize_reference(const detail::object_identity& id, std::string_view what);

    /// Pushes a path step for its lifetime.
    class path_guard {
    public:
        /// Pushes `key` until destroyed.
        path_guard(serializer& s, std::string_view key) : s_(s) { s_.path_.push(key); }
        /// Pushes `index` until destroyed.
        path_guard(serializer& s, std::size_t index) : s_(s) { s_.path_.push(index); }
        ~path_guard() { s_.path_.pop(); }
        path_guard(const path_guard&) = delete;
        path_guard& operator=(const path_guard&) = delete;

    private:
        serializer& s_;
    };

private:
    template <class T>
    value dispatch(const T& obj);
    // Under error_mode warn/ignore, what an item that failed becomes.
    value fallback(const error& e);
    // `obj` through a run-time marshaler, its format key added to a dict that lacks one.
    value marshal(const detail::marshaler_entry& m, const void* obj);
    // Fails: a runtime_marshaled type without a marshaler that saves this object.
    [[noreturn]] void no_marshaler(std::type_index type) const;
    // Whether a list of `size` items at the current path is a .jsonl member.
    bool goes_external(std::size_t size) const;

    // A long list whose items' handler writes their text (plain records): each line is written
    // straight from its item, with no value between, and on several threads for a large
    // random-access range. An item that cannot be written so goes through the value path,
    // which writes it or reports why not with its object path.
    template <class Range>
    value write_lines_directly(const Range& range, std::size_t size, std::string_view kind) {
        detail::jsonl_lines lines(size);
        auto item = std::ranges::begin(range);
        lines.add(serialize_element(0, *item)); // a value: the stub's data[0], and the columns of all
        std::size_t done = 1;
        if constexpr (std::ranges::random_access_range<const Range>) {
            const std::size_t parts = line_parts(size);
            if (parts > 1) done = write_lines_in_parts(range, size, parts, lines);
        }
        for (std::ranges::advance(item, static_cast<std::ptrdiff_t>(done)); done < size; ++done, ++item)
            if (!lines.add_alike(json_of(*item))) lines.add(serialize_element(done, *item));
        return finish_external(lines, kind);
    }

    // Writes items 1 on of `range` in `parts` parts on as many threads (the first straight into
    // `lines`, the others into texts of their own, appended after). Returns how many items
    // `lines` holds in order: all of them unless a part stopped at an item it could not write.
    template <class Range>
    std::size_t write_lines_in_parts(const Range& range, std::size_t size, std::size_t parts,
                                     detail::jsonl_lines& lines) {
        const std::size_t per_part = (size - 1 + parts - 1) / parts;
        std::vector<std::string> texts(parts);
        std::vector<std::size_t> written(parts, 0);
        const std::size_t line_size = lines.text_size() / lines.size(); // the first line's
        auto bounds = [&](std::size_t part) {
            const std::size_t begin = std::min(size, 1 + part * per_part);
            return std::pair{begin, std::min(size, begin + per_part)};
        };
        detail::parallel_for(parts, static_cast<unsigned>(parts), [&](std::size_t part) {
            const auto [begin, end] = bounds(part);
            auto item = std::ranges::begin(range) + static_cast<std::ptrdiff_t>(begin);
            std::size_t& n = written[part];
            // A part stops at an item it cannot write: the caller writes it, through its value.
            if (part == 0) {
                while (begin + n < end && lines.add_alike(json_of(*item))) ++n, ++item;
                return;
            }
            std::string& text = texts[part];
            detail::jsonl_lines::reserve_text(text, line_size * (end - begin) * 11 / 10);
            detail::json_text out(text, detail::jsonl_lines::line_options);
            while (begin + n < end && detail::jsonl_lines::write_line(text, out, json_of(*item))) ++n, ++item;
        });
        std::size_t done = 1 + written[0];
        for (std::size_t part = 1; part < parts && done == bounds(part).first; ++part) {
            lines.add_alike(std::move(texts[part]), written[part]);
            done += written[part];
        }
        return done;
    }
    // Writes `item`'s text to the json_text it is given, through its handler's write_json.
    template <class T>
    static auto json_of(const T& item) {
        return [&item](detail::json_text& out) { handler<T>::write_json(item, out); };
    }
    // How many threads write the lines of a list of `size` plain items.
    std::size_t line_parts(std::size_t size) const;
    // The stub of a .jsonl member holding `lines`, which goes to the sink.
    value finish_external(detail::jsonl_lines& lines, std::string_view kind);
    // The member name for an external at the current path; throws on clashes (Python's rules).
    std::string claim_member(std::string_view extension);
    // A ref item when the object was written already; otherwise records it as being written.
    std::optional<value> owned_seen(const detail::object_identity& id, bool unique);
    // Marks the object written, or forgets it when writing it failed.
    void owned_done(const detail::object_identity& id, bool written) noexcept;

    const config& settings_;
    detail::external_sink* sink_;
    // Null when no marshaler is registered: the common case costs one test per item.
    const marshaler_registry* marshalers_;
    object_path path_;
    struct member_names;
    std::unique_ptr<member_names> members_;
    // The objects reached through pointers so far; made on the first pointer.
    struct object_table;
    std::unique_ptr<object_table> objects_;
};

template <class T>
value serializer::dispatch(const T& obj) {
    if (marshalers_) {
        if (const detail::marshaler_entry* m = marshalers_->for_object(typeid(T), &obj)) return marshal(*m, &obj);
    }
    if constexpr (detail::has_handler_serialize<T>) {
        return handler<T>::serialize(obj, *this);
    } else if constexpr (detail::has_adl_serialize<T>) {
        using detail::zanj_serialize;
        return zanj_serialize(obj, *this);
    } else if constexpr (runtime_marshaled<T>::value) {
        no_marshaler(typeid(T));
    } else {
        static_assert(detail::no_handler_for_type<T>::value);
        return {};
    }
}

template <class T>
value serializer::serialize(const T& obj) {
    if (settings_.error_mode == error_mode::except) return dispatch(obj);
    try {
        return dispatch(obj);
    } catch (const error& e) {
        return fallback(e);
    }
}

} // namespace zanj
