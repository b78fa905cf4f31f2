#pragma once
// The flat name -> ndarray dicts that npz and safetensors files hold and flatten_arrays makes,
// and the pieces their writers write. Private to the compiled code.

#include <zanj/error.hpp>
#include <zanj/value.hpp>

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace zanj::detail {

/// The items of `arrays`, checked to be a dict whose values are all arrays; `caller` names the
/// function in the usage_error otherwise.
inline const value::dict_type& array_dict(const value& arrays, std::string_view caller) {
    if (!arrays.is_dict())
        throw usage_error(std::string(caller) + ": expected a dict of name -> ndarray, found " +
                          std::string(arrays.type_name()));
    for (const auto& [name, item] : arrays.as_dict())
        if (!item.is_array())
            throw usage_error(std::string(caller) + ": '" + name + "' is not an ndarray (found " +
                              std::string(item.type_name()) + ")");
    return arrays.as_dict();
}

/// Appends `data` to `pieces` cut into pieces of at most 8 MiB, so that a progress hook called
/// per piece moves on within a large array.
inline void append_in_pieces(std::vector<std::span<const std::byte>>& pieces, std::span<const std::byte> data) {
    constexpr std::size_t piece = std::size_t{8} << 20;
    while (!data.empty()) {
        const std::size_t n = std::min(piece, data.size());
        pieces.push_back(data.first(n));
        data = data.subspan(n);
    }
}

} // namespace zanj::detail
