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
    /// Writes the next line with `write(json_text&)`, straight from an object with no value in
    /// between. After a first item added as a value, each such line must be a dict with its keys
    /// and value types (an item of a plain dataclass): the summary counts it as one. When
    /// `write` throws, the line is taken back and false returned: the caller then adds the item
    /// as a value, which writes it or reports why it cannot.
    template <class Write>
    bool add_alike(Write&& write) {
        if (!write_line(text_, writer_, write)) return false;
        ++count_;
        ++alike_;
        return true;
    }
    /// Writes one line at the end of `text` with `write(out)` (`out` writing to `text`), and its
    /// newline. When `write` throws, takes the line back, resets `out` and returns false.
    template <class Write>
    static bool write_line(std::string& text, json_text& out, Write&& write) {
        const std::size_t start = text.size();
        try {
            write(out);
        } catch (...) {
            text.resize(start);
            out.reset();
            return false;
        }
        text += '\n';
        return true;
    }
    /// `count` such lines written elsewhere (by a json_text with `line_options`), each ending in
    /// a newline: kept as a piece of their own, not copied.
    void add_alike(std::string&& lines, std::size_t count);
    /// Room for `n` bytes of lines in `text`, in transparent huge pages once that is several MiB:
    /// a save's lines are written once into memory never touched before, where faulting 14 MB
    /// in 4 KiB pages cost 3,500 page faults.
    static void reserve_text(std::string& text, std::size_t n);
    /// How the lines are written: Python's json.dumps defaults (one line, ", " and ": ").
    static constexpr json_write_options line_options{.indent = -1};
    /// How many lines were written.
    std::size_t size() const noexcept { return count_; }
    /// How long the text is so far.
    std::size_t text_size() const noexcept { return text_.size(); }
    /// Adds the summary Python writes for a list of dicts ("data[0]", "len(data)", "columns":
    /// the types seen and the count of each key) to `stub`; nothing for other lists.
    void summarize(value::dict_type& stub) const;
    /// The text, one item per line, in pieces to be joined; the lines are empty afterwards.
    std::vector<std::string> take_pieces();

private:
    struct column {
        std::string name;
        std::vector<std::string_view> types;
        std::size_t count = 0;
    };
    void count_columns(const value_dict& item);

    std::vector<std::string> pieces_; // the text before text_, when lines came written elsewhere
    std::string text_;                // the lines written since
    json_text writer_;
    std::size_t expected_;
    std::size_t count_ = 0;
    std::size_t alike_ = 0; // lines of add_alike, counted in every column of the first item
    value first_;
    bool all_dicts_ = true;
    std::vector<column> columns_;
    // Finds a column by name when the item's keys are not in the first item's order.
    key_index column_index_;
};

} // namespace zanj::detail
