// libzip (Debian's 1.7.3): the arrays' bytes as members of a zip, stored or deflated at level 6,
// and read back; on (b) also opening zanj's archive, listing it and loading one member.

#include "../cases.hpp"

#include <zip.h>

#include <cstring>
#include <memory>

namespace bench {

namespace {

struct discard {
    void operator()(zip_t* za) const { zip_discard(za); }
};
using zip_handle = std::unique_ptr<zip_t, discard>;

zip_handle open_zip(const std::filesystem::path& file, int flags) {
    int error = 0;
    zip_handle za(zip_open(file.c_str(), flags, &error));
    if (!za) {
        zip_error_t e;
        zip_error_init_with_code(&e, error);
        const std::string message = zip_error_strerror(&e);
        zip_error_fini(&e);
        throw std::runtime_error("libzip: cannot open " + file.string() + ": " + message);
    }
    return za;
}

void zip_ok(zip_t* za, bool ok, const std::string& what) {
    check(ok, "libzip: cannot " + what + ": " + zip_strerror(za));
}

void write_zip(const workload& w, const std::filesystem::path& file, bool deflate) {
    zip_handle za = open_zip(file, ZIP_CREATE | ZIP_TRUNCATE);
    for (const blob& b : w.blobs) {
        zip_source_t* src = zip_source_buffer(za.get(), b.bytes.data(), b.bytes.size(), 0);
        zip_ok(za.get(), src != nullptr, "make a source for " + b.name);
        const zip_int64_t index = zip_file_add(za.get(), (b.name + ".bin").c_str(), src, ZIP_FL_ENC_UTF_8);
        if (index < 0) zip_source_free(src);
        zip_ok(za.get(), index >= 0, "add " + b.name);
        zip_ok(za.get(),
               zip_set_file_compression(za.get(), static_cast<zip_uint64_t>(index),
                                        deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, deflate ? 6 : 0) == 0,
               "set the compression of " + b.name);
    }
    zip_ok(za.get(), zip_close(za.get()) == 0, "write " + file.string());
    (void)za.release(); // zip_close freed it
    sync_file(file);    // zip_close does not fsync
}

// A member read whole into fresh memory.
std::unique_ptr<std::byte[]> read_member(zip_t* za, const std::string& name, std::size_t& size) {
    zip_stat_t st;
    zip_ok(za, zip_stat(za, name.c_str(), 0, &st) == 0, "find " + name);
    size = static_cast<std::size_t>(st.size);
    auto out = fresh_buffer(size);
    zip_file_t* f = zip_fopen(za, name.c_str(), 0);
    zip_ok(za, f != nullptr, "open " + name);
    std::size_t done = 0;
    for (zip_int64_t n; done < size && (n = zip_fread(f, out.get() + done, size - done)) > 0;)
        done += static_cast<std::size_t>(n);
    zip_fclose(f);
    check(done == size, "libzip: short read of " + name);
    return out;
}

} // namespace

std::string libzip_version() { return zip_libzip_version(); }

std::vector<case_spec> libzip_cases(const workload& w) {
    if (!w.arrays) return {};
    std::vector<case_spec> out;
    for (const bool deflate : {false, true}) {
        const char* variant = deflate ? "deflate" : "stored";
        const bench::codec c = deflate ? codec::deflate : codec::store;
        const auto file = w.dir / (std::string("libzip-") + variant + ".zip");
        out.push_back({"libzip", variant, op::save, c, file,
                       in_child([&w, file, deflate](stopwatch&) { write_zip(w, file, deflate); })});
        out.push_back({"libzip", variant, op::load, c, file, in_child([&w, file](stopwatch& sw) {
                           std::vector<std::unique_ptr<std::byte[]>> back;
                           {
                               zip_handle za = open_zip(file, ZIP_RDONLY);
                               std::size_t size = 0;
                               for (const blob& b : w.blobs)
                                   back.push_back(read_member(za.get(), b.name + ".bin", size));
                           }
                           sw.stop();
                           for (std::size_t i = 0; i < back.size(); ++i)
                               check(std::memcmp(back[i].get(), w.blobs[i].bytes.data(), w.blobs[i].bytes.size()) == 0,
                                     "libzip read other data for " + w.blobs[i].name);
                       })});
    }
    if (!w.probe.empty()) {
        const auto zanj_file = zanj_stored_file(w);
        out.push_back({"libzip", "zip_open", op::open_list, codec::store, zanj_file, in_child([zanj_file](stopwatch&) {
                           zip_handle za = open_zip(zanj_file, ZIP_RDONLY);
                           const zip_int64_t n = zip_get_num_entries(za.get(), 0);
                           for (zip_int64_t i = 0; i < n; ++i)
                               zip_ok(za.get(), zip_get_name(za.get(), static_cast<zip_uint64_t>(i), 0) != nullptr,
                                      "list");
                       }),
                       "zip_open(zanj archive) and every member's name"});
        out.push_back({"libzip", "zip_open", op::load_one, codec::store, zanj_file,
                       in_child([b = &w.probe_blob(), zanj_file](stopwatch& sw) {
                           zip_handle za = open_zip(zanj_file, ZIP_RDONLY);
                           std::size_t size = 0;
                           auto member = read_member(za.get(), zanj_member(b->name), size);
                           sw.stop();
                           // The array is the member's tail, after the .npy header.
                           check(size >= b->bytes.size() && std::memcmp(member.get() + size - b->bytes.size(),
                                                                        b->bytes.data(), b->bytes.size()) == 0,
                                 "libzip read another array");
                       }),
                       "zip_open(zanj archive) and one .npy member"});
    }
    return out;
}

} // namespace bench
