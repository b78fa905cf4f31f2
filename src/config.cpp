#include <zanj/config.hpp>

namespace zanj {

std::string_view to_string(error_mode m) noexcept {
    switch (m) {
    case error_mode::except: return "except";
    case error_mode::warn: return "warn";
    case error_mode::ignore: return "ignore";
    }
    return "?";
}

std::string_view to_string(array_mode m) noexcept {
    switch (m) {
    case array_mode::array_list_meta: return "array_list_meta";
    case array_mode::array_hex_meta: return "array_hex_meta";
    case array_mode::array_b64_meta: return "array_b64_meta";
    case array_mode::list: return "list";
    }
    return "?";
}

std::string_view to_string(compression_method m) noexcept {
    switch (m) {
    case compression_method::store: return "store";
    case compression_method::deflate: return "deflate";
    case compression_method::zstd: return "zstd";
    }
    return "?";
}

const storage_hint* config::hint_for(const object_path& path) const {
    for (const storage_hint& hint : storage_hints)
        if (path.matches(hint.path)) return &hint;
    return nullptr;
}

} // namespace zanj
