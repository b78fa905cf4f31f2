#pragma once
/// \file
/// Sparse matrices in scipy.sparse's layouts, with elements and indices of run-time dtypes:
/// `zanj::csr_matrix` (compressed sparse rows: `data`, `indices`, `indptr`) and
/// `zanj::coo_matrix` (coordinates: `data`, `row`, `col`). Each is saved as one item holding its
/// component arrays, which become `.npy` members when large, as every array does:
///
///     {"__muutils_format__": "scipy.sparse.csr_matrix", "shape": [rows, cols], "nnz": N,
///      "data": <array>, "indices": <array>, "indptr": <array>}
///     {"__muutils_format__": "scipy.sparse.coo_matrix", "shape": [rows, cols], "nnz": N,
///      "data": <array>, "row": <array>, "col": <array>}
///
/// In Python: `scipy.sparse.csr_matrix((data, indices, indptr), shape=shape)` and
/// `scipy.sparse.coo_matrix((data, (row, col)), shape=shape)`. Loading also accepts the
/// `csr_array` and `coo_array` keys, and checks the components: a structure that is not a
/// valid matrix is a format_error naming the component.
///
/// \code
/// auto m = zanj::csr_matrix::from<double, std::int32_t>(2, 3, {1.5, 2.5}, {0, 2}, {0, 1, 2});
/// z.save(m, "m");                                      // [[1.5, 0, 0], [0, 0, 2.5]]
/// zanj::csr_matrix back = z.read<zanj::csr_matrix>("m.zanj");
/// std::span<const double> values = back.data().values<double>();
/// \endcode

#include <zanj/dtype.hpp>
#include <zanj/error.hpp>
#include <zanj/handler.hpp>
#include <zanj/ndarray.hpp>
#include <zanj/value.hpp>

#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace zanj {

namespace detail {
/// What is wrong with a sparse matrix's components: the component at fault ("indptr") and why;
/// both empty when nothing is.
struct sparse_problem {
    std::string component;
    std::string why;
    explicit operator bool() const noexcept { return !why.empty(); }
};
sparse_problem check_csr(std::size_t rows, std::size_t cols, const ndarray& data, const ndarray& indices,
                         const ndarray& indptr);
sparse_problem check_coo(std::size_t rows, std::size_t cols, const ndarray& data, const ndarray& row,
                         const ndarray& col);
struct sparse_access;
} // namespace detail

/// A matrix in compressed sparse row form, as scipy.sparse.csr_matrix: the values of row i are
/// `data[indptr[i]:indptr[i+1]]`, in the columns `indices[indptr[i]:indptr[i+1]]`. Any element
/// dtype; indices of any integer dtype (scipy uses int32, or int64 for large matrices).
/// Duplicate and unsorted column indices are allowed, as in scipy.
class csr_matrix {
public:
    /// A 0 x 0 matrix.
    csr_matrix();
    /// Throws usage_error when the components do not form a rows x cols matrix: arrays not 1-d,
    /// non-integer indices, `indptr` not rows + 1 long, not starting at 0, decreasing or not
    /// ending at nnz, `indices` and `data` of different lengths, a column index out of range.
    csr_matrix(std::size_t rows, std::size_t cols, ndarray data, ndarray indices, ndarray indptr);

    /// From vectors, copied into arrays.
    template <array_element T, std::integral I>
    static csr_matrix from(std::size_t rows, std::size_t cols, const std::vector<T>& data,
                           const std::vector<I>& indices, const std::vector<I>& indptr) {
        return {rows, cols, ndarray::from(data), ndarray::from(indices), ndarray::from(indptr)};
    }

    /// Number of rows.
    std::size_t rows() const noexcept { return rows_; }
    /// Number of columns.
    std::size_t cols() const noexcept { return cols_; }
    /// Stored values (explicit zeros included).
    std::size_t nnz() const noexcept { return data_.size(); }
    /// Element dtype.
    zanj::dtype type() const noexcept { return data_.type(); }
    /// The values, row after row.
    const ndarray& data() const noexcept { return data_; }
    /// The column of each value.
    const ndarray& indices() const noexcept { return indices_; }
    /// Where each row starts in `data` (rows + 1 entries, the last is nnz).
    const ndarray& indptr() const noexcept { return indptr_; }

    /// Same shape and equal components (compared by dtype and bytes).
    friend bool operator==(const csr_matrix&, const csr_matrix&) = default;

private:
    friend struct detail::sparse_access;
    struct unchecked {};
    csr_matrix(unchecked, std::size_t rows, std::size_t cols, ndarray data, ndarray indices, ndarray indptr);

    std::size_t rows_ = 0;
    std::size_t cols_ = 0;
    ndarray data_;
    ndarray indices_;
    ndarray indptr_;
};

/// A matrix in coordinate form, as scipy.sparse.coo_matrix: `data[k]` sits at
/// (`row[k]`, `col[k]`). Any element dtype; indices of any integer dtype. Duplicates are allowed
/// (scipy sums them when converting).
class coo_matrix {
public:
    /// A 0 x 0 matrix.
    coo_matrix();
    /// Throws usage_error when the components do not form a rows x cols matrix: arrays not 1-d,
    /// non-integer indices, lengths that differ, an index out of range.
    coo_matrix(std::size_t rows, std::size_t cols, ndarray data, ndarray row, ndarray col);

    /// From vectors, copied into arrays.
    template <array_element T, std::integral I>
    static coo_matrix from(std::size_t rows, std::size_t cols, const std::vector<T>& data, const std::vector<I>& row,
                           const std::vector<I>& col) {
        return {rows, cols, ndarray::from(data), ndarray::from(row), ndarray::from(col)};
    }

    /// Number of rows.
    std::size_t rows() const noexcept { return rows_; }
    /// Number of columns.
    std::size_t cols() const noexcept { return cols_; }
    /// Stored values (explicit zeros and duplicates included).
    std::size_t nnz() const noexcept { return data_.size(); }
    /// Element dtype.
    zanj::dtype type() const noexcept { return data_.type(); }
    /// The values.
    const ndarray& data() const noexcept { return data_; }
    /// The row of each value.
    const ndarray& row() const noexcept { return row_; }
    /// The column of each value.
    const ndarray& col() const noexcept { return col_; }

    /// Same shape and equal components (compared by dtype and bytes).
    friend bool operator==(const coo_matrix&, const coo_matrix&) = default;

private:
    friend struct detail::sparse_access;
    struct unchecked {};
    coo_matrix(unchecked, std::size_t rows, std::size_t cols, ndarray data, ndarray row, ndarray col);

    std::size_t rows_ = 0;
    std::size_t cols_ = 0;
    ndarray data_;
    ndarray row_;
    ndarray col_;
};

/// csr_matrix: a `scipy.sparse.csr_matrix` item (see this file's description).
template <>
struct handler<csr_matrix> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const csr_matrix& m, serializer& s);
    /// Reads the item back (the contract of zanj/handler.hpp).
    static csr_matrix load(const value& v, loader& l);
};

/// coo_matrix: a `scipy.sparse.coo_matrix` item (see this file's description).
template <>
struct handler<coo_matrix> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const coo_matrix& m, serializer& s);
    /// Reads the item back (the contract of zanj/handler.hpp).
    static coo_matrix load(const value& v, loader& l);
};

} // namespace zanj
