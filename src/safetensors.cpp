#include <zanj/safetensors.hpp>

#include "array_dict.hpp"

#include <zanj/detail/file_io.hpp>
#include <zanj/detail/json_io.hpp>
#include <zanj/ndarray.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zanj {

namespace fs = std::filesystem;

namespace {

struct st_dtype {
    std::string_view name;
    dtype type;
};

// In the reference implementation's order, which is increasing alignment: its writer lays
// tensors out from the last of these to the first.
constexpr std::array<st_dtype, 16> st_dtypes{{
    {"BOOL", dtype::bool_},
    {"U8", dtype::uint8},
    {"I8", dtype::int8},
    {"F8_E5M2", dtype::float8_e5m2},
    {"F8_E4M3", dtype::float8_e4m3fn},
    {"I16", dtype::int16},
    {"U16", dtype::uint16},
    {"F16", dtype::float16},
    {"BF16", dtype::bfloat16},
    {"I32", dtype::int32},
    {"U32", dtype::uint32},
    {"F32", dtype::float32},
    {"C64", dtype::complex64},
    {"F64", dtype::float64},
    {"I64", dtype::int64},
    {"U64", dtype::uint64},
}};

std::string supported_dtypes() {
    std::string out;
    for (const auto& d : st_dtypes) out += (out.empty() ? "" : ", ") + std::string(d.name);
    return out;
}

// Position in st_dtypes, or nothing for a dtype safetensors lacks (complex128).
std::optional<std::size_t> rank_of(dtype t) {
    for (std::size_t i = 0; i < st_dtypes.size(); ++i)
        if (st_dtypes[i].type == t) return i;
    return std::nullopt;
}

std::uint64_t read_le64(const std::byte* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
    return v;
}

// One tensor as the header describes it.
struct tensor_entry {
    std::string name;
    dtype type = dtype::uint8;
    shape_type shape;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
};

// Checks the header against the format as it is parsed; every message names the file and,
// where there is one, the tensor.
class header_reader {
public:
    explicit header_reader(const fs::path& file) : file_(file.string()) {}

    [[noreturn]] void fail(const std::string& why) const {
        throw format_error("invalid safetensors file " + file_ + ": " + why);
    }
    [[noreturn]] void fail_tensor(const std::string& name, const std::string& why) const {
        fail("tensor '" + name + "' " + why);
    }

    std::vector<tensor_entry> parse(std::string_view text, std::map<std::string, std::string>& metadata) const {
        // JSON would allow leading spaces; the format does not.
        if (text.empty() || text.front() != '{') fail("the header does not start with '{'");
        value header;
        try {
            header = detail::parse_json(text, "the header", true);
        } catch (const format_error& e) {
            fail(e.reason());
        }
        if (!header.is_dict()) fail("the header is not a JSON object");
        std::vector<tensor_entry> tensors;
        for (const auto& [name, item] : header.as_dict()) {
            if (name == "__metadata__") {
                if (!item.is_dict()) fail("__metadata__ is not an object of strings");
                for (const auto& [key, text_value] : item.as_dict()) {
                    if (!text_value.is_string())
                        fail("__metadata__ maps strings to strings, but '" + key + "' holds " + text_value.dump());
                    metadata.emplace(key, text_value.as_string());
                }
                continue;
            }
            tensors.push_back(tensor(name, item));
        }
        return tensors;
    }

    // Sorts by offset and checks that the tensors tile [0, data_size) exactly.
    void check_layout(std::vector<tensor_entry>& tensors, std::uint64_t data_size) const {
        std::stable_sort(tensors.begin(), tensors.end(), [](const tensor_entry& a, const tensor_entry& b) {
            return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
        });
        std::uint64_t covered = 0;
        const tensor_entry* previous = nullptr;
        for (const tensor_entry& t : tensors) {
            if (t.begin < covered)
                fail_tensor(t.name, "has data_offsets " + offsets(t) + ", which overlap tensor '" + previous->name +
                                        "' at " + offsets(*previous));
            if (t.begin > covered)
                fail_tensor(t.name,
                            "has data_offsets " + offsets(t) + ", which leave a gap of " +
                                std::to_string(t.begin - covered) + " bytes " +
                                (previous ? "after tensor '" + previous->name + "'" : "at the start of the data"));
            if (t.end > data_size)
                fail_tensor(t.name, "has data_offsets " + offsets(t) + ", past the end of the data (" +
                                        std::to_string(data_size) + " bytes)");
            covered = t.end;
            previous = &t;
        }
        if (covered != data_size)
            fail("the tensors cover " + std::to_string(covered) + " bytes of data, but the file holds " +
                 std::to_string(data_size) + " (trailing bytes)");
    }

private:
    static std::string offsets(const tensor_entry& t) {
        return "[" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "]";
    }

    tensor_entry tensor(const std::string& name, const value& item) const {
        if (!item.is_dict()) fail_tensor(name, "is described by " + item.dump() + ", not an object");
        tensor_entry t;
        t.name = name;
        for (std::string_view key : {"dtype", "shape", "data_offsets"})
            if (!item.contains(key)) fail_tensor(name, "lacks \"" + std::string(key) + "\"");

        const value& d = item["dtype"];
        const auto known = std::find_if(st_dtypes.begin(), st_dtypes.end(),
                                        [&](const st_dtype& s) { return d.is_string() && s.name == d.as_string(); });
        if (known == st_dtypes.end())
            fail_tensor(name, "has the unknown or unsupported dtype " + d.dump() +
                                  " (supported: " + supported_dtypes() + ")");
        t.type = known->type;

        const value& shape = item["shape"];
        if (!shape.is_list())
            fail_tensor(name, "has the shape " + shape.dump() + ", not a list of non-negative integers");
        for (const value& extent : shape.as_list()) {
            if (!is_unsigned(extent))
                fail_tensor(name, "has the shape " + shape.dump() + ", not a list of non-negative integers");
            t.shape.push_back(static_cast<std::size_t>(extent.as_uint()));
        }

        const value& range = item["data_offsets"];
        if (!range.is_list() || range.size() != 2 || !is_unsigned(range[0]) || !is_unsigned(range[1]) ||
            range[0].as_uint() > range[1].as_uint())
            fail_tensor(name, "has the data_offsets " + range.dump() + ", not [begin, end] with 0 <= begin <= end");
        t.begin = range[0].as_uint();
        t.end = range[1].as_uint();

        // The element count and byte size, without overflowing.
        std::uint64_t bytes = dtype_size(t.type);
        for (std::size_t extent : t.shape) {
            if (extent != 0 && bytes > std::numeric_limits<std::uint64_t>::max() / extent)
                fail_tensor(name, "has the shape " + shape_string(t.shape) + ", whose byte size overflows");
            bytes *= extent;
        }
        if (bytes != t.end - t.begin)
            fail_tensor(name, "has the shape " + shape_string(t.shape) + " of " + std::string(known->name) +
                                  ", which needs " + std::to_string(bytes) + " bytes, but its data_offsets " +
                                  offsets(t) + " hold " + std::to_string(t.end - t.begin));
        return t;
    }

    static bool is_unsigned(const value& v) {
        return v.type() == value::kind::unsigned_integer || (v.type() == value::kind::integer && v.as_int() >= 0);
    }

    std::string file_;
};

std::span<const std::byte> as_bytes(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

} // namespace

safetensors_file read_safetensors(const fs::path& file) {
    detail::file_handle in = detail::open_for_reading(file);
    const std::uint64_t size = detail::file_size(in);
    header_reader reader(file);
    if (size < 8)
        reader.fail("the file holds " + std::to_string(size) + " bytes, fewer than the 8 of the header length");
    std::array<std::byte, 8> length_bytes{};
    detail::pread_all(in, length_bytes, 0);
    const std::uint64_t header_size = read_le64(length_bytes.data());
    if (header_size > safetensors_max_header_size)
        reader.fail("the header length " + std::to_string(header_size) + " exceeds the format's limit of " +
                    std::to_string(safetensors_max_header_size) + " bytes");
    if (header_size > size - 8)
        reader.fail("the header length " + std::to_string(header_size) + " runs past the end of the file (" +
                    std::to_string(size) + " bytes): truncated?");

    std::string text(static_cast<std::size_t>(header_size), '\0');
    detail::pread_all(in, std::as_writable_bytes(std::span(text.data(), text.size())), 8);
    safetensors_file out;
    std::vector<tensor_entry> tensors = reader.parse(text, out.metadata);
    const std::uint64_t data_size = size - 8 - header_size;
    reader.check_layout(tensors, data_size);

    // One read for all the data; aligned tensors share it.
    if (data_size > std::numeric_limits<std::size_t>::max())
        throw io_error("cannot read " + file.string() + ": too large");
    std::shared_ptr<std::byte> data = detail::allocate_aligned(static_cast<std::size_t>(data_size));
    detail::pread_all(in, {data.get(), static_cast<std::size_t>(data_size)}, 8 + header_size);
    value::dict_type& dict = out.tensors.as_dict();
    for (const tensor_entry& t : tensors) {
        std::byte* p = data.get() + t.begin;
        if (reinterpret_cast<std::uintptr_t>(p) % dtype_size(t.type) == 0) {
            dict.insert_or_assign(t.name, ndarray(t.type, t.shape, data, p));
        } else {
            ndarray copy(t.type, t.shape);
            if (copy.nbytes()) std::memcpy(copy.bytes(), p, copy.nbytes());
            dict.insert_or_assign(t.name, std::move(copy));
        }
    }
    return out;
}

void write_safetensors(const fs::path& file, const value& tensors, const std::map<std::string, std::string>& metadata,
                       const progress_callback& progress) {
    struct item {
        const std::string* name;
        const ndarray* array;
        std::size_t rank;
    };
    std::vector<item> items;
    for (const auto& [name, v] : detail::array_dict(tensors, "write_safetensors")) {
        const ndarray& a = v.as_array();
        std::optional<std::size_t> rank = rank_of(a.type());
        if (!rank)
            throw usage_error("write_safetensors: tensor '" + name + "' is " + std::string(dtype_name(a.type())) +
                              ", which safetensors has no dtype for (supported: " + supported_dtypes() + ")");
        if (name == "__metadata__") throw usage_error("write_safetensors: '__metadata__' is reserved for the metadata");
        if (!detail::is_valid_utf8(name)) throw usage_error("write_safetensors: a tensor name is not valid UTF-8");
        items.push_back({&name, &a, *rank});
    }
    for (const auto& [key, text] : metadata)
        if (!detail::is_valid_utf8(key) || !detail::is_valid_utf8(text))
            throw usage_error("write_safetensors: the metadata entry '" + key + "' is not valid UTF-8");

    // As the reference writer: decreasing alignment, then name, so each tensor stays aligned.
    std::sort(items.begin(), items.end(),
              [](const item& a, const item& b) { return a.rank != b.rank ? a.rank > b.rank : *a.name < *b.name; });
    value::dict_type header;
    if (!metadata.empty()) {
        value::dict_type meta;
        for (const auto& [key, text] : metadata) meta.insert_or_assign(key, text);
        header.insert_or_assign("__metadata__", value(std::move(meta)));
    }
    std::uint64_t offset = 0;
    for (const item& i : items) {
        value::list_type shape;
        for (std::size_t extent : i.array->shape()) shape.emplace_back(extent);
        value::dict_type entry;
        entry.insert_or_assign("dtype", std::string(st_dtypes[i.rank].name));
        entry.insert_or_assign("shape", value(std::move(shape)));
        entry.insert_or_assign("data_offsets",
                               value(value::list_type{value(offset), value(offset + i.array->nbytes())}));
        header.insert_or_assign(*i.name, value(std::move(entry)));
        offset += i.array->nbytes();
    }
    std::string text = detail::write_json(value(std::move(header)), {.indent = -1, .describe_arrays = false});
    text.append((8 - text.size() % 8) % 8, ' ');

    std::array<std::byte, 8> length{};
    for (std::size_t b = 0; b < 8; ++b)
        length[b] = static_cast<std::byte>((std::uint64_t(text.size()) >> (8 * b)) & 0xFF);
    std::vector<std::span<const std::byte>> pieces{length, as_bytes(text)};
    for (const item& i : items) detail::append_in_pieces(pieces, i.array->byte_span());
    detail::write_file_atomically(file, pieces, progress);
}

} // namespace zanj
