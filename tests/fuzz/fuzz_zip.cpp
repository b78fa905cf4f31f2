// libFuzzer target: the zip directory reader and every way of reading a member, on an archive
// held in memory (zanj::detail::zip_reader). Any exception other than zanj::error, and any
// sanitizer report, is a finding.
#include "fuzz_support.hpp"

#include <zanj/detail/zip.hpp>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

namespace {

using zanj::detail::zip_entry;
using zanj::detail::zip_reader;

void read_member(const zip_reader& zip, const zip_entry& e) {
    if (zip.find(e.name) != &e) std::abort(); // names are unique once the directory is accepted
    zip.data_offset(e);
    zip.read(e);
    zip.verify(e);
    // The split read the array codec uses: a header, then the data.
    std::vector<std::byte> out(static_cast<std::size_t>(e.uncompressed_size));
    std::size_t head = std::min<std::size_t>(out.size(), 128);
    zip.read_into(e, std::span(out).first(head), std::span(out).subspan(head));
    if (e.method == zanj::compression_method::store && !out.empty())
        zip.read_stored(e, out.size() / 2, std::span(out).first(out.size() - out.size() / 2));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::optional<zip_reader> zip;
    try {
        zip.emplace(std::as_bytes(std::span(data, size)), nullptr, "fuzz.zip", zanj_fuzz::limits());
    } catch (const zanj::error&) {
        return 0;
    }
    for (const zip_entry& e : zip->entries()) {
        try {
            read_member(*zip, e);
        } catch (const zanj::error&) {}
    }
    try {
        zip->check_local_headers();
    } catch (const zanj::error&) {}
    return 0;
}
