// How members are stored: per-item storage hints and their path patterns, the adaptive
// compression policy, multi-threaded zstd and checksums, and what Python makes of the results.

#include <zanj/zanj.hpp>

#include <zanj/detail/codec.hpp>
#include <zanj/detail/zip.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <sys/stat.h>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>
#include <zstd.h>

using namespace zanj_test;
using Catch::Matchers::Contains;
using zanj::compression;
using zanj::compression_method;

namespace storage_test {

struct Model {
    std::map<std::string, xt::xarray<float>> layers;
    xt::xarray<float> small;
    std::vector<int> history;
};
ZANJ_DATACLASS(Model, layers, small, history);

xt::xarray<float> random_floats(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist;
    xt::xarray<float> a = xt::zeros<float>({n});
    for (auto& x : a) x = dist(rng);
    return a;
}

Model sample_model() {
    Model m;
    m.layers["dense"] = random_floats(10000, 1);
    m.layers["sparse"] = xt::zeros<float>({100, 100});
    m.small = random_floats(10, 2);
    m.history.assign(1000, 7);
    return m;
}

// A hint for `path`; callers set the fields they want (designated initializers would warn
// about the others under -Wextra).
zanj::storage_hint hint(std::string path) {
    zanj::storage_hint h;
    h.path = std::move(path);
    return h;
}

const zanj::detail::zip_entry& entry(const zanj::detail::zip_reader& zip, const std::string& name) {
    const auto* e = zip.find(name);
    INFO("member " << name);
    REQUIRE(e);
    return *e;
}

} // namespace storage_test

using namespace storage_test;

TEST_CASE("object path patterns match one step with * and any steps with **", "[storage]") {
    zanj::object_path p;
    p.push("layers");
    p.push(std::size_t{3});
    p.push("w");
    CHECK(p.matches("/layers/3/w"));
    CHECK(p.matches("layers/3/w"));
    CHECK(p.matches("/layers/*/w"));
    CHECK(p.matches("/**/w"));
    CHECK(p.matches("/**"));
    CHECK(p.matches("/layers/**"));
    CHECK(p.matches("/**/layers/**/w"));
    CHECK_FALSE(p.matches("/layers/*"));
    CHECK_FALSE(p.matches("/layers/4/w"));
    CHECK_FALSE(p.matches("/*/w"));
    CHECK_FALSE(p.matches("/layers/3/w/x"));
    CHECK(zanj::object_path().matches("/"));
    CHECK(zanj::object_path().matches("/**"));
    CHECK_FALSE(zanj::object_path().matches("/*"));
}

TEST_CASE("storage hints choose external or inline, array mode and compression per item", "[storage]") {
    fs::path dir = fresh_dir("hints");
    zanj::config cfg;
    cfg.storage_hints.resize(4);
    cfg.storage_hints[0] = hint("/small");
    cfg.storage_hints[0].external = true;
    cfg.storage_hints[0].compression = compression{compression_method::deflate, 1};
    cfg.storage_hints[1] = hint("/layers/sparse");
    cfg.storage_hints[1].external = false;
    cfg.storage_hints[1].array_mode = zanj::array_mode::array_b64_meta;
    cfg.storage_hints[2] = hint("/layers/*");
    cfg.storage_hints[2].compression = compression{compression_method::deflate, 9};
    cfg.storage_hints[3] = hint("/history");
    cfg.storage_hints[3].external = false;
    zanj::ZANJ z(cfg);
    Model m = sample_model();
    fs::path path = z.save(m, dir / "model");

    zanj::detail::zip_reader zip(path);
    CHECK(entry(zip, "small.npy").method == compression_method::deflate);        // forced out, deflate
    CHECK(entry(zip, "layers/dense.npy").method == compression_method::deflate); // the wildcard hint
    CHECK_FALSE(zip.find("layers/sparse.npy"));                                  // forced inline
    CHECK_FALSE(zip.find("history.jsonl"));                                      // forced inline
    const zanj::archive opened = z.open(path);
    const zanj::value& tree = opened.tree();
    CHECK(tree["layers"]["sparse"].format() == "numpy.ndarray:array_b64_meta");
    CHECK(tree["history"].is_list());
    CHECK(tree["small"].format() == "numpy.ndarray:external");

    Model back = z.read<Model>(path);
    CHECK(back.layers == m.layers);
    CHECK(bool(back.small == m.small));
    CHECK(back.history == m.history);
    // The hints are recorded in the metadata, and Python reads the archive as it reads any.
    const zanj::value meta = z.read_meta(path);
    CHECK(meta["zanj_cfg"]["storage_hints"].size() == 4);
    auto r = run(python() + " " + quote(python_script("read_zanj.py")) + " " + quote(path));
    INFO(r.output);
    CHECK(r.exit_code == 0);
}

TEST_CASE("the first matching storage hint wins, and hints without a field leave it alone", "[storage]") {
    fs::path dir = fresh_dir("hint_order");
    zanj::config cfg;
    cfg.storage_hints = {hint("/layers/dense"), hint("/layers/**")};
    cfg.storage_hints[0].external = false;
    cfg.storage_hints[1].external = true;
    Model m = sample_model();
    fs::path path = zanj::ZANJ(cfg).save(m, dir / "model");
    zanj::detail::zip_reader zip(path);
    CHECK_FALSE(zip.find("layers/dense.npy"));
    CHECK(zip.find("layers/sparse.npy"));
    CHECK(entry(zip, "layers/sparse.npy").method == compression_method::store); // the archive's default
    CHECK(zip.find("history.jsonl"));                                           // no hint: by length
}

TEST_CASE("adaptive compression stores what does not shrink and compresses what does", "[storage]") {
    using zanj::detail::choose_method;
    const compression adaptive = compression::adaptive_of(compression_method::zstd);
    xt::xarray<float> noise = random_floats(1 << 18, 3);
    std::vector<std::uint8_t> labels(1 << 20);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(i / 1000 % 4);
    auto bytes_of = [](const auto* p, std::size_t n) { return std::as_bytes(std::span(p, n)); };

    const std::span<const std::byte> noise_piece[] = {bytes_of(noise.data(), noise.size())};
    const std::span<const std::byte> label_piece[] = {bytes_of(labels.data(), labels.size())};
    CHECK(choose_method(adaptive, noise_piece) == compression_method::store);
    CHECK(choose_method(adaptive, label_piece) == compression_method::zstd);
    // Not adaptive: the method as given, whatever the data.
    CHECK(choose_method(compression{compression_method::deflate}, noise_piece) == compression_method::deflate);
    // Pieces are sampled as one stream: a compressible tail after random bytes still counts.
    const std::span<const std::byte> mixed[] = {noise_piece[0].first(1000), label_piece[0]};
    CHECK(choose_method(adaptive, mixed) == compression_method::zstd);
    const std::span<const std::byte> none[] = {std::span<const std::byte>{}};
    CHECK(choose_method(adaptive, none) == compression_method::store);

    SECTION("in an archive") {
        fs::path dir = fresh_dir("adaptive");
        zanj::config cfg;
        cfg.compress.arrays = compression::adaptive_of(compression_method::deflate);
        Model m = sample_model();
        fs::path path = zanj::ZANJ(cfg).save(m, dir / "model");
        zanj::detail::zip_reader zip(path);
        CHECK(entry(zip, "layers/dense.npy").method == compression_method::store);
        CHECK(entry(zip, "layers/sparse.npy").method == compression_method::deflate);
        // Stored ones stay aligned (a small array: to config::small_array_alignment).
        CHECK(reinterpret_cast<std::uintptr_t>(zanj::archive(path).view("/layers/dense").bytes()) % 16 == 0);
        CHECK(zanj::ZANJ().read<Model>(path).layers == m.layers);
        CHECK(zanj::ZANJ().read_meta(path)["zanj_cfg"]["compress"]["arrays"]["adaptive"].as_bool());
    }
}

TEST_CASE("multi-threaded zstd writes one standard frame and threaded checksums are right", "[storage]") {
    fs::path dir = fresh_dir("threads");
    // A smooth field: compressible, and large enough for zstd's workers and the checksum thread.
    xt::xarray<float> field = xt::zeros<float>({std::size_t{4} << 20});
    for (std::size_t i = 0; i < field.size(); ++i) field(i) = static_cast<float>(std::sin(double(i) * 1e-4));
    std::map<std::string, xt::xarray<float>> data{{"field", field}, {"noise", random_floats(1 << 20, 9)}};

    for (unsigned threads : {1u, 2u, 4u}) {
        INFO("threads " << threads);
        zanj::config cfg;
        cfg.threads = threads;
        cfg.compress.arrays = compression{compression_method::zstd};
        cfg.storage_hints = {hint("/noise")};
        cfg.storage_hints[0].compression = compression{}; // stored: the checksum runs beside the write
        fs::path path = zanj::ZANJ(cfg).save(data, dir / std::string("t").append(std::to_string(threads)));

        zanj::detail::zip_reader zip(path);
        const auto& e = entry(zip, "field.npy");
        REQUIRE(e.method == compression_method::zstd);
        // A single frame spans the whole member, so zstd readers that stop after one frame
        // (Python's zipfile among them) see everything.
        auto whole = std::make_unique<std::byte[]>(static_cast<std::size_t>(e.compressed_size));
        std::ifstream in(path, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(zip.data_offset(e)));
        in.read(reinterpret_cast<char*>(whole.get()), static_cast<std::streamsize>(e.compressed_size));
        CHECK(ZSTD_findFrameCompressedSize(whole.get(), static_cast<std::size_t>(e.compressed_size)) ==
              e.compressed_size);
        for (const auto& member : zip.entries()) CHECK_NOTHROW(zip.verify(member));
        CHECK(zanj::ZANJ().read<std::map<std::string, xt::xarray<float>>>(path) == data);
    }
    // numpy reads the stored array whose CRC was written after its data.
    fs::path path = dir / "t2.zanj";
    auto r = run(python() + " -c \"import zipfile,numpy as np; z=zipfile.ZipFile('" + path.string() +
                 "'); z.read('noise.npy'); print(np.load(z.open('noise.npy')).shape)\"");
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Contains("(1048576,)"));
}

TEST_CASE("chunked arrays are written from their producer and read back as any array", "[storage]") {
    fs::path dir = fresh_dir("chunked");
    const std::size_t rows = 3000, cols = 1000; // 12 MB of float32: two 8 MiB pieces
    auto produce = [&](std::size_t first, std::span<float> out) {
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>((first + i) % 977) * 0.5f;
    };
    xt::xarray<float> expected = xt::zeros<float>({rows, cols});
    produce(0, {expected.data(), expected.size()});

    for (auto method : {compression_method::store, compression_method::zstd, compression_method::deflate}) {
        INFO("method " << zanj::to_string(method));
        zanj::config cfg;
        cfg.threads = 2;
        cfg.compress.arrays = compression{method};
        std::map<std::string, zanj::chunked_array> data;
        data.emplace("field", zanj::chunked_array::of<float>({rows, cols}, produce));
        fs::path path = zanj::ZANJ(cfg).save(data, dir / ("chunked_" + std::string(zanj::to_string(method))));

        // Mostly zeros: zstd goes far past the default ratio limit, which a trusted file may raise.
        zanj::config trusting;
        trusting.limits.max_compression_ratio = zanj::read_limits::unlimited;
        zanj::detail::zip_reader zip(path, trusting.limits);
        // zstd compresses as it goes; deflate cannot, so the array is stored.
        const auto expected_method = method == compression_method::zstd ? method : compression_method::store;
        CHECK(entry(zip, "field.npy").method == expected_method);
        for (const auto& member : zip.entries()) CHECK_NOTHROW(zip.verify(member));
        auto back = zanj::ZANJ(trusting).read<std::map<std::string, xt::xarray<float>>>(path);
        CHECK(bool(back.at("field") == expected));
    }
    // numpy reads the stored one.
    auto r = run(python() + " -c \"import zipfile,numpy as np; a=np.load(zipfile.ZipFile('" +
                 (dir / "chunked_store.zanj").string() + "').open('field.npy')); print(a.shape, a[2999,999])\"");
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Contains("(3000, 1000) ") && Contains(std::to_string((2999 * 1000 + 999) % 977 / 2)));

    SECTION("without an archive the producer fills an inline array") {
        zanj::config cfg;
        zanj::serializer s(cfg);
        zanj::value v =
            s.serialize(zanj::chunked_array::of<std::int32_t>({3}, [](std::size_t first, std::span<std::int32_t> out) {
                for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::int32_t>(first + i + 1);
            }));
        CHECK(v.get<std::vector<std::int32_t>>() == std::vector<std::int32_t>{1, 2, 3});
    }
}

TEST_CASE("arrays and archives over 4 GiB, written in chunks into a sparse file", "[storage][large]") {
    fs::path dir = fresh_dir("large");
    // 4.5 GiB of bytes, zero but for a marker at both ends: the zero pieces become holes, so the
    // test needs little disk and time while every offset and size takes its ZIP64 form.
    constexpr std::size_t n = (std::size_t{9} << 29);
    auto marker = [](std::size_t i) -> std::uint8_t {
        if (i < 4096) return static_cast<std::uint8_t>(i % 251 + 1);
        if (i >= n - 4096) return static_cast<std::uint8_t>((n - i) % 241 + 1);
        return 0;
    };
    std::map<std::string, zanj::chunked_array> big;
    big.emplace("a_big",
                zanj::chunked_array::of<std::uint8_t>({n}, [&](std::size_t first, std::span<std::uint8_t> out) {
                    std::fill(out.begin(), out.end(), std::uint8_t{0});
                    if (first < 4096 || first + out.size() > n - 4096)
                        for (std::size_t i = 0; i < out.size(); ++i) out[i] = marker(first + i);
                }));
    // Written after the big one, so its local header lies past 4 GiB.
    xt::xarray<float> after = random_floats(1000, 5);
    std::map<std::string, xt::xarray<float>> small{{"z_after", after}};
    zanj::config cfg;
    cfg.threads = 2;
    fs::path path = zanj::ZANJ(cfg).save(std::make_pair(big, small), dir / "large");

    const auto on_disk = fs::file_size(path);
    CHECK(on_disk > n);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(static_cast<std::uint64_t>(st.st_blocks) * 512 < (std::uint64_t{256} << 20)); // sparse

    zanj::archive a(path);
    auto info = a.find("/0/a_big");
    REQUIRE(info);
    REQUIRE(info->array);
    CHECK(info->array->shape == zanj::shape_type{n});
    CHECK(info->array->uncompressed_size > (std::uint64_t{1} << 32));
    zanj::ndarray head = a.rows("/0/a_big", 0, 16);
    zanj::ndarray tail = a.rows("/0/a_big", n - 16, n);
    for (std::size_t i = 0; i < 16; ++i) {
        CHECK(head.values<std::uint8_t>()[i] == marker(i));
        CHECK(tail.values<std::uint8_t>()[i] == marker(n - 16 + i));
    }
    zanj::ndarray whole = a.view("/0/a_big");
    CHECK(whole.values<std::uint8_t>()[n - 1] == marker(n - 1));
    CHECK(a.array("/1/z_after").values<float>()[999] == after(999));
    CHECK_NOTHROW(a.verify());

    // Python's zipfile sees the ZIP64 sizes and offsets, and numpy reads the array after the big one.
    auto r = run(python() + " -c \"import zipfile,numpy as np; z=zipfile.ZipFile('" + path.string() +
                 "'); i=z.getinfo('0/a_big.npy'); print(i.file_size, z.getinfo('1/z_after.npy').header_offset > 2**32, "
                 "np.load(z.open('1/z_after.npy'))[999])\"");
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Contains(" True "));
}
