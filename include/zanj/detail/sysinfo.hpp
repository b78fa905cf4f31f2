#pragma once
/// \file
/// What `__zanj_meta__.json` says about the writing system and the handlers in use.

#include <zanj/value.hpp>

namespace zanj::detail {

/// The `sysinfo` object: compiler, C++ standard, platform, library versions.
value system_description();

/// Descriptions of the built-in serialization handlers, for `zanj_cfg`.
value serialization_handler_descriptions();

} // namespace zanj::detail
