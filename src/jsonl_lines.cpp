#include <zanj/detail/jsonl_lines.hpp>

#include <zanj/detail/file_io.hpp> // advise_huge_pages

#include <algorithm>
#include <span>
#include <utility>

namespace zanj::detail {

namespace {
// Python's `type(x).__name__` of a JSON value, for the stub's column summary.
std::string_view python_type_name(const value& v) {
    switch (v.type()) {
    case value::kind::null: return "NoneType";
    case value::kind::boolean: return "bool";
    case value::kind::integer:
    case value::kind::unsigned_integer: return "int";
    case value::kind::floating: return "float";
    case value::kind::string: return "str";
    case value::kind::list: return "list";
    default: return "dict";
    }
}
} // namespace

jsonl_lines::jsonl_lines(std::size_t expected) : writer_(text_, line_options), expected_(expected) {}

void jsonl_lines::add(value item) {
    writer_.tree(item);
    text_ += '\n';
    all_dicts_ = all_dicts_ && item.is_dict();
    if (all_dicts_) count_columns(item.as_dict());
    if (count_++ == 0) {
        // Lines of a list tend to be alike: room for as many as the first, and a tenth more,
        // spares the text's regrowths (copies of all it holds so far).
        if (expected_ > 1) reserve_text(text_, text_.size() * expected_ + text_.size() * expected_ / 10);
        first_ = std::move(item);
    }
}

void jsonl_lines::reserve_text(std::string& text, std::size_t n) {
    text.reserve(n);
    advise_huge_pages(std::as_writable_bytes(std::span(text.data(), text.capacity())));
}

void jsonl_lines::add_alike(std::string&& lines, std::size_t count) {
    // Appending them copied megabytes into pages of text_ never touched before.
    if (!text_.empty()) pieces_.push_back(std::exchange(text_, std::string()));
    pieces_.push_back(std::move(lines));
    count_ += count;
    alike_ += count;
}

std::vector<std::string> jsonl_lines::take_pieces() {
    std::vector<std::string> out = std::move(pieces_);
    pieces_.clear();
    if (!text_.empty() || out.empty()) out.push_back(std::move(text_));
    text_.clear();
    return out;
}

void jsonl_lines::count_columns(const value_dict& item) {
    auto name_at = [this](std::size_t i) -> std::string_view { return columns_[i].name; };
    std::size_t position = 0; // where the key would be if the item's keys came in the first item's order
    for (const auto& [k, v] : item) {
        if (k == format_key) continue;
        std::size_t at = position++;
        if (at >= columns_.size() || columns_[at].name != k) {
            const std::uint32_t h = key_index::hash(k);
            const std::ptrdiff_t found = column_index_.find(k, h, name_at);
            if (found >= 0) {
                at = static_cast<std::size_t>(found);
            } else {
                at = columns_.size();
                columns_.push_back({k, {}, 0});
                column_index_.add_growing(at, h, columns_.size(), name_at);
            }
        }
        column& c = columns_[at];
        ++c.count;
        const std::string_view type = python_type_name(v);
        if (std::find(c.types.begin(), c.types.end(), type) == c.types.end()) c.types.push_back(type);
    }
}

void jsonl_lines::summarize(value::dict_type& stub) const {
    if (count_ == 0 || !all_dicts_) return;
    value::dict_type summary;
    for (const column& c : columns_) {
        value::dict_type col;
        col.insert_or_assign("types", value(value::list_type(c.types.begin(), c.types.end())));
        col.insert_or_assign("len", c.count + alike_);
        summary.insert_or_assign(c.name, value(std::move(col)));
    }
    stub.insert_or_assign("data[0]", first_);
    stub.insert_or_assign("len(data)", count_);
    stub.insert_or_assign("columns", value(std::move(summary)));
}

} // namespace zanj::detail
