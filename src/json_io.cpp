#include <zanj/detail/json_io.hpp>

#include "json_dom.hpp"

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

namespace zanj::detail {

// ---- writing --------------------------------------------------------------------------------

namespace {

// The length of the UTF-8 sequence starting at `i` (whose first byte is not ASCII), or 0 when
// it is not valid UTF-8.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0)
        n = 1, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
        n = 2, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
        n = 3, cp = c & 0x07;
    else
        return 0;
    if (i + n >= s.size()) return 0; // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
        auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n + 1;
}

// What write_string does with each byte: copy it (0), escape it (1: controls, '"', '\\'), or
// check the UTF-8 sequence it starts (2). One pass does the check and the escaping: two passes
// were a tenth of the time of writing a tree of many short strings.
constexpr std::array<std::uint8_t, 256> byte_class = [] {
    std::array<std::uint8_t, 256> table{};
    for (int c = 0; c < 0x20; ++c) table[c] = 1;
    table['"'] = table['\\'] = 1;
    for (int c = 0x80; c < 0x100; ++c) table[c] = 2;
    return table;
}();

// [[gnu::flatten]] on this and json_text's value writers inlines std::string's appends into them (GCC
// otherwise calls them out of line, for every character): 7% of writing 100,000 records' lines.
[[gnu::flatten]] void write_string(std::string_view s, std::string& out) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    std::size_t run = 0; // plain bytes go in runs: appending them one by one was slow
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        switch (byte_class[c]) {
        case 0: ++i; continue;
        case 2:
            if (const std::size_t n = utf8_sequence_length(s, i)) {
                i += n;
                continue;
            }
            throw type_error("string is not valid UTF-8 (byte " + std::to_string(i) + "): JSON and Python need UTF-8");
        default: break;
        }
        out.append(s.data() + run, i - run);
        run = ++i;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xF];
        }
    }
    out.append(s.data() + run, s.size() - run);
    out += '"';
}

void write_double(double d, std::string& out) {
    if (std::isnan(d)) {
        out += "NaN";
        return;
    }
    if (std::isinf(d)) {
        out += d > 0 ? "Infinity" : "-Infinity";
        return;
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    std::string_view text(buf, static_cast<std::size_t>(end - buf));
    out += text;
    // Python writes 1.0, not 1: keep floats recognisable as floats.
    if (text.find_first_of(".en") == std::string_view::npos) out += ".0";
}

template <class I>
void write_integer(I i, std::string& out) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, i);
    out.append(buf, end);
}

} // namespace

bool is_valid_utf8(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
        } else if (const std::size_t n = utf8_sequence_length(s, i)) {
            i += n;
        } else {
            return false;
        }
    }
    return true;
}

json_text::json_text(std::string& out, const json_write_options& options, int depth)
    : out_(out), options_(options), depth_(depth), first_depth_(depth) {}

void json_text::reset() noexcept {
    depth_ = first_depth_;
    open_.clear();
    after_key_ = false;
}

void json_text::newline() {
    if (options_.indent < 0) return;
    out_ += '\n';
    out_.append(static_cast<std::size_t>(depth_ * options_.indent), '\t');
}

[[gnu::flatten]] void json_text::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (open_.empty()) return;
    if (open_.back()) {
        open_.back() = false;
        newline();
    } else if (options_.indent < 0) {
        out_.append(", ", 2);
    } else {
        out_ += ',';
        newline();
    }
}

void json_text::open(char bracket) {
    before_value();
    out_ += bracket;
    open_.push_back(true);
    ++depth_;
}

void json_text::close(char bracket) {
    if (open_.empty()) throw usage_error("json_text: a container closed that was never opened");
    --depth_;
    if (!open_.back()) newline(); // an empty container stays "{}" or "[]"
    open_.pop_back();
    out_ += bracket;
}

void json_text::begin_object() { open('{'); }
void json_text::end_object() { close('}'); }
void json_text::begin_list() { open('['); }
void json_text::end_list() { close(']'); }

[[gnu::flatten]] void json_text::key(std::string_view k) {
    before_value();
    write_string(k, out_);
    out_ += ": ";
    after_key_ = true;
}

[[gnu::flatten]] void json_text::prepared_key(std::string_view text) {
    before_value();
    out_ += text;
    after_key_ = true;
}

std::string json_text::prepare_key(std::string_view k) { return quoted(k) + ": "; }

std::string json_text::quoted(std::string_view s) {
    std::string out;
    write_string(s, out);
    return out;
}

[[gnu::flatten]] void json_text::string(std::string_view s) {
    before_value();
    write_string(s, out_);
}

[[gnu::flatten]] void json_text::integer(std::int64_t i) {
    before_value();
    write_integer(i, out_);
}

[[gnu::flatten]] void json_text::unsigned_integer(std::uint64_t u) {
    before_value();
    write_integer(u, out_);
}

[[gnu::flatten]] void json_text::floating(double d) {
    before_value();
    write_double(d, out_);
}

[[gnu::flatten]] void json_text::boolean(bool b) {
    before_value();
    out_ += b ? "true" : "false";
}

void json_text::null() {
    before_value();
    out_ += "null";
}

void json_text::raw(std::string_view text) {
    before_value();
    out_ += text;
}

void json_text::tree(const value& v) {
    switch (v.type()) {
    case value::kind::null: return null();
    case value::kind::boolean: return boolean(v.as_bool());
    case value::kind::integer: return integer(v.as_int());
    case value::kind::unsigned_integer: return unsigned_integer(v.as_uint());
    case value::kind::floating: return floating(v.as_double());
    case value::kind::string: return string(v.as_string());
    case value::kind::list:
        begin_list();
        for (const value& item : v.as_list()) tree(item);
        return end_list();
    case value::kind::dict:
        begin_object();
        for (const auto& [k, item] : v.as_dict()) {
            key(k);
            tree(item);
        }
        return end_object();
    case value::kind::set: {
        const auto& s = v.as_set();
        begin_object();
        key(format_key);
        string(s.frozen ? "frozenset" : "set");
        key("data");
        begin_list();
        for (const value& item : s.items) tree(item);
        end_list();
        return end_object();
    }
    case value::kind::array: {
        if (!options_.describe_arrays)
            throw type_error("an ndarray cannot be written as JSON directly; it must go through the serializer");
        const auto& a = v.as_array();
        return string("array(" + std::string(dtype_name(a.type())) + ", " + a.shape_string() + ")");
    }
    }
}

void write_json(const value& v, std::string& out, const json_write_options& options) {
    json_text(out, options).tree(v);
}

std::string write_json(const value& v, const json_write_options& options) {
    std::string out;
    write_json(v, out, options);
    return out;
}

// ---- parsing --------------------------------------------------------------------------------

namespace {

// nlohmann rejects Python's NaN/Infinity tokens, so they are swapped, outside strings only, for
// string literals carrying a marker that does not occur in the text; the SAX handler turns those
// strings back into floats.
struct nonfinite_rewrite {
    std::string text;
    std::string marker; // empty when the text had no such token
};

nonfinite_rewrite rewrite_nonfinite(std::string_view in) {
    nonfinite_rewrite r;
    bool in_string = false;
    std::size_t copied = 0;
    auto replace = [&](std::size_t at, std::size_t len, std::string_view which) {
        if (r.marker.empty()) {
            r.marker = "\x01zanj-nonfinite";
            while (in.find(r.marker.substr(1)) != std::string_view::npos) r.marker += '~';
            r.text.reserve(in.size() + 64);
        }
        r.text.append(in.substr(copied, at - copied));
        r.text += '"';
        r.text += "\\u0001";
        r.text += std::string_view(r.marker).substr(1);
        r.text += which;
        r.text += '"';
        copied = at + len;
    };
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        else if (c == 'N' && in.substr(i, 3) == "NaN")
            replace(i, 3, ":nan"), i += 2;
        else if (c == 'I' && in.substr(i, 8) == "Infinity")
            replace(i, 8, ":inf"), i += 7;
        else if (c == '-' && in.substr(i, 9) == "-Infinity")
            replace(i, 9, ":-inf"), i += 8;
    }
    if (!r.marker.empty()) r.text.append(in.substr(copied));
    return r;
}

class value_builder : public nlohmann::json_sax<nlohmann::json> {
public:
    value_builder(std::string marker, bool reject_duplicate_keys, std::uint64_t max_depth)
        : marker_(std::move(marker)), reject_duplicate_keys_(reject_duplicate_keys), max_depth_(max_depth) {}

    bool null() override { return put(value{}); }
    bool boolean(bool b) override { return put(value(b)); }
    bool number_integer(number_integer_t i) override { return put(value(i)); }
    bool number_unsigned(number_unsigned_t u) override { return put(value(u)); }
    bool number_float(number_float_t d, const string_t&) override { return put(value(d)); }
    bool string(string_t& s) override {
        if (!marker_.empty() && s.size() > marker_.size() && s.compare(0, marker_.size(), marker_) == 0) {
            std::string_view which = std::string_view(s).substr(marker_.size());
            if (which == ":nan") return put(value(std::numeric_limits<double>::quiet_NaN()));
            if (which == ":inf") return put(value(std::numeric_limits<double>::infinity()));
            if (which == ":-inf") return put(value(-std::numeric_limits<double>::infinity()));
        }
        return put(value(std::move(s)));
    }
    bool binary(binary_t&) override { return false; }
    bool start_object(std::size_t) override {
        if (too_deep()) return false;
        stack_.push_back(&put_ref(value::dict()));
        return true;
    }
    bool key(string_t& k) override {
        if (reject_duplicate_keys_ && stack_.back()->as_dict().contains(k)) {
            error_ = "duplicate key \"" + k + "\"";
            return false;
        }
        key_ = std::move(k);
        return true;
    }
    bool end_object() override {
        stack_.pop_back();
        return true;
    }
    bool start_array(std::size_t) override {
        if (too_deep()) return false;
        stack_.push_back(&put_ref(value::list()));
        return true;
    }
    bool end_array() override {
        stack_.pop_back();
        return true;
    }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
        error_ = ex.what();
        position_ = position;
        return false;
    }

    value root;
    std::string error_;
    std::size_t position_ = 0;
    bool depth_exceeded_ = false;

private:
    // Values are rebuilt and destroyed recursively: the depth is bounded before either happens.
    bool too_deep() {
        if (stack_.size() < max_depth_) return false;
        depth_exceeded_ = true;
        return true;
    }
    bool put(value v) {
        put_ref(std::move(v));
        return true;
    }
    value& put_ref(value v) {
        if (stack_.empty()) {
            root = std::move(v);
            return root;
        }
        value& parent = *stack_.back();
        if (parent.is_list()) {
            auto& l = parent.as_list();
            l.push_back(std::move(v));
            return l.back();
        }
        // Python keeps the last of duplicate keys.
        return parent.as_dict().insert_or_assign(key_, std::move(v));
    }

    std::string marker_;
    bool reject_duplicate_keys_ = false;
    std::uint64_t max_depth_ = 0;
    std::string key_;
    std::vector<value*> stack_;
};

// simdjson parses most documents several times faster than nlohmann's SAX parser, but it
// stops at what Python may also write: NaN and Infinity tokens, integers beyond 64 bits. It is
// the fast path; any document it refuses goes through the nlohmann path, which accepts those
// and words the errors (with a position) for the documents that really are malformed.
class simd_builder {
public:
    simd_builder(std::string_view marker, bool reject_duplicate_keys, std::uint64_t max_depth,
                 const json_member_filter* keep)
        : marker_(marker), reject_duplicate_keys_(reject_duplicate_keys), max_depth_(max_depth), keep_(keep) {}

    // False when the document holds a duplicate key that must be refused, or nests too deep.
    bool build(simdjson::dom::element e, value& out, std::uint64_t depth = 0) {
        using simdjson::dom::element_type;
        auto type = e.type();
        if ((type == element_type::OBJECT || type == element_type::ARRAY) && ++depth > max_depth_) return false;
        switch (type) {
        case element_type::OBJECT: {
            simdjson::dom::object object(e);
            std::vector<value_dict::item_type> items;
            // Room for the members kept only: the meta's externals_info has 10,000 entries of
            // seven members when a whole read keeps three of each.
            std::size_t kept = object.size();
            if (keep_) {
                kept = 0;
                for (auto [key, child] : object) kept += (*keep_)(static_cast<std::size_t>(depth - 1), key) ? 1 : 0;
            }
            items.reserve(kept);
            for (auto [key, child] : object) {
                if (keep_ && !(*keep_)(static_cast<std::size_t>(depth - 1), key)) continue;
                if (!build(child, items.emplace_back(std::string(key), value{}).second, depth)) return false;
            }
            const std::size_t items_built = items.size();
            value_dict dict(std::move(items));
            // The dict keeps one item of each key: fewer items means a repeated key.
            if (reject_duplicate_keys_ && dict.size() != items_built) return false;
            out = value(std::move(dict));
            return true;
        }
        case element_type::ARRAY: {
            simdjson::dom::array array(e);
            value::list_type list;
            list.reserve(array.size());
            for (auto child : array)
                if (!build(child, list.emplace_back(), depth)) return false;
            out = value(std::move(list));
            return true;
        }
        case element_type::INT64: out = value(std::int64_t(e)); return true;
        case element_type::UINT64: out = value(std::uint64_t(e)); return true;
        case element_type::DOUBLE: out = value(double(e)); return true;
        case element_type::STRING: {
            std::string_view s(e);
            if (!marker_.empty() && s.size() > marker_.size() && s.substr(0, marker_.size()) == marker_) {
                std::string_view which = s.substr(marker_.size());
                if (which == ":nan") return out = value(std::numeric_limits<double>::quiet_NaN()), true;
                if (which == ":inf") return out = value(std::numeric_limits<double>::infinity()), true;
                if (which == ":-inf") return out = value(-std::numeric_limits<double>::infinity()), true;
            }
            out = value(std::string(s));
            return true;
        }
        case element_type::BOOL: out = value(bool(e)); return true;
        case element_type::NULL_VALUE: out = value(); return true;
        }
        return false;
    }

private:
    std::string_view marker_;
    bool reject_duplicate_keys_;
    std::uint64_t max_depth_;
    const json_member_filter* keep_; // null: every member
};

// Small documents (the lines of a .jsonl member) reuse one parser per thread; large ones get
// their own, so that a thread does not keep a large document's buffers for its lifetime.
constexpr std::size_t reused_parser_limit = std::size_t{1} << 20;

static_assert(json_padding >= simdjson::SIMDJSON_PADDING);

// `padded`: the text is followed by json_padding readable bytes.
std::optional<value> parse_json_fast(std::string_view text, bool padded, std::string_view marker,
                                     bool reject_duplicate_keys, std::uint64_t max_depth,
                                     const json_member_filter* keep = nullptr) {
    thread_local simdjson::dom::parser reused;
    std::optional<simdjson::dom::parser> own;
    simdjson::dom::parser* parser = &reused;
    if (text.size() > reused_parser_limit) parser = &own.emplace();
    // Deeper documents fail here and get the nlohmann path's limit_error.
    std::size_t depth = static_cast<std::size_t>(std::min<std::uint64_t>(max_depth, simdjson::DEFAULT_MAX_DEPTH));
    if (parser->max_depth() != depth && parser->allocate(std::max(text.size(), parser->capacity()), depth)) return {};
    simdjson::dom::element root;
    if (parser->parse(text.data(), text.size(), !padded).get(root)) return {};
    value out;
    if (!simd_builder(marker, reject_duplicate_keys, max_depth, keep).build(root, out)) return {};
    return out;
}

// The documents the fast parser refused, or holding Python's non-finite tokens.
value parse_json_slow(std::string_view text, std::string_view source, bool reject_duplicate_keys,
                      std::uint64_t max_depth) {
    nonfinite_rewrite rewritten = rewrite_nonfinite(text);
    if (!rewritten.marker.empty())
        if (auto fast = parse_json_fast(rewritten.text, false, rewritten.marker, reject_duplicate_keys, max_depth))
            return std::move(*fast);
    std::string_view input = rewritten.marker.empty() ? text : std::string_view(rewritten.text);
    value_builder builder(rewritten.marker, reject_duplicate_keys, max_depth);
    bool ok = false;
    try {
        ok = nlohmann::json::sax_parse(input.begin(), input.end(), &builder);
    } catch (const nlohmann::json::exception& e) {
        builder.error_ = e.what();
    }
    if (builder.depth_exceeded_)
        throw limit_error("JSON in " + std::string(source) + " nests arrays and objects deeper than " +
                          "read_limits::max_json_depth (" + std::to_string(max_depth) + ")");
    if (!ok) {
        std::string why = builder.error_.empty() ? "invalid JSON" : builder.error_;
        throw format_error("invalid JSON in " + std::string(source) + ": " + why);
    }
    return std::move(builder.root);
}

} // namespace

std::unique_ptr<json_dom> json_dom::parse(padded_json text) {
    auto dom = std::make_unique<json_dom>();
    // A parser of its own, dropped here with its buffers: the document alone stays.
    simdjson::dom::parser parser;
    if (parser.parse_into_document(dom->doc_, text.text.data(), text.text.size(), false).get(dom->root_))
        return nullptr;
    return dom;
}

std::uint64_t dom_node::as_uint() const {
    if (e_.is_int64()) {
        const std::int64_t i(e_);
        if (i < 0) throw type_error("negative integer " + std::to_string(i) + " where an unsigned one is expected");
        return static_cast<std::uint64_t>(i);
    }
    if (e_.is_uint64()) return std::uint64_t(e_);
    throw type_error("expected int, found a JSON value that is not an integer");
}

value dom_node::to_value() const {
    value out;
    // Cannot fail: no depth limit (the open checked it), and repeated keys are kept as
    // parse_json keeps them.
    simd_builder({}, false, std::numeric_limits<std::uint64_t>::max(), nullptr).build(e_, out);
    return out;
}

value parse_json(std::string_view text, std::string_view source, bool reject_duplicate_keys, std::uint64_t max_depth) {
    if (auto fast = parse_json_fast(text, false, {}, reject_duplicate_keys, max_depth)) return std::move(*fast);
    return parse_json_slow(text, source, reject_duplicate_keys, max_depth);
}

value parse_json(padded_json text, std::string_view source, bool reject_duplicate_keys, std::uint64_t max_depth) {
    if (auto fast = parse_json_fast(text.text, true, {}, reject_duplicate_keys, max_depth)) return std::move(*fast);
    return parse_json_slow(text.text, source, reject_duplicate_keys, max_depth);
}

value parse_json_pruned(padded_json text, std::string_view source, const json_member_filter& keep,
                        std::uint64_t max_depth) {
    if (auto fast = parse_json_fast(text.text, true, {}, false, max_depth, &keep)) return std::move(*fast);
    return parse_json_slow(text.text, source, false, max_depth);
}

} // namespace zanj::detail
