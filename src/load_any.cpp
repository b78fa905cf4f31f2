#include <zanj/load_any.hpp>

#include <zanj/detail/file_io.hpp>
#include <zanj/detail/zip.hpp>
#include <zanj/facade.hpp>
#include <zanj/npz.hpp>
#include <zanj/safetensors.hpp>

#include <algorithm>
#include <array>
#include <cstring>

namespace zanj {

std::string_view to_string(file_format f) noexcept {
    switch (f) {
    case file_format::zanj: return "zanj";
    case file_format::npy: return "npy";
    case file_format::npz: return "npz";
    case file_format::safetensors: return "safetensors";
    }
    return "?";
}

file_format detect_format(const std::filesystem::path& file) {
    std::array<char, 9> head{};
    std::uint64_t size = 0;
    {
        detail::file_handle in = detail::open_for_reading(file);
        size = detail::file_size(in);
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size, head.size()));
        detail::pread_all(in, std::as_writable_bytes(std::span(head.data(), n)), 0);
    }
    auto starts_with = [&](std::string_view magic) {
        return size >= magic.size() && std::memcmp(head.data(), magic.data(), magic.size()) == 0;
    };
    if (starts_with("\x93NUMPY")) return file_format::npy;
    // A local file header, or the end record alone of an empty zip (np.savez with no arrays).
    if (starts_with("PK\x03\x04") || starts_with("PK\x05\x06")) {
        // Only its names are needed here; the read that follows applies the caller's limits.
        detail::zip_reader zip(file, read_limits::none());
        return zip.find("__zanj__.json") ? file_format::zanj : file_format::npz;
    }
    // The header length, then the JSON object: its '{' is the only fixed byte.
    if (size >= 9 && head[8] == '{') return file_format::safetensors;
    throw format_error("cannot tell the format of " + file.string() +
                       ": it is neither a zip (.zanj, .npz), an .npy file nor a .safetensors file");
}

value load_any(const std::filesystem::path& file, const read_limits& limits) {
    switch (detect_format(file)) {
    case file_format::zanj: {
        config settings;
        settings.limits = limits;
        return ZANJ(settings).read(file);
    }
    case file_format::npy: return read_npy(file);
    case file_format::npz: return read_npz(file, limits);
    case file_format::safetensors: return read_safetensors(file).tensors;
    }
    throw usage_error("load_any: unknown file format");
}

} // namespace zanj
