// Writes the C++ part of the fuzzers' seed corpus (tests/fuzz/make-corpus.sh runs it):
//   OUT/zanj-<name>.zanj     a small zanj_fuzz::run saved by our writer with each storage setting
//   OUT/libzip-<name>.zanj   the same archive's members repacked by libzip (deflate and store)
// usage: zanj_fuzz_seeds OUT
#include "fuzz_support.hpp"

#include <zanj/detail/zip.hpp>

#include <zip.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;

zanj_fuzz::run sample() {
    zanj_fuzz::run r;
    r.title = "fuzz seed";
    r.lr = 0.25;
    r.steps = -7;
    r.done = true;
    r.tint = zanj_fuzz::color::blue;
    r.metrics = {{"loss", 0.5}, {"nan", std::nan("")}, {"inf", INFINITY}};
    for (int i = 0; i < 2; ++i) {
        zanj_fuzz::layer l;
        l.name = "layer" + std::to_string(i);
        l.w = xt::xarray<float>::from_shape({3, static_cast<std::size_t>(4 + 6 * i)});
        for (std::size_t k = 0; k < l.w.size(); ++k) l.w.data()[k] = static_cast<float>(k) * 0.5f - 1.0f;
        l.shape = {3, 4 + 6 * i};
        if (i == 1) l.scale = 2.0;
        r.layers.push_back(std::move(l));
    }
    r.note = "caf\xc3\xa9";
    r.ids = {3, 1, 2};
    r.triple = {1, "two", 3.0};
    r.choice = std::vector<double>{1.5, -2.5};
    r.lookup = {{1, {"a", "b"}}, {-2, {}}};
    r.tag = {1, 2, 254, 255};
    r.roots = {{1.0, -1.0}, {0.0, 2.0}};
    r.elapsed = std::chrono::milliseconds(1500);
    r.grid = xt::xtensor<double, 2>::from_shape({2, 3});
    for (std::size_t k = 0; k < r.grid.size(); ++k) r.grid.data()[k] = static_cast<double>(k);
    r.counts = xt::xarray<std::int16_t>::from_shape({12});
    for (std::size_t k = 0; k < r.counts.size(); ++k) r.counts.data()[k] = static_cast<std::int16_t>(k * 1000);
    r.rows = {{1.0f, 2.0f}, {}, {3.0f}, {4.0f, 5.0f, 6.0f}, {7.0f}};
    r.extra = zanj::value::dict_type{{"k", zanj::value(1)}, {"list", zanj::value::list_type{zanj::value(true)}}};
    return r;
}

// Members of the archive at `from`, rewritten by libzip into `to`.
void repack_with_libzip(const fs::path& from, const fs::path& to, bool store) {
    zanj::detail::zip_reader in(from);
    int code = 0;
    zip_t* out = zip_open(to.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    if (!out) throw std::runtime_error("libzip cannot create " + to.string());
    std::vector<std::vector<std::byte>> keep; // libzip reads the buffers at zip_close
    for (const auto& e : in.entries()) {
        auto data = in.read(e);
        keep.emplace_back(data.get(), data.get() + e.uncompressed_size);
        zip_source_t* source = zip_source_buffer(out, keep.back().data(), keep.back().size(), 0);
        zip_int64_t index = zip_file_add(out, e.name.c_str(), source, ZIP_FL_ENC_UTF_8);
        if (!source || index < 0 ||
            zip_set_file_compression(out, static_cast<zip_uint64_t>(index), store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0) !=
                0)
            throw std::runtime_error("libzip cannot add " + e.name);
    }
    if (zip_close(out) != 0) throw std::runtime_error("libzip cannot write " + to.string());
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUT\n", argv[0]);
        return 2;
    }
    const fs::path out = argv[1];
    fs::create_directories(out);
    const zanj_fuzz::run r = sample();

    // Low thresholds: the layers' weights, the grid and the rows become .npy and .jsonl members.
    zanj::config small;
    small.external_array_threshold = 8;
    small.external_list_threshold = 4;
    std::vector<std::pair<std::string, zanj::config>> settings;
    settings.emplace_back("default", small);
    zanj::config c = small;
    c.compress = zanj::compression_policy::python();
    settings.emplace_back("deflate", c);
    c.compress = zanj::compression_policy::all({zanj::compression_method::zstd});
    settings.emplace_back("zstd", c);
    c.compress = zanj::compression_policy::none();
    settings.emplace_back("store", c);
    for (auto mode : {zanj::array_mode::array_list_meta, zanj::array_mode::array_hex_meta,
                      zanj::array_mode::array_b64_meta, zanj::array_mode::list}) {
        zanj::config inline_all; // everything in __zanj__.json
        inline_all.external_array_threshold = 1000;
        inline_all.external_list_threshold = 1000;
        inline_all.internal_array_mode = mode;
        settings.emplace_back("inline-" + std::string(zanj::to_string(mode)), inline_all);
    }
    for (const auto& [name, config] : settings) zanj::ZANJ(config).save(r, out / ("zanj-" + name + ".zanj"));
    repack_with_libzip(out / "zanj-default.zanj", out / "libzip-deflate.zanj", false);
    repack_with_libzip(out / "zanj-default.zanj", out / "libzip-store.zanj", true);
    return 0;
}
