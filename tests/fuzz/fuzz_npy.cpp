// libFuzzer target: the NPY header parser and decoder (zanj::detail::npy_*). Any exception other
// than zanj::error, any sanitizer report, and a decoded array that disagrees with its header are
// findings.
#include "fuzz_support.hpp"

#include <zanj/detail/npy.hpp>

#include <cstdlib>
#include <cstring>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace zanj::detail;
    const std::uint64_t max_header = zanj_fuzz::limits().max_npy_header_size;
    npy_header_info info;
    try {
        info = npy_parse_header(std::as_bytes(std::span(data, size)), "fuzz.npy", max_header);
        npy_check_size(info, size, "fuzz.npy");
    } catch (const zanj::error&) {}
    try {
        auto storage = allocate_aligned(size);
        if (size > 0) std::memcpy(storage.get(), data, size);
        zanj::ndarray a = npy_decode(storage, size, "fuzz.npy", max_header);
        // The decoder agrees with the parser, and what it gives can be written back.
        if (a.type() != info.type || a.shape() != info.shape) std::abort();
        npy_header(a.type(), a.shape());
    } catch (const zanj::error&) {}
    return 0;
}
