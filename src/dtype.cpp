#include <zanj/dtype.hpp>

#include <array>

namespace zanj {

namespace {
struct dtype_info {
    dtype type;
    std::string_view name;
    std::string_view descr;
    std::size_t size;
    dtype storage;
};

// Indexed by the enum's value.
constexpr std::array<dtype_info, 17> infos{{
    {dtype::bool_, "bool", "|b1", 1, dtype::bool_},
    {dtype::int8, "int8", "|i1", 1, dtype::int8},
    {dtype::int16, "int16", "<i2", 2, dtype::int16},
    {dtype::int32, "int32", "<i4", 4, dtype::int32},
    {dtype::int64, "int64", "<i8", 8, dtype::int64},
    {dtype::uint8, "uint8", "|u1", 1, dtype::uint8},
    {dtype::uint16, "uint16", "<u2", 2, dtype::uint16},
    {dtype::uint32, "uint32", "<u4", 4, dtype::uint32},
    {dtype::uint64, "uint64", "<u8", 8, dtype::uint64},
    {dtype::float16, "float16", "<f2", 2, dtype::float16},
    {dtype::float32, "float32", "<f4", 4, dtype::float32},
    {dtype::float64, "float64", "<f8", 8, dtype::float64},
    {dtype::complex64, "complex64", "<c8", 8, dtype::complex64},
    {dtype::complex128, "complex128", "<c16", 16, dtype::complex128},
    // No numpy dtype: their bits travel as the storage dtype.
    {dtype::bfloat16, "bfloat16", "<u2", 2, dtype::uint16},
    {dtype::float8_e4m3fn, "float8_e4m3fn", "|u1", 1, dtype::uint8},
    {dtype::float8_e5m2, "float8_e5m2", "|u1", 1, dtype::uint8},
}};

static_assert(
    [] {
        for (std::size_t i = 0; i < infos.size(); ++i)
            if (static_cast<std::size_t>(infos[i].type) != i) return false;
        return true;
    }(),
    "dtype infos must follow the enum's order");

const dtype_info& info(dtype t) noexcept { return infos[static_cast<std::size_t>(t)]; }
} // namespace

std::string_view dtype_name(dtype t) noexcept { return info(t).name; }
std::size_t dtype_size(dtype t) noexcept { return info(t).size; }
std::string_view npy_descr(dtype t) noexcept { return info(t).descr; }
dtype storage_dtype(dtype t) noexcept { return info(t).storage; }

std::optional<dtype> dtype_from_name(std::string_view name) noexcept {
    if (name.starts_with("torch.")) name.remove_prefix(6);
    for (const auto& i : infos)
        if (i.name == name) return i.type;
    // numpy's and torch's aliases
    if (name == "bool_") return dtype::bool_;
    if (name == "float" || name == "double") return dtype::float64;
    if (name == "half") return dtype::float16;
    if (name == "int" || name == "long") return dtype::int64;
    if (name == "short") return dtype::int16;
    if (name == "complex" || name == "cdouble") return dtype::complex128;
    if (name == "cfloat") return dtype::complex64;
    return std::nullopt;
}

} // namespace zanj
