// Schema evolution: missing and unknown fields, aliases, versions and upgrade hooks
// (zanj/schema.hpp, ZANJ_SCHEMA), in both directions with Python.
#include <catch2/catch.hpp>

#include "support.hpp"

#include <zanj/detail/json_io.hpp>
#include <zanj/zanj.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace schema_test {

// Version 1 of a struct, as an older program saved it (same Python class name).
struct RunV1 {
    std::string title;
    double learning_rate = 0.5;
    int steps = 300;
};
ZANJ_DATACLASS_NAMED(RunV1, "Run", title, learning_rate, steps);

// The same struct today, without a schema: fields renamed and added, one removed.
struct Plain {
    std::string title;
    double lr = 1e-3;
    int epochs = 10;
};
ZANJ_DATACLASS_NAMED(Plain, "Run", title, lr, epochs);

// Today's struct with its schema: `lr` was `learning_rate` (and `eta` before that); version 2
// replaced `steps` by `epochs` (100 steps an epoch).
inline int upgrades = 0;
struct Run {
    std::string title;
    double lr = 1e-3;
    int epochs = 10;
    std::vector<int> tags;
};
ZANJ_DATACLASS(Run, title, lr, epochs, tags);
ZANJ_SCHEMA(Run, zanj::aliases(&Run::lr, "learning_rate", "eta"),
            zanj::schema_version(2, [](zanj::value& item, std::uint32_t from) {
                ++upgrades;
                if (from < 2 && item.contains("steps")) {
                    item["epochs"] = zanj::value(item["steps"].as_int() / 100);
                    item.as_dict().erase("steps");
                }
            }));

// A version without a hook.
struct Counter {
    int count = 0;
};
ZANJ_DATACLASS(Counter, count);
ZANJ_SCHEMA(Counter, zanj::schema_version(1));

// A hook that reports bad items through the loader, and one that breaks the item.
struct Checked {
    int value = 0;
};
ZANJ_DATACLASS(Checked, value);
ZANJ_SCHEMA(Checked, zanj::schema_version(3, [](zanj::value& item, std::uint32_t from, zanj::loader& l) {
                if (from == 0) l.fail("version 0 of Checked cannot be upgraded");
                if (from == 1) item = zanj::value("not a dict");
                if (from == 2) item["value"] = zanj::value(item["value"].as_int() * 10);
            }));

// Several runs, for object paths in messages.
struct Study {
    std::vector<Plain> runs;
};
ZANJ_DATACLASS(Study, runs);
struct StudyV1 {
    std::vector<RunV1> runs;
};
ZANJ_DATACLASS_NAMED(StudyV1, "Study", runs);

// Mistakes caught at the first load.
struct Misaliased {
    int a = 0;
    int b = 0;
    int unlisted = 0;
};
ZANJ_DATACLASS(Misaliased, a, b);
ZANJ_SCHEMA(Misaliased, zanj::aliases(&Misaliased::unlisted, "old"));
struct Shadowing {
    int a = 0;
    int b = 0;
};
ZANJ_DATACLASS(Shadowing, a, b);
ZANJ_SCHEMA(Shadowing, zanj::aliases(&Shadowing::a, "b"));

// The C++ side of tests/python/schema_evolution.py's `Experiment`.
struct Experiment {
    std::string title;
    double lr = 1e-3;
    int epochs = 10;
    std::vector<int> tags;
};
ZANJ_DATACLASS(Experiment, title, lr, epochs, tags);
ZANJ_SCHEMA(Experiment, zanj::aliases(&Experiment::lr, "learning_rate"), zanj::schema_version(2));

} // namespace schema_test

using namespace schema_test;

namespace {

// A ZANJ whose warnings are collected.
struct reader {
    std::vector<std::string> warnings;
    zanj::ZANJ z;
    explicit reader(zanj::schema_options schema = {}) {
        z.settings().schema = schema;
        z.settings().warning_sink = [this](std::string_view w) { warnings.emplace_back(w); };
    }
    template <class T>
    T read(const fs::path& p) {
        return z.read<T>(p);
    }
    bool warned(const std::string& a, const std::string& b) const {
        for (const auto& w : warnings)
            if (w.find(a) != std::string::npos && w.find(b) != std::string::npos) return true;
        return false;
    }
};

template <class T>
fs::path save(const T& obj, const std::string& name = "x") {
    return zanj::ZANJ().save(obj, zanj_test::fresh_dir("schema") / name);
}

// The item a dataclass serializes to, without an archive.
template <class T>
zanj::value tree_of(const T& obj) {
    zanj::config cfg;
    zanj::serializer s(cfg);
    return s.serialize(obj);
}

} // namespace

TEST_CASE("missing and unknown fields: defaults tolerate and warn", "[schema]") {
    fs::path p = save(RunV1{"old", 0.25, 700});
    reader r;
    Plain back = r.read<Plain>(p);
    CHECK(back.title == "old");
    CHECK(back.lr == 1e-3);   // missing: default kept
    CHECK(back.epochs == 10); // missing: default kept
    REQUIRE(r.warnings.size() == 4);
    CHECK(r.warned("missing field 'lr' of Run(SerializableDataclass)", "(at /)"));
    CHECK(r.warned("missing field 'epochs'", "(at /)"));
    CHECK(r.warned("unknown field 'learning_rate' in a Run(SerializableDataclass) item", "(at /)"));
    CHECK(r.warned("unknown field 'steps'", "zanj: warning: "));

    SECTION("the object path of a nested item") {
        fs::path nested = save(StudyV1{{RunV1{"a", 1, 1}, RunV1{"b", 2, 2}}});
        reader n;
        Study s = n.read<Study>(nested);
        REQUIRE(s.runs.size() == 2);
        CHECK(s.runs[1].title == "b");
        CHECK(n.warned("missing field 'lr'", "(at /runs/1)"));
        CHECK(n.warned("unknown field 'steps'", "(at /runs/0)"));
    }
}

TEST_CASE("missing fields: keep, warn or error", "[schema]") {
    fs::path p = save(RunV1{"old", 0.25, 700});
    zanj::schema_options quiet{zanj::missing_field::keep, zanj::unknown_field::ignore};
    SECTION("keep") {
        reader r(quiet);
        Plain back = r.read<Plain>(p);
        CHECK(back.lr == 1e-3);
        CHECK(back.epochs == 10);
        CHECK(r.warnings.empty());
    }
    SECTION("warn") {
        reader r({zanj::missing_field::warn, zanj::unknown_field::ignore});
        CHECK(r.read<Plain>(p).epochs == 10);
        CHECK(r.warnings.size() == 2);
    }
    SECTION("error") {
        reader r({zanj::missing_field::error, zanj::unknown_field::ignore});
        CHECK_THROWS_AS(r.read<Plain>(p), zanj::type_error);
        CHECK_THROWS_WITH(r.read<Plain>(p), Catch::Contains("missing field 'lr' of Run(SerializableDataclass)") &&
                                                Catch::Contains("(at /)"));
        fs::path nested = save(StudyV1{{RunV1{"a", 1, 1}}});
        CHECK_THROWS_WITH(r.read<Study>(nested), Catch::Contains("missing field 'lr'") && Catch::Contains("/runs/0"));
    }
    SECTION("a complete item warns of nothing") {
        reader r({zanj::missing_field::error, zanj::unknown_field::error});
        Plain back = r.read<Plain>(save(Plain{"new", 0.5, 3}));
        CHECK(back.epochs == 3);
        CHECK(r.warnings.empty());
    }
}

TEST_CASE("unknown fields: ignore, warn or error", "[schema]") {
    fs::path p = save(RunV1{"old", 0.25, 700});
    SECTION("ignore") {
        reader r({zanj::missing_field::keep, zanj::unknown_field::ignore});
        CHECK(r.read<Plain>(p).title == "old");
        CHECK(r.warnings.empty());
    }
    SECTION("warn") {
        reader r({zanj::missing_field::keep, zanj::unknown_field::warn});
        r.read<Plain>(p);
        REQUIRE(r.warnings.size() == 2);
        CHECK(r.warned("unknown field 'learning_rate'", "ignored"));
        CHECK(r.warned("unknown field 'steps'", "(at /)"));
    }
    SECTION("error") {
        reader r({zanj::missing_field::keep, zanj::unknown_field::error});
        CHECK_THROWS_AS(r.read<Plain>(p), zanj::type_error);
        CHECK_THROWS_WITH(r.read<Plain>(p),
                          Catch::Contains("unknown field 'learning_rate' in a Run(SerializableDataclass) item") &&
                              Catch::Contains("(at /)"));
    }
    SECTION("the format key is never unknown, nor is a version key") {
        reader r({zanj::missing_field::error, zanj::unknown_field::error});
        zanj::value item = tree_of(Plain{"t", 1, 2});
        item.as_dict().insert_or_assign(zanj::version_key, 7);
        CHECK(r.read<Plain>(save(item)).epochs == 2);
    }
}

TEST_CASE("aliases: renamed fields read from their old names", "[schema]") {
    upgrades = 0;
    reader r;
    SECTION("first alias") {
        Run back = r.read<Run>(save(RunV1{"old", 0.25, 700}));
        CHECK(back.lr == 0.25);
        CHECK(back.epochs == 7); // upgraded from version 0
        CHECK_FALSE(r.warned("learning_rate", "unknown"));
        CHECK(r.warned("missing field 'tags'", "(at /)"));
    }
    SECTION("second alias, and the current name wins over both") {
        zanj::value item = zanj::value::dict();
        item["title"] = "t";
        item["eta"] = 0.125;
        CHECK(r.read<Run>(save(item)).lr == 0.125);
        item["learning_rate"] = 0.5;
        item["lr"] = 0.75;
        CHECK(r.read<Run>(save(item)).lr == 0.75);
        CHECK_FALSE(r.warned("unknown field", "eta"));
    }
    SECTION("an error in an aliased field names the key read") {
        zanj::value item = zanj::value::dict();
        item["learning_rate"] = "fast";
        CHECK_THROWS_WITH(r.read<Run>(save(item)), Catch::Contains("/learning_rate"));
    }
    SECTION("saving uses the current name") {
        zanj::value tree = tree_of(Run{"t", 0.5, 3, {1}});
        CHECK(tree.contains("lr"));
        CHECK_FALSE(tree.contains("learning_rate"));
    }
    SECTION("aliases of unlisted members, or that shadow a field, are usage errors") {
        zanj::value item = zanj::value::dict();
        item["a"] = 1;
        CHECK_THROWS_AS(r.read<Misaliased>(save(item)), zanj::usage_error);
        CHECK_THROWS_WITH(r.read<Misaliased>(save(item)), Catch::Contains("ZANJ_DATACLASS does not list"));
        CHECK_THROWS_WITH(r.read<Shadowing>(save(item)), Catch::Contains("the alias 'b'"));
    }
}

TEST_CASE("versions: stored beside the fields, unversioned types unchanged", "[schema]") {
    zanj::value run = tree_of(Run{"t", 0.5, 3, {1, 2}});
    const auto& items = run.as_dict();
    std::vector<std::string> keys;
    for (const auto& [k, v] : items) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"__muutils_format__", "__zanj_version__", "title", "lr", "epochs", "tags"});
    CHECK(run.format() == "Run(SerializableDataclass)");
    CHECK(run[zanj::version_key].as_int() == 2);

    // Exactly what an unversioned type wrote before schemas existed.
    zanj::value plain = tree_of(Plain{"t", 0.5, 3});
    zanj::value expected = zanj::value::dict();
    expected["__muutils_format__"] = "Run(SerializableDataclass)";
    expected["title"] = "t";
    expected["lr"] = 0.5;
    expected["epochs"] = 3;
    CHECK(plain == expected);
    CHECK(plain.size() == 4);
    CHECK(zanj::detail::write_json(plain, {.indent = 1}) == zanj::detail::write_json(expected, {.indent = 1}));
}

TEST_CASE("versions: the upgrade hook", "[schema]") {
    upgrades = 0;
    reader r;
    SECTION("an item of the current version is not upgraded") {
        Run back = r.read<Run>(save(Run{"t", 0.5, 3, {4}}));
        CHECK(back.epochs == 3);
        CHECK(back.tags == std::vector<int>{4});
        CHECK(upgrades == 0);
        CHECK(r.warnings.empty());
    }
    SECTION("an item without a version is version 0") {
        Run back = r.read<Run>(save(RunV1{"old", 0.25, 900}));
        CHECK(upgrades == 1);
        CHECK(back.epochs == 9);
        CHECK_FALSE(r.warned("steps", "unknown")); // the hook removed it
    }
    SECTION("the hook gets the stored version") {
        zanj::value item = tree_of(Checked{5});
        item[zanj::version_key] = 2;
        CHECK(r.read<Checked>(save(item)).value == 50);
        item[zanj::version_key] = 3;
        CHECK(r.read<Checked>(save(item)).value == 5);
    }
    SECTION("a hook fails through the loader, or must leave a dict") {
        zanj::value item = tree_of(Checked{5});
        item.as_dict().erase(zanj::version_key);
        CHECK_THROWS_WITH(r.read<Checked>(save(item)),
                          Catch::Contains("version 0 of Checked cannot be upgraded") && Catch::Contains("(at /)"));
        item[zanj::version_key] = 1;
        CHECK_THROWS_WITH(r.read<Checked>(save(item)), Catch::Contains("turned the item of version 1 into a str"));
    }
    SECTION("a bad version number") {
        zanj::value item = tree_of(Checked{5});
        item[zanj::version_key] = "two";
        CHECK_THROWS_WITH(r.read<Checked>(save(item)), Catch::Contains("/__zanj_version__"));
        item[zanj::version_key] = -1;
        CHECK_THROWS_AS(r.read<Checked>(save(item)), zanj::type_error);
    }
    SECTION("a newer version without a hook follows the unknown-field policy") {
        zanj::value item = tree_of(Counter{4});
        CHECK(item[zanj::version_key].as_int() == 1);
        item[zanj::version_key] = 5;
        fs::path p = save(item);
        CHECK(r.read<Counter>(p).count == 4);
        CHECK(r.warned("the Counter(SerializableDataclass) item is version 5, newer than version 1", "(at /)"));
        reader strict({zanj::missing_field::warn, zanj::unknown_field::error});
        CHECK_THROWS_WITH(strict.read<Counter>(p), Catch::Contains("is version 5, newer than version 1"));
        reader quiet({zanj::missing_field::warn, zanj::unknown_field::ignore});
        CHECK(quiet.read<Counter>(p).count == 4);
        CHECK(quiet.warnings.empty());
    }
    SECTION("untyped reads of registered versioned types upgrade too") {
        r.z.register_type<Run>();
        zanj::value tree = r.z.read(save(RunV1{"old", 0.25, 500}));
        const Run* back = tree.instance<Run>();
        REQUIRE(back);
        CHECK(back->epochs == 5);
        CHECK(back->lr == 0.25);
    }
}

TEST_CASE("schema options in the meta", "[schema]") {
    zanj::ZANJ z;
    fs::path p = z.save(Plain{}, zanj_test::fresh_dir("schema") / "meta");
    CHECK_FALSE(z.read_meta(p)["zanj_cfg"].contains("schema"));
    z.settings().schema.unknown_fields = zanj::unknown_field::error;
    p = z.save(Plain{}, zanj_test::fresh_dir("schema") / "meta");
    zanj::value cfg = z.read_meta(p)["zanj_cfg"]["schema"];
    CHECK(cfg["missing_fields"].as_string() == "warn");
    CHECK(cfg["unknown_fields"].as_string() == "error");
}

TEST_CASE("a file written by Python's older class: aliases, missing and extra fields", "[schema][python]") {
    fs::path dir = zanj_test::fresh_dir("schema_py");
    fs::path p = dir / "old.zanj";
    auto result = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("schema_evolution.py") +
                                 " write " + zanj_test::quote(p));
    INFO(result.output);
    REQUIRE(result.exit_code == 0);

    reader r;
    Experiment back = r.read<Experiment>(p);
    CHECK(back.title == "from python");
    CHECK(back.lr == 0.25);   // from its old name
    CHECK(back.epochs == 10); // not in the file
    CHECK(r.warned("missing field 'epochs' of Experiment(SerializableDataclass)", "(at /)"));
    CHECK(r.warned("missing field 'tags'", "(at /)"));
    CHECK(r.warned("unknown field 'optimizer'", "(at /)"));
    CHECK(r.warned("unknown field 'weights'", "(at /)")); // an external array, skipped unread
    CHECK_FALSE(r.warned("learning_rate", "unknown"));

    reader strict({zanj::missing_field::error, zanj::unknown_field::ignore});
    CHECK_THROWS_WITH(strict.read<Experiment>(p), Catch::Contains("missing field 'epochs'"));
    reader strict_unknown({zanj::missing_field::keep, zanj::unknown_field::error});
    CHECK_THROWS_WITH(strict_unknown.read<Experiment>(p), Catch::Contains("unknown field 'optimizer'"));
}

TEST_CASE("Python reads our versioned file", "[schema][python]") {
    fs::path p = save(Experiment{"from c++", 0.5, 4, {1, 2}}, "versioned");
    auto result = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("schema_evolution.py") +
                                 " check " + zanj_test::quote(p));
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
    auto out = nlohmann::json::parse(result.output);
    CHECK(out["version"] == 2);
    CHECK(out["fields"]["title"] == "from c++");
    CHECK(out["fields"]["lr"] == 0.5);
    CHECK(out["fields"]["epochs"] == 4);
    CHECK(out["fields"]["tags"] == nlohmann::json{1, 2});

    // And the reference reader checks the whole archive.
    auto strict = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("read_zanj.py") + " -q " +
                                 zanj_test::quote(p));
    INFO(strict.output);
    CHECK(strict.exit_code == 0);
}
