#pragma once
/// \file
/// JSON text as Python's `json` module writes and reads it: `NaN`, `Infinity` and `-Infinity`
/// tokens for non-finite floats, tab indentation for `__zanj__.json`, `", "` and `": "` separators
/// for `.jsonl` lines. Parsing goes through simdjson, or, for what simdjson refuses (non-finite
/// tokens, integers past 64 bits, malformed text), nlohmann's SAX parser, into `zanj::value`.

#include <zanj/limits.hpp>
#include <zanj/value.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace zanj::detail {

struct json_write_options {
    /// < 0: one line, Python's default separators. 0: one line per item, no indentation;
    /// > 0: that many tabs per level (Python's `indent="\t"` is 1).
    int indent = 1;
    /// Write arrays as an `array(dtype, shape)` string instead of refusing them.
    bool describe_arrays = false;
};

/// Serializes a tree that holds only JSON kinds (sets become their typed-item dicts).
/// Throws type_error for invalid UTF-8 strings and, unless describe_arrays, for arrays.
std::string write_json(const value& v, const json_write_options& options = {});
/// Appends to `out` instead of returning a new string.
void write_json(const value& v, std::string& out, const json_write_options& options = {});

/// JSON text written piece by piece, laid out exactly as write_json lays out a tree: for writers
/// with no tree to give. A save of many arrays writes the meta's externals_info one entry per
/// member as the members are written, where building a tree of 10,000 entries, writing it and
/// freeing it was a fifth of the save. Strings are checked as write_json checks them.
class json_text {
public:
    /// Appends to `out`, laid out as if the first value sat `depth` levels deep.
    explicit json_text(std::string& out, const json_write_options& options = {}, int depth = 0);

    void begin_object();
    void end_object();
    void begin_list();
    void end_list();
    /// The key of the next member of the object being written.
    void key(std::string_view k);
    /// key() for a key prepared by prepare_key(): for the keys a type writes in every item,
    /// checked and escaped once.
    void prepared_key(std::string_view text);
    /// The text key(k) writes: `k` as a JSON string and the separator after it.
    /// Throws type_error when `k` is not valid UTF-8.
    static std::string prepare_key(std::string_view k);
    /// The JSON text of `s`, quotes included. Throws type_error when `s` is not valid UTF-8.
    static std::string quoted(std::string_view s);
    void string(std::string_view s);
    void integer(std::int64_t i);
    void unsigned_integer(std::uint64_t u);
    void floating(double d);
    void boolean(bool b);
    void null();
    /// A whole tree, as write_json writes it.
    void tree(const value& v);
    /// One JSON value already written (by a json_text at this depth), copied as it is.
    void raw(std::string_view text);
    /// Forgets the containers left open by a write that threw: the next value is written as the
    /// first one was (the caller takes the text written since back).
    void reset() noexcept;

private:
    void before_value();
    void newline();
    void open(char bracket);
    void close(char bracket);

    std::string& out_;
    json_write_options options_;
    int depth_;
    int first_depth_;
    std::vector<bool> open_; // per open container: no item written in it yet
    bool after_key_ = false;
};

/// True when `s` is valid UTF-8 (what JSON and Python require of strings).
bool is_valid_utf8(std::string_view s) noexcept;

/// Parses one JSON document (Python's non-finite tokens accepted). `source` names the member
/// or file in the error message. A key repeated in one object keeps its last value, as in
/// Python, unless `reject_duplicate_keys` makes it an error naming the key. Arrays and objects
/// nested deeper than `max_depth` are refused with limit_error.
value parse_json(std::string_view text, std::string_view source, bool reject_duplicate_keys = false,
                 std::uint64_t max_depth = read_limits{}.max_json_depth);

/// What a buffer holds past the end of the JSON text it gives the parser as `padded_json`: the
/// fast parser reads up to that far ahead, and copies any other text into a buffer of its own
/// first (for a 2 MB member, 500 page faults and a copy of the whole text).
inline constexpr std::size_t json_padding = 64;
/// JSON text followed by at least json_padding readable bytes.
struct padded_json {
    std::string_view text;
};
/// parse_json of text that needs no copy.
value parse_json(padded_json text, std::string_view source, bool reject_duplicate_keys = false,
                 std::uint64_t max_depth = read_limits{}.max_json_depth);

/// Which members of JSON objects parse_json_pruned builds: asked with the object's depth (0 for
/// the root object's keys) and the key.
using json_member_filter = std::function<bool(std::size_t depth, std::string_view key)>;

/// Parses and checks the whole document as parse_json does, but builds only the members of
/// objects that `keep` accepts, for reading a few keys of a large document cheaply. (A document
/// outside the fast parser's reach is built whole.)
value parse_json_pruned(padded_json text, std::string_view source, const json_member_filter& keep,
                        std::uint64_t max_depth = read_limits{}.max_json_depth);

} // namespace zanj::detail
