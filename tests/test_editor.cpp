// Updating archives in place (zanj::editor): set, erase and append_rows without rewriting the
// members that stay, open modes, the one-writer lock, readers waiting for an update, rollback,
// crash recovery through the journal (a child killed at random moments), and archives written
// by Python edited and read back by Python.

#include <zanj/zanj.hpp>

#include <zanj/detail/archive_writer.hpp>
#include <zanj/detail/journal.hpp>
#include <zanj/detail/zip.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using Catch::Contains;

namespace {

zanj::ndarray floats(std::size_t rows, std::size_t cols, float start) {
    std::vector<float> v(rows * cols);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = start + static_cast<float>(i);
    return zanj::ndarray::from(v, {rows, cols});
}

zanj::value int_list(std::size_t n, int start, int step) {
    zanj::value::list_type out;
    for (std::size_t i = 0; i < n; ++i) out.emplace_back(start + step * static_cast<int>(i));
    return zanj::value(std::move(out));
}

// A tree with two external arrays (the log last), an external list and small items.
zanj::value sample_tree() {
    zanj::value::dict_type root;
    root.insert_or_assign("title", "run");
    root.insert_or_assign("scratch", int_list(400, 7, 0));
    root.insert_or_assign("weights", zanj::value(floats(32, 16, 0)));
    root.insert_or_assign("log", zanj::value(floats(100, 4, 1000)));
    return zanj::value(std::move(root));
}

std::map<std::string, zanj::detail::zip_entry> entries_of(const fs::path& file) {
    std::map<std::string, zanj::detail::zip_entry> out;
    zanj::detail::zip_reader zip(file);
    for (const auto& e : zip.entries()) out[e.name] = e;
    return out;
}

void python_reads(const fs::path& file) {
    auto result = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("read_zanj.py") + " -q " +
                                 zanj_test::quote(file));
    INFO(result.output);
    CHECK(result.exit_code == 0);
}

std::vector<float> as_floats(const zanj::ndarray& a) {
    auto span = a.values<float>();
    return {span.begin(), span.end()};
}

} // namespace

TEST_CASE("editor sets, replaces and erases items, leaving other members where they were", "[editor]") {
    zanj::ZANJ z;
    const fs::path file = z.save(sample_tree(), zanj_test::fresh_dir("editor") / "run");
    const auto before = entries_of(file);
    {
        zanj::editor ed = z.edit(file);
        CHECK(ed.contains("/weights"));
        CHECK_FALSE(ed.contains("/results"));
        ed.set("/results/accuracy", 0.93);        // a new dict on the way
        ed.set("/title", std::string("renamed")); // a replacement
        ed.set("/weights", floats(8, 8, -5));     // a new member for an old one
        ed.erase("/scratch");                     // drops its .jsonl member
        CHECK(ed.has_changes());
        CHECK(ed.tree()["results"]["accuracy"].as_double() == 0.93);
        ed.commit();
        CHECK_FALSE(ed.has_changes());
    }
    zanj::archive a = z.open(file);
    a.verify();
    CHECK(a.read<std::string>("/title") == "renamed");
    CHECK(a.read<double>("/results/accuracy") == 0.93);
    CHECK_FALSE(a.find("/scratch"));
    CHECK(as_floats(a.array("/weights")) == as_floats(floats(8, 8, -5)));
    CHECK(as_floats(a.array("/log")) == as_floats(floats(100, 4, 1000)));
    CHECK_FALSE(a.meta()["externals_info"].contains("scratch.jsonl"));

    // The log's member was not touched: same place, same CRC.
    const auto after = entries_of(file);
    CHECK(after.at("log.npy").local_header_offset == before.at("log.npy").local_header_offset);
    CHECK(after.at("log.npy").crc32 == before.at("log.npy").crc32);
    CHECK_FALSE(after.contains("scratch.jsonl"));
    python_reads(file);
}

TEST_CASE("editor appends rows to the last stored array in place", "[editor][append]") {
    zanj::ZANJ z;
    const fs::path file = z.save(sample_tree(), zanj_test::fresh_dir("editor") / "run");
    const auto before = entries_of(file);
    std::vector<float> expected = as_floats(floats(100, 4, 1000));
    {
        zanj::editor ed = z.edit(file, "r+");
        for (int round = 0; round < 3; ++round) {
            const zanj::ndarray rows = floats(5, 4, static_cast<float>(round * 100));
            ed.append_rows("/log", rows);
            auto added = as_floats(rows);
            expected.insert(expected.end(), added.begin(), added.end());
        }
        ed.append_rows("/log", zanj::ndarray::from(std::vector<float>{1, 2, 3, 4})); // one row
        expected.insert(expected.end(), {1, 2, 3, 4});
        ed.append_rows("/log", std::vector<float>{5, 6, 7, 8}); // anything array-like
        expected.insert(expected.end(), {5, 6, 7, 8});
    } // the destructor commits
    const auto after = entries_of(file);
    CHECK(after.at("log.npy").local_header_offset == before.at("log.npy").local_header_offset);
    CHECK(after.at("log.npy").uncompressed_size == before.at("log.npy").uncompressed_size + 17 * 4 * 4);
    zanj::archive a = z.open(file);
    a.verify(); // every CRC, and the .npy header against the stub
    const zanj::ndarray log = a.array("/log");
    CHECK(log.shape() == zanj::shape_type{117, 4});
    CHECK(as_floats(log) == expected);
    CHECK(a.meta()["externals_info"]["log.npy"]["len(data)"].as_int() == 117);
    python_reads(file);
    auto numpy = zanj_test::run(zanj_test::python() + " -c \"import zipfile,numpy as np; z=zipfile.ZipFile('" +
                                file.string() + "'); a=np.load(z.open('log.npy')); print(a.shape, a[-1].tolist())\"");
    CHECK(numpy.output == "(117, 4) [5.0, 6.0, 7.0, 8.0]\n");
}

TEST_CASE("editor appends to other arrays by rewriting them, and refuses rows that do not fit", "[editor][append]") {
    zanj::ZANJ z;
    const fs::path file = z.save(sample_tree(), zanj_test::fresh_dir("editor") / "run");
    zanj::editor ed = z.edit(file);
    ed.append_rows("/weights", floats(2, 16, 7)); // not the last member
    ed.set("/small", zanj::ndarray::from(std::vector<std::int32_t>{1, 2, 3}));
    ed.append_rows("/small", zanj::ndarray::from(std::vector<std::int32_t>{4, 5}));

    CHECK_THROWS_WITH(ed.append_rows("/log", floats(2, 3, 0)), Contains("the extents after the first must agree"));
    CHECK_THROWS_WITH(ed.append_rows("/log", zanj::ndarray::from(std::vector<double>{1, 2, 3, 4})),
                      Contains("cannot append float64 rows to /log, a float32 array"));
    CHECK_THROWS_WITH(ed.append_rows("/title", floats(1, 4, 0)), Contains("not an array"));
    CHECK_THROWS_WITH(ed.append_rows("/nothing", floats(1, 4, 0)), Contains("no array at /nothing"));
    CHECK_THROWS_AS(ed.append_rows("/log", std::string("text")), zanj::type_error);
    ed.commit();

    zanj::archive a = z.open(file);
    a.verify();
    CHECK(a.array("/weights").shape() == zanj::shape_type{34, 16});
    CHECK(as_floats(a.rows("/weights", 32, 34)) == as_floats(floats(2, 16, 7)));
    CHECK(a.read<std::vector<std::int32_t>>("/small") == std::vector<std::int32_t>{1, 2, 3, 4, 5});
    CHECK(a.array("/log").shape() == zanj::shape_type{100, 4});
}

TEST_CASE("editor paths: lists, missing items, arrays and external lists are checked", "[editor][errors]") {
    zanj::ZANJ z;
    zanj::value::dict_type root;
    root.insert_or_assign("list", int_list(3, 1, 1));
    root.insert_or_assign("long", int_list(300, 1, 0));
    root.insert_or_assign("x", 1);
    const fs::path file = z.save(zanj::value(std::move(root)), zanj_test::fresh_dir("editor") / "paths");
    zanj::editor ed = z.edit(file);
    ed.set("/list/1", 20);
    ed.set("/list/3", 4); // the next index appends
    CHECK_THROWS_WITH(ed.set("/list/9", 1), Contains("has 4 items"));
    CHECK_THROWS_WITH(ed.erase("/list/0"), Contains("only the last item of a list can be erased"));
    ed.erase("/list/3");
    CHECK_THROWS_WITH(ed.erase("/missing"), Contains("no item at /missing"));
    CHECK_THROWS_WITH(ed.erase("/"), Contains("cannot erase the root"));
    CHECK_THROWS_WITH(ed.set("/x/y", 1), Contains("/x is a int"));
    CHECK_THROWS_WITH(ed.set("/long/0", 5), Contains("external list"));
    ed.commit();
    CHECK(z.open(file).read<std::vector<int>>("/list") == std::vector<int>{1, 20, 3});

    CHECK_THROWS_AS(zanj::parse_open_mode("rw"), zanj::usage_error);
    CHECK_THROWS_AS(z.edit(file.parent_path() / "absent.zanj", "r+"), zanj::io_error);
}

TEST_CASE("editor open modes a and w create archives, and setting the root replaces the tree", "[editor][modes]") {
    zanj::ZANJ z;
    const fs::path dir = zanj_test::fresh_dir("editor");
    {
        zanj::editor ed = z.edit(dir / "new", "a"); // ".zanj" appended
        CHECK(ed.path() == dir / "new.zanj");
        CHECK(ed.tree() == zanj::value(zanj::value::dict_type{}));
        ed.set("/a", 1);
    }
    CHECK(z.read(dir / "new.zanj")["a"].as_int() == 1);
    {
        zanj::editor ed = z.edit(dir / "new.zanj", "a"); // exists: opened
        CHECK(ed.contains("/a"));
    }
    {
        zanj::editor ed = z.edit(dir / "new.zanj", zanj::open_mode::write); // emptied
        CHECK_FALSE(ed.contains("/a"));
        ed.set("/", std::vector<double>{1.5, 2.5});
    }
    CHECK(z.read<std::vector<double>>(dir / "new.zanj") == std::vector<double>{1.5, 2.5});
    python_reads(dir / "new.zanj");
}

TEST_CASE("editor rollback, failed operations and exceptions leave the archive as committed", "[editor][rollback]") {
    zanj::ZANJ z;
    const fs::path file = z.save(sample_tree(), zanj_test::fresh_dir("editor") / "run");
    const auto original = zanj_test::read_file(file);
    {
        zanj::editor ed = z.edit(file);
        ed.set("/weights", floats(64, 64, 0));
        ed.append_rows("/log", floats(3, 4, 0));
        ed.rollback();
        CHECK_FALSE(ed.has_changes());
        CHECK(zanj_test::read_file(file) == original);
        CHECK_FALSE(fs::exists(zanj::detail::journal_path(file)));

        // A value that cannot be saved: the editor stays usable, nothing of it remains.
        CHECK_THROWS_AS(ed.set("/bad", std::string("\xff\xfe")), zanj::type_error);
        CHECK_FALSE(ed.contains("/bad"));
        ed.set("/good", 1);
    }
    CHECK(z.read(file)["good"].as_int() == 1);
    CHECK_FALSE(z.read(file).contains("bad"));
    z.open(file).verify();

    const auto committed = zanj_test::read_file(file);
    try {
        zanj::editor ed = z.edit(file);
        ed.set("/lost", 2);
        throw std::runtime_error("the caller fails");
    } catch (const std::runtime_error&) {}
    CHECK(zanj_test::read_file(file) == committed); // rolled back during unwinding
}

// The members an update wrote come back to the editor (to undo or to list them); a save's own
// writer keeps no such list, and says so rather than giving an empty one.
TEST_CASE("only a writer into a caller's zip hands back the members it wrote", "[editor]") {
    const zanj::config settings;
    const zanj::loader_registry registry;
    zanj::detail::archive_writer save(zanj::detail::in_memory, settings, registry);
    CHECK_THROWS_AS(save.take_written(), zanj::usage_error);
    CHECK_THROWS_WITH(save.take_written(), Catch::Contains("take_written"));
}

TEST_CASE("editor: one writer at a time, and readers never see an uncommitted update", "[editor][locks]") {
    zanj::ZANJ z;
    const fs::path file = z.save(sample_tree(), zanj_test::fresh_dir("editor") / "run");
    {
        zanj::editor first = z.edit(file);
        CHECK_THROWS_WITH(z.edit(file), Contains("open for update by another editor"));
        CHECK_THROWS_WITH(z.edit(file, "w"), Contains("open for update by another editor"));
        z.read(file); // no update in progress: reading is fine

        first.set("/weights", floats(4, 4, 0));
        CHECK_THROWS_WITH(z.read(file), Contains("uncommitted changes of a zanj::editor in this process"));

        // Another process (the zanj tool) waits until the commit, then sees it.
#ifdef ZANJ_TOOL_PATH
        std::atomic<bool> done{false};
        zanj_test::command_result listed;
        std::thread reader([&] {
            listed = zanj_test::run(std::string(ZANJ_TOOL_PATH) + " ls " + zanj_test::quote(file) + " /weights");
            done = true;
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        CHECK_FALSE(done);
        first.commit();
        reader.join();
        INFO(listed.output);
        CHECK(listed.exit_code == 0);
        CHECK_THAT(listed.output, Contains("(4, 4)"));
#else
        first.commit();
#endif
    }
    zanj::editor second = z.edit(file); // the lock went with the first
    CHECK(second.contains("/weights"));
}

TEST_CASE("editor: a save replacing the file while it is open is detected", "[editor][errors]") {
    zanj::ZANJ z;
    const fs::path file = z.save(sample_tree(), zanj_test::fresh_dir("editor") / "run");
    zanj::editor ed = z.edit(file);
    z.save(zanj::value(5), file);
    CHECK_THROWS_WITH(ed.set("/x", 1), Contains("was replaced"));
    CHECK(z.read(file).as_int() == 5);
    ed.erase("/title"); // staged only; the commit finds the file replaced
    CHECK_THROWS_WITH(ed.commit(), Contains("was replaced"));
    CHECK(z.read(file).as_int() == 5);
}

TEST_CASE("editor updates killed at random moments leave the old or the new archive", "[editor][crash]") {
    zanj::ZANJ z;
    const fs::path file = z.save(sample_tree(), zanj_test::fresh_dir("editor") / "run");
    std::mt19937 random(7);
    int interrupted = 0;
    for (int trial = 0; trial < 25; ++trial) {
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            // Commits forever: each commit adds one row to /log and sets /count to the rows added.
            try {
                zanj::editor ed = z.edit(file);
                for (;;) {
                    const auto count = ed.tree()["log"]["shape"][0].as_int() - 100;
                    ed.append_rows("/log", floats(1, 4, static_cast<float>(count)));
                    ed.set("/count", count + 1);
                    ed.set("/weights", floats(32 + static_cast<std::size_t>(count % 3), 16, 0));
                    ed.commit();
                }
            } catch (...) {
                ::_exit(3);
            }
        }
        std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(2000, 40000)(random)));
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        REQUIRE(WIFSIGNALED(status));
        if (fs::exists(zanj::detail::journal_path(file))) ++interrupted;

        // The next reader rolls back an interrupted update; every CRC and stub then agrees.
        zanj::archive a = z.open(file);
        a.verify();
        CHECK_FALSE(fs::exists(zanj::detail::journal_path(file)));
        const auto rows = a.array("/log").shape()[0];
        const auto count = a.find("/count") ? a.read<std::int64_t>("/count") : 0;
        CHECK(static_cast<std::int64_t>(rows) == 100 + count);
        CHECK(a.array("/weights").shape()[1] == 16);
    }
    INFO("killed during an update " << interrupted << " times of 25");
    CHECK(interrupted > 0);
    python_reads(file);
}

TEST_CASE("editor updates archives Python wrote, and Python reads them after", "[editor][python]") {
    const fs::path dir = zanj_test::fresh_dir("editor");
    auto written = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("write_zanj.py") + " " +
                                  zanj_test::quote(dir));
    INFO(written.output);
    REQUIRE(written.exit_code == 0);
    const fs::path file = dir / "stored.zanj";
    zanj::ZANJ z;
    const zanj::ndarray big = z.open(file).array("/big_array");
    {
        zanj::editor ed = z.edit(file);
        std::vector<double> row(16, 0.5);
        ed.append_rows("/big_array", row);
        ed.set("/added", floats(20, 20, 0));
        ed.erase("/ints");
    }
    zanj::archive a = z.open(file);
    a.verify();
    CHECK(a.array("/big_array").shape() == zanj::shape_type{17, 16});
    CHECK(a.rows("/big_array", 0, 16).byte_span().size() == big.nbytes());
    CHECK_FALSE(a.find("/ints"));
    CHECK(a.array("/added").shape() == zanj::shape_type{20, 20});
    python_reads(file);
}

TEST_CASE("editor: an update killed before its commit is rolled back by the next editor", "[editor][crash]") {
    zanj::ZANJ z;
    const fs::path file = z.save(sample_tree(), zanj_test::fresh_dir("editor") / "run");
    const auto original = zanj_test::read_file(file);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        zanj::editor ed = z.edit(file);
        ed.append_rows("/log", floats(50, 4, 0)); // in place: over the old JSON members
        ed.set("/weights", floats(64, 64, 1));
        ::raise(SIGKILL);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(fs::exists(zanj::detail::journal_path(file)));
    CHECK(zanj_test::read_file(file) != original);
    {
        zanj::editor ed = z.edit(file); // rolls back first
        CHECK_FALSE(ed.has_changes());
        CHECK(ed.tree()["log"]["shape"][0].as_int() == 100);
    }
    CHECK(zanj_test::read_file(file) == original);
    CHECK_FALSE(fs::exists(zanj::detail::journal_path(file)));
}

TEST_CASE("editor: a damaged journal is refused, never applied", "[editor][errors]") {
    zanj::ZANJ z;
    const fs::path file = z.save(sample_tree(), zanj_test::fresh_dir("editor") / "run");
    const auto original = zanj_test::read_file(file);
    zanj_test::write_file(zanj::detail::journal_path(file), "ZANJJNL1 but then nothing that checks out");
    CHECK_THROWS_WITH(z.read(file), Contains("rollback journal") && Contains("is damaged"));
    CHECK_THROWS_AS(z.edit(file), zanj::format_error);
    CHECK(zanj_test::read_file(file) == original);
}
