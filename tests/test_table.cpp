// zanj::table: building, the pandas.DataFrame layouts (inline and .jsonl), exact column types,
// errors that name the row and the member, untyped reads, and DataFrames both ways with Python.

#include <catch2/catch.hpp>

#include "round_trip.hpp"
#include "types_interop.hpp"

#include <zanj/facade.hpp>
#include <zanj/table.hpp>
#include <zanj/types/std.hpp>
#include <zanj/types/value.hpp>

#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

using zanj_test::from_value;
using zanj_test::to_value;
using tables = std::map<std::string, zanj::table>;

namespace {

zanj::table small_table() {
    zanj::table t;
    t.add_column("id", std::vector<std::int32_t>{1, 2, 3})
        .add_column("name", std::vector<std::string>{"a", "b\xC3\xA9", ""})
        .add_column("ok", std::vector<bool>{true, false, true});
    return t;
}

zanj::table long_table(std::size_t rows) {
    std::vector<std::int64_t> step(rows);
    std::vector<double> loss(rows);
    std::vector<std::string> tag(rows);
    for (std::size_t i = 0; i < rows; ++i) {
        step[i] = static_cast<std::int64_t>(i);
        loss[i] = 1.0 / static_cast<double>(i + 1);
        tag[i] = "t" + std::to_string(i % 7);
    }
    zanj::table t;
    t.add_column("step", step).add_column("loss", loss).add_column("tag", tag);
    return t;
}

} // namespace

TEST_CASE("a table holds named columns of equal length", "[types][table]") {
    zanj::table t = small_table();
    CHECK(t.rows() == 3);
    CHECK(t.column_count() == 3);
    CHECK(t.column_names() == std::vector<std::string>{"id", "name", "ok"});
    CHECK(t.values<std::int32_t>("id")[2] == 3);
    CHECK(t.strings("name")[1] == "b\xC3\xA9");
    CHECK(t.numbers("ok").type() == zanj::dtype::bool_);
    CHECK(zanj::table{}.rows() == 0);

    CHECK_THROWS_WITH(t.add_column("id", std::vector<int>{1, 2, 3}),
                      Catch::Contains("the table already has a column named 'id'"));
    CHECK_THROWS_AS(t.add_column("x", std::vector<double>{1.0}), zanj::usage_error);
    CHECK_THROWS_WITH(t.add_column("x", std::vector<double>{1.0}),
                      Catch::Contains("column 'x' has 1 rows, the table has 3"));
    const std::vector<float> grid(6, 1.0f);
    CHECK_THROWS_WITH(t.add_column("g", zanj::ndarray::from(std::span<const float>(grid), {3, 2})),
                      Catch::Contains("must be a 1-d array, not one of shape (3, 2)"));
    CHECK_THROWS_AS(t.add_column(std::string(zanj::format_key), std::vector<int>{1, 2, 3}), zanj::usage_error);
    CHECK_THROWS_WITH(t.column("nope"), Catch::Contains("no column named 'nope' (columns: id, name, ok)"));
    CHECK_THROWS_AS(t.numbers("name"), zanj::type_error);
    CHECK_THROWS_AS(t.strings("id"), zanj::type_error);
    CHECK_THROWS_AS(t.values<double>("id"), zanj::type_error);
}

TEST_CASE("a small table is an inline pandas.DataFrame item", "[types][table]") {
    // Our JSON keeps UTF-8 as it is (Python's ensure_ascii=False); Python's default "\u00e9"
    // reads the same on both sides.
    CHECK(to_value(small_table()).dump() ==
          R"({"__muutils_format__": "pandas.DataFrame", "columns": ["id", "name", "ok"], )"
          R"("dtypes": {"id": "int32", "name": "str", "ok": "bool"}, "data": [)"
          R"({"id": 1, "name": "a", "ok": true}, {"id": 2, "name": "b)"
          "\xC3\xA9"
          R"(", "ok": false}, )"
          R"({"id": 3, "name": "", "ok": true}]})");
}

TEST_CASE("tables round-trip with their column types", "[types][table]") {
    zanj::table t;
    t.add_column("b", std::vector<bool>{true, false})
        .add_column("i8", std::vector<std::int8_t>{-128, 127})
        .add_column("u16", std::vector<std::uint16_t>{0, 65535})
        .add_column("i64", std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(), 0})
        .add_column("u64", std::vector<std::uint64_t>{std::numeric_limits<std::uint64_t>::max(), 1})
        .add_column("f32", std::vector<float>{0.1f, -0.0f})
        .add_column("f64", std::vector<double>{std::nan(""), std::numeric_limits<double>::infinity()})
        .add_column("c128", std::vector<std::complex<double>>{{1, -2}, {0.5, 0}})
        .add_column("s", std::vector<std::string>{"x", "\xE4\xB8\x96"});
    CHECK_ROUND_TRIPS(t);
    CHECK_ROUND_TRIPS(zanj::table{});
    zanj::table no_rows;
    no_rows.add_column("a", std::vector<double>{}).add_column("s", std::vector<std::string>{});
    CHECK_ROUND_TRIPS(no_rows);
    CHECK(zanj_test::via_memory(no_rows).column_names() == std::vector<std::string>{"a", "s"});
    CHECK_ROUND_TRIPS(long_table(300));
    CHECK_ROUND_TRIPS(tables{{"log", long_table(256)}, {"small", small_table()}});
}

TEST_CASE("a long table is a .jsonl member, as Python writes DataFrames", "[types][table][externals]") {
    zanj::ZANJ z;
    const auto path = z.save(tables{{"log", long_table(300)}}, zanj_test::fresh_dir("table") / "t");
    const zanj::value meta = z.read_meta(path);
    REQUIRE(meta["externals_info"].contains("log.jsonl"));
    CHECK(meta["externals_info"]["log.jsonl"]["item_type"].as_string() == "jsonl");
    const zanj::archive opened = z.open(path); // tree() refers into it: keep it alive
    const zanj::value& stub = opened.tree()["log"];
    CHECK(stub.format() == "pandas.DataFrame:external");
    CHECK(stub[zanj::ref_key].as_string() == "log.jsonl");
    CHECK(stub["len(data)"].as_int() == 300);
    CHECK(stub["data[0]"].dump() == R"({"step": 0, "loss": 1.0, "tag": "t0"})");
    CHECK(stub["columns"]["loss"].dump() == R"({"types": ["float"], "len": 300})");
    CHECK(stub["dtypes"].dump() == R"({"step": "int64", "loss": "float64", "tag": "str"})");
    CHECK(z.read<tables>(path).at("log") == long_table(300));

    zanj::config forced;
    zanj::storage_hint hint;
    hint.path = "/log";
    hint.external = true;
    forced.storage_hints.push_back(hint);
    zanj::ZANJ zf(forced);
    zanj::table empty;
    empty.add_column("a", std::vector<double>{});
    const auto empty_path = zf.save(tables{{"log", empty}}, zanj_test::fresh_dir("table") / "empty");
    CHECK(zf.open(empty_path).tree()["log"]["columns"].dump() == R"(["a"])"); // no rows: the list of names
    CHECK(zf.read<tables>(empty_path).at("log") == empty);
}

TEST_CASE("loading a table checks every row", "[types][table][errors]") {
    zanj::value v = to_value(tables{{"log", small_table()}});
    zanj::value& rows = v["log"]["data"];
    SECTION("a missing column") {
        rows[1].as_dict().erase("name");
        CHECK_THROWS_AS(from_value<tables>(v), zanj::type_error);
        CHECK_THROWS_WITH(from_value<tables>(v),
                          Catch::Contains("the row lacks column 'name'") && Catch::Contains("(at /log/1)"));
    }
    SECTION("an extra column") {
        rows[2]["zzz"] = 1;
        CHECK_THROWS_WITH(
            from_value<tables>(v),
            Catch::Contains("the row has a column 'zzz', which is not among the table's columns (id, name, ok)") &&
                Catch::Contains("(at /log/2)"));
    }
    SECTION("a row that is no record") {
        rows[0] = 5;
        CHECK_THROWS_WITH(from_value<tables>(v),
                          Catch::Contains("expected a record (a dict of the row's values), found int 5") &&
                              Catch::Contains("(at /log/0)"));
    }
    SECTION("a value that does not fit the recorded dtype") {
        rows[1]["id"] = 3000000000;
        CHECK_THROWS_WITH(from_value<tables>(v),
                          Catch::Contains("column 'id': array element 3000000000 is not a valid int32") &&
                              Catch::Contains("(at /log)"));
        rows[1]["id"] = 2;
        rows[1]["name"] = 7;
        CHECK_THROWS_WITH(from_value<tables>(v), Catch::Contains("column 'name': expected a string, found int 7") &&
                                                     Catch::Contains("(at /log/1)"));
    }
    SECTION("without dtypes, a column mixing strings and numbers") {
        v["log"].as_dict().erase("dtypes");
        zanj::value& records = v["log"]["data"]; // the erase moved "data" within the dict: `rows` dangles
        records[1]["name"] = 7;
        CHECK_THROWS_WITH(from_value<tables>(v),
                          Catch::Contains("column 'name': mixes strings with other values (this row holds 7)") &&
                              Catch::Contains("(at /log/1)"));
        records[0]["name"] = 1;
        records[1]["name"] = zanj::value::list();
        records[2]["name"] = 3;
        CHECK_THROWS_WITH(from_value<tables>(v), Catch::Contains("column 'name': holds list []"));
    }
    SECTION("an unknown dtype, a bad column list") {
        v["log"]["dtypes"]["id"] = "int128";
        CHECK_THROWS_WITH(from_value<tables>(v), Catch::Contains("column 'id' has the unknown dtype 'int128'"));
        v["log"]["columns"] = zanj::value::list_type{zanj::value("id"), zanj::value("id")};
        CHECK_THROWS_WITH(from_value<tables>(v), Catch::Contains("the column name 'id' appears twice"));
    }
    SECTION("not a table at all") {
        CHECK_THROWS_WITH(
            from_value<zanj::table>(zanj::value(1)),
            Catch::Contains("expected a table (a pandas.DataFrame item or a list of records), found int"));
    }
}

TEST_CASE("a table loads from a plain list of records, its types inferred", "[types][table]") {
    zanj::value records = zanj::value::list_type{
        zanj::value::dict_type{
            {"n", zanj::value(1)}, {"x", zanj::value(0.5)}, {"s", zanj::value("a")}, {"z", zanj::value()}},
        zanj::value::dict_type{
            {"n", zanj::value(2)}, {"x", zanj::value()}, {"s", zanj::value("b")}, {"z", zanj::value()}}};
    const zanj::table t = from_value<zanj::table>(records);
    CHECK(t.numbers("n").type() == zanj::dtype::int64);
    CHECK(t.values<double>("x")[0] == 0.5);
    CHECK(std::isnan(t.values<double>("x")[1])); // null is NaN, as pandas reads it
    CHECK(t.strings("s") == std::vector<std::string>{"a", "b"});
    CHECK(t.numbers("z").type() == zanj::dtype::float64);
}

TEST_CASE("untyped reads attach a zanj::table to DataFrame items", "[types][table][untyped]") {
    zanj::ZANJ z;
    const auto path =
        z.save(tables{{"small", small_table()}, {"log", long_table(300)}}, zanj_test::fresh_dir("table") / "u");
    const zanj::value tree = z.read(path);
    CHECK(tree["small"]["data"].size() == 3); // the records stay, as Python's dict of them would
    REQUIRE(tree["small"].instance<zanj::table>() != nullptr);
    CHECK(*tree["small"].instance<zanj::table>() == small_table());
    CHECK(tree["log"].get<zanj::table>() == long_table(300));
    REQUIRE(tree["log"].instance<zanj::table>() != nullptr); // the .jsonl form too
    CHECK(*tree["log"].instance<zanj::table>() == long_table(300));
}

TEST_CASE("DataFrames move both ways with Python", "[types][table][python]") {
    ZANJ_TEST_NEEDS_PYTHON_MODULE("pandas");
    zanj::ZANJ z;
    SECTION("Python's DataFrames load as tables") {
        const auto python_file = zanj_test::python_types_archive();
        const zanj::archive a = z.open(python_file);
        const zanj::table df = a.read<zanj::table>("/df");
        CHECK(df.column_names() == std::vector<std::string>{"id", "score", "name", "flag"});
        CHECK(df.values<std::int64_t>("id")[4] == 4);
        CHECK(df.values<double>("score")[1] == 1.25);
        CHECK(std::isnan(df.values<double>("score")[2]));
        CHECK(df.values<double>("score")[4] == 1e300);
        CHECK(df.strings("name")[1] == "b\xC3\xA9");
        CHECK(df.strings("name")[4] == "quote \"");
        CHECK(df.values<bool>("flag")[3]);
        const zanj::table big = a.read<zanj::table>("/big");
        CHECK(big.rows() == 300);
        CHECK(big.values<double>("loss")[299] == 1.0 / 300);
        // An object column is no table column: the error names the row and the member.
        CHECK_THROWS_AS(a.read<zanj::table>("/mixed"), zanj::type_error);
        CHECK_THROWS_WITH(a.read<zanj::table>("/mixed"),
                          Catch::Contains("column 'b': mixes strings with other values") &&
                              Catch::Contains("(at /mixed/1, member mixed.jsonl)"));
        const zanj::value tree = z.read(python_file);
        CHECK(tree["mixed"]["data"].size() == 2); // kept as records
        CHECK(tree["mixed"].instance<zanj::table>() == nullptr);
        CHECK(tree["df"].get<zanj::table>() == df);
    }
    SECTION("our tables load in pandas") {
        zanj::table empty;
        empty.add_column("a", std::vector<double>{}).add_column("s", std::vector<std::string>{});
        const auto path = z.save(tables{{"small", small_table()}, {"log", long_table(300)}, {"empty", empty}},
                                 zanj_test::fresh_dir("table_python") / "t");
        const nlohmann::json seen = zanj_test::python_view(path);
        const auto& small = seen["small"]["__dataframe__"];
        CHECK(small["columns"] == nlohmann::json::array({"id", "name", "ok"}));
        CHECK(small["dtypes"] == nlohmann::json{{"id", "int64"}, {"name", "object"}, {"ok", "bool"}});
        CHECK(small["records"][1] == nlohmann::json{{"id", 2}, {"name", "b\xC3\xA9"}, {"ok", false}});
        const auto& log = seen["log"]["__dataframe__"];
        CHECK(log["records"].size() == 300);
        CHECK(log["records"][299]["tag"] == "t5");
        CHECK(log["dtypes"]["loss"] == "float64");
        CHECK(seen["empty"]["__dataframe__"]["columns"] == nlohmann::json::array({"a", "s"}));
    }
}
