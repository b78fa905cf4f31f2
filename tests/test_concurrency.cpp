// Thread safety: one zanj::archive read from several threads at once (every lazy cache filled
// by racing first uses: the items list, parsed .jsonl members, the stubs of arrays nested in
// them, local header offsets, the mapping), one loader_registry looked up while other threads
// add to it, and saves from several threads, to one file or to several. Tagged [concurrency]:
// scripts/run-sanitizers.sh tsan runs these under ThreadSanitizer.

#include <zanj/zanj.hpp>
#include <zanj/detail/decode_ahead.hpp>
#include <zanj/detail/zip.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>
#include <xtensor/xarray.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct conc_item {
    int id = 0;
    xt::xarray<float> w;
    bool operator==(const conc_item&) const = default;
};

struct conc_tree {
    std::string name;
    xt::xarray<double> big;         // a stored .npy member: viewed, sliced, copied
    xt::xarray<float> packed;       // a zstd member (storage hint)
    std::vector<conc_item> items;   // a .jsonl list whose items hold .npy members
    std::vector<std::string> lines; // a .jsonl list of strings, long enough to be deflated aside
    std::map<std::string, std::vector<int>> small;
    bool operator==(const conc_tree&) const = default;
};

ZANJ_DATACLASS(conc_item, id, w);
ZANJ_DATACLASS(conc_tree, name, big, packed, items, lines, small);

conc_tree make_tree() {
    conc_tree t;
    t.name = "concurrency";
    t.big = xt::xarray<double>::from_shape({256, 64});
    for (std::size_t k = 0; k < t.big.size(); ++k) t.big.data()[k] = static_cast<double>(k) * 0.5;
    t.packed = xt::xarray<float>::from_shape({4096});
    for (std::size_t k = 0; k < t.packed.size(); ++k) t.packed.data()[k] = static_cast<float>(k % 17);
    for (int i = 0; i < 24; ++i) {
        conc_item item;
        item.id = i;
        item.w = xt::xarray<float>::from_shape({8, 8});
        for (std::size_t k = 0; k < item.w.size(); ++k)
            item.w.data()[k] = static_cast<float>(i * 100 + static_cast<int>(k));
        t.items.push_back(std::move(item));
    }
    // Over 64 KiB of lines: the zip writer deflates them on its worker thread (add_owned).
    for (int i = 0; i < 3000; ++i) t.lines.push_back("line " + std::to_string(i) + " of the concurrency tree's log");
    t.small["a"] = {1, 2, 3};
    return t;
}

zanj::config conc_config() {
    zanj::config c;
    c.threads = 2; // whatever the machine: saves then deflate members on the zip writer's thread
    c.external_array_threshold = 32;
    c.external_list_threshold = 16;
    zanj::storage_hint packed;
    packed.path = "/packed";
    packed.compression = zanj::compression{zanj::compression_method::zstd};
    c.storage_hints.push_back(packed);
    return c;
}

// A check that may fail on another thread: collected, not asserted there (Catch2 v2 is not
// thread-safe).
void expect(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error("failed: " + what);
}

} // namespace

TEST_CASE("one archive handle read by several threads at once, from its first use on", "[concurrency]") {
    const conc_tree tree = make_tree();
    const fs::path file = zanj_test::fresh_dir("conc_archive") / "tree.zanj";
    zanj::ZANJ z(conc_config());
    z.save(tree, file);
    {
        // The layout the test relies on: arrays nested in a .jsonl list, a zstd member.
        zanj::archive a(file, conc_config());
        REQUIRE(a.find("/items")->kind == zanj::item_kind::external_list);
        REQUIRE(a.find("/items/3/w")->array->member != "");
        REQUIRE(a.find("/packed")->array->method == zanj::compression_method::zstd);
    }
    const std::size_t item_count = zanj::archive(file, conc_config()).items().size();

    // Each round opens a fresh handle, so that the threads race to fill its caches.
    for (int round = 0; round < 8; ++round) {
        zanj::config settings = conc_config();
        settings.threads = 2; // the chunked reads' own threads, nested inside ours
        const zanj::archive a(file, settings);
        const auto failures = zanj_test::run_together(4, [&](int t) {
            // Every thread does everything, each in its own order.
            std::vector<std::function<void()>> steps = {
                [&] { expect(a.items().size() == item_count, "items()"); },
                [&] { expect(a.read<conc_tree>() == tree, "typed read of the whole tree"); },
                [&] {
                    const auto i = static_cast<std::size_t>(t * 5 + round) % tree.items.size();
                    const std::string at = "/items/" + std::to_string(i);
                    expect(a.read<conc_item>(at) == tree.items[i], "typed read of " + at);
                    expect(a.array(at + "/w") ==
                               zanj::ndarray::from(std::vector<float>(tree.items[i].w.begin(), tree.items[i].w.end()),
                                                   {8, 8}),
                           "array " + at + "/w");
                    expect(a.find(at + "/w").has_value(), "find " + at + "/w");
                },
                [&] {
                    zanj::ndarray v = a.view("/big", true);
                    expect(v.values<double>()[100] == 50.0, "view /big");
                    zanj::ndarray rows = a.rows("/big", 10, 12);
                    expect(rows.shape() == zanj::shape_type{2, 64} && rows.values<double>()[0] == 320.0, "rows /big");
                    zanj::ndarray mapped = a.rows("/big", 3, 4, {zanj::access::view});
                    expect(mapped.values<double>()[1] == 96.5, "mapped rows /big");
                },
                [&] { expect(a.array("/packed").values<float>()[18] == 1.0f, "zstd member /packed"); },
                [&] {
                    zanj::value all = a.read();
                    expect(all["lines"].size() == tree.lines.size(), "untyped read");
                    expect(a.read<std::vector<std::string>>("/lines") == tree.lines, "typed /lines");
                },
                [&] {
                    zanj::value part = a.read_filter([](const zanj::item_info& i) { return i.path.str() != "/big"; });
                    expect(zanj::is_not_loaded(part["big"]), "read_filter");
                },
                [&] { a.verify(); },
            };
            std::rotate(steps.begin(), steps.begin() + t % static_cast<int>(steps.size()), steps.end());
            for (const auto& step : steps) step();
        });
        INFO("round " << round);
        for (const auto& f : failures) FAIL_CHECK(f);
        CHECK(failures.empty());
    }
}

TEST_CASE("a loader_registry looked up and used while other threads add to it", "[concurrency]") {
    // An archive with items of 32 format keys no loader knows yet.
    zanj::value::dict_type root;
    constexpr int keys = 32;
    for (int i = 0; i < keys; ++i) {
        zanj::value::dict_type item;
        item.insert_or_assign(std::string(zanj::format_key), "conc.T" + std::to_string(i));
        item.insert_or_assign("i", i);
        root.insert_or_assign("k" + std::to_string(i), zanj::value(std::move(item)));
    }
    zanj::config settings;
    settings.error_mode = zanj::error_mode::ignore; // unknown keys stay dicts
    zanj::ZANJ z(settings);
    const fs::path file = zanj_test::fresh_dir("conc_registry") / "keys.zanj";
    z.save(zanj::value(std::move(root)), file);

    std::atomic<int> adds_done{0};
    std::atomic<int> duplicate_refusals{0};
    const auto failures = zanj_test::run_together(5, [&](int t) {
        if (t < 2) {
            // Two writers add the same keys: each key is taken exactly once.
            for (int i = 0; i < keys; ++i) {
                zanj::item_loader l;
                l.format = "conc.T" + std::to_string(i);
                l.description = "test loader";
                l.load = [](zanj::value item, zanj::loader&) {
                    item.as_dict().insert_or_assign("loaded", true);
                    return item;
                };
                try {
                    z.loaders().add(std::move(l));
                } catch (const zanj::usage_error&) {
                    ++duplicate_refusals;
                }
                // A read between adds: the adding lasts long enough for the readers to overlap it.
                expect(z.read(file)["k0"]["i"].as_int() == 0, "read while adding");
            }
            ++adds_done;
            return;
        }
        // Readers: lookups, listings and untyped reads meanwhile. What is loaded only grows.
        std::size_t last_count = 0;
        while (adds_done.load() < 2) {
            const std::size_t count = z.loaders().loaders().size();
            expect(count >= last_count, "loaders() shrank");
            last_count = count;
            for (int i = 0; i < keys; ++i) {
                const zanj::item_loader* l = z.loaders().find("conc.T" + std::to_string(i));
                expect(!l || l->format == "conc.T" + std::to_string(i), "find returned another loader");
            }
            zanj::value back = z.read(file);
            for (int i = 0; i < keys; ++i) {
                const zanj::value& item = back["k" + std::to_string(i)];
                expect(item["i"].as_int() == i, "item k" + std::to_string(i));
            }
        }
    });
    for (const auto& f : failures) FAIL_CHECK(f);
    CHECK(duplicate_refusals.load() == keys);
    zanj::value back = z.read(file);
    for (int i = 0; i < keys; ++i) CHECK(back["k" + std::to_string(i)].contains("loaded"));
    // A copy of the registry has them all and finds them in itself.
    const zanj::loader_registry copy = z.loaders();
    CHECK(copy.loaders().size() == z.loaders().loaders().size());
    REQUIRE(copy.find("conc.T7") != nullptr);
    CHECK(copy.find("conc.T7") != z.loaders().find("conc.T7"));
}

TEST_CASE("saves from several threads: to one file the last complete one wins, none leaves a temporary",
          "[concurrency]") {
    const fs::path dir = zanj_test::fresh_dir("conc_save");
    const conc_tree tree = make_tree();
    const zanj::ZANJ z(conc_config());
    constexpr int threads = 4, saves = 6;
    const auto failures = zanj_test::run_together(threads, [&](int t) {
        for (int i = 0; i < saves; ++i) {
            conc_tree mine = tree;
            mine.name = "thread " + std::to_string(t) + " save " + std::to_string(i);
            z.save(mine, dir / "shared.zanj");                         // all threads, one file
            z.save(mine, dir / ("own" + std::to_string(t) + ".zanj")); // one file each
            const conc_tree back = z.read<conc_tree>(dir / ("own" + std::to_string(t) + ".zanj"));
            expect(back == mine, "read back own file");
        }
    });
    for (const auto& f : failures) FAIL_CHECK(f);
    CHECK(failures.empty());
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"own0.zanj", "own1.zanj", "own2.zanj", "own3.zanj", "shared.zanj"});
    zanj::archive shared(dir / "shared.zanj", conc_config());
    shared.verify();
    const conc_tree last = shared.read<conc_tree>();
    CHECK(last.name.find(" save ") != std::string::npos);
    conc_tree expected = tree;
    expected.name = last.name;
    CHECK(last == expected);
}

// With error_mode except the second thread parses and checks externals_info while the arrays
// load; otherwise it parses it while the tree is parsed.
TEST_CASE("a whole read parses externals_info on a second thread while it parses the tree or loads", "[concurrency]") {
    // Enough arrays that the meta passes the size at which ZANJ::read parses it aside.
    using arrays = std::map<std::string, xt::xarray<float>>;
    arrays m;
    for (int i = 0; i < 1500; ++i) {
        xt::xarray<float> a = xt::xarray<float>::from_shape({256});
        for (std::size_t k = 0; k < a.size(); ++k) a.data()[k] = static_cast<float>(i) + static_cast<float>(k);
        m.emplace("array_" + std::to_string(i), std::move(a));
    }
    const fs::path p = zanj::ZANJ().save(m, zanj_test::fresh_dir("conc_meta_ahead") / "many");
    zanj::detail::zip_reader reader(p);
    const zanj::detail::zip_entry& meta = *reader.find("__zanj_meta__.json");
    REQUIRE(meta.uncompressed_size >= (std::uint64_t{256} << 10));

    const zanj::error_mode modes[] = {zanj::error_mode::except, zanj::error_mode::warn};
    for (unsigned threads : {1u, 2u}) {
        for (zanj::error_mode mode : modes) {
            INFO("threads " << threads << ", error_mode " << static_cast<int>(mode));
            zanj::config cfg;
            cfg.threads = threads;
            cfg.error_mode = mode;
            CHECK(zanj::ZANJ(cfg).read<arrays>(p) == m);
            CHECK(zanj::ZANJ(cfg).read(p)["array_7"].as_array().values<float>()[1] == 8.0f);
        }
    }

    // Damage found on the second thread is thrown by the read, as the one-thread read throws it.
    const std::vector<char> bytes = zanj_test::read_file(p);
    const std::string good(bytes.begin(), bytes.end());
    std::string bad = good;
    bad[static_cast<std::size_t>(reader.data_offset(meta) + meta.compressed_size / 2)] ^= 0x21;
    zanj_test::write_file(p, bad);
    for (zanj::error_mode mode : modes) {
        std::string messages[2];
        for (unsigned threads : {1u, 2u}) {
            zanj::config cfg;
            cfg.threads = threads;
            cfg.error_mode = mode;
            try {
                (void)zanj::ZANJ(cfg).read<arrays>(p);
                FAIL("a damaged meta was read, threads " << threads);
            } catch (const zanj::format_error& e) {
                messages[threads - 1] = e.what();
            }
        }
        CHECK_THAT(messages[1], Catch::Contains("__zanj_meta__.json"));
        CHECK(messages[0] == messages[1]);
    }
    // A tree that fails to parse drops the archive while the meta may still be parsed aside:
    // the failure is the tree's, and the worker is waited for.
    const zanj::detail::zip_entry& tree = *reader.find("__zanj__.json");
    bad = good;
    bad[static_cast<std::size_t>(reader.data_offset(tree) + tree.compressed_size / 2)] ^= 0x21;
    zanj_test::write_file(p, bad);
    for (zanj::error_mode mode : modes) {
        zanj::config cfg;
        cfg.error_mode = mode;
        for (int i = 0; i < 4; ++i)
            CHECK_THROWS_WITH(zanj::ZANJ(cfg).read<arrays>(p), Catch::Contains("__zanj__.json"));
    }
}

namespace {
struct conc_row {
    std::int64_t id = 0;
    std::string name;
    double score = 0;
    bool operator==(const conc_row&) const = default;
};
ZANJ_DATACLASS(conc_row, id, name, score);
} // namespace

TEST_CASE("a long list of plain records is written in parts on several threads, as on one", "[concurrency]") {
    std::vector<conc_row> rows;
    for (int i = 0; i < 40000; ++i) rows.push_back({i, "row " + std::to_string(i), i * 0.125});
    rows[30000].name = "not \xff UTF-8"; // a part stops there; the item goes through its value
    const fs::path dir = zanj_test::fresh_dir("conc_rows");
    std::string members[2];
    std::vector<std::string> warnings[2];
    for (unsigned threads : {1u, 4u}) {
        INFO("threads " << threads);
        zanj::config cfg;
        cfg.threads = threads;
        cfg.error_mode = zanj::error_mode::warn;
        cfg.warning_sink = [&, threads](std::string_view w) { warnings[threads > 1].emplace_back(w); };
        const fs::path p = zanj::ZANJ(cfg).save(rows, dir / ("rows" + std::to_string(threads)));
        zanj::detail::zip_reader reader(p);
        const auto jsonl = std::find_if(reader.entries().begin(), reader.entries().end(),
                                        [](const auto& e) { return e.name.ends_with(".jsonl"); });
        REQUIRE(jsonl != reader.entries().end());
        const zanj::detail::zip_entry& lines = *jsonl;
        const auto text = reader.read(lines);
        members[threads > 1].assign(reinterpret_cast<const char*>(text.get()), lines.uncompressed_size);
        const auto back = zanj::ZANJ(cfg).read<std::vector<conc_row>>(p);
        REQUIRE(back.size() == rows.size());
        CHECK(back[30000].name.find("not serialized") != std::string::npos);
        CHECK(back[39999] == rows[39999]);
    }
    CHECK(members[0] == members[1]);
    CHECK(warnings[0].size() == 1);
    CHECK(warnings[0] == warnings[1]);
}

namespace {
// What decode_ahead's tests decode: item i as an array holding i, with a pause that lets the
// workers get ahead of the read; counts the calls and the items decoded and not yet taken.
struct counted_decoder {
    std::vector<std::atomic<int>> calls;
    std::atomic<int> outstanding{0}, most_outstanding{0};
    std::size_t failing = SIZE_MAX; // the item whose decode throws

    explicit counted_decoder(std::size_t n) : calls(n) {}
    zanj::ndarray operator()(std::size_t i) {
        ++calls[i];
        const int now = ++outstanding;
        for (int m = most_outstanding; now > m && !most_outstanding.compare_exchange_weak(m, now);) {}
        std::this_thread::sleep_for(std::chrono::microseconds(200 + 50 * (i % 3)));
        if (i == failing) throw zanj::format_error("item " + std::to_string(i) + " is damaged");
        return zanj::ndarray::from(std::vector<std::int64_t>{static_cast<std::int64_t>(i)});
    }
    // Item i through `ahead`, or decoded here when it leaves the item to the read.
    std::int64_t take(zanj::detail::decode_ahead& ahead, std::size_t i) {
        std::optional<zanj::ndarray> a;
        try {
            a = ahead.take(i);
        } catch (...) {
            --outstanding;
            throw;
        }
        if (a) {
            --outstanding;
            return a->values<std::int64_t>()[0];
        }
        const std::int64_t v = (*this)(i).values<std::int64_t>()[0];
        --outstanding;
        return v;
    }
};
} // namespace

TEST_CASE("decode_ahead: each item decoded once, whatever the workers and the order it is asked in", "[concurrency]") {
    constexpr std::size_t n = 40;
    for (unsigned workers : {0u, 1u, 3u}) {
        for (bool reverse : {false, true}) {
            INFO(workers << " workers, " << (reverse ? "last item first" : "in order"));
            counted_decoder decoder(n);
            {
                zanj::detail::decode_ahead ahead(
                    std::vector<std::uint64_t>(n, 10), [&](std::size_t i) { return decoder(i); }, workers, 1000);
                for (std::size_t k = 0; k < n; ++k) {
                    const std::size_t i = reverse ? n - 1 - k : k;
                    CHECK(decoder.take(ahead, i) == static_cast<std::int64_t>(i));
                }
                // Asked again, an item is the caller's.
                CHECK_FALSE(ahead.take(3).has_value());
                CHECK_FALSE(ahead.take(n).has_value());
            }
            for (std::size_t i = 0; i < n; ++i) CHECK(decoder.calls[i] == 1);
        }
    }
}

TEST_CASE("decode_ahead: within its budget; a failure is thrown by the take of its item", "[concurrency]") {
    SECTION("items decoded and not taken stay within the budget, and one larger than it still goes") {
        // 10 bytes each, 25 allowed: two decoded ahead at most, each worker's and the read's own.
        counted_decoder decoder(30);
        zanj::detail::decode_ahead ahead(
            std::vector<std::uint64_t>(30, 10), [&](std::size_t i) { return decoder(i); }, 3, 25);
        for (std::size_t i = 0; i < 30; ++i) {
            std::this_thread::sleep_for(std::chrono::microseconds(300)); // a slow read
            CHECK(decoder.take(ahead, i) == static_cast<std::int64_t>(i));
        }
        CHECK(decoder.most_outstanding <= 3); // two ahead, and the read's own item
        counted_decoder big(6);
        zanj::detail::decode_ahead one_at_a_time(
            std::vector<std::uint64_t>(6, 100), [&](std::size_t i) { return big(i); }, 2, 25);
        for (std::size_t i = 0; i < 6; ++i) CHECK(big.take(one_at_a_time, i) == static_cast<std::int64_t>(i));
        CHECK(big.most_outstanding <= 2);
    }
    SECTION("a failure reaches the read when it takes that item, and not before") {
        counted_decoder decoder(12);
        decoder.failing = 5;
        zanj::detail::decode_ahead ahead(
            std::vector<std::uint64_t>(12, 10), [&](std::size_t i) { return decoder(i); }, 2, 1000);
        for (std::size_t i = 0; i < 5; ++i) CHECK(decoder.take(ahead, i) == static_cast<std::int64_t>(i));
        CHECK_THROWS_WITH(decoder.take(ahead, 5), Catch::Contains("item 5 is damaged"));
        for (std::size_t i = 6; i < 12; ++i) CHECK(decoder.take(ahead, i) == static_cast<std::int64_t>(i));
    }
    SECTION("dropped with items being decoded, left undecoded and failed, it stops") {
        counted_decoder decoder(50);
        decoder.failing = 2;
        {
            zanj::detail::decode_ahead ahead(
                std::vector<std::uint64_t>(50, 10), [&](std::size_t i) { return decoder(i); }, 3, 30);
            CHECK(decoder.take(ahead, 0) == 0);
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        int decoded = 0;
        for (const auto& c : decoder.calls) decoded += c;
        CHECK(decoded < 50); // the budget held the workers back
    }
}

namespace {
struct packed_arrays {
    std::map<std::string, xt::xarray<float>> zstd, deflated;
    xt::xarray<double> stored;
    std::vector<xt::xarray<std::int32_t>> listed; // in the tree, each a compressed member
    bool operator==(const packed_arrays&) const = default;
};
ZANJ_DATACLASS(packed_arrays, zstd, deflated, stored, listed);

packed_arrays make_packed() {
    packed_arrays p;
    for (int i = 0; i < 6; ++i) {
        auto a = xt::xarray<float>::from_shape({static_cast<std::size_t>(30000 + 7000 * i)});
        for (std::size_t k = 0; k < a.size(); ++k) a.data()[k] = static_cast<float>((k * 7 + i) % 113);
        p.zstd.emplace("z" + std::to_string(i), a);
        p.deflated.emplace("d" + std::to_string(i), a + 1.0f);
    }
    p.stored = xt::xarray<double>::from_shape({64, 64});
    for (std::size_t k = 0; k < p.stored.size(); ++k) p.stored.data()[k] = static_cast<double>(k);
    for (int i = 0; i < 3; ++i) p.listed.push_back(xt::xarray<std::int32_t>::from_shape({2000}) * 0 + i);
    return p;
}
} // namespace

TEST_CASE("reads decompress their compressed arrays on several threads, as on one", "[concurrency]") {
    const packed_arrays data = make_packed();
    zanj::config save_cfg;
    save_cfg.compress = zanj::compression_policy::all({zanj::compression_method::zstd, 3});
    for (const char* path : {"/deflated/*", "/listed/*"}) {
        zanj::storage_hint hint;
        hint.path = path;
        hint.compression = zanj::compression{zanj::compression_method::deflate};
        save_cfg.storage_hints.push_back(hint);
    }
    zanj::storage_hint stored;
    stored.path = "/stored";
    stored.compression = zanj::compression{zanj::compression_method::store};
    save_cfg.storage_hints.push_back(stored);
    const fs::path p = zanj::ZANJ(save_cfg).save(data, zanj_test::fresh_dir("conc_decode_ahead") / "packed");
    zanj::detail::zip_reader reader(p);
    REQUIRE(reader.find("zstd/z0.npy")->method == zanj::compression_method::zstd);
    REQUIRE(reader.find("deflated/d0.npy")->method == zanj::compression_method::deflate);
    REQUIRE(reader.find("stored.npy")->method == zanj::compression_method::store);

    for (unsigned threads : {1u, 2u, 4u}) {
        INFO("threads " << threads);
        zanj::config cfg;
        cfg.threads = threads;
        CHECK(zanj::ZANJ(cfg).read<packed_arrays>(p) == data);
        const zanj::value untyped = zanj::ZANJ(cfg).read(p);
        CHECK(untyped["zstd"]["z5"].as_array().values<float>()[8] == data.zstd.at("z5")(8));
        CHECK(untyped["deflated"]["d2"].as_array().values<float>()[1] == data.deflated.at("d2")(1));
        // Through an archive handle: the whole tree, a sub-tree, a filtered read.
        const zanj::archive handle(p, cfg);
        CHECK(handle.read<packed_arrays>() == data);
        CHECK(handle.read<std::map<std::string, xt::xarray<float>>>("/zstd") == data.zstd);
        CHECK(handle.read("/deflated")["d4"].as_array().values<float>()[3] == data.deflated.at("d4")(3));
        const zanj::value kept =
            handle.read_filter([](const zanj::item_info& item) { return item.path.str().rfind("/deflated", 0) != 0; });
        CHECK(kept["zstd"]["z1"].as_array().values<float>()[5] == data.zstd.at("z1")(5));
        CHECK(kept["listed"][2].as_array().values<std::int32_t>()[0] == 2);
    }

    // A damaged member fails the read with the message a one-thread read gives, whether a
    // worker or the read itself decompressed it.
    const std::vector<char> bytes = zanj_test::read_file(p);
    for (const char* member : {"zstd/z0.npy", "zstd/z3.npy", "deflated/d5.npy"}) {
        std::string bad(bytes.begin(), bytes.end());
        const zanj::detail::zip_entry& e = *reader.find(member);
        bad[static_cast<std::size_t>(reader.data_offset(e) + e.compressed_size / 2)] ^= 0x5a;
        zanj_test::write_file(p, bad);
        std::string messages[2];
        for (unsigned threads : {1u, 3u}) {
            zanj::config cfg;
            cfg.threads = threads;
            try {
                (void)zanj::ZANJ(cfg).read<packed_arrays>(p);
                FAIL(member << " was read, damaged, on " << threads << " threads");
            } catch (const zanj::format_error& failure) {
                messages[threads == 1 ? 0 : 1] = failure.what();
            }
        }
        CHECK_THAT(messages[0], Catch::Contains(member));
        CHECK(messages[0] == messages[1]);
    }
}

namespace {
using float_arrays = std::map<std::string, xt::xarray<float>>;

// `count` float32 arrays of `mib` MiB, "big0"..., each repeating its own pattern (`step` + i).
float_arrays big_arrays(int count, std::size_t mib, int step) {
    float_arrays arrays;
    for (int i = 0; i < count; ++i) {
        auto a = xt::xarray<float>::from_shape({mib << 18});
        for (std::size_t k = 0; k < a.size(); ++k) a.data()[k] = static_cast<float>((k * (i + step)) % 251);
        arrays.emplace("big" + std::to_string(i), std::move(a));
    }
    return arrays;
}

// Saves `arrays` on each number of `threads`, checks that each save reads back, and that all
// wrote the same members, alike and at the same places, but for the meta (the last member:
// it records the settings). Returns the members of the first save.
std::vector<zanj::detail::zip_entry> check_saves_alike(const float_arrays& arrays, zanj::config cfg,
                                                       const fs::path& dir, std::initializer_list<unsigned> threads) {
    std::vector<std::vector<zanj::detail::zip_entry>> listings;
    for (unsigned n : threads) {
        INFO("threads " << n);
        cfg.threads = n;
        const fs::path p = zanj::ZANJ(cfg).save(arrays, dir / ("t" + std::to_string(n)));
        CHECK(zanj::ZANJ(cfg).read<float_arrays>(p) == arrays);
        listings.push_back(zanj::detail::zip_reader(p).entries());
    }
    for (std::size_t t = 1; t < listings.size(); ++t) {
        REQUIRE(listings[t].size() == listings[0].size());
        for (std::size_t i = 0; i + 1 < listings[0].size(); ++i) {
            INFO("save " << t << ", member " << listings[0][i].name);
            CHECK(listings[t][i].name == listings[0][i].name);
            CHECK(listings[t][i].method == listings[0][i].method);
            CHECK(listings[t][i].crc32 == listings[0][i].crc32);
            CHECK(listings[t][i].compressed_size == listings[0][i].compressed_size);
            CHECK(listings[t][i].local_header_offset == listings[0][i].local_header_offset);
        }
        CHECK(listings[t].back().name == "__zanj_meta__.json");
    }
    return listings.at(0);
}
} // namespace

TEST_CASE("compressed arrays of more than a third of 64 MiB are decompressed further ahead, as on one thread",
          "[concurrency]") {
    // Four zstd arrays of 22 MiB: above 64 MiB, the read makes room for two more arrays than it
    // has workers (a budget of one let the read wait on the worker for each array).
    const float_arrays arrays = big_arrays(4, 22, 5);
    zanj::config save_cfg;
    save_cfg.compress = zanj::compression_policy::all({zanj::compression_method::zstd, 1});
    const fs::path p = zanj::ZANJ(save_cfg).save(arrays, zanj_test::fresh_dir("conc_decode_big") / "big");
    REQUIRE(zanj::detail::zip_reader(p).find("big0.npy")->uncompressed_size > (std::uint64_t{64} << 20) / 3);
    for (unsigned threads : {1u, 2u, 3u}) {
        INFO("threads " << threads);
        zanj::config cfg;
        cfg.threads = threads;
        CHECK(zanj::ZANJ(cfg).read<float_arrays>(p) == arrays);
        CHECK(zanj::archive(p, cfg).read("/big2").as_array().values<float>()[7] == arrays.at("big2")(7));
    }
}

TEST_CASE("a deflate save compresses one array beside the next, and writes what one thread writes", "[concurrency]") {
    // Deflated arrays of 64 KiB and more, among small ones and a zstd one; on 5 threads, up to
    // four compress at once.
    float_arrays arrays;
    for (int i = 0; i < 11; ++i) {
        auto a = xt::xarray<float>::from_shape({static_cast<std::size_t>(i % 5 == 4 ? 300 : 40000 + 9000 * i)});
        for (std::size_t k = 0; k < a.size(); ++k) a.data()[k] = static_cast<float>((k * (i + 3)) % 251);
        arrays.emplace("a" + std::to_string(i), std::move(a));
    }
    zanj::config cfg;
    cfg.compress = zanj::compression_policy::all({zanj::compression_method::deflate, 6});
    zanj::storage_hint zstd;
    zstd.path = "/a3";
    zstd.compression = zanj::compression{zanj::compression_method::zstd};
    cfg.storage_hints.push_back(zstd);
    const auto members = check_saves_alike(arrays, cfg, zanj_test::fresh_dir("conc_deflate_save"), {1, 2, 3, 5});
    CHECK(members.at(0).name == "a0.npy");
}

TEST_CASE("deflated arrays of more than 32 MiB alternate between a worker and the caller", "[concurrency]") {
    // Three arrays of 34 MiB: the first goes to a worker from a copy, the second is compressed
    // by the caller meanwhile (the worker is busy), the third goes to the worker again.
    const float_arrays arrays = big_arrays(3, 34, 3);
    zanj::config cfg;
    cfg.compress = zanj::compression_policy::all({zanj::compression_method::deflate, 1});
    const auto members = check_saves_alike(arrays, cfg, zanj_test::fresh_dir("conc_deflate_big"), {1, 2});
    REQUIRE(members.size() == 5);
    CHECK(members.at(0).uncompressed_size > (std::uint64_t{32} << 20));
    CHECK(members.at(0).method == zanj::compression_method::deflate);
}

TEST_CASE("many small arrays compress and are written on every thread, and come out as on one thread",
          "[concurrency]") {
    // Small arrays gather in batches that the writer's workers and the caller take in turn;
    // a larger one in between gets a batch of its own. Stored, they go to a buffer that a worker
    // checksums and writes while the caller fills the next one.
    const auto method =
        GENERATE(zanj::compression_method::deflate, zanj::compression_method::zstd, zanj::compression_method::store);
    INFO(zanj::to_string(method));
    float_arrays arrays;
    for (std::size_t i = 0; i < 3000; ++i) {
        auto a = xt::xarray<float>::from_shape({i == 1500 ? std::size_t{400000} : 200 + i % 900});
        for (std::size_t k = 0; k < a.size(); ++k) a.data()[k] = static_cast<float>((k * (i + 3)) % 251);
        char name[8];
        std::snprintf(name, sizeof name, "w%04zu", i);
        arrays.emplace(name, std::move(a));
    }
    zanj::config cfg;
    cfg.compress = zanj::compression_policy::all({method, method == zanj::compression_method::store ? -1 : 1});
    check_saves_alike(arrays, cfg, zanj_test::fresh_dir("conc_small_batches"), {1, 2, 3});
}
