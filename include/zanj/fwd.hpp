#pragma once
/// \file
/// Declarations of zanj's customisation points, free of nlohmann, xtensor and zip headers, so a
/// header that only declares how its types are saved can include this alone.

namespace zanj {

class value;
class ndarray;
class serializer;
class loader;
struct config;

/// The customisation point: specialise `handler<T>` to teach zanj a type (see zanj/handler.hpp
/// for the contract). The second parameter is for `std::enable_if`-style partial specialisation.
template <class T, class Enable = void>
struct handler;

/// How a model parameter's storage is reached (see zanj/model.hpp): specialise it for array
/// types of your own, as zanj does for ndarray, std::vector, std::array and xtensor containers.
template <class T, class Enable = void>
struct parameter_traits;

/// Selects a type in overloads of the free-function form `zanj_load(zanj::tag<T>, ...)`.
template <class T>
struct tag {};

} // namespace zanj
