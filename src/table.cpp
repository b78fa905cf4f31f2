#include <zanj/table.hpp>

#include <zanj/detail/array_codec.hpp>
#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

#include <algorithm>
#include <limits>
#include <optional>

namespace zanj {

namespace {

// The "dtypes" entry of a string column.
constexpr std::string_view string_dtype = "str";

std::string name_list(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

} // namespace

// ---- table --------------------------------------------------------------------------------------

bool table::contains(std::string_view name) const noexcept {
    return std::find(names_.begin(), names_.end(), name) != names_.end();
}

void table::check_new_column(const std::string& name, std::size_t length) const {
    if (name == format_key)
        throw usage_error("a table column cannot be named \"__muutils_format__\": every row would become a typed item");
    if (contains(name)) throw usage_error("the table already has a column named '" + name + "'");
    if (!names_.empty() && length != rows_)
        throw usage_error("column '" + name + "' has " + std::to_string(length) + " rows, the table has " +
                          std::to_string(rows_));
}

table& table::add_column(std::string name, ndarray values) {
    if (values.ndim() != 1)
        throw usage_error("column '" + name + "' must be a 1-d array, not one of shape " + values.shape_string());
    check_new_column(name, values.size());
    rows_ = values.size();
    names_.push_back(std::move(name));
    columns_.emplace_back(std::move(values));
    return *this;
}

table& table::add_column(std::string name, std::vector<std::string> values) {
    check_new_column(name, values.size());
    rows_ = values.size();
    names_.push_back(std::move(name));
    columns_.emplace_back(std::move(values));
    return *this;
}

table& table::add_column(std::string name, const std::vector<bool>& values) {
    ndarray a(dtype::bool_, {values.size()});
    std::copy(values.begin(), values.end(), a.values<bool>().begin());
    return add_column(std::move(name), std::move(a));
}

const table_column& table::column(std::string_view name) const {
    for (std::size_t i = 0; i < names_.size(); ++i)
        if (names_[i] == name) return columns_[i];
    throw usage_error("the table has no column named '" + std::string(name) + "' (columns: " + name_list(names_) + ")");
}

const ndarray& table::numbers(std::string_view name) const {
    const auto* a = std::get_if<ndarray>(&column(name));
    if (!a) throw type_error("column '" + std::string(name) + "' holds strings, not numbers");
    return *a;
}

const std::vector<std::string>& table::strings(std::string_view name) const {
    const auto* s = std::get_if<std::vector<std::string>>(&column(name));
    if (!s) throw type_error("column '" + std::string(name) + "' holds numbers, not strings");
    return *s;
}

bool operator==(const table& a, const table& b) { return a.names_ == b.names_ && a.columns_ == b.columns_; }

// ---- saving -------------------------------------------------------------------------------------

value handler<table>::serialize(const table& t, serializer& s) {
    const auto& names = t.column_names();
    value::dict_type dtypes;
    // Cells column by column, then gathered into one record per row, as pandas' to_dict("records").
    std::vector<value::list_type> cells;
    cells.reserve(names.size());
    for (const auto& name : names) {
        s.write_string(name);
        const table_column& column = t.column(name);
        if (const auto* a = std::get_if<ndarray>(&column)) {
            dtypes.insert_or_assign(name, dtype_name(a->type()));
            cells.push_back(std::move(detail::array_to_nested_list({a->type(), a->shape(), a->bytes()}).as_list()));
        } else {
            dtypes.insert_or_assign(name, string_dtype);
            const auto& strings = std::get<std::vector<std::string>>(column);
            value::list_type texts;
            texts.reserve(strings.size());
            for (std::size_t row = 0; row < strings.size(); ++row) {
                serializer::path_guard at_row(s, row);
                serializer::path_guard at_column(s, name);
                texts.push_back(s.write_string(strings[row]));
            }
            cells.push_back(std::move(texts));
        }
    }
    value::list_type records;
    records.reserve(t.rows());
    for (std::size_t row = 0; row < t.rows(); ++row) {
        value::dict_type record;
        for (std::size_t c = 0; c < names.size(); ++c) record.insert_or_assign(names[c], std::move(cells[c][row]));
        records.emplace_back(std::move(record));
    }
    value data = s.finish_sequence(std::move(records), "pandas.DataFrame");
    value column_names(value::list_type(names.begin(), names.end()));
    if (data.is_dict()) {
        // The .jsonl stub. For rows, Python's "columns" is the per-column summary finish_sequence
        // has written (jsonl_metadata replaces the list of names); without rows it is the list.
        auto& stub = data.as_dict();
        if (!stub.contains("columns")) stub.insert_or_assign("columns", std::move(column_names));
        stub.insert_or_assign("dtypes", value(std::move(dtypes)));
        return data;
    }
    value::dict_type item;
    item.insert_or_assign(format_key, "pandas.DataFrame");
    item.insert_or_assign("columns", std::move(column_names));
    item.insert_or_assign("dtypes", value(std::move(dtypes)));
    item.insert_or_assign("data", std::move(data));
    return item;
}

// ---- loading ------------------------------------------------------------------------------------

namespace {

// A column from its cells: the recorded dtype when there is one, otherwise strings when every
// cell is one, otherwise numbers of the dtype numpy infers (nulls are NaN, as in pandas).
table_column column_from_cells(const std::string& name, value::list_type cells, std::string_view recorded, loader& l) {
    const auto fail_cell = [&](std::size_t row, const std::string& why) {
        loader::path_guard at_row(l, row);
        l.fail("column '" + name + "': " + why);
    };
    const bool all_strings =
        !cells.empty() && std::all_of(cells.begin(), cells.end(), [](const value& c) { return c.is_string(); });
    if (recorded == string_dtype || (recorded.empty() && all_strings)) {
        std::vector<std::string> out;
        out.reserve(cells.size());
        for (std::size_t row = 0; row < cells.size(); ++row) {
            if (!cells[row].is_string())
                fail_cell(row,
                          "expected a string, found " + std::string(cells[row].type_name()) + " " + cells[row].dump());
            out.push_back(std::move(cells[row].as_string()));
        }
        return out;
    }
    std::optional<dtype> type;
    if (!recorded.empty()) {
        type = dtype_from_name(recorded);
        if (!type) l.fail("column '" + name + "' has the unknown dtype '" + std::string(recorded) + "'");
    }
    // Strings beside other values (a pandas object column): name the first row that is not a
    // string, as the strings tell what the column was meant to hold.
    if (!type && std::any_of(cells.begin(), cells.end(), [](const value& c) { return c.is_string(); })) {
        const auto other = std::find_if(cells.begin(), cells.end(), [](const value& c) { return !c.is_string(); });
        fail_cell(static_cast<std::size_t>(other - cells.begin()),
                  "mixes strings with other values (this row holds " + other->dump() + ")");
    }
    const bool floating = !type || *type == dtype::float16 || *type == dtype::float32 || *type == dtype::float64;
    for (std::size_t row = 0; row < cells.size(); ++row) {
        value& cell = cells[row];
        if (cell.is_null() && floating)
            cell = value(std::numeric_limits<double>::quiet_NaN());
        else if (!type && !cell.is_number() && !cell.is_bool())
            fail_cell(row, "holds " + std::string(cell.type_name()) + " " + cell.dump() +
                               "; a table column holds numbers or strings");
    }
    const std::size_t n = cells.size();
    try {
        if (!type) return detail::array_from_item(value(std::move(cells)));
        value::dict_type item;
        item.insert_or_assign(format_key, "numpy.ndarray:array_list_meta");
        item.insert_or_assign("data", value(std::move(cells)));
        item.insert_or_assign("shape", value(value::list_type{value(n)}));
        item.insert_or_assign("dtype", std::string(recorded));
        item.insert_or_assign("n_elements", n);
        return detail::array_from_item(value(std::move(item)));
    } catch (const type_error& e) {
        l.fail("column '" + name + "': " + e.reason());
    }
}

// The column names: the "columns" list when the item has one (Python's summary of a .jsonl
// stub is a dict, and tells no order), otherwise the keys of the first record.
std::vector<std::string> column_names_of(const value* columns, const value::list_type& records, loader& l) {
    std::vector<std::string> names;
    if (columns && columns->is_list()) {
        loader::path_guard guard(l, "columns");
        for (const auto& c : columns->as_list()) {
            if (!c.is_string()) l.fail("expected column names as strings, found " + c.dump());
            names.push_back(c.as_string());
        }
    } else if (!records.empty() && records.front().is_dict()) {
        for (const auto& item : records.front().as_dict()) names.push_back(item.first);
    }
    for (std::size_t i = 0; i < names.size(); ++i)
        if (std::find(names.begin() + static_cast<std::ptrdiff_t>(i) + 1, names.end(), names[i]) != names.end())
            l.fail("the column name '" + names[i] + "' appears twice");
    return names;
}

table table_from_records(const value::list_type& records, const value* columns, const value* dtypes, loader& l) {
    const std::vector<std::string> names = column_names_of(columns, records, l);
    std::vector<value::list_type> cells(names.size());
    for (auto& column : cells) column.reserve(records.size());
    for (std::size_t row = 0; row < records.size(); ++row) {
        loader::path_guard at_row(l, row);
        const value& record = records[row];
        l.expect(record, value::kind::dict, "a record (a dict of the row's values)");
        for (std::size_t c = 0; c < names.size(); ++c) {
            const value* cell = record.find(names[c]);
            if (!cell) l.fail("the row lacks column '" + names[c] + "'");
            cells[c].push_back(*cell);
        }
        if (record.size() != names.size())
            for (const auto& [key, cell] : record.as_dict())
                if (std::find(names.begin(), names.end(), key) == names.end())
                    l.fail("the row has a column '" + key + "', which is not among the table's columns (" +
                           name_list(names) + ")");
    }
    if (dtypes && !dtypes->is_dict())
        l.fail("expected \"dtypes\" as a dict of column name to dtype, found " + dtypes->dump());
    table out;
    for (std::size_t c = 0; c < names.size(); ++c) {
        std::string_view recorded;
        if (const value* d = dtypes ? dtypes->find(names[c]) : nullptr) {
            if (!d->is_string()) l.fail("the dtype of column '" + names[c] + "' is not a string: " + d->dump());
            recorded = d->as_string();
        }
        std::visit([&](auto&& column) { out.add_column(names[c], std::move(column)); },
                   column_from_cells(names[c], std::move(cells[c]), recorded, l));
    }
    return out;
}

} // namespace

table handler<table>::load(const value& v, loader& l) {
    const std::string_view format = v.format();
    const value* ref = v.find(ref_key);
    const std::string member = ref && ref->is_string() ? ref->as_string() : std::string();
    const value::list_type* records = nullptr;
    const value* columns = nullptr;
    const value* dtypes = nullptr;
    if (format.starts_with("pandas.DataFrame")) {
        columns = v.find("columns");
        dtypes = v.find("dtypes");
        if (const value* data = v.find("data")) {
            loader::path_guard guard(l, "data");
            records = &l.sequence(*data);
        } else if (!member.empty() && l.externals() && l.externals()->has_jsonl(member)) {
            records = &l.sequence(v);
        } else if (!member.empty()) {
            throw format_error("the table's rows were not loaded (is '" + member + "' missing from externals_info?)",
                               l.path().str(), member);
        } else {
            l.fail("a pandas.DataFrame item without \"data\"");
        }
    } else if (v.is_list() || format == "list:external" || format == "tuple:external") {
        records = &l.sequence(v);
    } else {
        l.fail("expected a table (a pandas.DataFrame item or a list of records), found " + std::string(v.type_name()) +
               (format.empty() ? "" : " '" + std::string(format) + "'"));
    }
    try {
        return table_from_records(*records, columns, dtypes, l);
    } catch (const error& e) {
        if (member.empty()) throw;
        detail::rethrow_at(e, l.path().str(), member);
    }
}

} // namespace zanj
