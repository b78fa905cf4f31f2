#include <zanj/detail/array_codec.hpp>

#include "tree_nodes.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <string>

namespace zanj::detail {

static_assert(std::endian::native == std::endian::little,
              "zanj assumes a little-endian host: NPY members and hex/base64 items are little-endian");

namespace {

// Calls f.template operator()<T>() with the storage type of `t`: the integer of its bits for the
// floats C++ lacks (uint16_t for float16 and bfloat16, uint8_t for the float8 types).
template <class F>
decltype(auto) visit_dtype(dtype t, F&& f) {
    switch (t) {
    case dtype::bool_: return f.template operator()<bool>();
    case dtype::int8: return f.template operator()<std::int8_t>();
    case dtype::int16: return f.template operator()<std::int16_t>();
    case dtype::int32: return f.template operator()<std::int32_t>();
    case dtype::int64: return f.template operator()<std::int64_t>();
    case dtype::uint8: return f.template operator()<std::uint8_t>();
    case dtype::uint16: return f.template operator()<std::uint16_t>();
    case dtype::uint32: return f.template operator()<std::uint32_t>();
    case dtype::uint64: return f.template operator()<std::uint64_t>();
    case dtype::float16: return f.template operator()<std::uint16_t>();
    case dtype::float32: return f.template operator()<float>();
    case dtype::float64: return f.template operator()<double>();
    case dtype::complex64: return f.template operator()<std::complex<float>>();
    case dtype::complex128: return f.template operator()<std::complex<double>>();
    case dtype::bfloat16: return f.template operator()<std::uint16_t>();
    case dtype::float8_e4m3fn:
    case dtype::float8_e5m2: return f.template operator()<std::uint8_t>();
    }
    return f.template operator()<double>();
}

// OCP FP8 E4M3FN: bias 7, no infinities, S.1111.111 is NaN.
float e4m3fn_to_float(std::uint8_t b) noexcept {
    const float sign = (b & 0x80) ? -1.0f : 1.0f;
    const int exp = (b >> 3) & 0xF;
    const int mant = b & 0x7;
    if (exp == 0xF && mant == 0x7) return std::numeric_limits<float>::quiet_NaN();
    if (exp == 0) return sign * std::ldexp(static_cast<float>(mant), -9);
    return sign * std::ldexp(static_cast<float>(8 + mant), exp - 10);
}

// The value of an element of a dtype numpy lacks, held as its bits.
double decoded_bits(dtype t, std::uint16_t bits) noexcept {
    switch (t) {
    case dtype::bfloat16: return bfloat16_to_float(bits);
    case dtype::float8_e4m3fn: return e4m3fn_to_float(static_cast<std::uint8_t>(bits));
    // E5M2 is the high byte of a half.
    case dtype::float8_e5m2: return half_to_float(static_cast<std::uint16_t>(bits << 8));
    default: return bits;
    }
}

// One element as JSON. Types numpy lacks give their bits (what items of their dtype hold), or
// with `decode_bits` their value (for bare lists, which cannot say the dtype).
value element_to_json(dtype t, const std::byte* p, bool decode_bits) {
    return visit_dtype(t, [&]<class T>() -> value {
        T x;
        std::memcpy(&x, p, sizeof x);
        if constexpr (std::is_same_v<T, std::complex<float>> || std::is_same_v<T, std::complex<double>>) {
            return value(value::list_type{value(static_cast<double>(x.real())), value(static_cast<double>(x.imag()))});
        } else if constexpr (std::is_same_v<T, std::uint16_t> || std::is_same_v<T, std::uint8_t>) {
            if (t == dtype::float16) return value(static_cast<double>(half_to_float(x)));
            if (decode_bits && storage_dtype(t) != t) return value(decoded_bits(t, x));
            return value(x);
        } else {
            return value(x);
        }
    });
}

value nested_list(const array_view& array, bool decode_bits) {
    std::size_t element = dtype_size(array.type);
    if (array.shape.empty()) return element_to_json(array.type, array.data, decode_bits);
    const std::byte* p = array.data;
    auto build = [&](auto& self, std::size_t depth) -> value {
        value::list_type items;
        items.reserve(array.shape[depth]);
        for (std::size_t i = 0; i < array.shape[depth]; ++i) {
            if (depth + 1 == array.shape.size()) {
                items.push_back(element_to_json(array.type, p, decode_bits));
                p += element;
            } else {
                items.push_back(self(self, depth + 1));
            }
        }
        return value(std::move(items));
    };
    return build(build, 0);
}

std::string_view suffix_of(std::string_view format) {
    auto colon = format.find(':');
    return colon == std::string_view::npos ? std::string_view{} : format.substr(colon + 1);
}

// ---- JSON leaves into elements ----

[[noreturn]] void bad_element(const value& v, dtype t) {
    std::string why = "array element " + v.dump() + " is not a valid " + std::string(dtype_name(t));
    if (storage_dtype(t) != t)
        why += " (items of this dtype hold its bits as " + std::string(dtype_name(storage_dtype(t))) + ")";
    throw type_error(why);
}

void element_from_json(const value& v, dtype t, std::byte* out) {
    visit_dtype(t, [&]<class T>() {
        T x{};
        if constexpr (std::is_same_v<T, bool>) {
            if (v.is_bool())
                x = v.as_bool();
            else if (v.is_integer() && (v.as_uint() <= 1))
                x = v.as_uint() == 1;
            else
                bad_element(v, t);
        } else if constexpr (std::is_same_v<T, std::complex<float>> || std::is_same_v<T, std::complex<double>>) {
            using R = typename T::value_type;
            if (v.is_number())
                x = T(static_cast<R>(v.as_double()), 0);
            else if (v.is_list() && v.size() == 2 && v[0].is_number() && v[1].is_number())
                x = T(static_cast<R>(v[0].as_double()), static_cast<R>(v[1].as_double()));
            else
                bad_element(v, t);
        } else if constexpr (std::is_floating_point_v<T>) {
            if (!v.is_number()) bad_element(v, t);
            x = static_cast<T>(v.as_double());
        } else {
            if constexpr (std::is_same_v<T, std::uint16_t>) {
                if (t == dtype::float16) {
                    if (!v.is_number()) bad_element(v, t);
                    x = float_to_half(static_cast<float>(v.as_double()));
                    std::memcpy(out, &x, sizeof x);
                    return;
                }
            }
            if (v.is_bool())
                x = static_cast<T>(v.as_bool());
            else if (!v.is_integer())
                bad_element(v, t);
            else if (v.type() == value::kind::unsigned_integer) {
                if (v.as_uint() > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) bad_element(v, t);
                x = static_cast<T>(v.as_uint());
            } else {
                std::int64_t i = v.as_int();
                if constexpr (std::is_signed_v<T>) {
                    if (i < std::numeric_limits<T>::min() || i > std::numeric_limits<T>::max()) bad_element(v, t);
                } else {
                    if (i < 0 || static_cast<std::uint64_t>(i) > std::numeric_limits<T>::max()) bad_element(v, t);
                }
                x = static_cast<T>(i);
            }
        }
        std::memcpy(out, &x, sizeof x);
    });
}

// Shape of nested lists, following first elements.
shape_type nested_shape(const value& v) {
    shape_type shape;
    const value* cur = &v;
    while (cur->is_list()) {
        shape.push_back(cur->size());
        if (cur->size() == 0) break;
        cur = &(*cur)[std::size_t{0}];
    }
    return shape;
}

void fill_from_nested(const value& v, const shape_type& shape, std::size_t depth, dtype t, std::byte*& out) {
    if (depth == shape.size()) {
        // A complex element is itself a [real, imag] list.
        if (v.is_list() && !is_complex(t)) throw type_error("array data is nested deeper than its shape");
        element_from_json(v, t, out);
        out += dtype_size(t);
        return;
    }
    if (!v.is_list() || v.size() != shape[depth])
        throw type_error("array data is not rectangular: expected a list of " + std::to_string(shape[depth]) +
                         " at depth " + std::to_string(depth) + ", found " +
                         (v.is_list() ? "a list of " + std::to_string(v.size()) : std::string(v.type_name())));
    for (const auto& item : v.as_list()) fill_from_nested(item, shape, depth + 1, t, out);
}

// The structure alone, so that a shape the data cannot fill is refused before its storage is
// allocated: a few bytes of JSON must not claim terabytes.
void check_nested(const value& v, const shape_type& shape, std::size_t depth) {
    if (depth == shape.size()) return;
    if (!v.is_list() || v.size() != shape[depth])
        throw type_error("array data is not rectangular: expected a list of " + std::to_string(shape[depth]) +
                         " at depth " + std::to_string(depth) + ", found " +
                         (v.is_list() ? "a list of " + std::to_string(v.size()) : std::string(v.type_name())));
    for (const auto& item : v.as_list()) check_nested(item, shape, depth + 1);
}

ndarray from_nested(const value& data, dtype t, shape_type shape) {
    check_nested(data, shape, 0);
    ndarray out(t, shape);
    std::byte* p = out.bytes();
    fill_from_nested(data, out.shape(), 0, t, p);
    return out;
}

// dtype of a bare nested list, as np.array(list) infers it.
dtype infer_dtype(const value& v) {
    bool any_float = false, any_int = false, any_big = false, any_negative = false, any_bool = false;
    auto visit = [&](auto& self, const value& x) -> void {
        if (x.is_list()) {
            for (const auto& item : x.as_list()) self(self, item);
        } else if (x.is_bool()) {
            any_bool = true;
        } else if (x.type() == value::kind::unsigned_integer) {
            any_big = true;
        } else if (x.is_integer()) {
            any_int = true;
            any_negative |= x.as_int() < 0;
        } else if (x.is_float()) {
            any_float = true;
        } else {
            throw type_error("a list holding " + std::string(x.type_name()) + " cannot be read as an array");
        }
    };
    visit(visit, v);
    if (any_float || (any_big && any_negative)) return dtype::float64;
    if (any_big) return dtype::uint64;
    if (any_int) return dtype::int64;
    if (any_bool) return dtype::bool_;
    return dtype::float64; // numpy's dtype for an empty list
}

dtype dtype_of_item(const value& item) {
    const value* d = item.find("dtype");
    if (!d || !d->is_string()) throw type_error("array item has no \"dtype\" string");
    auto t = dtype_from_name(d->as_string());
    if (!t) throw type_error("unsupported array dtype '" + d->as_string() + "'");
    return *t;
}

shape_type shape_of_item(const value& item) {
    const value* s = item.find("shape");
    if (!s || !s->is_list()) throw type_error("array item has no \"shape\" list");
    shape_type shape;
    for (const auto& e : s->as_list()) {
        if (!e.is_integer() || (e.type() == value::kind::integer && e.as_int() < 0))
            throw type_error("array shape " + s->dump() + " is not a list of non-negative integers");
        shape.push_back(static_cast<std::size_t>(e.as_uint()));
    }
    return shape;
}

constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string to_hex(std::span<const std::byte> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(bytes.size() * 2, '0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto b = static_cast<unsigned char>(bytes[i]);
        out[2 * i] = digits[b >> 4];
        out[2 * i + 1] = digits[b & 0xF];
    }
    return out;
}

std::string to_base64(std::span<const std::byte> bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        std::uint32_t n =
            (std::uint32_t(bytes[i]) << 16) | (std::uint32_t(bytes[i + 1]) << 8) | std::uint32_t(bytes[i + 2]);
        for (int k = 18; k >= 0; k -= 6) out += b64_alphabet[(n >> k) & 63];
    }
    if (std::size_t rest = bytes.size() - i) {
        std::uint32_t n = std::uint32_t(bytes[i]) << 16;
        if (rest == 2) n |= std::uint32_t(bytes[i + 1]) << 8;
        out += b64_alphabet[(n >> 18) & 63];
        out += b64_alphabet[(n >> 12) & 63];
        out += rest == 2 ? b64_alphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void from_hex(std::string_view s, std::byte* out, std::size_t n) {
    if (s.size() != 2 * n)
        throw format_error("hex array data has " + std::to_string(s.size()) + " digits, the shape and dtype need " +
                           std::to_string(2 * n));
    for (std::size_t i = 0; i < n; ++i) {
        int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) throw format_error("hex array data holds a non-hex character");
        out[i] = static_cast<std::byte>((hi << 4) | lo);
    }
}

void from_base64(std::string_view s, std::byte* out, std::size_t n) {
    auto decode = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::size_t written = 0;
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t i = 0;
    for (; i < s.size() && s[i] != '='; ++i) {
        int d = decode(s[i]);
        if (d < 0) throw format_error("base64 array data holds an invalid character");
        acc = (acc << 6) | static_cast<std::uint32_t>(d);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (written == n) throw format_error("base64 array data is longer than the shape and dtype need");
            out[written++] = static_cast<std::byte>((acc >> bits) & 0xFF);
        }
    }
    for (; i < s.size(); ++i)
        if (s[i] != '=') throw format_error("base64 array data continues after its padding");
    if (written != n)
        throw format_error("base64 array data holds " + std::to_string(written) + " bytes, the shape and dtype need " +
                           std::to_string(n));
}

} // namespace

bool is_array_format(std::string_view format) noexcept {
    return format.starts_with("numpy.ndarray:") || format.starts_with("torch.Tensor:");
}

void add_array_metadata(value::dict_type& item, const array_view& array) {
    value::list_type shape;
    shape.reserve(array.shape.size());
    for (auto e : array.shape) shape.emplace_back(e);
    item.insert_or_assign("shape", value(std::move(shape)));
    item.insert_or_assign("dtype", std::string(dtype_name(array.type)));
    item.insert_or_assign("n_elements", shape_elements(array.shape));
}

value external_array_stub(std::string member, const array_view& array) {
    value::dict_type stub;
    stub.reserve(5); // its size: one allocation per stub, not four (10,000 arrays make 10,000 stubs)
    stub.insert_or_assign(format_key, "numpy.ndarray:external");
    stub.insert_or_assign(ref_key, std::move(member));
    add_array_metadata(stub, array);
    return stub;
}

value array_to_nested_list(const array_view& array) { return nested_list(array, false); }

value array_to_item(const array_view& array, array_mode mode) {
    std::size_t nbytes = shape_elements(array.shape) * dtype_size(array.type);
    std::span<const std::byte> bytes(array.data, nbytes);
    value::dict_type item;
    // A complex scalar is no JSON number either: 0-d complex arrays take the base64 form below.
    if (array.shape.empty() && !is_complex(array.type)) {
        item.insert_or_assign(format_key, "numpy.ndarray:zero_dim");
        item.insert_or_assign("data", element_to_json(array.type, array.data, false));
        add_array_metadata(item, array);
        return item;
    }
    // Nested lists cannot hold complex numbers, nor the extents after a zero one (shape (0, 3)
    // would read back as (0,)): such arrays take the base64 form, which keeps everything.
    bool list_mode = mode == array_mode::array_list_meta || mode == array_mode::list;
    bool zero_before_last =
        !array.shape.empty() && std::find(array.shape.begin(), array.shape.end() - 1, 0) != array.shape.end() - 1;
    if (list_mode && (is_complex(array.type) || zero_before_last)) mode = array_mode::array_b64_meta;
    switch (mode) {
    case array_mode::list: return nested_list(array, true);
    case array_mode::array_list_meta:
        item.insert_or_assign(format_key, "numpy.ndarray:array_list_meta");
        item.insert_or_assign("data", array_to_nested_list(array));
        break;
    case array_mode::array_hex_meta:
        item.insert_or_assign(format_key, "numpy.ndarray:array_hex_meta");
        item.insert_or_assign("data", to_hex(bytes));
        break;
    case array_mode::array_b64_meta:
        item.insert_or_assign(format_key, "numpy.ndarray:array_b64_meta");
        item.insert_or_assign("data", to_base64(bytes));
        break;
    }
    add_array_metadata(item, array);
    return item;
}

dtype recorded_dtype(const value& item, dtype stored) noexcept {
    const value* d = item.find("dtype");
    return d && d->is_string() ? recorded_dtype(std::string_view(d->as_string()), stored) : stored;
}

dtype recorded_dtype(std::string_view name, dtype stored) noexcept {
    std::optional<dtype> recorded = dtype_from_name(name);
    return recorded && *recorded != stored && storage_dtype(*recorded) == stored ? *recorded : stored;
}

void check_stub(const value& stub, dtype type, const shape_type& shape, std::string_view member) {
    // The stub's metadata must describe what the member holds.
    if (stub.contains("shape") && shape_of_item(stub) != shape)
        throw format_error("the stub of '" + std::string(member) + "' says shape " + shape_string(shape_of_item(stub)) +
                           ", the member holds " + shape_string(shape));
    if (stub.contains("dtype") && dtype_of_item(stub) != type)
        throw format_error("the stub of '" + std::string(member) + "' says dtype " + stub["dtype"].dump() +
                           ", the member holds " + std::string(dtype_name(type)));
}

std::optional<array_header> inline_array_header(const value& item) {
    return array_header_of(item_keys<value_node>(value_node(item)));
}

ndarray array_from_item(const value& v) {
    if (v.is_array()) return v.as_array();
    if (v.is_list()) return from_nested(v, infer_dtype(v), nested_shape(v));
    if (!v.is_dict()) throw type_error("expected an array, found " + std::string(v.type_name()) + " " + v.dump());
    std::string_view format = v.format();
    if (!is_array_format(format)) {
        throw type_error(format.empty() ? "expected an array item, found a dict without a format key"
                                        : "expected an array item, found '" + std::string(format) + "'");
    }
    std::string_view mode = suffix_of(format);
    const value* data = v.find("data");
    if (mode == "external") {
        const value* ref = v.find(ref_key);
        std::string member = ref && ref->is_string() ? ref->as_string() : "?";
        if (!data) throw format_error("external array '" + member + "' was not loaded (missing from externals_info?)");
        ndarray a = array_from_item(*data);
        if (dtype recorded = recorded_dtype(v, a.type()); recorded != a.type()) a = a.view_as(recorded);
        check_stub(v, a.type(), a.shape(), member);
        return a;
    }
    if (!data) throw type_error("array item '" + std::string(format) + "' has no \"data\"");
    dtype t = dtype_of_item(v);
    if (mode == "zero_dim") {
        if (data->is_list() && !is_complex(t))
            throw type_error("zero_dim array data must be a scalar, found " + data->dump());
        return from_nested(*data, t, {});
    }
    shape_type shape = shape_of_item(v);
    if (const value* n = v.find("n_elements"); n && n->is_integer() && n->as_uint() != shape_elements(shape))
        throw format_error("array item says n_elements " + n->dump() + " but its shape " +
                           ndarray(t, shape).shape_string() + " holds " + std::to_string(shape_elements(shape)));
    if (mode == "array_list_meta") return from_nested(*data, t, std::move(shape));
    if (mode == "array_hex_meta" || mode == "array_b64_meta") {
        if (!data->is_string()) throw type_error("array item '" + std::string(format) + "' needs string data");
        // As for nested lists: the text must be able to fill the shape before storage is allocated.
        const std::size_t elements = shape_elements(shape);
        if (elements > std::numeric_limits<std::size_t>::max() / dtype_size(t))
            throw format_error("array item's shape " + shape_string(shape) + " overflows the address space");
        const std::size_t nbytes = elements * dtype_size(t);
        const std::size_t digits = data->as_string().size();
        if (mode == "array_hex_meta" ? digits / 2 != nbytes : digits / 4 * 3 + 3 < nbytes)
            throw format_error(std::string(mode == "array_hex_meta" ? "hex" : "base64") + " array data of " +
                               std::to_string(digits) + " characters cannot hold the " + std::to_string(nbytes) +
                               " bytes its shape " + shape_string(shape) + " and dtype need");
        ndarray out(t, std::move(shape));
        if (mode == "array_hex_meta")
            from_hex(data->as_string(), out.bytes(), out.nbytes());
        else
            from_base64(data->as_string(), out.bytes(), out.nbytes());
        return out;
    }
    throw type_error("unknown array mode '" + std::string(mode) + "' in format '" + std::string(format) + "'");
}

} // namespace zanj::detail
