#include <zanj/facade.hpp>

#include <zanj/detail/json_io.hpp>
#include <zanj/detail/zip.hpp>

namespace zanj {

value ZANJ::read_meta(const std::filesystem::path& file) const {
    detail::zip_reader zip(file, settings_.limits);
    const detail::zip_entry* meta = zip.find("__zanj_meta__.json");
    if (!meta) throw format_error("not a zanj archive (a zip without __zanj_meta__.json): " + zip.path().string());
    auto bytes = zip.read(*meta);
    return detail::parse_json(
        {reinterpret_cast<const char*>(bytes.get()), static_cast<std::size_t>(meta->uncompressed_size)}, meta->name,
        false, settings_.limits.max_json_depth);
}

} // namespace zanj
