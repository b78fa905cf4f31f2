#pragma once
/// \file
/// Every handler for standard library types.

#include <zanj/types/arithmetic.hpp>
#include <zanj/types/byte.hpp>
#include <zanj/types/chrono.hpp>
#include <zanj/types/map.hpp>
#include <zanj/types/optional.hpp>
#include <zanj/types/pointer.hpp>
#include <zanj/types/sequence.hpp>
#include <zanj/types/set.hpp>
#include <zanj/types/string.hpp>
#include <zanj/types/tuple.hpp>
#include <zanj/types/variant.hpp>
