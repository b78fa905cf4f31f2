#pragma once
// The four workloads of the benchmark, made once per run so that every tool sees the same bytes:
// (a) a few large dense arrays, (b) many small arrays, (c) a tree of small structs, (d) data
// that compresses (a smooth field, small-integer labels, jsonl-like records).

#include <zanj/zanj.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace bench {

/// A small struct with a few fields: the items of (c) and the records of (d).
struct record {
    std::int64_t id = 0;
    std::string name;
    double score = 0;
    std::int32_t count = 0;
    bool flag = false;
    friend bool operator==(const record&, const record&) = default;
};
ZANJ_DATACLASS(record, id, name, score, count, flag);

/// (a) and (b): named float32 arrays.
using dense = std::map<std::string, xt::xarray<float>>;
/// (c): groups of records.
using tree = std::map<std::string, std::vector<record>>;
/// (d): what an experiment logs besides its weights.
struct mixed {
    xt::xarray<float> field;
    xt::xarray<std::int32_t> labels;
    std::vector<record> records;
    friend bool operator==(const mixed&, const mixed&) = default;
};
ZANJ_DATACLASS(mixed, field, labels, records);

enum class dtype { f4, i4, u1 };
std::size_t dtype_size(dtype t);
/// numpy's name of the type: "<f4", "<i4", "|u1".
const char* numpy_descr(dtype t);

/// One array of the payload as bytes, for the tools that store arrays (numpy, HDF5, libzip...).
struct blob {
    std::string name;
    bench::dtype dtype = dtype::f4;
    std::vector<std::size_t> shape;
    std::span<const std::byte> bytes;
};

struct workload {
    std::string id;    ///< "a", "b", "c", "d"
    std::string title; ///< what it is, for the report
    std::variant<dense, tree, mixed> data;
    /// The payload as arrays: (d)'s records as their JSON-lines text. For (c), one packed image
    /// of the structs' fields, which only the raw-I/O anchor uses (`arrays` is false).
    std::vector<blob> blobs;
    bool arrays = true;
    /// (b): the array that "load one" reads; empty elsewhere.
    std::string probe;
    /// Storage behind the blobs that are not views of `data`.
    std::vector<std::byte> extra_bytes;
    /// Where its cases write (removed when the workload is done).
    std::filesystem::path dir;
    /// The payload in one raw file plus a JSON manifest, for the numpy peer.
    std::filesystem::path data_file, manifest;

    std::uint64_t payload_bytes() const;
    const blob& probe_blob() const;
};

/// Makes workload `id` ('a'..'d'); `scale` sizes (a) and (d) (1 = 1 GiB for (a)). Writes its
/// data file and manifest under `root`/`id`.
workload make_workload(char id, double scale, const std::filesystem::path& root);

/// Views a blob's bytes as T (T must match its dtype).
template <class T>
std::span<const T> typed(const blob& b) {
    return {reinterpret_cast<const T*>(b.bytes.data()), b.bytes.size() / sizeof(T)};
}

/// Calls f(T{}) with T the C++ type of `t`.
template <class F>
decltype(auto) with_type(dtype t, F&& f) {
    switch (t) {
    case dtype::i4: return f(std::int32_t{});
    case dtype::u1: return f(std::uint8_t{});
    case dtype::f4: break;
    }
    return f(float{});
}

} // namespace bench
