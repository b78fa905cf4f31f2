// HDF5 through its C API: one dataset per array, contiguous, or chunked (about 1 MiB chunks) and
// deflated at level 6 as zip's default.

#include "../cases.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cstring>

namespace bench {

namespace {

// An HDF5 id closed by its own close function; a negative id is the library's error.
class h5 {
public:
    h5(hid_t id, herr_t (*close)(hid_t), const std::string& what) : id_(id), close_(close) {
        check(id >= 0, "HDF5: cannot " + what);
    }
    ~h5() { close_(id_); }
    h5(const h5&) = delete;
    h5& operator=(const h5&) = delete;
    operator hid_t() const noexcept { return id_; }

private:
    hid_t id_;
    herr_t (*close_)(hid_t);
};

void h5_ok(herr_t status, const std::string& what) { check(status >= 0, "HDF5: cannot " + what); }

hid_t native(dtype t) {
    switch (t) {
    case dtype::i4: return H5T_NATIVE_INT32;
    case dtype::u1: return H5T_NATIVE_UINT8;
    case dtype::f4: break;
    }
    return H5T_NATIVE_FLOAT;
}

void write_file(const workload& w, const std::filesystem::path& file, bool deflate) {
    {
        h5 f(H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, "create " + file.string());
        for (const blob& b : w.blobs) {
            std::vector<hsize_t> dims(b.shape.begin(), b.shape.end());
            h5 space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                     "make a dataspace");
            h5 create(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "make a property list");
            if (deflate) {
                // Chunks of whole rows, about 1 MiB.
                std::vector<hsize_t> chunk = dims;
                const hsize_t row_bytes = b.bytes.size() / std::max<hsize_t>(1, dims[0]);
                chunk[0] = std::clamp<hsize_t>((hsize_t{1} << 20) / std::max<hsize_t>(1, row_bytes), 1, dims[0]);
                h5_ok(H5Pset_chunk(create, static_cast<int>(chunk.size()), chunk.data()), "set chunks");
                h5_ok(H5Pset_deflate(create, 6), "set deflate");
            }
            h5 ds(H5Dcreate2(f, b.name.c_str(), native(b.dtype), space, H5P_DEFAULT, create, H5P_DEFAULT), H5Dclose,
                  "create dataset " + b.name);
            h5_ok(H5Dwrite(ds, native(b.dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, b.bytes.data()), "write " + b.name);
        }
    }
    sync_file(file); // H5Fclose does not fsync
}

// Reads one dataset into fresh memory, sized by its dataspace as any reader must.
std::unique_ptr<std::byte[]> read_dataset(hid_t f, const blob& b) {
    h5 ds(H5Dopen2(f, b.name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + b.name);
    h5 space(H5Dget_space(ds), H5Sclose, "get the dataspace of " + b.name);
    const auto n = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)) * dtype_size(b.dtype);
    check(n == b.bytes.size(), "HDF5: " + b.name + " has another size");
    auto out = fresh_buffer(n);
    h5_ok(H5Dread(ds, native(b.dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.get()), "read " + b.name);
    return out;
}

h5 open_file(const std::filesystem::path& file) {
    return h5(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open " + file.string());
}

} // namespace

std::string hdf5_version() {
    unsigned major = 0, minor = 0, release = 0;
    H5get_libversion(&major, &minor, &release);
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

std::vector<case_spec> hdf5_cases(const workload& w) {
    if (!w.arrays) return {};
    std::vector<case_spec> out;
    for (const bool deflate : {false, true}) {
        const char* variant = deflate ? "chunked+deflate" : "contiguous";
        const auto file = w.dir / (std::string("hdf5-") + variant + ".h5");
        out.push_back({"HDF5", variant, op::save, deflate ? codec::deflate : codec::store, file,
                       in_child([&w, file, deflate](stopwatch&) { write_file(w, file, deflate); })});
        out.push_back({"HDF5", variant, op::load, deflate ? codec::deflate : codec::store, file,
                       in_child([&w, file](stopwatch& sw) {
                           std::vector<std::unique_ptr<std::byte[]>> back;
                           {
                               h5 f = open_file(file);
                               for (const blob& b : w.blobs) back.push_back(read_dataset(f, b));
                           }
                           sw.stop();
                           for (std::size_t i = 0; i < back.size(); ++i)
                               check(std::memcmp(back[i].get(), w.blobs[i].bytes.data(), w.blobs[i].bytes.size()) == 0,
                                     "HDF5 read other data for " + w.blobs[i].name);
                       })});
        if (!w.probe.empty() && !deflate)
            out.push_back({"HDF5", variant, op::load_one, codec::store, file,
                           in_child([b = &w.probe_blob(), file](stopwatch& sw) {
                               h5 f = open_file(file);
                               auto one = read_dataset(f, *b);
                               sw.stop();
                           }),
                           "H5Fopen + H5Dread of one dataset"});
    }
    return out;
}

} // namespace bench
