#pragma once
/// \file
/// Arrays inside `__zanj__.json`: the item forms of FORMAT.md (array_list_meta, array_hex_meta,
/// array_b64_meta, list, zero_dim) in both directions, and the external stub's metadata.

#include <zanj/config.hpp>
#include <zanj/half.hpp>
#include <zanj/ndarray.hpp>
#include <zanj/serializer.hpp>
#include <zanj/value.hpp>

#include <optional>
#include <string_view>

namespace zanj::detail {

/// True for format keys of array items ("numpy.ndarray:..." and "torch.Tensor:...").
bool is_array_format(std::string_view format) noexcept;

/// The inline item of an array in `mode`; 0-d arrays always give a zero_dim item. Complex arrays
/// cannot be JSON numbers, so list modes write them as array_b64_meta.
value array_to_item(const array_view& array, array_mode mode);

/// Adds "shape", "dtype" and "n_elements" (Python's `arr_metadata`) to an item.
void add_array_metadata(value::dict_type& item, const array_view& array);

/// The tree's stub of an array written as the member `member`.
value external_array_stub(std::string member, const array_view& array);

/// An ndarray from an array item of any mode, a filled external stub, an ndarray value, or a
/// bare nested list (its dtype inferred: bool, int64 or float64). Throws type_error or
/// format_error with the reason only; callers add the location.
ndarray array_from_item(const value& v);

/// Throws format_error when an external stub's "shape" or "dtype" disagrees with what its member
/// holds.
void check_stub(const value& stub, dtype type, const shape_type& shape, std::string_view member);

/// The dtype of an array whose bits numpy holds as `stored`: the dtype `item` (an array item or
/// stub) records when that dtype has no numpy equivalent and `stored` is its storage dtype
/// (`"bfloat16"` over uint16 bits), otherwise `stored`.
dtype recorded_dtype(const value& item, dtype stored) noexcept;
/// The same, from the "dtype" text the item records ("" when it records none).
dtype recorded_dtype(std::string_view name, dtype stored) noexcept;

/// An array's dtype and shape.
struct array_header {
    dtype type = dtype::float64;
    shape_type shape;
};

/// The dtype and shape an array item (inline or stub) declares, or nothing when it is no array
/// item or its metadata is missing or unreadable.
std::optional<array_header> inline_array_header(const value& item);

/// The elements as nested JSON lists (complex elements as [real, imag]).
value array_to_nested_list(const array_view& array);

} // namespace zanj::detail
