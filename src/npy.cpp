#include <zanj/detail/npy.hpp>

#include <algorithm>
#include <bit>
#include <cstring>

namespace zanj::detail {

namespace {

constexpr std::string_view magic = "\x93NUMPY";

[[noreturn]] void bad_npy(std::string_view member, const std::string& why) {
    throw format_error("invalid NPY data: " + why, {}, std::string(member));
}

// A parser for the Python dict literal numpy writes: string keys, and values that are strings,
// True/False, or tuples of integers. Anything else (nested dtypes, lists) is refused.
class header_parser {
public:
    header_parser(std::string_view text, std::string_view member) : s_(text), member_(member) {}

    npy_header_info parse() {
        npy_header_info info;
        bool have_descr = false, have_order = false, have_shape = false;
        expect('{');
        while (true) {
            skip_space();
            if (peek() == '}') {
                ++i_;
                break;
            }
            std::string key = string_literal();
            expect(':');
            skip_space();
            if (key == "descr") {
                if (peek() == '[') fail("structured dtypes are not supported");
                descr(string_literal(), info);
                have_descr = true;
            } else if (key == "fortran_order") {
                info.fortran_order = boolean();
                have_order = true;
            } else if (key == "shape") {
                info.shape = tuple();
                have_shape = true;
            } else {
                fail("unexpected key '" + key + "' in header");
            }
            skip_space();
            if (peek() == ',') ++i_;
        }
        if (!have_descr || !have_order || !have_shape) fail("header lacks one of 'descr', 'fortran_order', 'shape'");
        // Checked here, so that no later product of the extents can wrap around (an array with
        // an extent of 0 is empty whatever the others).
        if (std::find(info.shape.begin(), info.shape.end(), 0) == info.shape.end()) {
            std::size_t bytes = dtype_size(info.type);
            for (std::size_t extent : info.shape) {
                if (bytes > SIZE_MAX / extent)
                    fail("shape " + shape_string(info.shape) + " of " + std::string(dtype_name(info.type)) +
                         " overflows the address space");
                bytes *= extent;
            }
        }
        return info;
    }

private:
    [[noreturn]] void fail(const std::string& why) { bad_npy(member_, why); }
    char peek() {
        if (i_ >= s_.size()) fail("header ends early");
        return s_[i_];
    }
    void skip_space() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t')) ++i_;
    }
    void expect(char c) {
        skip_space();
        if (peek() != c) fail(std::string("expected '") + c + "' in header");
        ++i_;
    }
    std::string string_literal() {
        char quote = peek();
        if (quote != '\'' && quote != '"') fail("expected a string in header");
        auto end = s_.find(quote, i_ + 1);
        if (end == std::string_view::npos) fail("unterminated string in header");
        std::string out(s_.substr(i_ + 1, end - i_ - 1));
        i_ = end + 1;
        return out;
    }
    bool boolean() {
        if (s_.substr(i_, 4) == "True") return i_ += 4, true;
        if (s_.substr(i_, 5) == "False") return i_ += 5, false;
        fail("expected True or False for 'fortran_order'");
    }
    shape_type tuple() {
        expect('(');
        shape_type out;
        while (true) {
            skip_space();
            if (peek() == ')') {
                ++i_;
                return out;
            }
            std::size_t v = 0;
            std::size_t start = i_;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
                auto digit = static_cast<std::size_t>(s_[i_] - '0');
                if (v > (SIZE_MAX - digit) / 10) fail("shape extent overflows");
                v = v * 10 + digit;
                ++i_;
            }
            if (i_ == start) fail("shape must be a tuple of non-negative integers");
            out.push_back(v);
            skip_space();
            if (peek() == ',') ++i_;
        }
    }
    void descr(const std::string& d, npy_header_info& info) {
        if (d.size() < 2) fail("unsupported dtype '" + d + "'");
        char order = d[0];
        std::string_view code = std::string_view(d).substr(1);
        if (order != '<' && order != '>' && order != '|' && order != '=') fail("unsupported dtype '" + d + "'");
        if (code.starts_with("O")) fail("object arrays are not supported (they need pickle)");
        static constexpr std::pair<std::string_view, dtype> codes[] = {
            {"b1", dtype::bool_},     {"i1", dtype::int8},        {"i2", dtype::int16},   {"i4", dtype::int32},
            {"i8", dtype::int64},     {"u1", dtype::uint8},       {"u2", dtype::uint16},  {"u4", dtype::uint32},
            {"u8", dtype::uint64},    {"f2", dtype::float16},     {"f4", dtype::float32}, {"f8", dtype::float64},
            {"c8", dtype::complex64}, {"c16", dtype::complex128},
        };
        for (const auto& [c, t] : codes)
            if (code == c) {
                info.type = t;
                bool big = order == '>' || (order == '=' && std::endian::native == std::endian::big);
                info.big_endian = big && dtype_size(t) > 1;
                return;
            }
        fail("unsupported dtype '" + d +
             "' (supported: bool, int8..int64, uint8..uint64, float16/32/64, complex64/128)");
    }

    std::string_view s_;
    std::string_view member_;
    std::size_t i_ = 0;
};

void byteswap_units(std::byte* data, std::size_t count, std::size_t unit) {
    for (std::size_t i = 0; i < count; ++i) std::reverse(data + i * unit, data + (i + 1) * unit);
}

// Copies a Fortran-order (column-major) array into C order.
void fortran_to_c(const std::byte* src, std::byte* dst, const shape_type& shape, std::size_t element_size) {
    std::size_t n = shape_elements(shape);
    if (n == 0) return;
    std::size_t ndim = shape.size();
    std::vector<std::size_t> fstride(ndim);
    std::size_t s = 1;
    for (std::size_t d = 0; d < ndim; ++d) {
        fstride[d] = s;
        s *= shape[d];
    }
    std::vector<std::size_t> index(ndim, 0);
    for (std::size_t out = 0; out < n; ++out) {
        std::size_t in = 0;
        for (std::size_t d = 0; d < ndim; ++d) in += index[d] * fstride[d];
        std::memcpy(dst + out * element_size, src + in * element_size, element_size);
        for (std::size_t d = ndim; d-- > 0;) {
            if (++index[d] < shape[d]) break;
            index[d] = 0;
        }
    }
}

} // namespace

namespace {

// The header's dict, as numpy writes it.
std::string header_dict(dtype type, std::span<const std::size_t> shape) {
    std::string dict;
    dict.reserve(96);
    dict += "{'descr': '";
    dict += npy_descr(type);
    dict += "', 'fortran_order': False, 'shape': ";
    dict += shape_string(shape);
    dict += ", }";
    return dict;
}

// The header of a version 1.0 `dict` whose length field says `len`, or version 2.0 when it
// does not fit in 16 bits; padded with spaces and ended with '\n'.
std::string header_of(std::string_view dict, std::size_t len) {
    const bool v2 = len > 0xFFFF;
    std::string out;
    out.reserve((v2 ? 12 : 10) + len);
    out += magic;
    out += static_cast<char>(v2 ? 2 : 1);
    out += '\0';
    for (int b = 0; b < (v2 ? 4 : 2); ++b) out += static_cast<char>((len >> (8 * b)) & 0xFF);
    out += dict;
    out.append(len - dict.size() - 1, ' ');
    out += '\n';
    return out;
}

// numpy >= 1.17 pads so the data starts at a multiple of 64: the length field for `dict`
// after a prefix of 10 bytes (version 1.0) or 12 (2.0).
std::size_t natural_length(std::string_view dict) {
    auto padded = [&](std::size_t prefix) {
        std::size_t total = prefix + dict.size() + 1;
        return dict.size() + (64 - total % 64) % 64 + 1;
    };
    const std::size_t len = padded(10);
    return len > 0xFFFF ? padded(12) : len;
}

} // namespace

std::string npy_header(dtype type, std::span<const std::size_t> shape) {
    const std::string dict = header_dict(type, shape);
    return header_of(dict, natural_length(dict));
}

std::string npy_header_of_length(dtype type, std::span<const std::size_t> shape, std::size_t length) {
    const std::string dict = header_dict(type, shape);
    if (natural_length(dict) > 0xFFFF || length < 10 + dict.size() + 1 || length - 10 > 0xFFFF) return {};
    return header_of(dict, length - 10);
}

std::string npy_header_aligned_at(dtype type, std::span<const std::size_t> shape, std::uint64_t offset,
                                  std::size_t align) {
    // One dict for both the natural header and the aligned one: each took several allocations.
    const std::string dict = header_dict(type, shape);
    const std::size_t natural = natural_length(dict);
    if (natural > 0xFFFF) return header_of(dict, natural);
    const std::size_t shortest = 10 + dict.size() + 1; // the prefix, the dict and its '\n'
    const std::size_t pad = static_cast<std::size_t>((align - (offset + shortest) % align) % align);
    if (shortest + pad - 10 > 0xFFFF) return header_of(dict, natural);
    return header_of(dict, shortest + pad - 10);
}

std::optional<npy_header_extent> npy_extent_of(std::span<const std::byte> start) noexcept {
    auto u8 = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<std::uint8_t>(start[i])); };
    if (start.size() < 10 || std::memcmp(start.data(), magic.data(), magic.size()) != 0) return std::nullopt;
    const bool v1 = u8(6) == 1;
    npy_header_extent extent{v1 ? std::size_t{10} : npy_prefix_max, u8(8) | u8(9) << 8};
    if (start.size() < extent.prefix) return std::nullopt;
    if (!v1) extent.length |= u8(10) << 16 | u8(11) << 24;
    return extent;
}

npy_header_info npy_parse_header(std::span<const std::byte> bytes, std::string_view member,
                                 std::uint64_t max_header_size) {
    auto u8 = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
    if (bytes.size() < 10 || std::memcmp(bytes.data(), magic.data(), magic.size()) != 0)
        bad_npy(member, "missing the \\x93NUMPY magic");
    std::uint8_t major = u8(6);
    if (major < 1 || major > 3)
        bad_npy(member, "unsupported NPY version " + std::to_string(major) + "." + std::to_string(u8(7)));
    const std::optional<npy_header_extent> extent = npy_extent_of(bytes);
    if (!extent) bad_npy(member, "header is truncated"); // the magic is there: too short for the prefix
    const std::size_t prefix = extent->prefix, len = extent->length;
    if (len > max_header_size)
        throw limit_error(
            "invalid NPY data: header of " + std::to_string(len) + " bytes exceeds " +
                (max_header_size == npy_max_header_size
                     ? "numpy's limit of " + std::to_string(max_header_size) + " (read_limits::max_npy_header_size)"
                     : "read_limits::max_npy_header_size (" + std::to_string(max_header_size) + ")"),
            {}, std::string(member));
    if (bytes.size() < prefix + len) bad_npy(member, "header is truncated");
    // Version 3.0 differs from 2.0 only in allowing UTF-8 in the header; ours is ASCII either way.
    std::string_view text(reinterpret_cast<const char*>(bytes.data() + prefix), len);
    npy_header_info info = header_parser(text, member).parse();
    info.data_offset = prefix + len;
    return info;
}

std::size_t npy_check_size(const npy_header_info& info, std::uint64_t member_size, std::string_view member) {
    std::size_t count = shape_elements(info.shape);
    std::size_t element = dtype_size(info.type);
    if (count > SIZE_MAX / element) bad_npy(member, "shape overflows the address space");
    std::size_t expected = count * element;
    std::uint64_t available = member_size - info.data_offset;
    if (available != expected)
        bad_npy(member, "shape " + shape_string(info.shape) + " of " + std::string(dtype_name(info.type)) + " needs " +
                            std::to_string(expected) + " bytes of data, the member holds " + std::to_string(available));
    return expected;
}

ndarray npy_decode(std::shared_ptr<std::byte> storage, std::size_t size, std::string_view member,
                   std::uint64_t max_header_size) {
    npy_header_info info = npy_parse_header({storage.get(), size}, member, max_header_size);
    std::size_t expected = npy_check_size(info, size, member);
    std::size_t element = dtype_size(info.type);

    std::byte* data = storage.get() + info.data_offset;
    if (info.big_endian) {
        // Each half of a complex number is swapped on its own.
        std::size_t unit = is_complex(info.type) ? element / 2 : element;
        byteswap_units(data, expected / unit, unit);
    }
    bool aligned = reinterpret_cast<std::uintptr_t>(data) % element == 0;
    if (info.fortran_order && info.shape.size() > 1) {
        ndarray out(info.type, info.shape);
        fortran_to_c(data, out.bytes(), info.shape, element);
        return out;
    }
    if (!aligned) {
        ndarray out(info.type, info.shape);
        if (expected) std::memcpy(out.bytes(), data, expected);
        return out;
    }
    return ndarray(info.type, std::move(info.shape), std::move(storage), data);
}

} // namespace zanj::detail
