#pragma once
/// \file
/// The umbrella header: the facade, the extension points and every built-in handler.

#include <zanj/archive.hpp>
#include <zanj/chunked_array.hpp>
#include <zanj/compare.hpp>
#include <zanj/config.hpp>
#include <zanj/dataclass.hpp>
#include <zanj/dtype.hpp>
#include <zanj/editor.hpp>
#include <zanj/enum.hpp>
#include <zanj/error.hpp>
#include <zanj/facade.hpp>
#include <zanj/flatten.hpp>
#include <zanj/half.hpp>
#include <zanj/handler.hpp>
#include <zanj/load_any.hpp>
#include <zanj/loader.hpp>
#include <zanj/model.hpp>
#include <zanj/ndarray.hpp>
#include <zanj/npz.hpp>
#include <zanj/object_path.hpp>
#include <zanj/polymorphic.hpp>
#include <zanj/safetensors.hpp>
#include <zanj/serializer.hpp>
#include <zanj/sparse.hpp>
#include <zanj/table.hpp>
#include <zanj/value.hpp>
#include <zanj/version.hpp>

#include <zanj/types/std.hpp>
#include <zanj/types/json.hpp>
#include <zanj/types/value.hpp>
#include <zanj/types/xtensor.hpp>
