#pragma once
/// \file
/// The umbrella header: the facade, the extension points and every built-in handler.

#include <zanj/archive.hpp>
#include <zanj/config.hpp>
#include <zanj/dataclass.hpp>
#include <zanj/dtype.hpp>
#include <zanj/error.hpp>
#include <zanj/facade.hpp>
#include <zanj/handler.hpp>
#include <zanj/loader.hpp>
#include <zanj/ndarray.hpp>
#include <zanj/object_path.hpp>
#include <zanj/serializer.hpp>
#include <zanj/value.hpp>
#include <zanj/version.hpp>

#include <zanj/types/std.hpp>
#include <zanj/types/json.hpp>
#include <zanj/types/value.hpp>
#include <zanj/types/xtensor.hpp>
