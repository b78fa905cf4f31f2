#include <zanj/sparse.hpp>

#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>
#include <zanj/types/arithmetic.hpp>
#include <zanj/types/value.hpp>

#include <cstdint>
#include <optional>
#include <utility>

namespace zanj {

namespace detail {

// Gives the handlers the constructors that skip the checks they have just made.
struct sparse_access {
    static csr_matrix csr(std::size_t rows, std::size_t cols, ndarray data, ndarray indices, ndarray indptr) {
        return {csr_matrix::unchecked{}, rows, cols, std::move(data), std::move(indices), std::move(indptr)};
    }
    static coo_matrix coo(std::size_t rows, std::size_t cols, ndarray data, ndarray row, ndarray col) {
        return {coo_matrix::unchecked{}, rows, cols, std::move(data), std::move(row), std::move(col)};
    }
};

namespace {

// Calls f with the elements of an integer array; false for other dtypes.
template <class F>
bool visit_indices(const ndarray& a, F&& f) {
    switch (a.type()) {
    case dtype::int8: f(a.values<std::int8_t>()); return true;
    case dtype::int16: f(a.values<std::int16_t>()); return true;
    case dtype::int32: f(a.values<std::int32_t>()); return true;
    case dtype::int64: f(a.values<std::int64_t>()); return true;
    case dtype::uint8: f(a.values<std::uint8_t>()); return true;
    case dtype::uint16: f(a.values<std::uint16_t>()); return true;
    case dtype::uint32: f(a.values<std::uint32_t>()); return true;
    case dtype::uint64: f(a.values<std::uint64_t>()); return true;
    default: return false;
    }
}

std::optional<sparse_problem> not_1d(const char* component, const ndarray& a) {
    if (a.ndim() == 1) return std::nullopt;
    return sparse_problem{component,
                          std::string(component) + " must be a 1-d array, not one of shape " + a.shape_string()};
}

// The first index of `a` outside [0, limit), as a problem.
sparse_problem check_range(const char* component, const ndarray& a, std::size_t limit, const char* what) {
    sparse_problem problem;
    const bool integers = visit_indices(a, [&](auto values) {
        for (std::size_t k = 0; k < values.size(); ++k) {
            if (std::cmp_less(values[k], 0) || std::cmp_greater_equal(values[k], limit)) {
                problem = {component, std::string(component) + "[" + std::to_string(k) +
                                          "] = " + std::to_string(values[k]) + " is out of range for " +
                                          std::to_string(limit) + " " + what};
                return;
            }
        }
    });
    if (!integers)
        return {component, std::string(component) + " must hold integers, not " + std::string(dtype_name(a.type()))};
    return problem;
}

} // namespace

sparse_problem check_csr(std::size_t rows, std::size_t cols, const ndarray& data, const ndarray& indices,
                         const ndarray& indptr) {
    for (auto [name, a] : {std::pair{"data", &data}, {"indices", &indices}, {"indptr", &indptr}})
        if (auto p = not_1d(name, *a)) return *p;
    if (indptr.size() != rows + 1)
        return {"indptr", "indptr has " + std::to_string(indptr.size()) + " entries, a matrix of " +
                              std::to_string(rows) + " rows needs " + std::to_string(rows + 1)};
    if (indices.size() != data.size())
        return {"indices", "indices has " + std::to_string(indices.size()) + " entries and data " +
                               std::to_string(data.size()) + ": one column index per stored value"};
    sparse_problem problem;
    const bool integers = visit_indices(indptr, [&](auto values) {
        if (values[0] != 0) {
            problem = {"indptr", "indptr starts at " + std::to_string(values[0]) + ", not 0"};
            return;
        }
        for (std::size_t i = 0; i < rows; ++i) {
            if (values[i + 1] < values[i]) {
                problem = {"indptr", "indptr decreases at row " + std::to_string(i) + ": " + std::to_string(values[i]) +
                                         " then " + std::to_string(values[i + 1])};
                return;
            }
        }
        if (std::cmp_not_equal(values[rows], data.size()))
            problem = {"indptr", "indptr ends at " + std::to_string(values[rows]) + ", but the matrix stores " +
                                     std::to_string(data.size()) + " values (nnz)"};
    });
    if (!integers) return {"indptr", "indptr must hold integers, not " + std::string(dtype_name(indptr.type()))};
    if (problem) return problem;
    return check_range("indices", indices, cols, "columns");
}

sparse_problem check_coo(std::size_t rows, std::size_t cols, const ndarray& data, const ndarray& row,
                         const ndarray& col) {
    for (auto [name, a] : {std::pair{"data", &data}, {"row", &row}, {"col", &col}})
        if (auto p = not_1d(name, *a)) return *p;
    for (auto [name, a] : {std::pair{"row", &row}, {"col", &col}})
        if (a->size() != data.size())
            return {name, std::string(name) + " has " + std::to_string(a->size()) + " entries and data " +
                              std::to_string(data.size()) + ": one coordinate per stored value"};
    if (auto p = check_range("row", row, rows, "rows")) return p;
    return check_range("col", col, cols, "columns");
}

} // namespace detail

// ---- the matrices -------------------------------------------------------------------------------

namespace {
template <class T>
ndarray empty_of() {
    return ndarray(dtype_of<T>, {0});
}
} // namespace

csr_matrix::csr_matrix()
    : data_(empty_of<double>()), indices_(empty_of<std::int32_t>()), indptr_(ndarray(dtype::int32, {1})) {}

csr_matrix::csr_matrix(std::size_t rows, std::size_t cols, ndarray data, ndarray indices, ndarray indptr)
    : csr_matrix(unchecked{}, rows, cols, std::move(data), std::move(indices), std::move(indptr)) {
    if (auto p = detail::check_csr(rows_, cols_, data_, indices_, indptr_)) throw usage_error("csr_matrix: " + p.why);
}

csr_matrix::csr_matrix(unchecked, std::size_t rows, std::size_t cols, ndarray data, ndarray indices, ndarray indptr)
    : rows_(rows), cols_(cols), data_(std::move(data)), indices_(std::move(indices)), indptr_(std::move(indptr)) {}

coo_matrix::coo_matrix() : data_(empty_of<double>()), row_(empty_of<std::int32_t>()), col_(empty_of<std::int32_t>()) {}

coo_matrix::coo_matrix(std::size_t rows, std::size_t cols, ndarray data, ndarray row, ndarray col)
    : coo_matrix(unchecked{}, rows, cols, std::move(data), std::move(row), std::move(col)) {
    if (auto p = detail::check_coo(rows_, cols_, data_, row_, col_)) throw usage_error("coo_matrix: " + p.why);
}

coo_matrix::coo_matrix(unchecked, std::size_t rows, std::size_t cols, ndarray data, ndarray row, ndarray col)
    : rows_(rows), cols_(cols), data_(std::move(data)), row_(std::move(row)), col_(std::move(col)) {}

// ---- saving and loading -------------------------------------------------------------------------

namespace {

value sparse_item(std::string_view format, std::size_t rows, std::size_t cols, const ndarray& data,
                  std::pair<const char*, const ndarray*> first, std::pair<const char*, const ndarray*> second,
                  serializer& s) {
    value::dict_type out;
    out.insert_or_assign(format_key, format);
    out.insert_or_assign("shape", value(value::list_type{value(rows), value(cols)}));
    out.insert_or_assign("nnz", data.size());
    out.insert_or_assign("data", s.serialize_field("data", data));
    out.insert_or_assign(first.first, s.serialize_field(first.first, *first.second));
    out.insert_or_assign(second.first, s.serialize_field(second.first, *second.second));
    return out;
}

// Checks the format key (scipy's matrix or array class) and reads the shape.
std::pair<std::size_t, std::size_t> sparse_header(const value& v, loader& l, std::string_view kind) {
    l.expect(v, value::kind::dict, "a scipy.sparse." + std::string(kind) + "_matrix item");
    const std::string_view format = v.format();
    const std::string matrix = "scipy.sparse." + std::string(kind) + "_matrix";
    if (format != matrix && format != "scipy.sparse." + std::string(kind) + "_array")
        l.fail("expected a " + matrix + " item, found " +
               (format.empty() ? std::string("a dict without a format key") : "a '" + std::string(format) + "' item"));
    const value& shape = l.field(v, "shape");
    loader::path_guard guard(l, "shape");
    if (!shape.is_list() || shape.size() != 2) l.fail("expected the shape as [rows, cols], found " + shape.dump());
    return {l.load_element<std::size_t>(shape[0], 0), l.load_element<std::size_t>(shape[1], 1)};
}

// Throws a format_error at the component at fault, naming its member when it is external.
void throw_if(const detail::sparse_problem& problem, const value& v, loader& l) {
    if (!problem) return;
    const value* component = v.find(problem.component);
    const value* ref = component ? component->find(ref_key) : nullptr;
    loader::path_guard guard(l, problem.component);
    throw format_error(problem.why, l.path().str(), ref && ref->is_string() ? ref->as_string() : std::string());
}

void check_nnz(const value& v, loader& l, std::size_t stored) {
    const value* nnz = v.find("nnz");
    if (!nnz) return;
    loader::path_guard guard(l, "nnz");
    if (!nnz->is_integer() || (nnz->type() == value::kind::integer && nnz->as_int() < 0) || nnz->as_uint() != stored)
        throw format_error("nnz is " + nnz->dump() + ", but data holds " + std::to_string(stored) + " values",
                           l.path().str());
}

} // namespace

value handler<csr_matrix>::serialize(const csr_matrix& m, serializer& s) {
    return sparse_item("scipy.sparse.csr_matrix", m.rows(), m.cols(), m.data(), {"indices", &m.indices()},
                       {"indptr", &m.indptr()}, s);
}

csr_matrix handler<csr_matrix>::load(const value& v, loader& l) {
    const auto [rows, cols] = sparse_header(v, l, "csr");
    ndarray data = l.load_field<ndarray>(v, "data");
    ndarray indices = l.load_field<ndarray>(v, "indices");
    ndarray indptr = l.load_field<ndarray>(v, "indptr");
    check_nnz(v, l, data.size());
    throw_if(detail::check_csr(rows, cols, data, indices, indptr), v, l);
    return detail::sparse_access::csr(rows, cols, std::move(data), std::move(indices), std::move(indptr));
}

value handler<coo_matrix>::serialize(const coo_matrix& m, serializer& s) {
    return sparse_item("scipy.sparse.coo_matrix", m.rows(), m.cols(), m.data(), {"row", &m.row()}, {"col", &m.col()},
                       s);
}

coo_matrix handler<coo_matrix>::load(const value& v, loader& l) {
    const auto [rows, cols] = sparse_header(v, l, "coo");
    ndarray data = l.load_field<ndarray>(v, "data");
    ndarray row = l.load_field<ndarray>(v, "row");
    ndarray col = l.load_field<ndarray>(v, "col");
    check_nnz(v, l, data.size());
    throw_if(detail::check_coo(rows, cols, data, row, col), v, l);
    return detail::sparse_access::coo(rows, cols, std::move(data), std::move(row), std::move(col));
}

} // namespace zanj
