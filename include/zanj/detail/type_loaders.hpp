#pragma once
/// \file
/// The untyped-read loaders of the items zanj-cpp adds to Python's layout. `loader_registry`'s
/// constructor calls `add_type_loaders`, so every registry holds them.

namespace zanj {
class loader_registry;
class value;
} // namespace zanj

namespace zanj::detail {

/// Registers, for untyped reads:
/// - "std::variant", "std::chrono::duration", "std::chrono::time_point": kept as dicts (their
///   C++ types are templates: load them typed, or through `value::get<T>()`);
/// - "pandas.DataFrame" and "pandas.DataFrame:external" (one prefix loader, as Python's check):
///   the records are kept and a `zanj::table` is attached (`value::instance<zanj::table>()`)
///   when they form one;
/// - "scipy.sparse.csr_matrix" / "csr_array" and "coo_matrix" / "coo_array": the item is kept
///   with a `zanj::csr_matrix` or `zanj::coo_matrix` attached.
/// - "zanj::shared_parameter" (a model parameter stored by another one): kept as its item.
void add_type_loaders(loader_registry& registry);

/// True for a ConfiguredModel item (a format key with `zanj_model_config` and `state_dict`).
bool is_model_item(const value& item) noexcept;
/// A model item of an untyped read whose class is not registered stays a dict, as Python keeps
/// it; each shared parameter in its state dict becomes the array it shares (same storage).
value resolve_shared_parameters(value item);

} // namespace zanj::detail
