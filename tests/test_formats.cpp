// The formats users already have: .npy and .npz against numpy (tests/python/formats_numpy.py),
// .safetensors against a reader and writer written from the format's specification
// (tests/python/safetensors_ref.py), load_any, and flattening trees into flat files and back.
#include <catch2/catch.hpp>

#include "support.hpp"

#include <zanj/detail/zip.hpp>
#include <zanj/zanj.hpp>

#include <nlohmann/json.hpp>

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using zanj::dtype;
using zanj::ndarray;
using json = nlohmann::ordered_json;

namespace {

fs::path fresh_dir() { return zanj_test::fresh_dir("formats"); }

std::string hex_of(std::span<const std::byte> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::byte b : bytes) {
        out += digits[std::to_integer<unsigned>(b) >> 4];
        out += digits[std::to_integer<unsigned>(b) & 0xF];
    }
    return out;
}

// An array as the Python scripts print one; `type` overrides the dtype's name.
json describe(const ndarray& a, std::optional<std::string> type = {}) {
    return {{"dtype", type ? *type : std::string(zanj::dtype_name(a.type()))},
            {"shape", a.shape()},
            {"hex", hex_of(a.byte_span())}};
}

// Runs a script of tests/python, which must succeed; returns what it printed.
std::string run_script(const std::string& script, const std::string& args) {
    const auto r = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script(script) + " " + args);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    return r.output;
}

json run_json(const std::string& script, const std::string& args) { return json::parse(run_script(script, args)); }

json read_json(const fs::path& p) {
    const auto bytes = zanj_test::read_file(p);
    return json::parse(bytes.begin(), bytes.end());
}

// Deterministic bytes for every element, so that every bit pattern of a dtype shows up.
ndarray pattern(dtype t, zanj::shape_type shape, unsigned seed) {
    ndarray a(t, std::move(shape));
    for (std::size_t i = 0; i < a.nbytes(); ++i)
        a.bytes()[i] = static_cast<std::byte>((i * 37 + seed * 101 + (i >> 3)) & 0xFF);
    if (t == dtype::bool_)
        for (std::size_t i = 0; i < a.size(); ++i) a.bytes()[i] = static_cast<std::byte>((i + seed) % 3 == 0);
    return a;
}

const dtype numpy_dtypes[] = {dtype::bool_,   dtype::int8,    dtype::int16,     dtype::int32,     dtype::int64,
                              dtype::uint8,   dtype::uint16,  dtype::uint32,    dtype::uint64,    dtype::float16,
                              dtype::float32, dtype::float64, dtype::complex64, dtype::complex128};

// safetensors' dtype names, written out here as the tests' own reading of the specification.
const std::map<std::string, dtype> safetensors_dtypes{
    {"BOOL", dtype::bool_},         {"U8", dtype::uint8},      {"I8", dtype::int8},
    {"I16", dtype::int16},          {"U16", dtype::uint16},    {"I32", dtype::int32},
    {"U32", dtype::uint32},         {"I64", dtype::int64},     {"U64", dtype::uint64},
    {"F16", dtype::float16},        {"BF16", dtype::bfloat16}, {"F32", dtype::float32},
    {"F64", dtype::float64},        {"C64", dtype::complex64}, {"F8_E4M3", dtype::float8_e4m3fn},
    {"F8_E5M2", dtype::float8_e5m2}};

std::string safetensors_name(dtype t) {
    for (const auto& [name, type] : safetensors_dtypes)
        if (type == t) return name;
    return "?";
}

bool no_temporary_files(const fs::path& dir) {
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().find(".tmp-") != std::string::npos) return false;
    return true;
}

} // namespace

TEST_CASE("numpy's .npy and .npz files are read bit for bit", "[formats][python]") {
    const fs::path dir = fresh_dir();
    run_script("formats_numpy.py", "write " + zanj_test::quote(dir));
    const json expected = read_json(dir / "expected.json");
    REQUIRE(expected.size() > 40);
    for (const auto& [file, arrays] : expected.items()) {
        CAPTURE(file);
        const fs::path p = dir / file;
        const bool npz = p.extension() == ".npz";
        CHECK(zanj::detect_format(p) == (npz ? zanj::file_format::npz : zanj::file_format::npy));
        const zanj::value any = zanj::load_any(p);
        if (!npz) {
            const ndarray a = zanj::read_npy(p);
            CHECK(describe(a) == arrays[""]);
            REQUIRE(any.is_array());
            CHECK(any.as_array() == a);
            continue;
        }
        const zanj::value dict = zanj::read_npz(p);
        REQUIRE(dict.is_dict());
        std::vector<std::string> names, expected_names;
        for (const auto& [name, item] : dict.as_dict()) {
            CAPTURE(name);
            names.push_back(name);
            REQUIRE(item.is_array());
            CHECK(describe(item.as_array()) == arrays[name]);
        }
        for (const auto& [name, _] : arrays.items()) expected_names.push_back(name);
        CHECK(names == expected_names); // the archive's order
        CHECK(any == dict);
    }
}

TEST_CASE("numpy reads the .npy and .npz files we write", "[formats][python]") {
    const fs::path dir = fresh_dir();
    zanj::value::dict_type arrays;
    unsigned seed = 0;
    for (dtype t : numpy_dtypes) arrays.insert_or_assign(zanj::dtype_name(t), pattern(t, {3, 4}, seed++));
    arrays.insert_or_assign("zero_d", pattern(dtype::float64, {}, 1));
    arrays.insert_or_assign("empty", pattern(dtype::int32, {2, 0, 3}, 2));
    arrays.insert_or_assign("layers/0/w", pattern(dtype::float32, {300, 5}, 3));
    // No numpy dtype: numpy finds the bits.
    arrays.insert_or_assign("bits", pattern(dtype::bfloat16, {7}, 4));
    const zanj::value all(arrays);

    for (auto method : {zanj::compression_method::store, zanj::compression_method::deflate}) {
        CAPTURE(zanj::to_string(method));
        const fs::path p = dir / (std::string(zanj::to_string(method)) + ".npz");
        zanj::write_npz(p, all, {method});
        const json dumped = run_json("formats_numpy.py", "dump " + zanj_test::quote(p));
        REQUIRE(dumped["arrays"].size() == arrays.size());
        for (const auto& [name, item] : arrays) {
            CAPTURE(name);
            const ndarray& a = item.as_array();
            CHECK(dumped["arrays"][name] == describe(a, std::string(zanj::dtype_name(zanj::storage_dtype(a.type())))));
            CHECK(dumped["methods"][name + ".npy"] ==
                  (method == zanj::compression_method::store ? "stored" : "deflated"));
        }
        // And back: the same arrays, bfloat16 now its uint16 bits.
        const zanj::value back = zanj::read_npz(p);
        CHECK(back["float16"].as_array() == arrays["float16"].as_array());
        CHECK(back["layers/0/w"].as_array() == arrays["layers/0/w"].as_array());
        CHECK(back["bits"].as_array() == arrays["bits"].as_array().view_as(dtype::uint16));
    }
    SECTION(".npy files") {
        for (const char* name : {"complex128", "zero_d", "empty", "bool"}) {
            const fs::path p = dir / (std::string(name) + ".npy");
            zanj::write_npy(p, arrays[name].as_array());
            CHECK(run_json("formats_numpy.py", "dump " + zanj_test::quote(p))["arrays"][""] ==
                  describe(arrays[name].as_array()));
            CHECK(zanj::read_npy(p) == arrays[name].as_array());
        }
        // Over an existing file, through a temporary one that does not stay behind.
        zanj::write_npy(dir / "bool.npy", arrays["int8"].as_array());
        CHECK(zanj::read_npy(dir / "bool.npy").type() == dtype::int8);
        CHECK(no_temporary_files(dir));
    }
    SECTION("what numpy cannot read is refused") {
        CHECK_THROWS_AS(zanj::write_npz(dir / "z.npz", all, {zanj::compression_method::zstd}), zanj::usage_error);
        CHECK_THROWS_WITH(zanj::write_npz(dir / "z.npz", zanj::value(zanj::value::dict_type{{"x", zanj::value(1)}})),
                          Catch::Contains("write_npz: 'x' is not an ndarray (found int)"));
        CHECK_FALSE(fs::exists(dir / "z.npz"));
        CHECK(no_temporary_files(dir));
    }
}

TEST_CASE("malformed and foreign .npy and .npz files are refused with the file named", "[formats]") {
    const fs::path dir = fresh_dir();
    zanj_test::write_file(dir / "text.npy", "hello, world");
    CHECK_THROWS_AS(zanj::read_npy(dir / "text.npy"), zanj::format_error);
    CHECK_THROWS_WITH(zanj::read_npy(dir / "text.npy"), Catch::Contains("magic") && Catch::Contains("text.npy"));

    const ndarray a = pattern(dtype::float32, {4}, 0);
    zanj::write_npy(dir / "good.npy", a);
    auto bytes = zanj_test::read_file(dir / "good.npy");
    zanj_test::write_file(dir / "short.npy", std::string(bytes.begin(), bytes.end() - 3));
    CHECK_THROWS_WITH(zanj::read_npy(dir / "short.npy"),
                      Catch::Contains("needs 16 bytes of data") && Catch::Contains("short.npy"));

    zanj::write_npz(dir / "good.npz", zanj::value(zanj::value::dict_type{{"w", zanj::value(a)}}));
    bytes = zanj_test::read_file(dir / "good.npz");
    zanj_test::write_file(dir / "truncated.npz", std::string(bytes.begin(), bytes.begin() + 60));
    CHECK_THROWS_AS(zanj::read_npz(dir / "truncated.npz"), zanj::format_error);
    CHECK_THROWS_WITH(zanj::read_npz(dir / "truncated.npz"), Catch::Contains("truncated.npz"));

    // A member whose NPY header is damaged: the member and the file are named.
    std::string damaged(bytes.begin(), bytes.end());
    const auto magic = damaged.find("\x93NUMPY");
    REQUIRE(magic != std::string::npos);
    damaged[magic + 6] = 9; // version 9.0; the zip CRC then fails first, so store a fresh archive
    {
        zanj::detail::zip_writer zip(dir / "bad_member.npz");
        const std::string member = damaged.substr(magic, 64 + 16);
        zip.add("w.npy", std::as_bytes(std::span(member.data(), member.size())), {});
        zip.commit();
    }
    CHECK_THROWS_WITH(zanj::read_npz(dir / "bad_member.npz"), Catch::Contains("unsupported NPY version 9") &&
                                                                  Catch::Contains("bad_member.npz") &&
                                                                  Catch::Contains("member w.npy"));

    // A zanj archive is a zip, but no .npz.
    const fs::path z = zanj::ZANJ{}.save(std::map<std::string, int>{{"a", 1}}, dir / "tree");
    CHECK_THROWS_WITH(zanj::read_npz(z), Catch::Contains(".json' of") && Catch::Contains("is not an .npy array"));
}

TEST_CASE("safetensors files written from the specification are read", "[formats][python]") {
    const fs::path dir = fresh_dir();
    run_script("safetensors_ref.py", "write-samples " + zanj_test::quote(dir));
    const json expected = read_json(dir / "expected.json");
    REQUIRE(expected.size() == 5);
    for (const auto& [file, content] : expected.items()) {
        CAPTURE(file);
        const fs::path p = dir / file;
        const zanj::safetensors_file f = zanj::read_safetensors(p);
        std::map<std::string, std::string> metadata;
        for (const auto& [k, v] : content["metadata"].items()) metadata[k] = v.get<std::string>();
        CHECK(f.metadata == metadata);
        REQUIRE(f.tensors.size() == content["tensors"].size());
        for (const auto& [name, t] : content["tensors"].items()) {
            CAPTURE(name);
            const zanj::value* item = f.tensors.find(name);
            REQUIRE(item);
            REQUIRE(item->is_array());
            const ndarray& a = item->as_array();
            CHECK(a.type() == safetensors_dtypes.at(t["dtype"].get<std::string>()));
            CHECK(describe(a, t["dtype"].get<std::string>()) == t);
        }
        CHECK(zanj::detect_format(p) == zanj::file_format::safetensors);
        CHECK(zanj::load_any(p) == f.tensors);
    }
    const zanj::value tensors = zanj::read_safetensors(dir / "every_dtype.safetensors").tensors;
    CHECK(tensors["t_bf16"].as_array().type() == dtype::bfloat16);
    CHECK(tensors["t_f8_e4m3"].as_array().type() == dtype::float8_e4m3fn);
    CHECK(tensors["t_f8_e5m2"].as_array().type() == dtype::float8_e5m2);
    CHECK(tensors["nested/name.with.dots"].as_array().shape() == zanj::shape_type{2, 2, 2});
}

TEST_CASE("the reference reader reads the safetensors files we write", "[formats][python]") {
    const fs::path dir = fresh_dir();
    zanj::value::dict_type tensors;
    unsigned seed = 0;
    for (const auto& [name, t] : safetensors_dtypes) tensors.insert_or_assign("t_" + name, pattern(t, {3, 5}, seed++));
    tensors.insert_or_assign("scalar", pattern(dtype::float64, {}, 1));
    tensors.insert_or_assign("empty", pattern(dtype::int16, {2, 0}, 2));
    tensors.insert_or_assign("layers/0/w \xE4\xB8\x96", pattern(dtype::float32, {2, 3}, 3));
    const std::map<std::string, std::string> metadata{{"format", "pt"}, {"note \xC3\xA9", "line\nbreak \"quoted\""}};
    const fs::path p = dir / "ours.safetensors";
    zanj::write_safetensors(p, zanj::value(tensors), metadata);
    CHECK(no_temporary_files(dir));

    const json dumped = run_json("safetensors_ref.py", "dump " + zanj_test::quote(p));
    CHECK(dumped["header_size"].get<std::uint64_t>() % 8 == 0); // so the data starts aligned
    json meta_expected = json::object();
    for (const auto& [k, v] : metadata) meta_expected[k] = v;
    CHECK(dumped["metadata"] == meta_expected);
    REQUIRE(dumped["tensors"].size() == tensors.size());
    for (const auto& [name, item] : tensors) {
        CAPTURE(name);
        CHECK(dumped["tensors"][name] == describe(item.as_array(), safetensors_name(item.as_array().type())));
    }
    // The reference writer's layout: decreasing alignment (its dtype order), then name.
    const auto order = dumped["order"].get<std::vector<std::string>>();
    const std::vector<std::string> head{"t_U64", "t_I64", "scalar", "t_F64", "t_C64", "layers/0/w \xE4\xB8\x96",
                                        "t_F32"};
    CHECK(std::vector<std::string>(order.begin(), order.begin() + 7) == head);
    CHECK(order.back() == "t_BOOL");

    const zanj::safetensors_file back = zanj::read_safetensors(p);
    CHECK(back.metadata == metadata);
    for (const auto& [name, item] : tensors) CHECK(back.tensors[name].as_array() == item.as_array());

    SECTION("what safetensors cannot hold is refused") {
        zanj::value::dict_type bad;
        bad.insert_or_assign("z", pattern(dtype::complex128, {2}, 0));
        CHECK_THROWS_WITH(zanj::write_safetensors(dir / "bad.safetensors", zanj::value(bad)),
                          Catch::Contains("'z' is complex128, which safetensors has no dtype for"));
        bad = {};
        bad.insert_or_assign("__metadata__", pattern(dtype::uint8, {2}, 0));
        CHECK_THROWS_AS(zanj::write_safetensors(dir / "bad.safetensors", zanj::value(bad)), zanj::usage_error);
        CHECK_FALSE(fs::exists(dir / "bad.safetensors"));
    }
}

namespace {

// The bytes of a safetensors file; `length` overrides the header length written.
std::string safetensors_bytes(const std::string& header, const std::string& data,
                              std::optional<std::uint64_t> length = {}) {
    const std::uint64_t n = length ? *length : header.size();
    std::string bytes;
    for (int b = 0; b < 8; ++b) bytes += static_cast<char>((n >> (8 * b)) & 0xFF);
    return bytes + header + data;
}

// A file breaking the safetensors format, and what our reader must say about it.
struct malformed_case {
    std::string bytes;
    std::string reason;
};

malformed_case bad(const std::string& header, const std::string& data, const std::string& reason,
                   std::optional<std::uint64_t> length = {}) {
    return {safetensors_bytes(header, data, length), reason};
}

const std::vector<malformed_case>& malformed_safetensors() {
    static const std::string w4 = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
    static const std::vector<malformed_case> cases{
        {"abc", "fewer than the 8 of the header length"}, // a whole file of 3 bytes
        bad(w4.substr(0, 20), "", "runs past the end of the file", 200),
        bad(w4, "abcd", "exceeds the format's limit of 100000000 bytes", 100'000'001),
        bad("  " + w4, "abcd", "does not start with '{'"),
        bad(R"({"w":{"dtype":"F32",)", "", "invalid JSON"),
        bad("{\"w\xFF\":1}", "", "invalid JSON"),
        bad(R"({"w":[1]})", "", "tensor 'w' is described by [1], not an object"),
        bad(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", "abcd", "tensor 'w' lacks \"dtype\""),
        bad(R"({"w":{"dtype":"F32","shape":[1]}})", "abcd", "tensor 'w' lacks \"data_offsets\""),
        bad(R"({"w":{"dtype":"F128","shape":[1],"data_offsets":[0,4]}})", "abcd",
            "tensor 'w' has the unknown or unsupported dtype \"F128\" (supported: BOOL, U8"),
        bad(R"({"w":{"dtype":"F8_E8M0","shape":[4],"data_offsets":[0,4]}})", "abcd", "unsupported dtype \"F8_E8M0\""),
        bad(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "abcd",
            "tensor 'w' has the shape [-1], not a list of non-negative integers"),
        bad(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", "abcd",
            "not a list of non-negative integers"),
        bad(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", "abcd",
            "tensor 'w' has the data_offsets [4, 0]"),
        bad(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", "abcd", "not [begin, end]"),
        bad(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}})", "abcd", "not [begin, end]"),
        bad(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "abcd",
            "tensor 'w' has the shape (2,) of F32, which needs 8 bytes, but its data_offsets [0, 4] hold 4"),
        bad(R"({"w":{"dtype":"F64","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})", "abcdefgh",
            "whose byte size overflows"),
        bad(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            "abcdefghijkl", "tensor 'b' has data_offsets [4, 12], which overlap tensor 'a' at [0, 8]"),
        bad(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[0],"data_offsets":[2,2]}})",
            "abcd", "tensor 'b' has data_offsets [2, 2], which overlap tensor 'a' at [0, 4]"),
        bad(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
            "abcdefghijkl", "tensor 'b' has data_offsets [8, 12], which leave a gap of 4 bytes after tensor 'a'"),
        bad(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", "abcdefgh",
            "leave a gap of 4 bytes at the start of the data"),
        bad(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "abcd",
            "tensor 'w' has data_offsets [0, 8], past the end of the data (4 bytes)"),
        bad(w4, "abcdefgh", "the tensors cover 4 bytes of data, but the file holds 8 (trailing bytes)"),
        bad(R"({})", "abcd", "the tensors cover 0 bytes of data, but the file holds 4 (trailing bytes)"),
        bad(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
            "abcdefgh", "duplicate key \"w\""),
        bad(R"({"__metadata__":{"k":1}})", "", "__metadata__ maps strings to strings, but 'k' holds 1"),
        bad(R"({"__metadata__":{"k":null}})", "", "__metadata__ maps strings to strings, but 'k' holds null"),
        bad(R"({"__metadata__":[]})", "", "__metadata__ is not an object of strings"),
    };
    return cases;
}

// Writes the malformed cases into `dir`, in their order.
std::vector<fs::path> write_malformed(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const malformed_case& c : malformed_safetensors()) {
        files.push_back(dir / ("case" + std::to_string(files.size()) + ".safetensors"));
        zanj_test::write_file(files.back(), c.bytes);
    }
    return files;
}

} // namespace

TEST_CASE("malformed safetensors files are refused with the file and tensor named", "[formats]") {
    const fs::path dir = fresh_dir();
    const std::string w4 = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
    const fs::path good = dir / "good.safetensors";
    zanj_test::write_file(good, safetensors_bytes(w4, "abcd"));
    CHECK(zanj::read_safetensors(good).tensors.size() == 1);

    const std::vector<fs::path> files = write_malformed(dir);
    for (std::size_t i = 0; i < files.size(); ++i) {
        const std::string& reason = malformed_safetensors()[i].reason;
        CAPTURE(files[i], reason);
        CHECK_THROWS_AS(zanj::read_safetensors(files[i]), zanj::format_error);
        CHECK_THROWS_WITH(zanj::read_safetensors(files[i]),
                          Catch::Contains(reason) && Catch::Contains(files[i].string()));
    }

    // Whatever the name, the bytes decide; what they do not fit is said plainly.
    CHECK(zanj::detect_format(good) == zanj::file_format::safetensors);
    zanj_test::write_file(dir / "notes.safetensors", "just some text");
    CHECK_THROWS_WITH(zanj::load_any(dir / "notes.safetensors"), Catch::Contains("cannot tell the format of"));
}

TEST_CASE("the reference reader refuses the same malformed safetensors files", "[formats][python]") {
    // Each case breaks the specification, not only our reader's taste.
    const fs::path dir = fresh_dir();
    const std::vector<fs::path> files = write_malformed(dir);
    std::string args = "refuses";
    for (const fs::path& f : files) args += " " + zanj_test::quote(f);
    const json verdicts = run_json("safetensors_ref.py", args);
    for (std::size_t i = 0; i < files.size(); ++i) {
        CAPTURE(files[i], malformed_safetensors()[i].reason);
        REQUIRE(verdicts.contains(files[i].string()));
        CHECK(verdicts[files[i].string()].is_string()); // the reason; null would be accepted
    }
}

TEST_CASE("load_any tells formats apart by their bytes", "[formats]") {
    const fs::path dir = fresh_dir();
    std::map<std::string, std::vector<double>> tree{{"a", {1.5, 2.5}}};
    const fs::path z = zanj::ZANJ{}.save(tree, dir / "tree");
    fs::copy_file(z, dir / "tree_named.npz");
    CHECK(zanj::detect_format(dir / "tree_named.npz") == zanj::file_format::zanj);
    CHECK(zanj::load_any(dir / "tree_named.npz") == zanj::ZANJ{}.read(z));

    const zanj::value arrays(zanj::value::dict_type{{"w", zanj::value(pattern(dtype::int64, {3}, 0))}});
    zanj::write_npz(dir / "arrays.bin", arrays);
    CHECK(zanj::detect_format(dir / "arrays.bin") == zanj::file_format::npz);
    zanj::write_safetensors(dir / "arrays.npy", arrays);
    CHECK(zanj::detect_format(dir / "arrays.npy") == zanj::file_format::safetensors);
    CHECK(zanj::load_any(dir / "arrays.npy") == arrays);
    zanj::write_npy(dir / "w.safetensors", arrays["w"].as_array());
    CHECK(zanj::load_any(dir / "w.safetensors") == arrays["w"]);
    zanj::write_npz(dir / "empty.npz", zanj::value::dict());
    CHECK(zanj::load_any(dir / "empty.npz") == zanj::value::dict());
    CHECK(zanj::to_string(zanj::file_format::safetensors) == "safetensors");
    CHECK_THROWS_AS(zanj::load_any(dir / "missing.npz"), zanj::io_error);
}

TEST_CASE("trees flatten to /-joined names and back", "[formats]") {
    const ndarray w0 = pattern(dtype::float32, {2, 3}, 0), b0 = pattern(dtype::float32, {3}, 1),
                  w1 = pattern(dtype::bfloat16, {3, 3}, 2), head = pattern(dtype::int8, {4}, 3);
    zanj::value tree = zanj::value::dict();
    tree["layers"] = zanj::value(
        zanj::value::list_type{zanj::value(zanj::value::dict_type{
                                   {"w", zanj::value(w0)}, {"b", zanj::value(b0)}, {"name", zanj::value("l0")}}),
                               zanj::value(zanj::value::dict_type{{"w", zanj::value(w1)}})});
    tree["head"]["w"] = zanj::value(head);
    tree["lr"] = zanj::value(0.1);

    CHECK_THROWS_AS(zanj::flatten_arrays(tree), zanj::type_error);
    CHECK_THROWS_WITH(zanj::flatten_arrays(tree),
                      Catch::Contains("a str is not an array") && Catch::Contains("/layers/0/name"));
    const zanj::value flat = zanj::flatten_arrays(tree, {.skip_non_arrays = true});
    std::vector<std::string> names;
    for (const auto& [name, _] : flat.as_dict()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"layers/0/w", "layers/0/b", "layers/1/w", "head/w"});
    CHECK(flat["layers/1/w"].as_array() == w1);

    const zanj::value nested = zanj::unflatten_arrays(flat);
    CHECK(nested["layers"]["0"]["b"].as_array() == b0);
    CHECK(nested["layers"]["1"]["w"].as_array() == w1);
    CHECK(nested["head"]["w"].as_array() == head);
    CHECK(zanj::flatten_arrays(nested) == flat);

    SECTION("a bare array is the single name \"\"") {
        const zanj::value single = zanj::flatten_arrays(zanj::value(w0));
        CHECK(single.size() == 1);
        CHECK(single[""].as_array() == w0);
        CHECK(zanj::unflatten_arrays(single).as_array() == w0);
    }
    SECTION("names that cannot be told apart are refused") {
        zanj::value slash = zanj::value::dict();
        slash["a"]["b/c"] = zanj::value(w0);
        CHECK_THROWS_WITH(zanj::flatten_arrays(slash),
                          Catch::Contains("the key 'b/c' cannot be a step") && Catch::Contains("/a"));
        auto flat_of = [](std::initializer_list<std::string> keys, const ndarray& a) {
            zanj::value::dict_type d;
            for (const auto& k : keys) d.insert_or_assign(k, zanj::value(a));
            return zanj::value(std::move(d));
        };
        CHECK_THROWS_WITH(zanj::unflatten_arrays(flat_of({"a", "a/b"}, w0)),
                          Catch::Contains("'a' is both an array and a folder"));
        CHECK_THROWS_WITH(zanj::unflatten_arrays(flat_of({"a/b", "a"}, w0)),
                          Catch::Contains("'a' is both an array and a folder"));
        CHECK_THROWS_WITH(zanj::unflatten_arrays(flat_of({"a//b"}, w0)), Catch::Contains("'a//b' has an empty step"));
        CHECK_THROWS_AS(zanj::unflatten_arrays(zanj::value(zanj::value::dict_type{{"a", zanj::value(1)}})),
                        zanj::usage_error);
    }
    SECTION("a zanj archive through a safetensors file and an npz") {
        const fs::path dir = fresh_dir();
        const fs::path z = zanj::ZANJ{}.save(tree, dir / "tree");
        const zanj::value from_zanj = zanj::flatten_arrays(zanj::load_any(z), {.skip_non_arrays = true});
        CHECK(from_zanj == flat);
        zanj::write_safetensors(dir / "tree.safetensors", from_zanj, {{"source", "tree.zanj"}});
        const zanj::value again = zanj::unflatten_arrays(zanj::load_any(dir / "tree.safetensors"));
        CHECK(again["layers"]["1"]["w"].as_array() == w1); // bfloat16 kept: BF16
        CHECK(again["head"]["w"].as_array() == head);
        zanj::write_npz(dir / "tree.npz", from_zanj);
        CHECK(zanj::unflatten_arrays(zanj::load_any(dir / "tree.npz"))["layers"]["0"]["w"].as_array() == w0);
    }
}

TEST_CASE("the writers report their progress up to the total", "[formats][progress]") {
    const fs::path dir = fresh_dir();
    // 9 MiB in one array, more than one of the 8 MiB pieces the file writers report.
    const ndarray large = pattern(dtype::float32, {9 * 1024 * 256}, 0);
    zanj::value arrays = zanj::value::dict();
    arrays["large"] = zanj::value(large);
    arrays["small"] = zanj::value(pattern(dtype::int16, {300}, 1));
    arrays["bits"] = zanj::value(pattern(dtype::bfloat16, {4, 5}, 2));

    std::vector<std::uint64_t> calls;
    const zanj::progress_callback record = [&](std::uint64_t done) { calls.push_back(done); };
    auto growing = [&] {
        INFO("calls: " << calls.size());
        REQUIRE(!calls.empty());
        for (std::size_t i = 1; i < calls.size(); ++i) CHECK(calls[i] > calls[i - 1]);
        return calls.back();
    };
    auto members_total = [](const fs::path& p) {
        std::uint64_t total = 0;
        const zanj::detail::zip_reader zip(p); // kept: a range-for over a temporary's member dangles
        for (const auto& e : zip.entries()) total += e.uncompressed_size;
        return total;
    };

    SECTION("a zanj save: after each member, ending at their total") {
        zanj::config settings;
        settings.progress = record;
        zanj::value tree = arrays;
        tree["rows"] = zanj::value(zanj::value::list_type(300, zanj::value(7)));
        const fs::path p = zanj::ZANJ(settings).save(tree, dir / "tree");
        CHECK(calls.size() == 5); // 2 .npy (bits, of 20 elements, is inline), 1 .jsonl, 2 JSON
        CHECK(growing() == members_total(p));
        CHECK(calls.front() >= large.nbytes()); // the arrays come first
        calls.clear();
        zanj::ZANJ{}.save(tree, dir / "quiet"); // no hook, no calls
        CHECK(calls.empty());
    }
    SECTION("an npz: after each member") {
        zanj::write_npz(dir / "a.npz", arrays, {zanj::compression_method::deflate}, record);
        CHECK(calls.size() == 3);
        CHECK(growing() == members_total(dir / "a.npz"));
    }
    SECTION("a safetensors file: after each piece of at most 8 MiB") {
        zanj::write_safetensors(dir / "a.safetensors", arrays, {{"k", "v"}}, record);
        CHECK(calls.size() == 6); // length, header, large in two pieces, small, bits
        CHECK(growing() == fs::file_size(dir / "a.safetensors"));
    }
    SECTION("an npy file") {
        zanj::write_npy(dir / "a.npy", large, record);
        CHECK(calls.size() == 3); // header, two pieces
        CHECK(growing() == fs::file_size(dir / "a.npy"));
        CHECK(zanj::read_npy(dir / "a.npy") == large);
    }
}
