#pragma once
/// \file
/// Object paths as JSON Pointers (RFC 6901), the form of a ref item's `same_as`: "/a/0/next",
/// with "~" written "~0" and "/" written "~1" inside a key, and "" for the root.

#include <zanj/object_path.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zanj::detail {

/// `path` as a JSON Pointer.
std::string json_pointer(const object_path& path);

/// The unescaped steps of a JSON Pointer, or nullopt when it is not one (it must be empty or
/// start with '/', and '~' must be followed by '0' or '1').
std::optional<std::vector<std::string>> parse_json_pointer(std::string_view pointer);

} // namespace zanj::detail
