// JSON text as Python writes and reads it: NaN tokens, tab indentation, separators, UTF-8.
#include <catch2/catch.hpp>

#include <zanj/detail/json_io.hpp>
#include <zanj/value.hpp>

#include <cmath>
#include <limits>

using zanj::value;
using zanj::detail::parse_json;
using zanj::detail::write_json;

TEST_CASE("Python's non-finite tokens are read as floats", "[json]") {
    value v = parse_json(R"({"a": NaN, "b": Infinity, "c": -Infinity, "d": [NaN, 1.5]})", "test");
    CHECK(std::isnan(v["a"].as_double()));
    CHECK(v["b"].as_double() == std::numeric_limits<double>::infinity());
    CHECK(v["c"].as_double() == -std::numeric_limits<double>::infinity());
    CHECK(std::isnan(v["d"][0].as_double()));
    CHECK(v["d"][1].as_double() == 1.5);
}

TEST_CASE("the tokens inside strings stay text", "[json]") {
    value v = parse_json(R"({"NaN": "NaN and -Infinity", "x": "zanj-nonfinite:nan", "y": NaN})", "test");
    CHECK(v["NaN"].as_string() == "NaN and -Infinity");
    CHECK(v["x"].as_string() == "zanj-nonfinite:nan");
    CHECK(std::isnan(v["y"].as_double()));
}

TEST_CASE("non-finite floats are written as Python's tokens", "[json]") {
    value v = value::list();
    v.as_list().emplace_back(std::numeric_limits<double>::quiet_NaN());
    v.as_list().emplace_back(std::numeric_limits<double>::infinity());
    v.as_list().emplace_back(-std::numeric_limits<double>::infinity());
    CHECK(write_json(v, {.indent = -1}) == "[NaN, Infinity, -Infinity]");
}

TEST_CASE("the tree is written as json.dumps(indent='\\t') writes it", "[json]") {
    value v;
    v["a"] = 1;
    v["b"] = value::list();
    v["b"].as_list().emplace_back(1.0);
    v["b"].as_list().emplace_back("x");
    v["c"] = value::dict();
    v["d"] = value::list();
    CHECK(write_json(v) == "{\n\t\"a\": 1,\n\t\"b\": [\n\t\t1.0,\n\t\t\"x\"\n\t],\n\t\"c\": {},\n\t\"d\": []\n}");
    CHECK(write_json(v, {.indent = -1}) == R"({"a": 1, "b": [1.0, "x"], "c": {}, "d": []})");
}

TEST_CASE("json_text written piece by piece lays out text as write_json does", "[json]") {
    value v;
    v["a"] = 1;
    v["b"] = value::list();
    v["b"].as_list().emplace_back(-2.5);
    v["b"].as_list().emplace_back(value::dict());
    v["c"] = value::dict();
    v["c"]["k\"ey"] = "v\nal";
    v["c"]["n"] = value();
    v["c"]["t"] = true;
    v["d"] = std::uint64_t{18446744073709551615u};
    for (int indent : {-1, 0, 1, 2}) {
        INFO("indent " << indent);
        std::string out = "prefix ";
        zanj::detail::json_text t(out, {.indent = indent});
        t.begin_object();
        t.key("a");
        t.integer(1);
        t.key("b");
        t.begin_list();
        t.floating(-2.5);
        t.begin_object();
        t.end_object();
        t.end_list();
        t.key("c");
        // A value written apart at the depth it will sit at, then copied in.
        std::string inner;
        zanj::detail::json_text apart(inner, {.indent = indent}, 1);
        apart.begin_object();
        apart.key("k\"ey");
        apart.string("v\nal");
        apart.key("n");
        apart.null();
        apart.key("t");
        apart.boolean(true);
        apart.end_object();
        t.raw(inner);
        t.key("d");
        t.unsigned_integer(18446744073709551615u);
        t.end_object();
        CHECK(out == "prefix " + write_json(v, {.indent = indent}));
        CHECK_THROWS_AS(t.end_object(), zanj::usage_error);
    }
    std::string out;
    zanj::detail::json_text t(out);
    CHECK_THROWS_AS(t.key("bad \xC3"), zanj::type_error);
    CHECK_THROWS_AS(t.string("bad \xED\xA0\x80"), zanj::type_error);
}

TEST_CASE("floats keep a float form and round-trip exactly", "[json]") {
    for (double d : {0.1, 1.0, -0.0, 1e300, 5e-324, 123456789.125, 1.0 / 3.0}) {
        std::string text = write_json(value(d));
        CHECK(text.find_first_of(".e") != std::string::npos);
        value back = parse_json(text, "test");
        REQUIRE(back.is_float());
        CHECK(back.as_double() == d);
        CHECK(std::signbit(back.as_double()) == std::signbit(d));
    }
}

TEST_CASE("integers of every range round-trip", "[json]") {
    for (std::int64_t i : {std::int64_t{0}, std::int64_t{-1}, std::numeric_limits<std::int64_t>::min(),
                           std::numeric_limits<std::int64_t>::max()}) {
        value back = parse_json(write_json(value(i)), "test");
        CHECK(back.as_int() == i);
    }
    value big = parse_json(write_json(value(std::numeric_limits<std::uint64_t>::max())), "test");
    CHECK(big.as_uint() == std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE("strings are escaped and UTF-8 is checked", "[json]") {
    std::string s = "quote\" backslash\\ newline\n tab\t nul";
    s += '\0';
    s += " bell\x07 h\xC3\xA9llo \xF0\x9F\x8E\x89";
    std::string text = write_json(value(s));
    CHECK(text.find("\\u0000") != std::string::npos);
    CHECK(text.find("\\u0007") != std::string::npos);
    CHECK(parse_json(text, "test").as_string() == s);
    CHECK(parse_json(R"("\u00e9\ud83c\udf89")", "test").as_string() == "\xC3\xA9\xF0\x9F\x8E\x89");

    CHECK_FALSE(zanj::detail::is_valid_utf8("\xC3"));
    CHECK_FALSE(zanj::detail::is_valid_utf8("\xC0\x80"));     // overlong
    CHECK_FALSE(zanj::detail::is_valid_utf8("\xED\xA0\x80")); // surrogate
    CHECK_FALSE(zanj::detail::is_valid_utf8("\xFF"));
    CHECK(zanj::detail::is_valid_utf8("plain \xE4\xB8\x96\xE7\x95\x8C"));
    CHECK_THROWS_AS(write_json(value(std::string("\xFF"))), zanj::type_error);
}

TEST_CASE("invalid JSON is a format_error naming the source", "[json]") {
    CHECK_THROWS_AS(parse_json("{\"a\": }", "__zanj__.json"), zanj::format_error);
    CHECK_THROWS_WITH(parse_json("[1, 2", "__zanj__.json"), Catch::Contains("__zanj__.json"));
    CHECK_THROWS_AS(parse_json("", "x.jsonl line 3"), zanj::format_error);
    CHECK_THROWS_AS(parse_json("nan", "x"), zanj::format_error); // only Python's spelling
}

TEST_CASE("dict keys keep their order and duplicates keep the last, as in Python", "[json]") {
    value v = parse_json(R"({"z": 1, "a": 2, "m": 3, "a": 4})", "test");
    std::vector<std::string> keys;
    for (const auto& [k, x] : v.as_dict()) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"z", "a", "m"});
    CHECK(v["a"].as_int() == 4);
}

TEST_CASE("large dicts are looked up through their index", "[json]") {
    value v = value::dict();
    for (int i = 0; i < 1000; ++i) v[std::to_string(i)] = i;
    CHECK(v["737"].as_int() == 737);
    CHECK(v.find("1000") == nullptr);
    v.as_dict().erase("737");
    CHECK(v.find("737") == nullptr);
    CHECK(v["738"].as_int() == 738);
    CHECK(v.size() == 999);
}

TEST_CASE("a large dict parsed with a repeated key keeps its first place and last value", "[json]") {
    // 40 keys: past the size where dicts are indexed, on both the fast and the fallback path.
    std::string text = "{";
    for (int i = 0; i < 40; ++i) text += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ", ";
    text += "\"k5\": \"last\"}";
    const std::string with_nan = text.substr(0, text.size() - 1) + ", \"n\": NaN}";
    for (const std::string& doc : {text, with_nan}) {
        value v = parse_json(doc, "test");
        REQUIRE(v.is_dict());
        CHECK(v.size() == (doc == text ? 40u : 41u));
        CHECK(v.as_dict().begin()[5].first == "k5");
        CHECK(v["k5"].as_string() == "last");
        CHECK(v["k39"].as_int() == 39);
        CHECK_THROWS_WITH(parse_json(doc, "strict.json", true), Catch::Contains("duplicate key \"k5\""));
    }
    CHECK(std::isnan(parse_json(with_nan, "test")["n"].as_double()));
}

TEST_CASE("documents outside the fast parser's reach read as before", "[json]") {
    // Integers past 64 bits, non-finite tokens, and nesting deeper than the fast parser's own
    // limit all go through the complete parser.
    CHECK(parse_json("[18446744073709551615]", "t")[0].as_uint() == 18446744073709551615ull);
    CHECK(parse_json("[123456789012345678901234567890]", "t")[0].is_float());
    CHECK(parse_json("-0", "t").as_int() == 0);
    CHECK(std::signbit(parse_json("-0.0", "t").as_double()));
    CHECK(std::isinf(parse_json("[-Infinity]", "t")[0].as_double()));
    const std::string deep = std::string(2000, '[') + std::string(2000, ']');
    value v = parse_json(deep, "t", false, 3000);
    std::size_t depth = 0;
    for (const value* cur = &v; cur->is_list() && !cur->as_list().empty(); cur = &cur->as_list()[0]) ++depth;
    CHECK(depth == 1999);
    CHECK_THROWS_AS(parse_json(deep, "t", false, 1999), zanj::limit_error);
    CHECK_NOTHROW(parse_json(deep, "t", false, 2000));
    const std::string shallow = std::string(10, '[') + std::string(10, ']');
    CHECK_NOTHROW(parse_json(shallow, "t", false, 10));
    CHECK_THROWS_AS(parse_json(shallow, "t", false, 9), zanj::limit_error);
}

TEST_CASE("value_dict from a vector of items drops repeated keys as Python's dict does", "[json]") {
    for (int n : {3, 100}) {
        std::vector<zanj::value_dict::item_type> items;
        for (int i = 0; i < n; ++i) items.emplace_back("k" + std::to_string(i), value(i));
        items.emplace_back("k1", value("again"));
        zanj::value_dict d(std::move(items));
        CHECK(d.size() == static_cast<std::size_t>(n));
        CHECK(d.begin()[1].first == "k1");
        CHECK(d.find("k1")->as_string() == "again");
        CHECK(d.find("k" + std::to_string(n - 1))->as_int() == n - 1);
        CHECK(d.find("absent") == nullptr);
        zanj::value_dict copy = d;
        CHECK(copy == d);
        CHECK(copy.find("k2")->as_int() == 2);
    }
}

namespace {
// Text followed by the room padded_json promises, as zip_reader::read(entry, json_padding) gives it.
class padded_copy {
public:
    explicit padded_copy(std::string_view text)
        : storage_(std::string(text) + std::string(zanj::detail::json_padding, '\0')), size_(text.size()) {}
    operator zanj::detail::padded_json() const { return {std::string_view(storage_).substr(0, size_)}; }

private:
    std::string storage_;
    std::size_t size_;
};
} // namespace

TEST_CASE("padded text parses as any other text does, without a copy", "[json]") {
    const char* documents[] = {
        R"({"a": [1, 2.5, "x\u00e9"], "b": {"c": null, "d": true}})",
        "[18446744073709551615, 123456789012345678901234567890]", // past 64 bits
        R"({"x": NaN, "y": [-Infinity]})",                        // Python's tokens
        R"({"k": 1, "k": 2})",                                    // a repeated key
        "  42  ",
    };
    for (const char* text : documents) {
        INFO(text);
        const value expected = parse_json(text, "t");
        const value padded = parse_json(padded_copy(text), "t");
        CHECK(padded.dump() == expected.dump());
    }
    // The bytes past the text are not part of it.
    CHECK(parse_json(padded_copy("[1]"), "t").size() == 1);
    for (const char* bad : {"[1, ", "{\"a\" 1}", "", "[1] x"}) {
        INFO(bad);
        CHECK_THROWS_WITH(parse_json(padded_copy(bad), "member.json"), Catch::Contains("member.json"));
    }
    CHECK_THROWS_AS(parse_json(padded_copy(R"({"k": 1, "k": 2})"), "t", true), zanj::format_error);
    CHECK_THROWS_AS(parse_json(padded_copy("[[[[1]]]]"), "t", false, 3), zanj::limit_error);
}

TEST_CASE("a pruned parse builds only the members asked for, and checks the whole text", "[json]") {
    const std::string text =
        R"({"keep": {"a": [1, {"x": 2, "y": 3}], "b": "text"}, "skip": {"deep": [1, 2, 3]}, "n": 4})";
    const zanj::detail::json_member_filter keep = [](std::size_t depth, std::string_view key) {
        return depth == 0 ? key == "keep" : depth == 1 ? key == "a" : key == "x";
    };
    value v = zanj::detail::parse_json_pruned(padded_copy(text), "t", keep);
    CHECK(v == parse_json(R"({"keep": {"a": [1, {"x": 2}]}})", "t"));
    // Invalid text is refused even where nothing would be built.
    CHECK_THROWS_WITH(zanj::detail::parse_json_pruned(padded_copy(R"({"keep": 1, "skip": [1, })"), "meta.json", keep),
                      Catch::Contains("meta.json"));
    // Outside the fast path (a NaN token) the whole document is built; what was asked for is there.
    value whole = zanj::detail::parse_json_pruned(padded_copy(R"({"keep": {"a": NaN}, "skip": Infinity})"), "t", keep);
    CHECK(std::isnan(whole["keep"]["a"].as_double()));
}
