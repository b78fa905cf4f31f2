#include "workloads.hpp"

#include "harness.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>

namespace bench {

namespace {

namespace fs = std::filesystem;

// Dense pseudo-random floats, which compress about as badly as trained weights.
void fill_weights(xt::xarray<float>& a, std::uint64_t seed) {
    std::uint64_t state = 0x9E3779B97F4A7C15ull * (seed + 1);
    for (float& x : a) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        x = static_cast<float>(static_cast<std::int64_t>(state >> 40) - (1 << 23)) * 1e-7f;
    }
}

template <class T>
std::span<const std::byte> bytes_of(const xt::xarray<T>& a) {
    return std::as_bytes(std::span(a.data(), a.size()));
}

std::size_t scaled_rows(double scale) {
    return std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(4096 * scale)));
}

record make_record(std::size_t i) {
    return {static_cast<std::int64_t>(i), "run-" + std::to_string(i / 1000) + "/step-" + std::to_string(i % 1000),
            std::round(1e4 * (0.5 + 0.4 * std::sin(static_cast<double>(i) * 1e-3))) / 1e4,
            static_cast<std::int32_t>(i % 97), i % 3 == 0};
}

void add_dense_blobs(workload& w) {
    for (const auto& [name, a] : std::get<dense>(w.data))
        w.blobs.push_back({name, dtype::f4, {a.shape().begin(), a.shape().end()}, bytes_of(a)});
}

workload large_arrays(double scale) {
    workload w;
    w.id = "a";
    w.title = "16 dense float32 arrays (1 GiB at scale 1)";
    dense d;
    const std::size_t rows = scaled_rows(scale);
    for (std::size_t i = 0; i < 16; ++i) {
        char name[8];
        std::snprintf(name, sizeof name, "w%02zu", i);
        auto a = xt::xarray<float>::from_shape({rows, std::size_t{4096}});
        fill_weights(a, i);
        d.emplace(name, std::move(a));
    }
    w.data = std::move(d);
    add_dense_blobs(w);
    return w;
}

workload many_arrays() {
    workload w;
    w.id = "b";
    w.title = "10,000 float32 arrays of 1,000 elements";
    w.probe = "w05000";
    dense d;
    for (std::size_t i = 0; i < 10000; ++i) {
        char name[8];
        std::snprintf(name, sizeof name, "w%05zu", i);
        auto a = xt::xarray<float>::from_shape({std::size_t{1000}});
        fill_weights(a, i);
        d.emplace(name, std::move(a));
    }
    w.data = std::move(d);
    add_dense_blobs(w);
    return w;
}

// The raw anchor of (c) writes the structs' field bytes, packed: what a binary format must at
// least move.
void append_packed(std::vector<std::byte>& out, const record& r) {
    auto put = [&](const void* p, std::size_t n) {
        const auto* b = static_cast<const std::byte*>(p);
        out.insert(out.end(), b, b + n);
    };
    put(&r.id, sizeof r.id);
    put(&r.score, sizeof r.score);
    put(&r.count, sizeof r.count);
    put(&r.flag, sizeof r.flag);
    put(r.name.data(), r.name.size());
}

workload struct_tree() {
    workload w;
    w.id = "c";
    w.title = "a tree of 100,000 small structs (100 groups of 1,000)";
    w.arrays = false;
    tree t;
    for (std::size_t g = 0; g < 100; ++g) {
        char name[16];
        std::snprintf(name, sizeof name, "group_%03zu", g);
        auto& items = t[name];
        for (std::size_t i = 0; i < 1000; ++i) items.push_back(make_record(g * 1000 + i));
    }
    for (const auto& [name, items] : t)
        for (const auto& r : items) append_packed(w.extra_bytes, r);
    w.data = std::move(t);
    w.blobs.push_back({"fields", dtype::u1, {w.extra_bytes.size()}, w.extra_bytes});
    return w;
}

workload compressible(double scale) {
    workload w;
    w.id = "d";
    w.title = "compressible: smooth float32 field, int32 labels, 100,000 records as JSON lines";
    mixed m;
    const std::size_t rows = scaled_rows(scale), cols = 4096;
    m.field = xt::xarray<float>::from_shape({rows, cols});
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j)
            m.field(i, j) =
                static_cast<float>(std::sin(0.01 * static_cast<double>(i)) * std::cos(0.013 * static_cast<double>(j)));
    m.labels = xt::xarray<std::int32_t>::from_shape({rows * cols});
    for (std::size_t i = 0; i < m.labels.size(); ++i)
        m.labels(i) = static_cast<std::int32_t>((i / 1000 + (i % 7 == 0)) % 10);
    for (std::size_t i = 0; i < 100000; ++i) m.records.push_back(make_record(i));

    // The records as every other tool stores them: one JSON object per line.
    std::string lines;
    for (const auto& r : m.records)
        lines +=
            nlohmann::json{{"id", r.id}, {"name", r.name}, {"score", r.score}, {"count", r.count}, {"flag", r.flag}}
                .dump() +
            "\n";
    const auto text = std::as_bytes(std::span(lines));
    w.extra_bytes.assign(text.begin(), text.end());

    w.data = std::move(m);
    const mixed& d = std::get<mixed>(w.data);
    w.blobs.push_back({"field", dtype::f4, {rows, cols}, bytes_of(d.field)});
    w.blobs.push_back({"labels", dtype::i4, {d.labels.size()}, bytes_of(d.labels)});
    w.blobs.push_back({"records", dtype::u1, {w.extra_bytes.size()}, w.extra_bytes});
    return w;
}

// One raw file with every array back to back, and a manifest saying where each is.
void write_data_file(const workload& w) {
    nlohmann::json arrays = nlohmann::json::array();
    fd_handle f(w.data_file, O_CREAT | O_TRUNC | O_WRONLY);
    std::uint64_t offset = 0;
    for (const blob& b : w.blobs) {
        write_all(f.get(), b.bytes);
        arrays.push_back({{"name", b.name}, {"dtype", numpy_descr(b.dtype)}, {"shape", b.shape}, {"offset", offset}});
        offset += b.bytes.size();
    }
    const std::string text = nlohmann::json{{"data", w.data_file.string()}, {"arrays", arrays}}.dump();
    write_file_synced(w.manifest, std::as_bytes(std::span(text)));
}

} // namespace

std::size_t dtype_size(dtype t) { return t == dtype::u1 ? 1 : 4; }

const char* numpy_descr(dtype t) {
    switch (t) {
    case dtype::i4: return "<i4";
    case dtype::u1: return "|u1";
    case dtype::f4: break;
    }
    return "<f4";
}

std::uint64_t workload::payload_bytes() const {
    std::uint64_t total = 0;
    for (const blob& b : blobs) total += b.bytes.size();
    return total;
}

const blob& workload::probe_blob() const {
    auto it = std::find_if(blobs.begin(), blobs.end(), [&](const blob& b) { return b.name == probe; });
    check(it != blobs.end(), "workload " + id + " has no probe array");
    return *it;
}

workload make_workload(char id, double scale, const std::filesystem::path& root) {
    workload w = id == 'a'   ? large_arrays(scale)
                 : id == 'b' ? many_arrays()
                 : id == 'c' ? struct_tree()
                 : id == 'd' ? compressible(scale)
                             : throw std::invalid_argument(std::string("no workload ") + id);
    w.dir = root / w.id;
    fs::create_directories(w.dir);
    w.data_file = w.dir / "data.bin";
    w.manifest = w.dir / "data.json";
    if (w.arrays) write_data_file(w);
    return w;
}

} // namespace bench
