#include <zanj/npz.hpp>

#include "array_dict.hpp"

#include <zanj/detail/file_io.hpp>
#include <zanj/detail/npy.hpp>
#include <zanj/detail/zip.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace zanj {

namespace fs = std::filesystem;

namespace {

std::span<const std::byte> as_bytes(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

} // namespace

ndarray read_npy(const fs::path& file) {
    detail::file_handle in = detail::open_for_reading(file);
    const std::uint64_t size = detail::file_size(in);
    if (size > std::numeric_limits<std::size_t>::max()) throw io_error("cannot read " + file.string() + ": too large");
    auto storage = detail::allocate_aligned(static_cast<std::size_t>(size));
    detail::pread_all(in, {storage.get(), static_cast<std::size_t>(size)}, 0);
    try {
        return detail::npy_decode(std::move(storage), static_cast<std::size_t>(size), {});
    } catch (const format_error& e) {
        // The codec names members; here the file is the whole story.
        throw format_error(e.reason() + ": " + file.string());
    }
}

void write_npy(const fs::path& file, const ndarray& array, const progress_callback& progress) {
    const std::string header = detail::npy_header(array.type(), array.shape());
    std::vector<std::span<const std::byte>> pieces{as_bytes(header)};
    detail::append_in_pieces(pieces, array.byte_span());
    detail::write_file_atomically(file, pieces, progress);
}

value read_npz(const fs::path& file, const read_limits& limits) {
    detail::zip_reader zip(file, limits);
    value::dict_type arrays;
    for (const detail::zip_entry& e : zip.entries()) {
        std::string_view name = e.name;
        if (!name.ends_with(".npy"))
            throw format_error("member '" + e.name + "' of " + file.string() +
                                   " is not an .npy array (is the file an .npz archive?)",
                               {}, e.name);
        name.remove_suffix(4);
        try {
            arrays.insert_or_assign(name, detail::npy_decode(zip.read(e), static_cast<std::size_t>(e.uncompressed_size),
                                                             e.name, limits.max_npy_header_size));
        } catch (const limit_error& err) {
            throw limit_error(err.reason() + " in " + file.string(), {}, e.name);
        } catch (const format_error& err) {
            throw format_error(err.reason() + " in " + file.string(), {}, e.name);
        }
    }
    return arrays;
}

void write_npz(const fs::path& file, const value& arrays, compression method, const progress_callback& progress) {
    if (method.method != compression_method::store && method.method != compression_method::deflate)
        throw usage_error("write_npz: numpy reads stored and deflated members only, not " +
                          std::string(to_string(method.method)));
    const value::dict_type& items = detail::array_dict(arrays, "write_npz");
    detail::zip_writer zip(file);
    // As np.savez: a ZIP64 extra field on every member. Stored data is also 64-byte aligned.
    const detail::member_options options{.compression = method, .force_zip64 = true, .align = 64};
    std::uint64_t done = 0;
    for (const auto& [name, item] : items) {
        const ndarray& a = item.as_array();
        const std::string header = detail::npy_header(a.type(), a.shape());
        const std::span<const std::byte> pieces[] = {as_bytes(header), a.byte_span()};
        zip.add(name + ".npy", pieces, options);
        done += header.size() + a.nbytes();
        if (progress) progress(done);
    }
    zip.commit();
}

} // namespace zanj
