// The lazy `zanj::archive`: listing items without reading arrays, finding and reading sub-trees,
// filtered reads, zero-copy views of stored members, row slices, verify(), reads from several
// threads, and the parallel chunked CRC behind large copies. Archives come from us and from
// tests/python/write_archive_fixtures.py (Python's layout: unaligned stored members, big-endian
// and Fortran-order .npy data, deflate); damaged ones are made by flipping bytes of good ones.

#include <zanj/zanj.hpp>

#include <zanj/detail/codec.hpp>
#include <zanj/detail/crc32.hpp>
#include <zanj/detail/zip.hpp>

#include "raw_zip.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <zip.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using Catch::Contains;

// ---- types and archives used by the tests -------------------------------------------------------

namespace archive_test {

struct Layer {
    std::string name;
    xt::xarray<float> w;
    std::vector<int> shape;
    friend bool operator==(const Layer& a, const Layer& b) {
        return a.name == b.name && a.w == b.w && a.shape == b.shape;
    }
};
ZANJ_DATACLASS(Layer, name, w, shape);

struct Record {
    std::int64_t i = 0;
    xt::xarray<float> w;
    friend bool operator==(const Record& a, const Record& b) { return a.i == b.i && a.w == b.w; }
};
ZANJ_DATACLASS(Record, i, w);

// One item of every kind: dataclasses, an external array, inline and 0-d arrays, nested dicts
// and lists, a key with a slash, external lists (one of dicts holding external arrays), a set.
struct Inventory {
    std::string title = "inventory";
    Layer layer;
    xt::xarray<float> small = {{1.5f, 2.5f, 3.5f}, {4.5f, 5.5f, 6.5f}};
    xt::xarray<double> scalar = xt::xarray<double>(2.5);
    std::map<std::string, std::vector<int>> nested{{"a", {1, 2}}};
    std::map<std::string, int> odd{{"a/b", 7}};
    std::vector<int> ints;
    std::vector<Record> records;
    std::set<int> tags{3, 4};
    friend bool operator==(const Inventory& a, const Inventory& b) {
        return a.title == b.title && a.layer == b.layer && a.small == b.small && a.scalar == b.scalar &&
               a.nested == b.nested && a.odd == b.odd && a.ints == b.ints && a.records == b.records && a.tags == b.tags;
    }
};
ZANJ_DATACLASS(Inventory, title, layer, small, scalar, nested, odd, ints, records, tags);

Inventory make_inventory() {
    Inventory inv;
    inv.layer = {"l0", xt::reshape_view(xt::arange<float>(0, 512) * 0.5f, {16, 32}), {16, 32}};
    for (int i = 0; i < 300; ++i) inv.ints.push_back(i * 3);
    for (int i = 0; i < 256; ++i) inv.records.push_back({i, xt::arange<float>(0, 256) + float(i)});
    return inv;
}

// Arrays of rank 1, 2 and 3, external (r*) and inline (i*), plus a 0-d and an empty one.
struct Slices {
    xt::xarray<float> r1 = xt::arange<float>(0, 300) * 0.25f;
    xt::xarray<std::int32_t> r2 = xt::reshape_view(xt::arange<std::int32_t>(-100, 220), {20, 16});
    xt::xarray<double> r3 = xt::reshape_view(xt::arange<double>(0, 320) * 1.5, {4, 8, 10});
    xt::xarray<float> i1 = xt::arange<float>(0, 10);
    xt::xarray<std::int16_t> i2 = xt::reshape_view(xt::arange<std::int16_t>(0, 12), {3, 4});
    xt::xarray<double> i3 = xt::reshape_view(xt::arange<double>(0, 24) - 3.0, {2, 3, 4});
    xt::xarray<double> zero_d = xt::xarray<double>(-1.25);
    xt::xarray<float> empty = xt::zeros<float>({0, 5});
};
ZANJ_DATACLASS(Slices, r1, r2, r3, i1, i2, i3, zero_d, empty);

// Fields that are zanj::ndarray load as views under access::view.
struct Weights {
    std::string name = "weights";
    zanj::ndarray w;
    zanj::ndarray b;
    zanj::ndarray small;
};
ZANJ_DATACLASS(Weights, name, w, b, small);

// The Python fixtures' layers and records (tests/python/write_archive_fixtures.py).
struct PyLayer {
    std::string name;
    zanj::ndarray w;
    std::vector<int> shape;
};
ZANJ_DATACLASS(PyLayer, name, w, shape);
struct PyRecord {
    std::int64_t i = 0;
    xt::xarray<float> w;
};
ZANJ_DATACLASS(PyRecord, i, w);

struct Big {
    xt::xarray<float> big;
};
ZANJ_DATACLASS(Big, big);

// More than 32 items at the root, in a dict and in a list: what the archive indexes at the open.
struct Wide {
    std::map<std::string, xt::xarray<float>> arrays;
    std::vector<Record> records;
    std::map<std::string, int> counts;
    friend bool operator==(const Wide& a, const Wide& b) {
        return a.arrays == b.arrays && a.records == b.records && a.counts == b.counts;
    }
};
ZANJ_DATACLASS(Wide, arrays, records, counts);

Wide make_wide() {
    Wide w;
    for (int i = 0; i < 100; ++i) {
        // Every third array goes to a member, the others inline; one key holds a slash.
        const std::string key = i == 50 ? "k/50" : "k" + std::to_string(i);
        w.arrays[key] = xt::arange<float>(0, i % 3 == 0 ? 300 : 3) + float(i);
        w.counts["c" + std::to_string(i)] = i;
    }
    for (int i = 0; i < 40; ++i) w.records.push_back({i, xt::arange<float>(0, i % 2 ? 400 : 4) * float(i)});
    return w;
}

} // namespace archive_test

using namespace archive_test;

namespace {

fs::path fresh_dir() { return zanj_test::fresh_dir("archive"); }

zanj::config arrays_with(zanj::compression_method m) {
    zanj::config c;
    c.compress.arrays = {m};
    return c;
}

template <class T>
fs::path saved(const T& obj, const zanj::config& cfg = {}, const std::string& name = "x") {
    return zanj::ZANJ(cfg).save(obj, fresh_dir() / name);
}

std::string file_bytes(const fs::path& p) {
    std::vector<char> v = zanj_test::read_file(p);
    return {v.begin(), v.end()};
}

void flip_byte(const fs::path& p, std::uint64_t offset) {
    std::string bytes = file_bytes(p);
    REQUIRE(offset < bytes.size());
    bytes[static_cast<std::size_t>(offset)] = static_cast<char>(~bytes[static_cast<std::size_t>(offset)]);
    zanj_test::write_file(p, bytes);
}

// Where in `e`'s data (from the middle on) flipping a byte really changes the member. In a
// deflate stream, a flip in the distance of a match inside a run of equal bytes (the JSON's
// tab indentation) can decode to the very same text: nothing could detect that, nor need to.
std::uint64_t damaging_flip_offset(const fs::path& p, const zanj::detail::zip_reader& reader,
                                   const zanj::detail::zip_entry& e) {
    const std::uint64_t start = reader.data_offset(e);
    if (e.method == zanj::compression_method::store) return start + e.compressed_size / 2;
    const std::string bytes = file_bytes(p);
    std::string stream = bytes.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(e.compressed_size));
    const std::shared_ptr<std::byte> original = reader.read(e);
    const auto size = static_cast<std::size_t>(e.uncompressed_size);
    std::vector<std::byte> out(size);
    for (std::size_t k = stream.size() / 2; k < stream.size(); ++k) {
        stream[k] = static_cast<char>(~stream[k]);
        bool changed = true;
        try {
            zanj::detail::decompress(e.method, std::as_bytes(std::span(stream.data(), stream.size())), out, e.name,
                                     p.string());
            changed = std::memcmp(out.data(), original.get(), size) != 0;
        } catch (const zanj::format_error&) {}
        stream[k] = static_cast<char>(~stream[k]);
        if (changed) return start + k;
    }
    FAIL("no byte of the second half of " << e.name << " changes it when flipped");
    return 0;
}

// Where a member's data starts in the file (after its local header), as our zip reader sees it.
std::uint64_t member_data_offset(const fs::path& p, const std::string& member) {
    zanj::detail::zip_reader r(p);
    const zanj::detail::zip_entry* e = r.find(member);
    REQUIRE(e);
    return r.data_offset(*e);
}

// Where a stored .npy member's array data starts in the file (after the NPY header).
std::uint64_t npy_data_offset(const fs::path& p, const std::string& member) {
    const std::uint64_t start = member_data_offset(p, member);
    const std::string bytes = file_bytes(p);
    REQUIRE(bytes.compare(static_cast<std::size_t>(start), 6, "\x93NUMPY") == 0);
    auto byte = [&](std::uint64_t i) {
        return std::uint64_t(static_cast<unsigned char>(bytes[static_cast<std::size_t>(start + i)]));
    };
    if (byte(6) == 1) return start + 10 + (byte(8) | byte(9) << 8);
    return start + 12 + (byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24);
}

// How libzip, an independent reader, lists a member.
struct listed {
    std::uint16_t method = 0;
    std::uint64_t compressed_size = 0;
    std::uint64_t size = 0;
};
listed libzip_stat(const fs::path& p, const std::string& member) {
    int code = 0;
    zip_t* z = zip_open(p.c_str(), ZIP_RDONLY, &code);
    REQUIRE(z);
    zip_stat_t st;
    zip_stat_init(&st);
    const int found = zip_stat(z, member.c_str(), ZIP_FL_ENC_RAW, &st);
    zip_discard(z);
    REQUIRE(found == 0);
    return {st.comp_method, st.comp_size, st.size};
}

// The exception `f` throws, which must be an E.
template <class E, class F>
E thrown(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e;
    }
    FAIL("no exception of the expected type was thrown");
    throw std::logic_error("unreachable");
}

// Element k of an array of the dtypes the fixtures use, as a double.
double element(const zanj::ndarray& a, std::size_t k) {
    switch (a.type()) {
    case zanj::dtype::uint8: return a.values<std::uint8_t>()[k];
    case zanj::dtype::int16: return a.values<std::int16_t>()[k];
    case zanj::dtype::int32: return a.values<std::int32_t>()[k];
    case zanj::dtype::int64: return static_cast<double>(a.values<std::int64_t>()[k]);
    case zanj::dtype::float32: return a.values<float>()[k];
    case zanj::dtype::float64: return a.values<double>()[k];
    default: FAIL("unexpected dtype " << zanj::dtype_name(a.type())); return 0;
    }
}

// Whether element k of `a` is k for every k (the fixtures' np.arange arrays).
bool is_arange(const zanj::ndarray& a) {
    for (std::size_t k = 0; k < a.size(); ++k)
        if (element(a, k) != static_cast<double>(k)) return false;
    return true;
}

bool aligned(const void* p, std::size_t to) { return reinterpret_cast<std::uintptr_t>(p) % to == 0; }

// A typed array as an ndarray (a copy), to compare with what the archive gives.
template <class E>
zanj::ndarray as_ndarray(const xt::xarray<E>& x) {
    zanj::shape_type shape(x.shape().begin(), x.shape().end());
    return zanj::ndarray::from(std::span<const E>(x.data(), x.size()), shape.empty() ? zanj::shape_type{} : shape);
}

// Writes the Python fixtures into a fresh folder; returns it.
fs::path python_fixtures() {
    fs::path dir = fresh_dir();
    auto result = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("write_archive_fixtures.py") +
                                 " " + zanj_test::quote(dir));
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
    return dir;
}

nlohmann::json python_layout(const fs::path& dir, const std::string& archive) {
    return nlohmann::json::parse(file_bytes(dir / "layout.json")).at(archive);
}

// "layers/0/w.npy" -> "/layers/0/w"
std::string object_path_of(const std::string& member) { return "/" + member.substr(0, member.size() - 4); }

} // namespace

// ---- 1. the lazy handle ---------------------------------------------------------------------------

TEST_CASE("archive items() lists every item with its kind, format and array details", "[archive][items]") {
    const Inventory inv = make_inventory();
    struct variant {
        zanj::compression_method arrays;
        zanj::array_mode mode;
        std::string mode_name;
    };
    for (const variant& v :
         {variant{zanj::compression_method::store, zanj::array_mode::array_list_meta, "array_list_meta"},
          variant{zanj::compression_method::deflate, zanj::array_mode::array_hex_meta, "array_hex_meta"},
          variant{zanj::compression_method::zstd, zanj::array_mode::array_b64_meta, "array_b64_meta"}}) {
        INFO("arrays " << zanj::to_string(v.arrays) << ", inline mode " << v.mode_name);
        zanj::config cfg = arrays_with(v.arrays);
        cfg.internal_array_mode = v.mode;
        const fs::path p = saved(inv, cfg);
        zanj::archive a(p);

        // Every item, parents first, in the tree's order; nothing inside arrays or external lists.
        std::vector<std::pair<std::string, zanj::item_kind>> listing;
        for (const auto& item : a.items()) listing.emplace_back(item.path.str(), item.kind);
        using k = zanj::item_kind;
        const std::vector<std::pair<std::string, zanj::item_kind>> expected{{"/", k::object},
                                                                            {"/title", k::string},
                                                                            {"/layer", k::object},
                                                                            {"/layer/name", k::string},
                                                                            {"/layer/w", k::array},
                                                                            {"/layer/shape", k::list},
                                                                            {"/layer/shape/0", k::integer},
                                                                            {"/layer/shape/1", k::integer},
                                                                            {"/small", k::array},
                                                                            {"/scalar", k::array},
                                                                            {"/nested", k::dict},
                                                                            {"/nested/a", k::list},
                                                                            {"/nested/a/0", k::integer},
                                                                            {"/nested/a/1", k::integer},
                                                                            {"/odd", k::dict},
                                                                            {"/odd/a/b", k::integer},
                                                                            {"/ints", k::external_list},
                                                                            {"/records", k::external_list},
                                                                            {"/tags", k::object},
                                                                            {"/tags/data", k::list},
                                                                            {"/tags/data/0", k::integer},
                                                                            {"/tags/data/1", k::integer}};
        CHECK(listing == expected);

        auto item = [&](const std::string& path) {
            for (const auto& i : a.items())
                if (i.path.str() == path) return i;
            FAIL("no item " << path);
            return zanj::item_info{};
        };
        CHECK(item("/").format == "Inventory(SerializableDataclass)");
        CHECK(item("/layer").format == "Layer(SerializableDataclass)");
        CHECK(item("/layer/shape").length == 2);
        CHECK(item("/nested").length == 1);
        CHECK(item("/tags").format == "set");
        CHECK(item("/title").format.empty());
        CHECK(item("/title").member.empty());
        CHECK_FALSE(item("/title").array);

        // The external array: its member as the zip lists it (checked against libzip).
        const zanj::item_info w = item("/layer/w");
        CHECK(w.format == "numpy.ndarray:external");
        CHECK(w.member == "layer/w.npy");
        REQUIRE(w.array);
        CHECK(w.array->dtype == zanj::dtype::float32);
        CHECK(w.array->shape == zanj::shape_type{16, 32});
        CHECK(w.array->member == "layer/w.npy");
        CHECK(w.array->mode == "external");
        CHECK(w.array->method == v.arrays);
        const listed z = libzip_stat(p, "layer/w.npy");
        CHECK(z.method == static_cast<std::uint16_t>(v.arrays));
        CHECK(w.array->compressed_size == z.compressed_size);
        CHECK(w.array->uncompressed_size == z.size);
        CHECK(w.array->uncompressed_size >= 16 * 32 * 4 + 64);
        if (v.arrays == zanj::compression_method::store)
            CHECK(w.array->compressed_size == w.array->uncompressed_size);
        else
            CHECK(w.array->compressed_size < w.array->uncompressed_size);

        // Inline arrays: the mode they were written in, no member.
        const zanj::item_info small = item("/small");
        CHECK(small.format == "numpy.ndarray:" + v.mode_name);
        REQUIRE(small.array);
        CHECK(small.array->mode == v.mode_name);
        CHECK(small.array->dtype == zanj::dtype::float32);
        CHECK(small.array->shape == zanj::shape_type{2, 3});
        CHECK(small.array->member.empty());
        CHECK(small.member.empty());
        CHECK(small.array->compressed_size == 0);
        const zanj::item_info scalar = item("/scalar");
        CHECK(scalar.format == "numpy.ndarray:zero_dim");
        REQUIRE(scalar.array);
        CHECK(scalar.array->mode == "zero_dim");
        CHECK(scalar.array->dtype == zanj::dtype::float64);
        CHECK(scalar.array->shape.empty());

        // External lists: their .jsonl member; a list of dicts records its length in the stub.
        const zanj::item_info ints = item("/ints");
        CHECK(ints.format == "list:external");
        CHECK(ints.member == "ints.jsonl");
        CHECK_FALSE(ints.array);
        const zanj::item_info records = item("/records");
        CHECK(records.member == "records.jsonl");
        CHECK(records.length == 256);

        // find() gives every listed item back, the same.
        for (const auto& i : a.items()) {
            INFO("item " << i.path.str());
            std::optional<zanj::item_info> found = a.find(i.path);
            REQUIRE(found);
            CHECK(found->path == i.path);
            CHECK(found->kind == i.kind);
            CHECK(found->format == i.format);
            CHECK(found->member == i.member);
            CHECK(found->length == i.length);
        }
    }

    SECTION("in list mode small arrays are plain lists") {
        zanj::config cfg;
        cfg.internal_array_mode = zanj::array_mode::list;
        zanj::archive a(saved(inv, cfg));
        std::optional<zanj::item_info> small = a.find("/small");
        REQUIRE(small);
        CHECK(small->kind == zanj::item_kind::list);
        CHECK(small->length == 2);
        CHECK_FALSE(small->array);
        REQUIRE(a.find("/small/1/2"));
        CHECK(a.find("/small/1/2")->kind == zanj::item_kind::floating);
        // 0-d arrays are always zero_dim items, externals stay externals.
        CHECK(a.find("/scalar")->kind == zanj::item_kind::array);
        CHECK(a.find("/layer/w")->array->member == "layer/w.npy");
    }
}

TEST_CASE("archive find() answers for present and absent paths, into external lists too", "[archive][items]") {
    const Inventory inv = make_inventory();
    const fs::path p = saved(inv);
    zanj::archive a(p);

    std::optional<zanj::item_info> root = a.find("/");
    REQUIRE(root);
    CHECK(root->path.empty());
    CHECK(root->format == "Inventory(SerializableDataclass)");
    CHECK(a.find("")->format == root->format);
    CHECK(a.find("layer/w")->array->shape == zanj::shape_type{16, 32}); // the leading slash is optional
    CHECK(a.find("/odd")->kind == zanj::item_kind::dict);

    for (const char* absent : {"/nope", "/layer/nope", "/nested/a/2", "/nested/a/x", "/title/x", "/ints/300",
                               "/records/256", "/records/3/nope", "/layer/shape/-1"}) {
        INFO(absent);
        CHECK_FALSE(a.find(absent));
    }
    // An array's metadata is not an item: items() does not list it, find() does not find it.
    CHECK_FALSE(a.find("/layer/w/shape"));
    CHECK_FALSE(a.find("/small/dtype"));
    CHECK_FALSE(a.find("/small/data"));

    // Into external lists: their member is read.
    std::optional<zanj::item_info> last = a.find("/ints/299");
    REQUIRE(last);
    CHECK(last->kind == zanj::item_kind::integer);
    std::optional<zanj::item_info> record = a.find("/records/7");
    REQUIRE(record);
    CHECK(record->format == "Record(SerializableDataclass)");
    std::optional<zanj::item_info> w = a.find("/records/7/w");
    REQUIRE(w);
    CHECK(w->kind == zanj::item_kind::array);
    CHECK(w->member == "records/7/w.npy");
    REQUIRE(w->array);
    CHECK(w->array->shape == zanj::shape_type{256});
    CHECK(w->array->dtype == zanj::dtype::float32);
    CHECK(w->array->uncompressed_size == libzip_stat(p, "records/7/w.npy").size);
    CHECK(a.find("/records/7/i")->kind == zanj::item_kind::integer);

    // The object_path overload: keys with a slash are one step.
    zanj::object_path odd;
    odd.push("odd");
    odd.push("a/b");
    REQUIRE(a.find(odd));
    CHECK(a.find(odd)->kind == zanj::item_kind::integer);
    CHECK_FALSE(a.find("/odd/a/b")); // as a string, "a/b" is two steps
    zanj::object_path into_list;
    into_list.push("records");
    into_list.push(std::size_t{7});
    into_list.push("w");
    REQUIRE(a.find(into_list));
    CHECK(a.find(into_list)->member == "records/7/w.npy");
    CHECK(a.read<std::int64_t>("/records/7/i") == 7);
}

TEST_CASE("archive read<T>(path) and read(path) load sub-trees, meta() and tree() show the JSON", "[archive][read]") {
    const Inventory inv = make_inventory();
    const fs::path p = saved(inv);
    zanj::archive a(p);

    CHECK(a.path() == p);
    CHECK(a.read<Inventory>() == inv);
    CHECK(a.read<Layer>("/layer") == inv.layer);
    CHECK((a.read<xt::xarray<float>>("/layer/w") == inv.layer.w));
    CHECK(a.read<std::vector<int>>("/ints") == inv.ints);
    CHECK(a.read<int>("/ints/299") == 897);
    CHECK(a.read<Record>("/records/7") == inv.records[7]);
    CHECK((a.read<xt::xarray<float>>("/records/200/w") == inv.records[200].w));
    CHECK(a.read<std::set<int>>("/tags") == inv.tags);
    CHECK(a.read<std::string>("/layer/name") == "l0");
    CHECK_THROWS_AS(a.read("/scalar/data"), zanj::usage_error); // an array's metadata is not an item

    // Untyped: arrays as ndarray, external lists filled in, dataclasses as dicts.
    zanj::value layer = a.read("/layer");
    CHECK(layer.format() == "Layer(SerializableDataclass)");
    REQUIRE(layer["w"].is_array());
    CHECK(layer["w"].as_array() == as_ndarray(inv.layer.w));
    zanj::value ints = a.read("/ints");
    REQUIRE(ints.is_list());
    REQUIRE(ints.size() == 300);
    CHECK(ints[299].as_int() == 897);
    zanj::value w7 = a.read("/records/7/w");
    REQUIRE(w7.is_array());
    CHECK(w7.as_array() == as_ndarray(inv.records[7].w));
    CHECK(a.read("/tags").is_set());
    CHECK(a.read() == zanj::ZANJ().read(p));

    // The JSON as it is on disk.
    const zanj::value& info = a.meta()["externals_info"];
    REQUIRE(info.contains("layer/w.npy"));
    CHECK(info["layer/w.npy"]["item_type"].as_string() == "npy");
    CHECK(info["layer/w.npy"]["path"] == zanj::value(zanj::value::list_type{"layer", "w"}));
    CHECK(info["ints.jsonl"]["item_type"].as_string() == "jsonl");
    CHECK(info.contains("records/255/w.npy"));
    CHECK(a.meta().contains("zanj_cfg"));
    // Opening reads only part of it; meta() is the whole member, the same from any thread.
    CHECK(info["layer/w.npy"]["dtype"].as_string() == "float32");
    const zanj::value whole = zanj::ZANJ().read_meta(p);
    CHECK(a.meta() == whole);
    zanj::archive fresh(p);
    CHECK(zanj_test::run_together(4, [&](int) {
              if (!(fresh.meta() == whole)) throw std::runtime_error("meta() differs");
          }).empty());
    CHECK(a.tree()["layer"]["w"]["$ref"].as_string() == "layer/w.npy");
    CHECK_FALSE(a.tree()["layer"]["w"].contains("data"));
    CHECK_FALSE(a.tree()["ints"].contains("data"));

    // ZANJ::open gives the same archive, with the ZANJ's loaders.
    zanj::ZANJ z;
    z.register_type<Layer>();
    zanj::archive opened = z.open(p);
    CHECK(opened.items().size() == a.items().size());
    CHECK(opened.read("/layer").instance<Layer>() != nullptr);
    CHECK(a.read("/layer").instance<Layer>() == nullptr);

    // The archive can move; what it gave stays valid.
    zanj::archive moved = std::move(opened);
    CHECK(moved.read<Layer>("/layer") == inv.layer);
}

TEST_CASE("archive read_filter() reads only the items it keeps", "[archive][read]") {
    const Inventory inv = make_inventory();
    const fs::path p = saved(inv);

    // Skipped members are not read: corrupt the data of two of them.
    flip_byte(p, npy_data_offset(p, "layer/w.npy") + 100);
    flip_byte(p, member_data_offset(p, "ints.jsonl") + 20);
    flip_byte(p, npy_data_offset(p, "records/4/w.npy") + 8);
    zanj::archive a(p);
    REQUIRE_THROWS_AS(a.read(), zanj::format_error);

    std::vector<std::string> asked;
    auto keep = [&](const zanj::item_info& item) {
        asked.push_back(item.path.str());
        if (item.kind == zanj::item_kind::external_list) return item.member != "ints.jsonl";
        if (item.kind != zanj::item_kind::array || item.array->member.empty()) return true;
        return item.path.str() == "/records/3/w";
    };
    const zanj::value tree = a.read_filter(keep);

    // Kept: everything but the refused externals, loaded.
    CHECK(tree.format() == "Inventory(SerializableDataclass)");
    CHECK(tree["title"].as_string() == "inventory");
    REQUIRE(tree["small"].is_array());
    CHECK(tree["small"].as_array() == as_ndarray(inv.small));
    REQUIRE(tree["scalar"].is_array());
    CHECK(tree["scalar"].as_array().values<double>()[0] == 2.5);
    CHECK(tree["tags"].is_set());
    REQUIRE(tree["records"].is_list());
    REQUIRE(tree["records"].size() == 256);
    CHECK(tree["records"][3]["i"].as_int() == 3);
    REQUIRE(tree["records"][3]["w"].is_array());
    CHECK(tree["records"][3]["w"].as_array() == as_ndarray(inv.records[3].w));

    // Refused: placeholders that say what was there.
    const zanj::value& w = tree["layer"]["w"];
    REQUIRE(zanj::is_not_loaded(w));
    CHECK(w["path"].as_string() == "/layer/w");
    CHECK(w["format"].as_string() == "numpy.ndarray:external");
    CHECK(w["$ref"].as_string() == "layer/w.npy");
    REQUIRE(w["shape"].size() == 2);
    CHECK(w["shape"][0].as_uint() == 16);
    CHECK(w["shape"][1].as_uint() == 32);
    CHECK(w["dtype"].as_string() == "float32");
    CHECK_FALSE(w.contains("data"));
    CHECK(zanj::is_not_loaded(tree["records"][4]["w"]));
    CHECK(tree["records"][4]["w"]["path"].as_string() == "/records/4/w");
    const zanj::value& ints = tree["ints"];
    REQUIRE(zanj::is_not_loaded(ints));
    CHECK(ints["$ref"].as_string() == "ints.jsonl");
    CHECK(ints["format"].as_string() == "list:external");
    CHECK_FALSE(ints.contains("data"));
    CHECK_FALSE(zanj::is_not_loaded(tree["layer"]));
    CHECK_FALSE(zanj::is_not_loaded(zanj::value("zanj:not_loaded")));

    // Asked top-down, never about what is inside a refused item.
    REQUIRE_FALSE(asked.empty());
    CHECK(asked.front() == "/");
    CHECK(std::find(asked.begin(), asked.end(), "/records/255/w") != asked.end());
    CHECK(std::find(asked.begin(), asked.end(), "/ints/0") == asked.end());
    auto position = [&](const std::string& path) {
        return std::find(asked.begin(), asked.end(), path) - asked.begin();
    };
    CHECK(position("/layer") < position("/layer/w"));
    CHECK(position("/records") < position("/records/0"));
    CHECK(position("/records/0") < position("/records/0/w"));

    // Refusing the root gives one placeholder.
    zanj::value none = a.read_filter([](const zanj::item_info&) { return false; });
    REQUIRE(zanj::is_not_loaded(none));
    CHECK(none["path"].as_string() == "/");
    CHECK(none["format"].as_string() == "Inventory(SerializableDataclass)");
}

TEST_CASE("archive errors name the path and say what is wrong", "[archive][errors]") {
    const fs::path p = saved(make_inventory());
    zanj::archive a(p);

    for (const std::string path : {"/nope", "/layer/nope", "/records/9999/w"}) {
        INFO(path);
        auto e = thrown<zanj::usage_error>([&] { a.read(path); });
        CHECK_THAT(e.what(), Contains("no item at " + path));
        CHECK_THROWS_AS(a.read<Layer>(path), zanj::usage_error);
        CHECK_THROWS_AS(a.array(path), zanj::usage_error);
        CHECK_THROWS_AS(a.view(path), zanj::usage_error);
        CHECK_THROWS_WITH(a.rows(path, 0, 1), Contains(path));
    }
    auto missing = thrown<zanj::usage_error>([&] { a.array("/layer/nope"); });
    CHECK_THAT(missing.what(), Contains("no key 'nope' in /layer"));
    CHECK(missing.object_path() == "/layer");

    auto text = thrown<zanj::type_error>([&] { a.array("/title"); });
    CHECK_THAT(text.what(), Contains("expected an array, found str \"inventory\""));
    CHECK(text.object_path() == "/title");
    auto object = thrown<zanj::type_error>([&] { a.view("/layer"); });
    CHECK_THAT(object.what(), Contains("expected an array item, found 'Layer(SerializableDataclass)'"));
    CHECK(object.object_path() == "/layer");
    CHECK_THROWS_AS(a.rows("/ints", 0, 1), zanj::type_error);
    CHECK_THROWS_AS(a.read<std::string>("/layer/w"), zanj::type_error);
    auto typed = thrown<zanj::type_error>([&] { a.read<xt::xarray<double>>("/layer/w"); });
    CHECK_THAT(typed.what(), Contains("dtype mismatch"));
    CHECK(typed.object_path() == "/layer/w");
    CHECK(typed.member() == "layer/w.npy");
}

namespace {
// The node of `tree` at `path`, stepping as items() does (dict keys, list indices), or null.
const zanj::value* node_of(const zanj::value& tree, const zanj::object_path& path) {
    const zanj::value* cur = &tree;
    for (const zanj::path_segment& s : path.segments()) {
        if (const auto* key = std::get_if<std::string>(&s))
            cur = cur->find(*key);
        else
            cur = cur->is_list() && std::get<std::size_t>(s) < cur->size() ? &cur->as_list()[std::get<std::size_t>(s)]
                                                                           : nullptr;
        if (!cur) return nullptr;
    }
    return cur;
}

zanj::item_kind kind_of(const zanj::value& v) {
    switch (v.type()) {
    case zanj::value::kind::null: return zanj::item_kind::null;
    case zanj::value::kind::boolean: return zanj::item_kind::boolean;
    case zanj::value::kind::integer:
    case zanj::value::kind::unsigned_integer: return zanj::item_kind::integer;
    case zanj::value::kind::floating: return zanj::item_kind::floating;
    case zanj::value::kind::string: return zanj::item_kind::string;
    case zanj::value::kind::list: return zanj::item_kind::list;
    default: break;
    }
    if (v.format().empty()) return zanj::item_kind::dict;
    return v.format().find("ndarray") != std::string_view::npos ? zanj::item_kind::array : zanj::item_kind::object;
}

// items(), find() and single reads of an open archive against the whole tree: every listed item
// is the tree's node at its path, of that kind and length, and reads back as that node does.
void check_against_tree(const zanj::archive& a) {
    const zanj::value& tree = a.tree();
    const zanj::value whole = zanj::ZANJ().read(a.path());
    std::size_t arrays = 0;
    for (const zanj::item_info& item : a.items()) {
        INFO(item.path.str());
        const zanj::value* node = node_of(tree, item.path);
        REQUIRE(node);
        CHECK(item.kind == kind_of(*node));
        CHECK(item.format == node->format());
        if (item.kind == zanj::item_kind::list || item.kind == zanj::item_kind::dict)
            CHECK(item.length == node->size());
        const std::optional<zanj::item_info> found = a.find(item.path);
        REQUIRE(found);
        CHECK(found->kind == item.kind);
        CHECK(found->member == item.member);
        // Reads by text cannot name a key holding a slash.
        const auto& steps = item.path.segments();
        if (std::any_of(steps.begin(), steps.end(), [](const zanj::path_segment& step) {
                return std::holds_alternative<std::string>(step) &&
                       std::get<std::string>(step).find('/') != std::string::npos;
            }))
            continue;
        if (item.kind == zanj::item_kind::array) {
            ++arrays;
            CHECK(a.array(item.path.str()) == node_of(whole, item.path)->as_array());
        } else if (item.kind != zanj::item_kind::dict && item.kind != zanj::item_kind::list &&
                   item.kind != zanj::item_kind::object) {
            CHECK(a.read(item.path.str()) == *node);
        }
    }
    CHECK(arrays > 0);
}
} // namespace

TEST_CASE("archive walks dicts and lists of more than 32 items by index, as the whole tree holds them",
          "[archive][items]") {
    const Wide wide = make_wide();
    const fs::path p = saved(wide);
    zanj::archive a(p);
    REQUIRE(a.items().size() == 1 + 1 + 100 + 1 + 40 * 3 + 1 + 100);
    for (int i : {0, 1, 31, 32, 33, 99}) {
        const std::string key = "k" + std::to_string(i);
        INFO(key);
        CHECK((a.read<xt::xarray<float>>("/arrays/" + key) == wide.arrays.at(key)));
        CHECK((a.read<xt::xarray<float>>("/arrays/" + key, {zanj::access::view}) == wide.arrays.at(key)));
        CHECK(a.view("/arrays/" + key) == a.array("/arrays/" + key));
        CHECK(a.read<int>("/counts/c" + std::to_string(i)) == i);
    }
    for (std::size_t i : {0u, 1u, 32u, 33u, 39u}) {
        CHECK(a.read<Record>("/records/" + std::to_string(i)) == wide.records[i]);
        const std::string w = "/records/" + std::to_string(i) + "/w";
        CHECK(a.rows(w, 1, 3) == a.array(w).rows(1, 3));
        CHECK(a.array(w).values<float>()[1] == wide.records[i].w(1));
        CHECK(a.find("/records/" + std::to_string(i) + "/i")->kind == zanj::item_kind::integer);
    }
    // A key holding a slash, step by step.
    zanj::object_path slash;
    slash.push("arrays");
    slash.push("k/50");
    REQUIRE(a.find(slash));
    CHECK(a.find(slash)->kind == zanj::item_kind::array);
    CHECK_FALSE(a.find("/arrays/k/50"));
    // Absent keys and indices, and an array's keys, in the large containers.
    CHECK_FALSE(a.find("/arrays/k100"));
    CHECK_FALSE(a.find("/records/40"));
    CHECK_FALSE(a.find("/arrays/k0/shape"));
    CHECK_THROWS_WITH(a.array("/records/40"), Contains("no index '40' in /records"));
    CHECK_THROWS_WITH(a.array("/counts/c100"), Contains("no key 'c100' in /counts"));
    CHECK_THROWS_WITH(a.array("/arrays/k3/dtype"), Contains("/arrays/k3 is an array"));
    CHECK(a.read<Wide>() == wide);

    check_against_tree(a);
    // Once the tree is built, reads go by it, and agree.
    CHECK(a.read<Record>("/records/33") == wide.records[33]);
    CHECK((a.read<xt::xarray<float>>("/arrays/k99") == wide.arrays.at("k99")));
    CHECK_FALSE(a.find("/records/40"));
    check_against_tree(zanj::archive(p));
}

TEST_CASE("archive lists a repeated key once, at its first place with its last value, as Python", "[archive][items]") {
    namespace rz = zanj_test::raw_zip;
    auto stored = [](std::string name, std::string data) {
        rz::entry e;
        e.name = std::move(name);
        e.data = std::move(data);
        return e;
    };
    std::string wide = R"({"k0": 0)";
    for (int i = 1; i < 40; ++i) wide += R"(, "k)" + std::to_string(i) + R"(": )" + std::to_string(i);
    wide += R"(, "k7": 70})";
    const std::string small = R"({"x": 1, "y": [1, 2], "x": {"z": 2}})";
    const fs::path dir = fresh_dir();
    for (const std::string& tree : {R"({"a": 1, "b": )" + small + R"(, "a": 3})", R"({"w": )" + wide + "}",
                                    R"({"l": [)" + small + "]}", R"({"n": NaN, "b": )" + small + "}"}) {
        INFO(tree);
        const fs::path p = dir / "repeated.zanj";
        zanj_test::write_file(p, rz::build({stored("__zanj_meta__.json", "{}"), stored("__zanj__.json", tree)}));
        zanj::archive a(p);
        const zanj::value whole = zanj::ZANJ().read(p);
        std::vector<std::string> listed;
        for (const zanj::item_info& item : a.items()) {
            listed.push_back(item.path.str());
            const zanj::value* node = node_of(whole, item.path);
            REQUIRE(node);
            CHECK(item.kind == kind_of(*node));
            if (item.kind == zanj::item_kind::integer) CHECK(a.read(item.path.str()) == *node);
        }
        std::set<std::string> distinct(listed.begin(), listed.end());
        CHECK(distinct.size() == listed.size());
        CHECK(a.tree().dump() == whole.dump()); // NaN is not equal to itself
    }
    zanj::archive a(dir / "repeated.zanj"); // the last: NaN, which the parser's fast path refuses
    CHECK(std::isnan(a.read("/n").as_double()));
    CHECK(a.find("/b/x")->kind == zanj::item_kind::dict);

    // A list's stub whose length is no count: listed without one, in either kind of tree.
    for (const std::string extra : {"", R"(, "nan": NaN)"}) {
        const fs::path p = dir / "negative_length.zanj";
        const std::string tree =
            R"j({"l": {"__muutils_format__": "list:external", "$ref": "l.jsonl", "len(data)": -1})j" + extra + "}";
        zanj_test::write_file(p, rz::build({stored("__zanj_meta__.json", "{}"), stored("__zanj__.json", tree),
                                            stored("l.jsonl", "1\n2\n")}));
        const zanj::archive listed(p);
        REQUIRE(listed.find("/l"));
        CHECK(listed.find("/l")->kind == zanj::item_kind::external_list);
        CHECK(listed.find("/l")->length == 0);
        CHECK(listed.items().size() == (extra.empty() ? 2u : 3u));
    }
}

// ---- 2. opening reads no array bytes --------------------------------------------------------------

TEST_CASE("archive opening, items() and views read no array bytes; copies check the CRC", "[archive][lazy]") {
    const Inventory inv = make_inventory();
    const fs::path p = saved(inv);
    const std::uint64_t at = npy_data_offset(p, "layer/w.npy") + 4 * 37; // element 37
    flip_byte(p, at);
    flip_byte(p, npy_data_offset(p, "records/5/w.npy") + 4);

    zanj::archive a(p);
    CHECK(a.items().size() == 22);
    CHECK(a.find("/layer/w")->array->shape == zanj::shape_type{16, 32});
    CHECK(a.find("/records/5/w")->member == "records/5/w.npy");

    // An unchecked view shows the damaged bytes as they are.
    zanj::ndarray v = a.view("/layer/w");
    CHECK(v.shape() == zanj::shape_type{16, 32});
    CHECK(v.values<float>()[36] == inv.layer.w(1, 4));
    CHECK(v.values<float>()[37] != inv.layer.w(1, 5));
    CHECK(v.values<float>()[38] == inv.layer.w(1, 6));
    const zanj::ndarray nested = a.view("/records/5/w"); // byte 4: element 1
    CHECK(nested.values<float>()[0] == 5.0f);
    CHECK(nested.values<float>()[1] != 6.0f);

    // Checked reads refuse them, naming the member and the path.
    for (auto read : std::vector<std::function<void()>>{
             [&] { a.array("/layer/w"); }, [&] { a.view("/layer/w", true); },
             [&] { a.read<xt::xarray<float>>("/layer/w"); }, [&] { a.read<Layer>("/layer"); },
             [&] { a.read<Layer>("/layer", {zanj::access::view}); }, // xtensor fields are copies: checked
             [&] {
                 a.read<zanj::ndarray>("/layer/w", {zanj::access::view, true});
             },
             [&] { a.read("/layer"); }}) {
        auto e = thrown<zanj::format_error>(read);
        CHECK_THAT(e.what(), Contains("CRC-32 mismatch in member 'layer/w.npy'"));
        CHECK(e.member() == "layer/w.npy");
        CHECK(e.object_path() == "/layer/w");
    }
    CHECK_THROWS_WITH(a.array("/records/5/w"), Contains("CRC-32 mismatch in member 'records/5/w.npy'"));
    CHECK_THROWS_WITH(a.verify(), Contains("CRC-32 mismatch"));
    // The others read fine.
    CHECK(a.read<Record>("/records/4") == inv.records[4]);
    CHECK(a.read<std::string>("/layer/name") == "l0");
    CHECK(a.read<zanj::ndarray>("/layer/w", {zanj::access::view}) == v);
}

TEST_CASE("archive with a damaged local header opens, and its other members read", "[archive][lazy]") {
    const Inventory inv = make_inventory();
    const fs::path p = saved(inv);
    {
        zanj::detail::zip_reader r(p);
        flip_byte(p, r.find("layer/w.npy")->local_header_offset); // the signature
    }
    zanj::archive a(p);
    CHECK(a.items().size() == 22);
    CHECK(a.find("/layer/w")->array->dtype == zanj::dtype::float32);
    CHECK(a.read<Record>("/records/9") == inv.records[9]);
    CHECK(a.read<std::vector<int>>("/ints") == inv.ints);
    CHECK(a.view("/records/9/w") == as_ndarray(inv.records[9].w));
    for (auto read : std::vector<std::function<void()>>{[&] { a.array("/layer/w"); }, [&] { a.view("/layer/w"); },
                                                        [&] { a.rows("/layer/w", 0, 1); }, [&] { a.verify(); }}) {
        auto e = thrown<zanj::format_error>(read);
        CHECK_THAT(e.what(), Contains("member 'layer/w.npy' has no local header"));
    }
}

TEST_CASE("archive written by Python opens lazily; damage shows only where it is read", "[archive][lazy][python]") {
    const fs::path dir = python_fixtures();
    const fs::path p = dir / "py_stored.zanj";
    const nlohmann::json layout = python_layout(dir, "py_stored.zanj");
    // nested/a/b/1/c.npy holds bytes: always viewable in place. misaligned_f8.npy cannot be.
    flip_byte(p, layout.at("nested/a/b/1/c.npy").at("data_offset").get<std::uint64_t>() + 3);
    flip_byte(p, layout.at("misaligned_f8.npy").at("data_offset").get<std::uint64_t>() + 8);
    {
        zanj::detail::zip_reader r(p);
        flip_byte(p, r.find("cube.npy")->local_header_offset + 1);
    }
    zanj::archive a(p);
    CHECK(a.find("/nested/a/b/1/c")->array->shape == zanj::shape_type{256});
    CHECK(a.items().size() > 20);
    CHECK(a.view("/nested/a/b/1/c").values<std::uint8_t>()[3] != 3);
    CHECK_THROWS_WITH(a.view("/nested/a/b/1/c", true), Contains("CRC-32 mismatch in member 'nested/a/b/1/c.npy'"));
    CHECK_THROWS_WITH(a.array("/nested/a/b/1/c"), Contains("CRC-32 mismatch in member 'nested/a/b/1/c.npy'"));
    // A view of a member that cannot be mapped is a copy, and copies are checked.
    CHECK_THROWS_WITH(a.view("/misaligned_f8"), Contains("CRC-32 mismatch in member 'misaligned_f8.npy'"));
    CHECK_THROWS_WITH(a.view("/cube"), Contains("member 'cube.npy' has no local header"));
    CHECK(is_arange(a.array("/layers/0/w")));
    CHECK(is_arange(a.view("/be_i4")));
    CHECK(a.read<PyRecord>("/records/9").w(255) == 9.0f);
}

// ---- 3. zero-copy views ----------------------------------------------------------------------------

TEST_CASE("small arrays are laid out compactly, large ones as numpy lays them out", "[archive][layout]") {
    const fs::path dir = fresh_dir();
    std::map<std::string, xt::xarray<float>> arrays;
    for (int i = 0; i < 1000; ++i)
        arrays.emplace("w" + std::to_string(1000 + i), xt::xarray<float>::from_shape({1000}));
    arrays.emplace("big", xt::xarray<float>::from_shape({20000})); // 80 KB: not small
    for (auto& [name, a] : arrays) std::fill(a.begin(), a.end(), static_cast<float>(name.size()));
    const std::uint64_t payload = 1000 * 4000 + 80000;

    auto local_extra_length = [](const fs::path& p, const std::string& member) {
        zanj::detail::zip_reader zip(p);
        const std::string bytes = file_bytes(p);
        const std::size_t at = static_cast<std::size_t>(zip.find(member)->local_header_offset) + 28;
        return static_cast<unsigned char>(bytes[at]) | static_cast<unsigned char>(bytes[at + 1]) << 8;
    };
    SECTION("the default: 16 bytes for small arrays, 64 for large ones") {
        const fs::path p = zanj::ZANJ().save(arrays, dir / "default");
        // The per-array bytes: a local header without extra fields, the shortest NPY header, a
        // directory entry; the JSON is deflated.
        CHECK(fs::file_size(p) <= payload * 105 / 100);
        zanj::archive a(p);
        for (const std::string name : {"w1000", "w1001", "w1500", "w1999"}) {
            CHECK(aligned(a.view("/" + name).bytes(), 16));
            CHECK(local_extra_length(p, name + ".npy") == 0);
            CHECK(npy_data_offset(p, name + ".npy") - member_data_offset(p, name + ".npy") < 71 + 16);
        }
        CHECK(aligned(a.view("/big").bytes(), 64));
        CHECK((npy_data_offset(p, "big.npy") - member_data_offset(p, "big.npy")) % 64 == 0); // numpy's header
        CHECK(local_extra_length(p, "big.npy") > 0);                                         // ZIP64 and padding
        CHECK(zanj::ZANJ().read<std::map<std::string, xt::xarray<float>>>(p) == arrays);
        // numpy reads headers of any length (read_zanj.py loads every member with np.load).
        const auto r = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("read_zanj.py") + " " +
                                      zanj_test::quote(p));
        INFO(r.output);
        CHECK(r.exit_code == 0);
    }
    SECTION("config::small_array_alignment") {
        zanj::config c;
        c.small_array_alignment = 64;
        zanj::archive a(zanj::ZANJ(c).save(arrays, dir / "by64"));
        for (const std::string name : {"w1000", "w1001", "w1500", "w1999"})
            CHECK(aligned(a.view("/" + name).bytes(), 64));
        for (std::size_t bad : {std::size_t{0}, std::size_t{3}, std::size_t{128}}) {
            c.small_array_alignment = bad;
            CHECK_THROWS_WITH(zanj::ZANJ(c).save(arrays, dir / "bad"),
                              Contains("config::small_array_alignment is " + std::to_string(bad)));
        }
    }
}

TEST_CASE("archive views of stored members point into one private mapping", "[archive][view]") {
    const Inventory inv = make_inventory();
    const fs::path p = saved(inv);
    const std::string before = file_bytes(p);
    const zanj::ndarray expected = as_ndarray(inv.layer.w);

    zanj::archive a(p);
    zanj::ndarray v1 = a.view("/layer/w");
    zanj::ndarray v2 = a.view("/layer/w");
    CHECK(v1 == expected);
    CHECK(v1.bytes() == v2.bytes());                       // one mapping, nothing copied
    CHECK(aligned(v1.bytes(), 16));                        // a small array: config::small_array_alignment
    CHECK(a.view("/layer/w", true).bytes() == v1.bytes()); // checked, still in place
    CHECK(a.array("/layer/w").bytes() != v1.bytes());      // a copy
    // The bytes of the view are the file's, at the member's data.
    const std::uint64_t at = npy_data_offset(p, "layer/w.npy");
    CHECK(std::memcmp(v1.bytes(), before.data() + at, v1.nbytes()) == 0);
    // A member inside an external list, and the view of a typed read, share the mapping too.
    CHECK(a.view("/records/3/w").bytes() == a.view("/records/3/w").bytes());
    CHECK(aligned(a.view("/records/3/w").bytes(), 16));
    CHECK(a.read<zanj::ndarray>("/layer/w", {zanj::access::view}).bytes() == v1.bytes());
    // Inline arrays are copies.
    CHECK(a.view("/small") == as_ndarray(inv.small));
    CHECK(a.view("/small").bytes() != a.view("/small").bytes());

    SECTION("writing to a view changes neither the file, nor copies, nor another archive's views") {
        zanj::archive b(p);
        zanj::ndarray other = b.view("/layer/w");
        v1.values<float>()[0] = 1234.5f;
        v1.values<float>()[511] = -1.0f;
        CHECK(v2.values<float>()[0] == 1234.5f); // views of one archive share its pages
        CHECK(other == expected);
        CHECK(b.view("/layer/w") == expected);
        CHECK(a.array("/layer/w") == expected);
        CHECK(zanj::archive(p).array("/layer/w") == expected);
        CHECK(file_bytes(p) == before);
    }
    SECTION("a view outlives its archive") {
        zanj::ndarray kept;
        {
            zanj::archive c(p);
            kept = c.view("/layer/w");
            zanj::archive moved = std::move(c);
        }
        zanj::ndarray from_temporary = zanj::ZANJ().open(p).view("/records/255/w");
        CHECK(kept == expected);
        CHECK(from_temporary == as_ndarray(inv.records[255].w));
        kept.values<float>()[5] = 0.0f; // still writable
        CHECK(kept.values<float>()[5] == 0.0f);
    }
}

TEST_CASE("archive views of compressed members are correct copies", "[archive][view]") {
    const Inventory inv = make_inventory();
    for (auto method : {zanj::compression_method::deflate, zanj::compression_method::zstd}) {
        INFO(zanj::to_string(method));
        zanj::archive a(saved(inv, arrays_with(method)));
        zanj::ndarray v1 = a.view("/layer/w");
        zanj::ndarray v2 = a.view("/layer/w", true);
        CHECK(v1 == as_ndarray(inv.layer.w));
        CHECK(v2 == v1);
        CHECK(v1.bytes() != v2.bytes());
        CHECK(aligned(v1.bytes(), 64));
        CHECK(a.view("/records/17/w") == as_ndarray(inv.records[17].w));
    }
}

TEST_CASE("archive views of Python's members: in place when aligned, converted copies otherwise",
          "[archive][view][python]") {
    const fs::path dir = python_fixtures();
    for (const std::string name : {"py_stored.zanj", "py_deflate.zanj"}) {
        INFO(name);
        const fs::path p = dir / name;
        const nlohmann::json layout = python_layout(dir, name);
        zanj::archive a(p);
        zanj::ZANJ z;
        CHECK_NOTHROW(z.read(p));
        int in_place = 0, copies = 0;
        for (const auto& [member, info] : layout.items()) {
            INFO(member);
            const std::string path = object_path_of(member);
            zanj::ndarray v1 = a.view(path);
            zanj::ndarray v2 = a.view(path);
            const zanj::ndarray copy = a.array(path);
            CHECK(v1 == copy);
            CHECK(a.view(path, true) == copy);
            CHECK(zanj::dtype_name(v1.type()) == info.at("dtype").get<std::string>());
            if (member.rfind("records/", 0) == 0) {
                const double i = std::stod(member.substr(8));
                CHECK(v1.values<float>()[0] == i);
                CHECK(v1.values<float>()[255] == i);
            } else {
                CHECK(is_arange(v1));
            }
            const bool plain = member.rfind("be_", 0) != 0 && member.rfind("fortran_", 0) != 0;
            const bool mappable =
                name == "py_stored.zanj" && plain &&
                info.at("data_offset").get<std::uint64_t>() % info.at("itemsize").get<std::uint64_t>() == 0;
            if (mappable) {
                ++in_place;
                CHECK(v1.bytes() == v2.bytes());
                CHECK(std::memcmp(v1.bytes(), file_bytes(p).data() + info.at("data_offset").get<std::uint64_t>(),
                                  v1.nbytes()) == 0);
            } else {
                ++copies;
                CHECK(v1.bytes() != v2.bytes());
                CHECK(aligned(v1.bytes(), 64));
            }
        }
        CHECK(copies > 0);
        if (name == "py_stored.zanj") CHECK(in_place > 0);
    }

    // The shapes of converted members, and a few elements by index.
    zanj::archive a(dir / "py_stored.zanj");
    zanj::ndarray fortran = a.view("/fortran_i8_3d");
    CHECK(fortran.shape() == zanj::shape_type{4, 8, 16});
    CHECK(fortran.values<std::int64_t>()[1 * 128 + 2 * 16 + 3] == 1 * 128 + 2 * 16 + 3);
    zanj::ndarray be = a.view("/be_f8_2d");
    CHECK(be.shape() == zanj::shape_type{16, 20});
    CHECK(be.values<double>()[319] == 319.0);
    CHECK(a.view("/fortran_f4").shape() == zanj::shape_type{16, 32});
    CHECK(a.view("/misaligned_f8").shape() == zanj::shape_type{32, 10});
}

// ---- 4. typed reads with views ---------------------------------------------------------------------

TEST_CASE("archive read<T> with access::view gives ndarray fields as views, copies by default", "[archive][view]") {
    Weights original;
    original.w = as_ndarray(xt::xarray<float>(xt::reshape_view(xt::arange<float>(0, 512), {16, 32})));
    original.b = as_ndarray(xt::xarray<double>(xt::arange<double>(0, 300) * -0.5));
    original.small = as_ndarray(xt::xarray<std::int32_t>({1, 2, 3}));
    const fs::path p = saved(original);
    zanj::archive a(p);

    const Weights viewed = a.read<Weights>("/", {zanj::access::view});
    CHECK(viewed.name == "weights");
    CHECK(viewed.w == original.w);
    CHECK(viewed.b == original.b);
    CHECK(viewed.small == original.small);
    CHECK(viewed.w.bytes() == a.view("/w").bytes());
    CHECK(viewed.b.bytes() == a.view("/b").bytes());
    CHECK(a.read<Weights>("/", {zanj::access::view, true}).w.bytes() == viewed.w.bytes());

    const Weights copied = a.read<Weights>();
    CHECK(copied.w == original.w);
    CHECK(copied.b == original.b);
    CHECK(copied.small == original.small);
    CHECK(copied.w.bytes() != viewed.w.bytes());
    CHECK(copied.b.bytes() != viewed.b.bytes());
    const Weights again = zanj::ZANJ().read<Weights>(p);
    CHECK(again.w == original.w);
    CHECK(again.w.bytes() != viewed.w.bytes());

    // Damage: views without verify do not see it, checked reads do.
    flip_byte(p, npy_data_offset(p, "w.npy") + 1);
    zanj::archive damaged(p);
    CHECK(damaged.read<Weights>("/", {zanj::access::view}).w != original.w);
    CHECK_THROWS_WITH(damaged.read<Weights>("/", {zanj::access::view, true}),
                      Contains("CRC-32 mismatch in member 'w.npy'"));
    CHECK_THROWS_WITH(damaged.read<Weights>(), Contains("CRC-32 mismatch in member 'w.npy'"));
}

// ---- 5. rows ---------------------------------------------------------------------------------------

TEST_CASE("archive rows() of every rank, stored, compressed and inline", "[archive][rows]") {
    const Slices s;
    const std::map<std::string, zanj::ndarray> full{
        {"/r1", as_ndarray(s.r1)}, {"/r2", as_ndarray(s.r2)}, {"/r3", as_ndarray(s.r3)},      {"/i1", as_ndarray(s.i1)},
        {"/i2", as_ndarray(s.i2)}, {"/i3", as_ndarray(s.i3)}, {"/empty", as_ndarray(s.empty)}};
    struct variant {
        std::string name;
        zanj::config cfg;
    };
    std::vector<variant> variants{{"stored", {}},
                                  {"deflate", arrays_with(zanj::compression_method::deflate)},
                                  {"zstd", arrays_with(zanj::compression_method::zstd)}};
    variants.push_back({"hex", {}});
    variants.back().cfg.internal_array_mode = zanj::array_mode::array_hex_meta;
    variants.push_back({"b64", arrays_with(zanj::compression_method::deflate)});
    variants.back().cfg.internal_array_mode = zanj::array_mode::array_b64_meta;

    for (const variant& v : variants) {
        const fs::path p = saved(s, v.cfg, v.name);
        zanj::archive a(p);
        for (const auto& [path, array] : full) {
            const std::size_t n = array.shape()[0];
            for (const zanj::access access : {zanj::access::copy, zanj::access::view}) {
                INFO(v.name << " " << path << (access == zanj::access::view ? " view" : " copy"));
                const zanj::read_options options{access};
                for (auto [b, e] : std::vector<std::pair<std::size_t, std::size_t>>{
                         {0, n}, {0, 0}, {n, n}, {n / 2, n / 2}, {0, 1}, {n / 3, n - n / 3}, {n > 0 ? n - 1 : 0, n}}) {
                    if (b > e || e > n) continue;
                    CAPTURE(b, e);
                    zanj::ndarray part = a.rows(path, b, e, options);
                    CHECK(part == array.rows(b, e));
                }
                CHECK(a.rows(path, 0, n, options) == array);
            }
        }
        // Views of stored members are slices of the mapping.
        if (v.name == "stored") {
            zanj::ndarray whole = a.view("/r3");
            zanj::ndarray part = a.rows("/r3", 1, 3, {zanj::access::view});
            CHECK(part.shape() == zanj::shape_type{2, 8, 10});
            CHECK(part.bytes() == whole.bytes() + 80 * 8);
            CHECK(a.rows("/r2", 4, 9, {zanj::access::view}).bytes() == a.view("/r2").bytes() + 4 * 16 * 4);
            CHECK(a.rows("/r2", 4, 9).bytes() != a.rows("/r2", 4, 9).bytes()); // copies
        }
        // Out of range, backwards, and 0-d: usage errors naming the path (and the shape).
        INFO(v.name);
        auto outside = thrown<zanj::usage_error>([&] { a.rows("/r2", 0, 21); });
        CHECK_THAT(outside.what(), Contains("/r2") && Contains("(20, 16)"));
        CHECK(outside.object_path() == "/r2");
        CHECK(outside.member() == "r2.npy");
        CHECK_THROWS_WITH(a.rows("/r2", 7, 6, {zanj::access::view}), Contains("/r2") && Contains("(20, 16)"));
        CHECK_THROWS_WITH(a.rows("/r1", 300, 301), Contains("/r1") && Contains("(300,)"));
        CHECK_THROWS_WITH(a.rows("/i2", 0, 4), Contains("/i2") && Contains("(3, 4)"));
        CHECK_THROWS_WITH(a.rows("/i3", 2, 1), Contains("/i3"));
        auto zero_d = thrown<zanj::usage_error>([&] { a.rows("/zero_d", 0, 1); });
        CHECK_THAT(zero_d.what(), Contains("0-d") && Contains("/zero_d"));
        CHECK_THROWS_AS(a.rows("/zero_d", 0, 0, {zanj::access::view}), zanj::usage_error);
    }
}

TEST_CASE("archive rows() of a stored copy reads only those rows, unchecked", "[archive][rows]") {
    const Slices s;
    const fs::path p = saved(s);
    const std::uint64_t at = npy_data_offset(p, "r2.npy");
    const std::size_t row = 16 * 4;
    flip_byte(p, at + 2);             // row 0
    flip_byte(p, at + 19 * row + 63); // the last byte of row 19
    zanj::archive a(p);
    const zanj::ndarray expected = as_ndarray(s.r2);

    // Rows that avoid the damage come back right, copies and views alike.
    CHECK(a.rows("/r2", 1, 19) == expected.rows(1, 19));
    CHECK(a.rows("/r2", 1, 19, {zanj::access::view}) == expected.rows(1, 19));
    // Rows that include it come back damaged: a part of a member has no CRC to check.
    CHECK(a.rows("/r2", 0, 1) != expected.rows(0, 1));
    CHECK(a.rows("/r2", 19, 20) != expected.rows(19, 20));
    CHECK(a.rows("/r2", 0, 1).values<std::int32_t>()[1] == expected.values<std::int32_t>()[1]);
    // Whole reads, and views asked to verify, check the CRC.
    CHECK_THROWS_WITH(a.array("/r2"), Contains("CRC-32 mismatch in member 'r2.npy'"));
    CHECK_THROWS_WITH(a.rows("/r2", 1, 19, {zanj::access::view, true}), Contains("CRC-32 mismatch in member 'r2.npy'"));
    // Compressed members are read whole, so their rows are checked.
    const fs::path q = saved(s, arrays_with(zanj::compression_method::deflate), "deflate");
    flip_byte(q, member_data_offset(q, "r2.npy") + 30);
    CHECK_THROWS_AS(zanj::archive(q).rows("/r2", 1, 2), zanj::format_error);
}

TEST_CASE("archive rows() of Python's members, converted where needed", "[archive][rows][python]") {
    const fs::path dir = python_fixtures();
    for (const std::string name : {"py_stored.zanj", "py_deflate.zanj"}) {
        INFO(name);
        zanj::archive a(dir / name);
        for (const std::string path : {"/layers/0/w", "/layers/1/w", "/cube", "/be_i4", "/be_f8_2d", "/fortran_f4",
                                       "/fortran_i8_3d", "/misaligned_f8", "/misaligned_i2", "/small"}) {
            for (const zanj::access access : {zanj::access::copy, zanj::access::view}) {
                INFO(path);
                const zanj::ndarray whole = a.array(path);
                const std::size_t n = whole.shape()[0];
                const std::size_t b = n / 4, e = n - n / 4;
                zanj::ndarray part = a.rows(path, b, e, {access});
                CHECK(part == whole.rows(b, e));
                const std::size_t per_row = whole.size() / n;
                CHECK(element(part, 0) == static_cast<double>(b * per_row));
            }
        }
        CHECK_THROWS_WITH(a.rows("/zero_dim", 0, 1), Contains("/zero_dim"));
    }
}

// ---- 6. verify ---------------------------------------------------------------------------------------

TEST_CASE("archive verify() passes good archives and finds a flipped byte in any member", "[archive][verify]") {
    std::vector<fs::path> archives;
    for (auto method :
         {zanj::compression_method::store, zanj::compression_method::deflate, zanj::compression_method::zstd})
        archives.push_back(saved(Slices{}, arrays_with(method), std::string(zanj::to_string(method))));
    archives.push_back(saved(make_inventory(), zanj::config{}, "inventory"));
    const fs::path dir = python_fixtures();
    archives.push_back(dir / "py_stored.zanj");
    archives.push_back(dir / "py_deflate.zanj");

    for (const fs::path& p : archives) {
        INFO(p.filename().string());
        CHECK_NOTHROW(zanj::archive(p).verify());
        const std::string good = file_bytes(p);
        zanj::detail::zip_reader reader(p);
        std::size_t checked = 0;
        for (const zanj::detail::zip_entry& e : reader.entries()) {
            if (e.compressed_size == 0 || (e.name.rfind("records/", 0) == 0 && e.name != "records/200/w.npy")) continue;
            INFO("member " << e.name);
            flip_byte(p, damaging_flip_offset(p, reader, e));
            if (e.name == "__zanj__.json") {
                CHECK_THROWS_AS(zanj::archive(p), zanj::format_error);
            } else if (e.name == "__zanj_meta__.json") {
                // Copied at the open as stored; checked when first needed.
                zanj::archive a(p);
                CHECK_THROWS_AS(a.meta(), zanj::format_error);
                auto failure = thrown<zanj::format_error>([&] { a.verify(); });
                CHECK_THAT(failure.what(), Contains("__zanj_meta__.json"));
            } else {
                zanj::archive a(p);
                auto failure = thrown<zanj::format_error>([&] { a.verify(); });
                CHECK_THAT(failure.what(), Contains("'" + e.name + "'"));
            }
            zanj_test::write_file(p, good);
            ++checked;
        }
        CHECK(checked >= 4);
    }
}

TEST_CASE("archive verify() finds a stub that disagrees with its member, and a damaged jsonl line",
          "[archive][verify][python]") {
    const fs::path p = saved(make_inventory());
    // Rewritten by Python's zipfile, with one stub changed (every CRC stays right).
    auto rewrite = [&](const std::string& name, const std::string& change) {
        const fs::path out = p.parent_path() / name;
        const std::string script =
            "import json, sys, zipfile\n"
            "src, dst = sys.argv[1], sys.argv[2]\n"
            "with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED) as zout:\n"
            "    for info in zin.infolist():\n"
            "        data = zin.read(info.filename)\n"
            "        if info.filename == '__zanj__.json':\n"
            "            tree = json.loads(data)\n"
            "            " +
            change +
            "\n"
            "            data = json.dumps(tree).encode()\n"
            "        zout.writestr(info.filename, data)\n";
        const fs::path script_file = p.parent_path() / (name + ".py");
        zanj_test::write_file(script_file, script);
        auto r = zanj_test::run(zanj_test::python() + " " + zanj_test::quote(script_file) + " " + zanj_test::quote(p) +
                                " " + zanj_test::quote(out));
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        return out;
    };
    const fs::path shape = rewrite("shape.zanj", "tree['layer']['w']['shape'] = [32, 16]");
    const fs::path dtype = rewrite("dtype.zanj", "tree['layer']['w']['dtype'] = 'int32'");
    CHECK_NOTHROW(zanj::archive(rewrite("same.zanj", "pass")).verify());

    zanj::archive bad_shape(shape);
    CHECK(bad_shape.find("/layer/w")->array->shape == zanj::shape_type{32, 16}); // items() trusts the JSON
    CHECK_THROWS_WITH(bad_shape.verify(), Contains("the stub of 'layer/w.npy' says shape (32, 16)") &&
                                              Contains("the member holds (16, 32)"));
    CHECK_THROWS_AS(bad_shape.array("/layer/w"), zanj::format_error);
    CHECK_THROWS_AS(bad_shape.view("/layer/w"), zanj::format_error);
    zanj::archive bad_dtype(dtype);
    CHECK_THROWS_WITH(bad_dtype.verify(), Contains("the stub of 'layer/w.npy' says dtype \"int32\""));

    // bad_jsonl.zanj: line 11 of ints.jsonl is not JSON, its CRC is right.
    const fs::path dir = python_fixtures();
    zanj::archive jsonl(dir / "bad_jsonl.zanj");
    CHECK(jsonl.view("/w").size() == 300);
    CHECK(jsonl.find("/ints")->kind == zanj::item_kind::external_list);
    auto e = thrown<zanj::format_error>([&] { jsonl.verify(); });
    CHECK_THAT(e.what(), Contains("ints.jsonl line 11"));
    CHECK_THROWS_WITH(jsonl.read("/ints"), Contains("ints.jsonl line 11"));
}

TEST_CASE("archive verify() checks the stubs of arrays inside external lists", "[archive][verify][python]") {
    // A .npy member inside a .jsonl list whose stub (on its line) disagrees with it.
    const fs::path dir = fresh_dir();
    const fs::path script = dir / "make.py";
    const fs::path out = dir / "x.zanj";
    zanj_test::write_file(script, R"py(
import io, json, sys, zipfile
import numpy as np
def npy(a):
    b = io.BytesIO(); np.save(b, a); return b.getvalue()
w = np.arange(300, dtype=np.float32)
lines = [{"w": {"__muutils_format__": "numpy.ndarray:external", "$ref": "items/%d/w.npy" % i,
                "shape": [300 if i != 1 else 299], "dtype": "float32", "n_elements": 300}} for i in range(2)]
tree = {"items": {"__muutils_format__": "list:external", "$ref": "items.jsonl"}}
info = {"items.jsonl": {"item_type": "jsonl", "path": ["items"]}}
for i in range(2):
    info["items/%d/w.npy" % i] = {"item_type": "npy", "path": ["items", i, "w"]}
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("__zanj_meta__.json", json.dumps({"externals_info": info}))
    z.writestr("__zanj__.json", json.dumps(tree))
    z.writestr("items.jsonl", "".join(json.dumps(l) + "\n" for l in lines))
    for i in range(2):
        z.writestr("items/%d/w.npy" % i, npy(w))
)py");
    auto r = zanj_test::run(zanj_test::python() + " " + zanj_test::quote(script) + " " + zanj_test::quote(out));
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    zanj::archive a(out);
    CHECK(a.view("/items/0/w").size() == 300);
    CHECK_THROWS_WITH(a.view("/items/1/w"), Contains("the stub of 'items/1/w.npy' says shape (299,)"));
    CHECK_THROWS_WITH(a.verify(), Contains("the stub of 'items/1/w.npy' says shape (299,)"));
}

// ---- 7. concurrency -------------------------------------------------------------------------------

TEST_CASE("archive reads from several threads at once agree with single-threaded reads",
          "[archive][threads][concurrency]") {
    const Inventory inv = make_inventory();
    const fs::path p = saved(inv);
    const fs::path dir = python_fixtures();
    const fs::path py = dir / "py_stored.zanj";

    // What one thread reads, as text: compared between a fresh archive read by 4 threads at once
    // and another read alone.
    auto work = [&](const zanj::archive& a, const zanj::archive& b, int thread, int round) {
        std::string out;
        const std::size_t i = static_cast<std::size_t>(thread * 37 + round * 11) % 256;
        const std::string record = "/records/" + std::to_string(i);
        out += std::to_string(a.items().size()) + ";";
        out += a.find(record + "/w")->member + ";";
        zanj::ndarray v = a.view("/layer/w");
        out += std::to_string(v.values<float>()[static_cast<std::size_t>(round) % 512]) + ";";
        out += std::to_string(std::uintptr_t(v.bytes()) == std::uintptr_t(a.view("/layer/w").bytes())) + ";";
        out += std::to_string(a.array("/layer/w") == v) + ";";
        out += std::to_string(a.rows("/layer/w", i % 16, 16).size()) + ";";
        out += std::to_string(a.rows("/layer/w", 2, 5, {zanj::access::view}).values<float>()[3]) + ";";
        out += std::to_string(a.read<Layer>("/layer") == inv.layer) + ";";
        out += std::to_string(a.read<Record>(record) == inv.records[i]) + ";";
        out += std::to_string(a.view(record + "/w").values<float>()[1]) + ";";
        out += std::to_string(a.read<std::vector<int>>("/ints")[i]) + ";";
        out += std::to_string(a.read("/ints")[i + 1].as_int()) + ";";
        out += std::to_string(b.items().size()) + ";";
        out += std::to_string(element(b.view("/misaligned_f8"), i % 320)) + ";";
        out += std::to_string(element(b.rows("/fortran_i8_3d", 1, 3, {zanj::access::view}), i)) + ";";
        out += std::to_string(b.read<PyRecord>(record).w(7)) + ";";
        out += std::to_string(b.read("/records")[i]["i"].as_int()) + ";";
        return out;
    };
    constexpr int threads = 4, rounds = 12;
    std::vector<std::vector<std::string>> expected(threads);
    {
        zanj::archive a(p), b(py);
        for (int t = 0; t < threads; ++t)
            for (int r = 0; r < rounds; ++r) expected[t].push_back(work(a, b, t, r));
    }
    CHECK_THAT(expected[0][0], Contains("records/0/w.npy;"));

    zanj::config cfg;
    cfg.threads = 2; // the chunked CRC's own threads, nested inside ours
    const zanj::archive a(p, cfg), b(py, cfg);
    std::vector<std::vector<std::string>> got(threads);
    const auto failures = zanj_test::run_together(threads, [&](int t) {
        for (int r = 0; r < rounds; ++r) got[t].push_back(work(a, b, t, r));
    });
    CHECK(failures.empty());
    for (int t = 0; t < threads; ++t) CHECK(got[t] == expected[t]);
}

// ---- 8. large members and the chunked CRC -------------------------------------------------------------

TEST_CASE("crc32_combine gives the CRC of the concatenation", "[archive][crc]") {
    using zanj::detail::crc32;
    using zanj::detail::crc32_combine;
    // The zip CRC itself, against its check value.
    const std::string check = "123456789";
    CHECK(crc32(0, std::as_bytes(std::span(check.data(), check.size()))) == 0xCBF43926u);
    CHECK(crc32(0, {}) == 0);

    std::vector<std::byte> data((std::size_t{9} << 20) + 77);
    std::mt19937_64 random(42);
    for (auto& b : data) b = static_cast<std::byte>(random());
    const std::span<const std::byte> all(data);
    const std::size_t mib4 = std::size_t{4} << 20;
    const std::vector<std::size_t> cuts{0,
                                        1,
                                        2,
                                        3,
                                        4,
                                        7,
                                        8,
                                        63,
                                        64,
                                        65,
                                        1000,
                                        4095,
                                        4096,
                                        65537,
                                        mib4 - 1,
                                        mib4,
                                        mib4 + 1,
                                        2 * mib4,
                                        data.size() - 1,
                                        data.size()};
    for (std::size_t begin : {std::size_t{0}, std::size_t{5}, std::size_t{4096}}) {
        for (std::size_t cut : cuts) {
            for (std::size_t end : cuts) {
                if (cut < begin || end < cut) continue;
                CAPTURE(begin, cut, end);
                const std::uint32_t a = crc32(0, all.subspan(begin, cut - begin));
                const std::uint32_t b = crc32(0, all.subspan(cut, end - cut));
                CHECK(crc32_combine(a, b, end - cut) == crc32(0, all.subspan(begin, end - begin)));
            }
        }
    }
    // Many pieces combined in order, as the chunked reader does.
    std::uint32_t combined = 0;
    for (std::size_t at = 0; at < data.size();) {
        const std::size_t n = std::min<std::size_t>(data.size() - at, 1 + (at * 7919) % mib4);
        combined = crc32_combine(combined, crc32(0, all.subspan(at, n)), n);
        at += n;
    }
    CHECK(combined == crc32(0, all));
    CHECK(crc32_combine(0x12345678u, 0, 0) == 0x12345678u);
}

TEST_CASE("archive copies of a large stored member agree on 1 and 4 threads, CRC checked", "[archive][crc][large]") {
    const std::size_t n = (std::size_t{16} << 20) + 4099; // 64 MiB and a bit: the last chunk is short
    Big original;
    original.big = xt::xarray<float>::from_shape({n});
    for (std::size_t k = 0; k < n; ++k) original.big(k) = static_cast<float>(k % 1000003) * 0.5f;
    const fs::path p = saved(original);
    const zanj::ndarray expected = as_ndarray(original.big);

    auto read_with = [&](unsigned threads) {
        zanj::config cfg;
        cfg.threads = threads;
        return zanj::archive(p, cfg);
    };
    for (unsigned threads : {1u, 4u}) {
        INFO(threads << " threads");
        zanj::archive a = read_with(threads);
        CHECK(a.array("/big") == expected);
        CHECK((a.read<xt::xarray<float>>("/big") == original.big));
        CHECK(a.rows("/big", n - 10, n) == expected.rows(n - 10, n));
        CHECK_NOTHROW(a.verify());
    }

    // A flipped byte anywhere is found by either thread count, by copies and by verify().
    const std::uint64_t data = npy_data_offset(p, "big.npy");
    for (std::uint64_t at : {data, data + (std::uint64_t{4} << 20) + 3, data + n * 4 - 1}) {
        const std::string good = file_bytes(p);
        flip_byte(p, at);
        for (unsigned threads : {1u, 4u}) {
            INFO(threads << " threads, byte " << at - data);
            zanj::archive a = read_with(threads);
            CHECK_THROWS_WITH(a.array("/big"), Contains("CRC-32 mismatch in member 'big.npy'"));
            CHECK_THROWS_WITH(a.read<Big>(), Contains("CRC-32 mismatch in member 'big.npy'"));
            CHECK_THROWS_WITH(a.verify(), Contains("CRC-32 mismatch in member 'big.npy'"));
            CHECK_NOTHROW(a.view("/big"));
        }
        zanj_test::write_file(p, good);
    }
}

// ---- external lists a whole read is done with --------------------------------------------------
// A whole read hands each external list back to its source once the load that asked for it has
// returned (external_source::release_jsonl), so that it holds one list's parsed lines at a time.

namespace list_release_test {

// Loads "a" and "b" side by side: both lists are in use at once.
struct zipped {
    std::vector<int> sums;
    bool operator==(const zipped&) const = default;
};

struct record {
    std::string name;
    xt::xarray<float> w; // external beyond the array threshold
    std::vector<int> tags;
    bool operator==(const record&) const = default;
};
ZANJ_DATACLASS(record, name, w, tags);

struct experiment {
    zipped pairs;
    std::vector<record> records;          // an external list of records, each with an array
    std::vector<std::vector<int>> groups; // an external list of external lists
    std::map<std::string, std::vector<int>> by_name;
    bool operator==(const experiment&) const = default;
};
ZANJ_DATACLASS(experiment, pairs, records, groups, by_name);

// Lists by member, each parsed anew when asked for after a release; a released list is
// overwritten in place (and kept allocated), so that a load still using it would read -1s.
struct recording_source final : zanj::detail::external_source {
    std::map<std::string, zanj::value> lists;
    mutable std::map<std::string, std::unique_ptr<zanj::value>> parsed;
    mutable std::vector<std::unique_ptr<zanj::value>> released;
    mutable std::vector<std::string> events;

    bool has_jsonl(std::string_view member) const override { return lists.count(std::string(member)) != 0; }
    bool has_npy(std::string_view) const override { return false; }
    const zanj::value& jsonl(std::string_view member) const override {
        std::unique_ptr<zanj::value>& p = parsed[std::string(member)];
        if (!p) {
            events.push_back("parse " + std::string(member));
            p = std::make_unique<zanj::value>(lists.at(std::string(member)));
        }
        return *p;
    }
    zanj::ndarray npy(std::string_view member) const override {
        throw zanj::usage_error("no array " + std::string(member));
    }
    void npy_into(std::string_view member, const zanj::array_placer&) const override {
        throw zanj::usage_error("no array " + std::string(member));
    }
    void release_jsonl(std::string_view member) const override {
        events.push_back("release " + std::string(member));
        auto it = parsed.find(std::string(member));
        REQUIRE(it != parsed.end());
        for (zanj::value& item : it->second->as_list()) item = zanj::value(std::int64_t{-1});
        released.push_back(std::move(it->second));
        parsed.erase(it);
    }
};

zanj::value list_stub(const std::string& member) {
    zanj::value::dict_type d;
    d.insert_or_assign(zanj::format_key, std::string("list:external"));
    d.insert_or_assign("$ref", member);
    return zanj::value(std::move(d));
}

zanj::value int_list(std::initializer_list<std::int64_t> items) {
    zanj::value::list_type l;
    for (std::int64_t i : items) l.emplace_back(i);
    return zanj::value(std::move(l));
}

} // namespace list_release_test

namespace zanj {
template <>
struct handler<list_release_test::zipped> {
    static value serialize(const list_release_test::zipped& z, serializer& s) {
        std::vector<int> halves;
        for (int v : z.sums) halves.push_back(v / 2);
        value::dict_type d;
        d.insert_or_assign("a", s.serialize_field("a", halves));
        d.insert_or_assign("b", s.serialize_field("b", halves));
        return value(std::move(d));
    }
    static list_release_test::zipped load(const value& v, loader& l) {
        const value::list_type& a = l.sequence(l.field(v, "a"));
        const value::list_type& b = l.sequence(l.field(v, "b"));
        if (a.size() != b.size()) l.fail("a and b differ in length");
        list_release_test::zipped out;
        for (std::size_t i = 0; i < a.size(); ++i)
            out.sums.push_back(l.load_element<int>(a[i], i) + l.load_element<int>(b[i], i));
        return out;
    }
};
} // namespace zanj

TEST_CASE("a loader hands each external list back once the load that asked for it returns", "[archive][lists]") {
    using namespace list_release_test;
    recording_source source;
    source.lists["a.jsonl"] = int_list({1, 2, 3});
    source.lists["b.jsonl"] = int_list({10, 20, 30});
    zanj::value::list_type outer;
    outer.push_back(list_stub("g0.jsonl"));
    outer.push_back(list_stub("g1.jsonl"));
    source.lists["outer.jsonl"] = zanj::value(std::move(outer));
    source.lists["g0.jsonl"] = int_list({4});
    source.lists["g1.jsonl"] = int_list({5, 6});
    zanj::value::dict_type pairs;
    pairs.insert_or_assign("a", list_stub("a.jsonl"));
    pairs.insert_or_assign("b", list_stub("b.jsonl"));
    zanj::value::dict_type root;
    root.insert_or_assign("pairs", zanj::value(std::move(pairs)));
    root.insert_or_assign("groups", list_stub("outer.jsonl"));
    const zanj::value tree(std::move(root));

    const zanj::config settings;
    zanj::loader l(settings, nullptr, &source);
    const zipped pairs_back = l.load<zipped>(*tree.find("pairs"));
    CHECK(pairs_back.sums == std::vector<int>{11, 22, 33});
    // Both lists stay whole while the handler zips them; each goes back once it returns.
    CHECK(source.events ==
          std::vector<std::string>{"parse a.jsonl", "parse b.jsonl", "release b.jsonl", "release a.jsonl"});
    source.events.clear();
    const auto groups = l.load<std::vector<std::vector<int>>>(*tree.find("groups"));
    CHECK(groups == std::vector<std::vector<int>>{{4}, {5, 6}});
    // An inner list goes back as soon as its element is loaded, the outer one at the end.
    CHECK(source.events == std::vector<std::string>{"parse outer.jsonl", "parse g0.jsonl", "release g0.jsonl",
                                                    "parse g1.jsonl", "release g1.jsonl", "release outer.jsonl"});

    // A list asked for again while in use (here by a second load of the same stub inside a
    // handler) stays with its first asker.
    source.events.clear();
    zanj::value::dict_type twice;
    twice.insert_or_assign("a", list_stub("a.jsonl"));
    twice.insert_or_assign("b", list_stub("a.jsonl"));
    const zipped doubled = l.load<zipped>(zanj::value(std::move(twice)));
    CHECK(doubled.sums == std::vector<int>{2, 4, 6});
    CHECK(source.events == std::vector<std::string>{"parse a.jsonl", "release a.jsonl"});
}

TEST_CASE("a loader that follows refs or shares objects keeps every external list", "[archive][lists]") {
    using namespace list_release_test;
    recording_source source;
    zanj::value::list_type nodes;
    for (int i = 0; i < 3; ++i) nodes.emplace_back(std::int64_t{i});
    source.lists["nodes.jsonl"] = zanj::value(std::move(nodes));
    const zanj::config settings;
    zanj::loader l(settings, nullptr, &source);
    // Objects of owning pointers are found by their item's address: their list must not change.
    const auto shared = l.load<std::vector<std::shared_ptr<int>>>(list_stub("nodes.jsonl"));
    REQUIRE(shared.size() == 3);
    CHECK(*shared[2] == 2);
    CHECK(source.events == std::vector<std::string>{"parse nodes.jsonl"});
    // Nor, from then on, any other.
    source.lists["more.jsonl"] = int_list({7});
    CHECK(l.load<std::vector<int>>(list_stub("more.jsonl")) == std::vector<int>{7});
    CHECK(source.events == std::vector<std::string>{"parse nodes.jsonl", "parse more.jsonl"});
}

TEST_CASE("whole reads of many external lists, nested and zipped, give back what was saved", "[archive][lists]") {
    using namespace list_release_test;
    experiment e;
    for (int i = 0; i < 300; ++i) e.pairs.sums.push_back(2 * i);
    for (int i = 0; i < 300; ++i) {
        record r;
        r.name = "r" + std::to_string(i);
        r.w = xt::xarray<float>::from_shape({static_cast<std::size_t>(300 + i % 3)});
        for (std::size_t k = 0; k < r.w.size(); ++k) r.w.data()[k] = static_cast<float>(i) + static_cast<float>(k);
        for (int k = 0; k < 260 + i % 5; ++k) r.tags.push_back(i + k); // an external list nested in one
        e.records.push_back(std::move(r));
    }
    for (int g = 0; g < 40; ++g) {
        std::vector<int> group;
        for (int k = 0; k < 300; ++k) group.push_back(g * 1000 + k);
        e.groups.push_back(group);
        e.by_name["g" + std::to_string(g)] = std::move(group);
    }
    const fs::path file = zanj::ZANJ().save(e, zanj_test::fresh_dir("list_release") / "e");
    for (unsigned threads : {1u, 2u}) {
        INFO("threads " << threads);
        zanj::config settings;
        settings.threads = threads;
        CHECK(zanj::ZANJ(settings).read<experiment>(file) == e);
        // The lazy handle caches lists for every reader of it instead, and reads the same.
        const zanj::archive a(file, settings);
        CHECK(a.read<experiment>() == e);
        CHECK(a.read<std::vector<int>>("/groups/7") == e.groups[7]);
    }
}
