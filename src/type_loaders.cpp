#include <zanj/detail/type_loaders.hpp>

#include <zanj/loader.hpp>
#include <zanj/sparse.hpp>
#include <zanj/table.hpp>

#include <any>
#include <memory>

namespace zanj::detail {

namespace {

value keep(value item, loader&) { return item; }

template <class T>
value with_instance(value item, loader& l) {
    item.set_instance(std::make_shared<const std::any>(l.load<T>(item)));
    return item;
}

// Python's DataFrames may hold what a table cannot (objects, mixed columns): their records then
// stay as they are, as before tables existed.
value table_if_possible(value item, loader& l) {
    try {
        item.set_instance(std::make_shared<const std::any>(l.load<table>(item)));
    } catch (const type_error&) {}
    return item;
}

} // namespace

void add_type_loaders(loader_registry& registry) {
    registry.add({"std::variant", false, keep, "std::variant (kept as its item)"});
    registry.add({"std::chrono::duration", false, keep, "std::chrono::duration (kept as its item)"});
    registry.add({"std::chrono::time_point", false, keep, "std::chrono::time_point (kept as its item)"});
    registry.add({"zanj::shared_parameter", false, keep, "model parameter stored by another (kept as its item)"});
    registry.add({"pandas.DataFrame", true, table_if_possible, "pandas DataFrame, as zanj::table"});
    for (const char* key : {"scipy.sparse.csr_matrix", "scipy.sparse.csr_array"})
        registry.add({key, false, with_instance<csr_matrix>, "scipy.sparse CSR matrix, as zanj::csr_matrix"});
    for (const char* key : {"scipy.sparse.coo_matrix", "scipy.sparse.coo_array"})
        registry.add({key, false, with_instance<coo_matrix>, "scipy.sparse COO matrix, as zanj::coo_matrix"});
}

} // namespace zanj::detail
