#pragma once
// Private to src/: read-only views of a JSON tree held either as zanj::value nodes or as
// simdjson's DOM (json_dom.hpp's dom_node), with what reading a typed item needs from them.
// The lazy archive lists and walks either kind; inline_array_header reads value nodes.

#include <zanj/detail/array_codec.hpp>
#include <zanj/dtype.hpp>
#include <zanj/error.hpp>
#include <zanj/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

namespace zanj::detail {

// A node of a zanj::value tree, with dom_node's interface (json_dom.hpp): listing and walking
// the tree take either.
class value_node {
public:
    explicit value_node(const value& v) noexcept : v_(&v) {}

    value::kind type() const noexcept { return v_->type(); }
    bool is_dict() const noexcept { return v_->is_dict(); }
    bool is_list() const noexcept { return v_->is_list(); }
    bool is_integer() const noexcept { return v_->is_integer(); }
    std::size_t size() const noexcept { return v_->size(); }
    std::optional<value_node> find(std::string_view key) const noexcept {
        const value* child = v_->find(key);
        return child ? std::optional(value_node(*child)) : std::nullopt;
    }
    std::optional<value_node> at(std::size_t i) const noexcept {
        return v_->is_list() && i < v_->size() ? std::optional(value_node(v_->as_list()[i])) : std::nullopt;
    }
    std::string_view as_string() const noexcept {
        return v_->is_string() ? std::string_view(v_->as_string()) : std::string_view{};
    }
    std::string_view format() const noexcept { return v_->format(); }
    std::uint64_t as_uint() const { return v_->as_uint(); }
    template <class F>
    void for_each_key(F&& f) const {
        for (const auto& [key, child] : v_->as_dict()) f(std::string_view(key), value_node(child));
    }
    template <class F>
    void for_each_item(F&& f) const {
        for (const value& child : v_->as_list()) f(value_node(child));
    }

    const value& get() const noexcept { return *v_; }

private:
    const value* v_;
};

// The keys of a dict that listing and indexing read, found in one pass over its items.
template <class Node>
struct item_keys {
    std::optional<Node> format, data, ref, dtype, shape, length;

    item_keys() = default;
    explicit item_keys(const Node& node) {
        if (node.is_dict()) node.for_each_key([this](std::string_view key, const Node& child) { take(key, child); });
    }
    // Notes one item of the dict.
    void take(std::string_view key, const Node& child) {
        // By length first: most keys are none of these.
        switch (key.size()) {
        case format_key.size():
            if (key == format_key) format = child;
            break;
        case 4:
            if (key == "data")
                data = child;
            else if (key == ref_key)
                ref = child;
            break;
        case 5:
            if (key == "dtype")
                dtype = child;
            else if (key == "shape")
                shape = child;
            break;
        case 9:
            if (key == "len(data)") length = child;
            break;
        }
    }
    std::string_view format_text() const noexcept { return format ? format->as_string() : std::string_view{}; }
    // The member of an external stub whose data is not in the tree, or empty.
    std::string_view member() const noexcept { return data || !ref ? std::string_view{} : ref->as_string(); }
};

// The dtype and shape an array item declares, or nothing when it is no array item or they are
// missing or unreadable (of either kind of node).
template <class Node>
std::optional<detail::array_header> array_header_of(const item_keys<Node>& item) {
    const std::string_view format = item.format_text();
    if (!detail::is_array_format(format)) return std::nullopt;
    const std::optional<dtype> type = item.dtype ? dtype_from_name(item.dtype->as_string()) : std::nullopt;
    if (!type) return std::nullopt;
    detail::array_header h{*type, {}};
    if (format.substr(format.find(':') + 1) == "zero_dim") return h;
    if (!item.shape || !item.shape->is_list()) return std::nullopt;
    bool valid = true;
    item.shape->for_each_item([&](const Node& extent) {
        if (!valid || !extent.is_integer()) {
            valid = false;
            return;
        }
        try {
            h.shape.push_back(static_cast<std::size_t>(extent.as_uint()));
        } catch (const error&) { // negative
            valid = false;
        }
    });
    return valid ? std::optional(std::move(h)) : std::nullopt;
}

} // namespace zanj::detail
