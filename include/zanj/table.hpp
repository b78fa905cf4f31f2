#pragma once
/// \file
/// `zanj::table`: named columns of equal length, numbers or strings, saved as Python saves a
/// pandas DataFrame (one JSON record per row) so that each side reads the other's.
///
/// \code
/// zanj::table t;
/// t.add_column("epoch", std::vector<std::int32_t>{1, 2, 3})
///  .add_column("loss", std::vector<double>{0.9, 0.5, 0.25})
///  .add_column("note", std::vector<std::string>{"warmup", "", "best"});
/// z.save(t, "log");                                   // pandas.DataFrame in Python
/// std::span<const double> loss = z.read<zanj::table>("log.zanj").values<double>("loss");
/// \endcode
///
/// On disk, as Python writes it: `{"__muutils_format__": "pandas.DataFrame:external", "$ref":
/// "<path>.jsonl", "columns": {...}, "data[0]": {...}, "len(data)": N}` with the rows as
/// records in a `.jsonl` member. Below `external_list_threshold` rows zanj-cpp keeps them inline:
/// `{"__muutils_format__": "pandas.DataFrame", "columns": [...], "dtypes": {...}, "data": [...]}`,
/// which Python's loader also reads as a DataFrame. Both forms carry "dtypes" (numpy's dtype
/// name, or "str") so that column types come back exactly; without it (Python's files) a
/// column's type is inferred from its cells.

#include <zanj/dtype.hpp>
#include <zanj/handler.hpp>
#include <zanj/ndarray.hpp>
#include <zanj/value.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace zanj {

/// One column of a table: numbers (a 1-d ndarray of any dtype) or strings.
using table_column = std::variant<ndarray, std::vector<std::string>>;

/// Named columns of equal length. Numeric columns are ndarrays, whose storage a copy of the
/// table shares (as copies of ndarrays do).
class table {
public:
    table() = default;

    /// Rows: the length of every column (0 for a table without columns).
    std::size_t rows() const noexcept { return rows_; }
    /// Number of columns.
    std::size_t column_count() const noexcept { return names_.size(); }
    /// The column names, in order.
    const std::vector<std::string>& column_names() const noexcept { return names_; }
    /// Whether a column is called `name`.
    bool contains(std::string_view name) const noexcept;

    /// Appends a column. Throws usage_error when the name is taken or is the format key, when the
    /// array is not 1-d, or when its length differs from the table's rows.
    table& add_column(std::string name, ndarray values);
    /// Appends a string column; throws as the overload above.
    table& add_column(std::string name, std::vector<std::string> values);
    /// Appends a numeric column copied from a vector.
    template <array_element T>
    table& add_column(std::string name, const std::vector<T>& values) {
        return add_column(std::move(name), ndarray::from(std::span<const T>(values)));
    }
    /// Appends a bool column (std::vector<bool> has no contiguous storage).
    table& add_column(std::string name, const std::vector<bool>& values);

    /// The column `name`; usage_error when there is none.
    const table_column& column(std::string_view name) const;
    /// A numeric column; type_error when it holds strings.
    const ndarray& numbers(std::string_view name) const;
    /// A numeric column's elements; type_error when its dtype is not T's.
    template <array_element T>
    std::span<const T> values(std::string_view name) const {
        return numbers(name).values<T>();
    }
    /// A string column; type_error when it holds numbers.
    const std::vector<std::string>& strings(std::string_view name) const;

    /// Same names in the same order, and equal columns (numeric ones compared by dtype and bytes).
    friend bool operator==(const table& a, const table& b);

private:
    void check_new_column(const std::string& name, std::size_t length) const;

    std::vector<std::string> names_;
    std::vector<table_column> columns_;
    std::size_t rows_ = 0;
};

/// zanj::table: a pandas.DataFrame item (see this file's description).
template <>
struct handler<table> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const table& t, serializer& s);
    /// Reads either form above, a filled or pending `.jsonl` stub, or a plain list of records.
    static table load(const value& v, loader& l);
};

} // namespace zanj
