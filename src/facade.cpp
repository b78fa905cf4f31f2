#include <zanj/facade.hpp>

#include <zanj/detail/journal.hpp>
#include <zanj/detail/json_io.hpp>
#include <zanj/detail/zip.hpp>

#include <ostream>
#include <string>

namespace zanj {

value ZANJ::read_meta(const std::filesystem::path& file) const {
    detail::read_guard guard(file);
    detail::zip_reader zip(file, settings_.limits);
    const detail::zip_entry* meta = zip.find("__zanj_meta__.json");
    if (!meta) throw format_error("not a zanj archive (a zip without __zanj_meta__.json): " + zip.path().string());
    auto bytes = zip.read(*meta, detail::json_padding);
    const detail::padded_json text{
        {reinterpret_cast<const char*>(bytes.get()), static_cast<std::size_t>(meta->uncompressed_size)}};
    return detail::parse_json(text, meta->name, false, settings_.limits.max_json_depth);
}

void ZANJ::copy_to_stream(const detail::archive_writer& writer, std::ostream& out) {
    std::uint64_t done = 0;
    writer.zip().copy_to([&](std::span<const std::byte> piece) {
        out.write(reinterpret_cast<const char*>(piece.data()), static_cast<std::streamsize>(piece.size()));
        if (!out)
            throw io_error("cannot write the archive to the stream: it failed after " + std::to_string(done) + " of " +
                           std::to_string(writer.zip().size()) + " bytes");
        done += piece.size();
    });
    out.flush();
    if (!out) throw io_error("cannot write the archive to the stream: flushing it failed");
}

} // namespace zanj
