#pragma once
// The flat name -> ndarray dicts that npz and safetensors files hold and flatten_arrays makes.
// Private to the compiled code.

#include <zanj/error.hpp>
#include <zanj/value.hpp>

#include <string>
#include <string_view>

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

} // namespace zanj::detail
