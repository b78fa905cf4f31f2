#pragma once
// Private to src/: a JSON member kept as simdjson's DOM, for an archive that lists and walks its
// tree without a zanj::value for every node. For 10,000 array stubs those values take twice the
// DOM's memory, and building and freeing them was about half the time an open and a listing
// took (page faults and allocations); a read of one item builds the values of that item alone.

#include <zanj/detail/json_io.hpp>
#include <zanj/value.hpp>

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace zanj::detail {

class json_dom {
public:
    /// The DOM of `text`, or null when simdjson does not take it as it is: Python's non-finite
    /// tokens, integers past 64 bits, malformed text, nesting past simdjson's limit. parse_json
    /// takes such text (or words its error).
    static std::unique_ptr<json_dom> parse(padded_json text);

    simdjson::dom::element root() const noexcept { return root_; }

private:
    simdjson::dom::document doc_; // the tape and the strings; the parser's buffers are freed
    simdjson::dom::element root_;
};

/// A node of a json_dom, with the read-only interface that archive.cpp's listing also finds on
/// zanj::value nodes.
class dom_node {
public:
    explicit dom_node(simdjson::dom::element e) noexcept : e_(e) {}

    /// The kind parse_json would have given the node (never set or array).
    value::kind type() const noexcept {
        using simdjson::dom::element_type;
        switch (e_.type()) {
        case element_type::OBJECT: return value::kind::dict;
        case element_type::ARRAY: return value::kind::list;
        case element_type::INT64: return value::kind::integer;
        case element_type::UINT64: return value::kind::unsigned_integer;
        case element_type::DOUBLE: return value::kind::floating;
        case element_type::STRING: return value::kind::string;
        case element_type::BOOL: return value::kind::boolean;
        case element_type::NULL_VALUE: return value::kind::null;
        }
        return value::kind::null;
    }
    bool is_dict() const noexcept { return e_.is_object(); }
    bool is_list() const noexcept { return e_.is_array(); }
    bool is_integer() const noexcept { return e_.is_int64() || e_.is_uint64(); }
    /// Items of a list or a dict.
    std::size_t size() const noexcept {
        if (e_.is_object()) return simdjson::dom::object(e_).size();
        if (e_.is_array()) return simdjson::dom::array(e_).size();
        return 0;
    }
    /// A dict's value under `key`, by scan (the archive refuses DOMs with repeated keys).
    std::optional<dom_node> find(std::string_view key) const noexcept {
        if (!e_.is_object()) return std::nullopt;
        for (auto [k, child] : simdjson::dom::object(e_))
            if (k == key) return dom_node(child);
        return std::nullopt;
    }
    /// A list's item `i`, by scan.
    std::optional<dom_node> at(std::size_t i) const noexcept {
        simdjson::dom::element child;
        if (!e_.is_array() || simdjson::dom::array(e_).at(i).get(child)) return std::nullopt;
        return dom_node(child);
    }
    /// A string's text ("" for other kinds).
    std::string_view as_string() const noexcept { return e_.is_string() ? std::string_view(e_) : std::string_view{}; }
    /// A dict's format key, or "".
    std::string_view format() const noexcept {
        const std::optional<dom_node> f = find(format_key);
        return f ? f->as_string() : std::string_view{};
    }
    /// A non-negative integer; throws type_error for a negative one, as value::as_uint does.
    std::uint64_t as_uint() const;
    /// f(key, child) for each item of a dict, in order.
    template <class F>
    void for_each_key(F&& f) const {
        for (auto [k, child] : simdjson::dom::object(e_)) f(k, dom_node(child));
    }
    /// f(child) for each item of a list, in order.
    template <class F>
    void for_each_item(F&& f) const {
        for (simdjson::dom::element child : simdjson::dom::array(e_)) f(dom_node(child));
    }

    simdjson::dom::element element() const noexcept { return e_; }
    /// The node as parse_json gives it.
    value to_value() const;

private:
    simdjson::dom::element e_;
};

} // namespace zanj::detail
