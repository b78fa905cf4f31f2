#pragma once
/// \file
/// `jsonl_lines`: the text of a `.jsonl` member, written item by item as the serializer makes
/// the items, with what the list's stub says about them (Python's jsonl_metadata). The items
/// are not kept: holding 100,000 serialized records until the last was made doubled a save's
/// memory and made it several times slower.

#include <zanj/detail/json_io.hpp>
#include <zanj/detail/key_index.hpp>
#include <zanj/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace zanj::detail {

class jsonl_lines {
public:
    /// `expected`: how many items are coming, when known (0 otherwise), to size the text once.
    explicit jsonl_lines(std::size_t expected = 0);
    jsonl_lines(const jsonl_lines&) = delete;
    jsonl_lines& operator=(const jsonl_lines&) = delete;

    /// Writes `item` as the next line (Python's json.dumps layout).
    void add(value item);
    /// How many lines were written.
    std::size_t size() const noexcept { return count_; }
    /// Adds the summary Python writes for a list of dicts ("data[0]", "len(data)", "columns":
    /// the types seen and the count of each key) to `stub`; nothing for other lists.
    void summarize(value::dict_type& stub) const;
    /// The text, one item per line; the lines are empty afterwards.
    std::string take_text() noexcept { return std::move(text_); }

private:
    struct column {
        std::string name;
        std::vector<std::string_view> types;
        std::size_t count = 0;
    };
    void count_columns(const value_dict& item);

    std::string text_;
    json_text writer_;
    std::size_t expected_;
    std::size_t count_ = 0;
    value first_;
    bool all_dicts_ = true;
    std::vector<column> columns_;
    // Finds a column by name when the item's keys are not in the first item's order.
    key_index column_index_;
};

} // namespace zanj::detail
