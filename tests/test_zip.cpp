// The zip container (src/zip_writer.cpp, src/zip_reader.cpp): round trips for every method,
// every archive we write checked by independent readers (libzip, Python's zipfile, unzip,
// 7-Zip), archives written by libzip and Python read back, damaged input refused with errors
// that name the member and the file, and the writer's atomic replace.

#include <zanj/detail/zip.hpp>
#include <zanj/error.hpp>

#include "raw_zip.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>
#include <zip.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <optional>
#include <cstring>
#include <random>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace zanj_test;
using Catch::Contains;
using zanj::compression_method;
using zanj::detail::member_options;
using zanj::detail::zip_entry;
using zanj::detail::zip_reader;
using zanj::detail::zip_writer;

struct member {
    std::string name;
    std::string data;
    member_options options{};
};

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

// Joins strings; GCC 12 warns falsely (-Wrestrict) about "literal" + std::to_string(...).
std::string cat(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (std::string_view p : parts) out += p;
    return out;
}

std::string random_bytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; i += 8) {
        std::uint64_t v = rng();
        std::memcpy(&s[i], &v, std::min<std::size_t>(8, n - i));
    }
    return s;
}

// JSON-like lines: both deflate and zstd shrink them a lot.
std::string compressible_bytes(std::size_t n) {
    std::string s;
    s.reserve(n + 64);
    for (std::size_t i = 0; s.size() < n; ++i)
        s += "{\"step\": " + std::to_string(i) + ", \"loss\": 0." + std::to_string(i * 7919 % 10000) + "}\n";
    s.resize(n);
    return s;
}

// Words drawn at random from a small vocabulary: higher levels of either method find more.
std::string wordy_bytes(std::size_t n, std::uint64_t seed) {
    static const char* const words[] = {"alpha",  "beta",  "gamma",   "delta", "loss",  "step",  "weight",
                                        "layer",  "bias",  "epoch",   "train", "valid", "model", "config",
                                        "tensor", "array", "float32", "shape", "dtype", "value"};
    std::mt19937_64 rng(seed);
    std::string s;
    s.reserve(n + 16);
    while (s.size() < n) {
        s += words[rng() % std::size(words)];
        s += ' ';
    }
    s.resize(n);
    return s;
}

member_options using_method(compression_method method, int level = -1) {
    member_options o;
    o.compression = {method, level};
    return o;
}

member_options aligned_store(std::size_t align) {
    member_options o;
    o.align = align;
    return o;
}

void write_archive(const fs::path& path, const std::vector<member>& members) {
    zip_writer writer(path);
    for (const member& m : members) writer.add(m.name, bytes_of(m.data), m.options);
    writer.commit();
}

std::string read_member(const zip_reader& reader, const zip_entry& e) {
    auto data = reader.read(e);
    return {reinterpret_cast<const char*>(data.get()), static_cast<std::size_t>(e.uncompressed_size)};
}

std::string file_text(const fs::path& p) {
    auto bytes = read_file(p);
    return {bytes.begin(), bytes.end()};
}

bool any_zstd(const std::vector<member>& members) {
    return std::any_of(members.begin(), members.end(),
                       [](const member& m) { return m.options.compression.method == compression_method::zstd; });
}

void check_with_our_reader(const fs::path& path, const std::vector<member>& members) {
    zip_reader reader(path);
    REQUIRE(reader.entries().size() == members.size());
    for (std::size_t i = 0; i < members.size(); ++i) {
        const zip_entry& e = reader.entries()[i];
        INFO("member " << members[i].name);
        CHECK(e.name == members[i].name);
        CHECK(e.method == members[i].options.compression.method);
        CHECK(e.uncompressed_size == members[i].data.size());
        CHECK(reader.find(members[i].name) == &e);
        CHECK(read_member(reader, e) == members[i].data);
        // With room for a parser to read ahead: zeros past the member.
        const auto padded = reader.read(e, 64);
        const auto size = static_cast<std::size_t>(e.uncompressed_size);
        CHECK(std::string(reinterpret_cast<const char*>(padded.get()), size) == members[i].data);
        CHECK(
            std::all_of(padded.get() + size, padded.get() + size + 64, [](std::byte b) { return b == std::byte{0}; }));
        // Packed as stored, unpacked later.
        const zip_reader::packed_member packed = reader.read_packed(e);
        CHECK(packed.bytes.size() == e.compressed_size);
        const auto unpacked = reader.unpack(packed);
        CHECK(std::string(reinterpret_cast<const char*>(unpacked.get()), size) == members[i].data);
        if (e.uncompressed_size <= zip_reader::small_member_size) {
            const std::span<const std::byte> small = reader.read_small(e);
            CHECK(std::string(reinterpret_cast<const char*>(small.data()), small.size()) == members[i].data);
        }
    }
    CHECK(reader.find("no such member") == nullptr);
}

// ZIP_CHECKCONS makes libzip compare every local header with its central directory entry.
void check_with_libzip(const fs::path& path, const std::vector<member>& members) {
    int code = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_CHECKCONS | ZIP_RDONLY, &code);
    if (!archive) {
        zip_error_t error;
        zip_error_init_with_code(&error, code);
        std::string why = zip_error_strerror(&error);
        zip_error_fini(&error);
        FAIL("libzip cannot open " << path << ": " << why);
    }
    CHECK(zip_get_num_entries(archive, 0) == static_cast<zip_int64_t>(members.size()));
    for (std::size_t i = 0; i < members.size(); ++i) {
        const member& m = members[i];
        INFO("libzip, member " << m.name);
        const char* name = zip_get_name(archive, i, ZIP_FL_ENC_RAW);
        REQUIRE(name);
        CHECK(name == m.name);
        zip_stat_t st;
        REQUIRE(zip_stat_index(archive, i, 0, &st) == 0);
        CHECK(st.size == m.data.size());
        // libzip 1.7.3 cannot decompress zstd: listing is all it can do there.
        if (m.options.compression.method == compression_method::zstd) continue;
        zip_file_t* file = zip_fopen_index(archive, i, 0);
        REQUIRE(file);
        std::string got(m.data.size() + 1, '\0');
        std::size_t total = 0;
        while (true) {
            zip_int64_t n = zip_fread(file, got.data() + total, got.size() - total);
            REQUIRE(n >= 0);
            if (n == 0) break;
            total += static_cast<std::size_t>(n);
        }
        got.resize(total);
        CHECK(zip_fclose(file) == 0);
        CHECK(got == m.data);
    }
    zip_discard(archive);
}

// zip_verify.py: testzip(), every member's bytes, and the attributes we promise.
void check_with_python(const fs::path& path, const std::vector<member>& members, const fs::path& work) {
    if (any_zstd(members)) {
        // Python before 3.14 cannot decompress zstd; it must still list the archive.
        auto r = run(python() + " -c 'import sys, zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))' " +
                     quote(path));
        INFO(r.output);
        CHECK(r.exit_code == 0);
        CHECK(r.output == std::to_string(members.size()) + "\n");
        return;
    }
    fs::path expected = work / "expected";
    fs::remove_all(expected);
    for (const member& m : members) {
        fs::create_directories((expected / m.name).parent_path());
        write_file(expected / m.name, m.data);
    }
    auto r = run(python() + " " + quote(python_script("zip_verify.py")) + " " + quote(path) + " " + quote(expected));
    INFO("python zip_verify.py: " << r.output);
    CHECK(r.exit_code == 0);
}

void check_with_unzip(const fs::path& path) {
    REQUIRE(have_command("unzip"));
    auto r = run("unzip -tq " + quote(path));
    INFO("unzip -t: " << r.output);
    CHECK(r.exit_code == 0);
}

void check_with_7z(const fs::path& path) {
    REQUIRE(have_command("7z"));
    auto r = run("7z t " + quote(path));
    INFO("7z t: " << r.output);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Contains("Everything is Ok"));
}

// Every reader we know must accept what we write.
void check_everywhere(const fs::path& path, const std::vector<member>& members, const fs::path& work) {
    check_with_our_reader(path, members);
    check_with_libzip(path, members);
    check_with_python(path, members, work);
    if (!any_zstd(members)) check_with_unzip(path); // unzip 6.0 knows no zstd
    check_with_7z(path);
}

using zanj_test::raw_zip::le;
using zanj_test::raw_zip::patch_le;

void flip_byte(std::string& bytes, std::size_t pos) { bytes.at(pos) = static_cast<char>(~bytes.at(pos)); }

// Offset of the central directory entry of `name`.
std::size_t central_entry_of(const std::string& bytes, const std::string& name) {
    const std::string signature("PK\x01\x02", 4);
    for (std::size_t pos = bytes.find(signature); pos != std::string::npos; pos = bytes.find(signature, pos + 1)) {
        if (le(bytes, pos + 28, 2) == name.size() && bytes.compare(pos + 46, name.size(), name) == 0) return pos;
    }
    FAIL("no central directory entry for " << name);
    return 0;
}

// The extra field `id` of the local header at `offset`, or empty.
std::string local_extra_field(const std::string& bytes, std::uint64_t offset, std::uint16_t id) {
    std::size_t pos = offset + 30 + le(bytes, offset + 26, 2);
    std::size_t end = pos + le(bytes, offset + 28, 2);
    while (pos + 4 <= end) {
        std::size_t size = le(bytes, pos + 2, 2);
        if (le(bytes, pos, 2) == id) return bytes.substr(pos + 4, size);
        pos += 4 + size;
    }
    return {};
}

std::vector<std::string> temp_files_in(const fs::path& folder) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(folder)) {
        std::string name = entry.path().filename().string();
        if (name.find(".tmp-") != std::string::npos) found.push_back(name);
    }
    return found;
}

// Opening checks the central directory; local headers are checked on first read.
void open_archive(const fs::path& path) {
    zip_reader reader(path);
    reader.check_local_headers();
}

} // namespace

TEST_CASE("zip members round-trip with every method", "[zip]") {
    auto method = GENERATE(compression_method::store, compression_method::deflate, compression_method::zstd);
    const std::string method_name(zanj::to_string(method));
    fs::path dir = scratch_dir("zip_round_trip_" + method_name);
    fs::path path = dir / "archive.zanj";

    member_options options = using_method(method);
    if (method == compression_method::store) options.align = 64;
    std::vector<member> members = {
        {"__zanj_meta__.json", compressible_bytes(700), options},
        {"empty.txt", "", options},
        {"one.bin", "x", options},
        {"layers/0/w.npy", random_bytes(5 << 20, 1), options},
        {"layers/0/log.jsonl", compressible_bytes(5 << 20), options},
        {"caf\xc3\xa9/\xce\xbb.npy", random_bytes(1000, 2), options}, // UTF-8 names
    };
    write_archive(path, members);
    check_everywhere(path, members, dir);

    if (method != compression_method::store) {
        zip_reader reader(path);
        const zip_entry* text = reader.find("layers/0/log.jsonl");
        REQUIRE(text);
        CHECK(text->compressed_size < text->uncompressed_size / 4);
    }
}

TEST_CASE("zip archives mixing methods, levels and options are valid everywhere", "[zip]") {
    fs::path dir = scratch_dir("zip_mixed");
    member_options zip64_stored = aligned_store(64);
    zip64_stored.force_zip64 = true;
    member_options zip64_deflate = using_method(compression_method::deflate, 1);
    zip64_deflate.force_zip64 = true;

    std::vector<member> store_deflate = {
        {"__zanj_meta__.json", compressible_bytes(900), using_method(compression_method::deflate)},
        {"__zanj__.json", compressible_bytes(30000), using_method(compression_method::deflate, 12)},
        {"a/b.npy", random_bytes(4096, 3), aligned_store(64)},
        {"a/c.npy", random_bytes(77, 4), aligned_store(4096)},
        {"a/d.npy", random_bytes(100000, 5), zip64_stored},
        {"a/e.jsonl", compressible_bytes(5000), zip64_deflate},
        {"a/f.bin", random_bytes(3, 6), using_method(compression_method::deflate, 0)},
    };
    SECTION("store and deflate") {
        write_archive(dir / "mixed.zanj", store_deflate);
        check_everywhere(dir / "mixed.zanj", store_deflate, dir);
    }
    SECTION("store, deflate and zstd") {
        std::vector<member> all = store_deflate;
        member_options zip64_zstd = using_method(compression_method::zstd, 19);
        zip64_zstd.force_zip64 = true;
        all.push_back({"z/x.npy", random_bytes(70000, 7), using_method(compression_method::zstd, 1)});
        all.push_back({"z/y.jsonl", compressible_bytes(200000), zip64_zstd});
        all.push_back({"z/empty", "", using_method(compression_method::zstd)});
        write_archive(dir / "all.zanj", all);
        check_everywhere(dir / "all.zanj", all, dir);
    }
}

// add_owned compresses a deflate member on the writer's thread and writes it at the next call:
// the archive must come out as if every member had been added in turn.
TEST_CASE("zip members handed over with add_owned keep their order among the others", "[zip]") {
    fs::path dir = scratch_dir("zip_owned");
    member_options deflate = using_method(compression_method::deflate);
    deflate.threads = 2;
    member_options zstd = using_method(compression_method::zstd);
    zstd.threads = 2;
    const std::vector<member> members = {
        {"a.jsonl", compressible_bytes(300000), deflate},
        {"a2.jsonl", compressible_bytes(250000) + "x", deflate}, // compressed by the caller meanwhile
        {"b.npy", random_bytes(5000, 30), aligned_store(64)},
        {"c.jsonl", compressible_bytes(2000), deflate}, // small: gathered in a batch
        {"d.jsonl", compressible_bytes(100000), deflate},
        {"d2.bin", random_bytes(3000, 33), {}},           // add() while d.jsonl is still being compressed
        {"e.bin", random_bytes(3000, 31), zstd},          // not deferred: zstd streams as it goes
        {"f.txt", "", deflate},                           // empty
        {"g.jsonl", compressible_bytes(50000), deflate},  // settled by the next call
        {"h.jsonl", compressible_bytes(200000), zstd},    // owned, in pieces, deferred like deflate
        {"i.bin", random_bytes(70000, 32), {}},           // owned, in pieces, stored
        {"j.jsonl", compressible_bytes(150000), deflate}, // the last, settled by commit()
    };
    // Most owned members come in three pieces, which must not change a byte.
    auto in_pieces = [](const std::string& data) {
        const std::size_t third = data.size() / 3;
        return std::vector<std::string>{data.substr(0, third), data.substr(third, third), data.substr(2 * third)};
    };
    const fs::path path = dir / "owned.zanj";
    {
        zip_writer writer(path);
        for (std::size_t i = 0; i < members.size(); ++i) {
            const member& m = members[i];
            if (m.name == "b.npy") {
                // Where the next member starts depends on the deferred one being written first.
                const std::uint64_t at = writer.next_data_offset(m.name, m.data.size(), m.options);
                CHECK(at % 64 == 0);
                writer.add(m.name, bytes_of(m.data), m.options);
            } else if (m.name == "d2.bin") {
                writer.add(m.name, bytes_of(m.data), m.options);
            } else if (m.name == "e.bin") {
                writer.add_streamed(m.name, bytes_of(m.data), 0, {}, m.options);
            } else if (m.name == "d.jsonl" || m.name == "f.txt" || m.name == "j.jsonl") {
                writer.add_owned(m.name, m.data, m.options);
            } else {
                writer.add_owned(m.name, in_pieces(m.data), m.options);
            }
        }
        writer.commit();
    }
    check_everywhere(path, members, dir);

    SECTION("a name already taken is refused, pending or written") {
        zip_writer writer(dir / "dup.zanj");
        writer.add_owned("x.jsonl", compressible_bytes(100000), deflate);
        REQUIRE_THROWS_WITH(writer.add_owned("x.jsonl", "again", deflate), Contains("duplicate member name 'x.jsonl'"));
        REQUIRE_THROWS_WITH(writer.add_owned("x.jsonl", compressible_bytes(200000), deflate),
                            Contains("duplicate member name 'x.jsonl'"));
        REQUIRE_THROWS_WITH(writer.add("x.jsonl", bytes_of("again"), {}), Contains("duplicate member name 'x.jsonl'"));
        writer.commit();
        CHECK(read_member(zip_reader(dir / "dup.zanj"), *zip_reader(dir / "dup.zanj").find("x.jsonl")) ==
              compressible_bytes(100000));
    }
    SECTION("a level out of range is refused at the add, before anything is deferred") {
        zip_writer writer(dir / "level.zanj");
        member_options bad = using_method(compression_method::deflate, 99);
        bad.threads = 2;
        const std::string data = compressible_bytes(100000);
        REQUIRE_THROWS_AS(writer.add_owned("y.jsonl", data, bad), zanj::usage_error);
        REQUIRE_THROWS_WITH(writer.add_owned("y.jsonl", data, bad), Contains("deflate level 99 is out of range"));
        writer.add_owned("y.jsonl", "data", deflate); // the writer is still usable
        writer.commit();
    }
    SECTION("a member still being compressed can be forgotten, and a dropped writer leaves nothing") {
        {
            zip_writer writer(dir / "dropped.zanj");
            writer.add_owned("z.jsonl", compressible_bytes(400000), deflate);
            CHECK(writer.forget("z.jsonl").has_value());
            writer.add_owned("w.jsonl", compressible_bytes(400000), deflate);
        } // destroyed uncommitted while compressing: the job ends, the temporary goes
        CHECK_FALSE(fs::exists(dir / "dropped.zanj"));
        CHECK(temp_files_in(dir).empty());
    }
}

// Small members handed over gather in batches, which a worker or the caller compresses; larger
// ones get a batch of their own when a worker is idle. Whoever compresses what, the archive must
// hold what one thread writes, member for member.
TEST_CASE("zip members compressed in batches beside the caller come out as on one thread", "[zip]") {
    fs::path dir = scratch_dir("zip_batches");
    std::vector<member> members;
    for (int i = 0; i < 1200; ++i) {
        const auto n = static_cast<std::size_t>(i);
        std::string data = i % 5 == 0 ? random_bytes(100 + 37 * n, n) : compressible_bytes(200 + 61 * (n % 400));
        const compression_method method = i % 3 == 0 ? compression_method::zstd : compression_method::deflate;
        members.push_back({cat({"m", std::to_string(i), ".npy"}), std::move(data), using_method(method, i % 2)});
        if (i % 97 == 5)
            members.push_back({cat({"s", std::to_string(i), ".npy"}), random_bytes(3000, n), aligned_store(64)});
    }
    members.push_back({"big.jsonl", compressible_bytes(3 << 20), using_method(compression_method::deflate)});
    members.push_back({"empty.bin", "", using_method(compression_method::zstd)});
    members.push_back({"tail.json", compressible_bytes(3000), using_method(compression_method::deflate)});
    // Last: zstd's own workers split it into jobs of their choosing, so its size varies.
    members.push_back({"huge.jsonl", compressible_bytes(5 << 20), using_method(compression_method::zstd)});

    std::vector<std::vector<zip_entry>> listings;
    for (unsigned threads : {1u, 2u, 3u}) {
        INFO("threads " << threads);
        const fs::path path = dir / cat({"t", std::to_string(threads), ".zanj"});
        {
            zip_writer writer(path);
            for (std::size_t i = 0; i < members.size(); ++i) {
                member_options options = members[i].options;
                options.threads = threads;
                const std::span<const std::byte> whole = bytes_of(members[i].data);
                if (options.align) {
                    // Where it goes depends on every member before being written first.
                    CHECK(writer.next_data_offset(members[i].name, whole.size(), options) % 64 == 0);
                    writer.add(members[i].name, whole, options);
                } else if (i % 4 == 1) {
                    writer.add_owned(members[i].name, members[i].data, options);
                } else {
                    const std::size_t half = whole.size() / 2;
                    const std::span<const std::byte> pieces[] = {whole.first(half), whole.subspan(half)};
                    writer.add_copied(members[i].name, pieces, options);
                }
            }
            writer.commit();
        }
        check_with_our_reader(path, members);
        listings.push_back(zip_reader(path).entries());
    }
    check_everywhere(dir / "t2.zanj", members, dir);
    for (std::size_t t = 1; t < listings.size(); ++t) {
        REQUIRE(listings[t].size() == listings[0].size());
        for (std::size_t i = 0; i < listings[0].size(); ++i) {
            INFO("threads " << t + 1 << ", member " << listings[0][i].name);
            CHECK(listings[t][i].name == listings[0][i].name);
            CHECK(listings[t][i].method == listings[0][i].method);
            CHECK(listings[t][i].crc32 == listings[0][i].crc32);
            if (listings[0][i].name == "huge.jsonl") continue;
            CHECK(listings[t][i].compressed_size == listings[0][i].compressed_size);
            CHECK(listings[t][i].local_header_offset == listings[0][i].local_header_offset);
        }
    }

    member_options two = using_method(compression_method::zstd);
    two.threads = 2;
    SECTION("a name is taken from the add on, while its batch is still gathering") {
        zip_writer writer(dir / "dup.zanj");
        const std::string data = compressible_bytes(3000);
        const std::span<const std::byte> piece[] = {bytes_of(data)};
        writer.add_copied("x.npy", piece, two);
        REQUIRE_THROWS_WITH(writer.add_copied("x.npy", piece, two), Contains("duplicate member name 'x.npy'"));
        REQUIRE_THROWS_WITH(writer.add_owned("x.npy", "again", two), Contains("duplicate member name 'x.npy'"));
        REQUIRE_THROWS_WITH(writer.add("x.npy", bytes_of("again"), {}), Contains("duplicate member name 'x.npy'"));
        writer.add_copied("y.npy", piece, two);
        writer.commit();
        const zip_reader reader(dir / "dup.zanj");
        REQUIRE(reader.entries().size() == 2);
        CHECK(read_member(reader, *reader.find("x.npy")) == data);
        CHECK(reader.entries()[1].name == "y.npy");
    }
    SECTION("a level out of range is refused at the add, and the batch goes on") {
        zip_writer writer(dir / "level.zanj");
        const std::string data = compressible_bytes(3000);
        const std::span<const std::byte> piece[] = {bytes_of(data)};
        writer.add_copied("a.npy", piece, two);
        member_options bad = using_method(compression_method::zstd, 99);
        bad.threads = 2;
        REQUIRE_THROWS_WITH(writer.add_copied("b.npy", piece, bad), Contains("zstd level 99 is out of range"));
        writer.add_copied("b.npy", piece, two);
        writer.commit();
        const zip_reader reader(dir / "level.zanj");
        REQUIRE(reader.entries().size() == 2);
        CHECK(read_member(reader, *reader.find("b.npy")) == data);
    }
    SECTION("a member waiting in a batch can be forgotten, and a dropped writer leaves nothing") {
        const std::string data = compressible_bytes(3000);
        const std::span<const std::byte> piece[] = {bytes_of(data)};
        {
            zip_writer writer(dir / "forget.zanj");
            for (int i = 0; i < 500; ++i) writer.add_copied(cat({"f", std::to_string(i)}), piece, two);
            CHECK(writer.forget("f250").has_value());
            writer.add_copied("f250", piece, two); // its name is free again
            writer.commit();
        }
        const zip_reader reader(dir / "forget.zanj");
        REQUIRE(reader.entries().size() == 500);
        CHECK(reader.entries().back().name == "f250");
        CHECK(read_member(reader, reader.entries().back()) == data);
        {
            zip_writer writer(dir / "dropped.zanj");
            for (int i = 0; i < 2000; ++i) writer.add_copied(cat({"d", std::to_string(i)}), piece, two);
        } // destroyed uncommitted with batches compressing and one gathering
        CHECK_FALSE(fs::exists(dir / "dropped.zanj"));
        CHECK(temp_files_in(dir).empty());
    }
}

TEST_CASE("zip members can be added in pieces", "[zip]") {
    auto method = GENERATE(compression_method::store, compression_method::deflate, compression_method::zstd);
    fs::path dir = scratch_dir("zip_pieces_" + std::string(zanj::to_string(method)));
    // Small pieces are buffered, large ones written straight from memory; empty ones are legal.
    std::vector<std::string> parts = {"NUMPY header\n",          "", random_bytes(200000, 8),
                                      compressible_bytes(70000), "", std::string(1, '\0'),
                                      random_bytes(65536, 9)};
    std::vector<std::span<const std::byte>> pieces;
    std::string whole;
    for (const auto& p : parts) {
        pieces.push_back(bytes_of(p));
        whole += p;
    }
    member_options options = using_method(method);
    options.align = 64;
    {
        zip_writer writer(dir / "pieces.zanj");
        writer.add("small.json", bytes_of("{}"), using_method(compression_method::deflate));
        writer.add("joined.npy", pieces, options);
        writer.add("none", std::span<const std::span<const std::byte>>{}, options);
        writer.commit();
    }
    std::vector<member> expected = {{"small.json", "{}", using_method(compression_method::deflate)},
                                    {"joined.npy", whole, options},
                                    {"none", "", options}};
    check_everywhere(dir / "pieces.zanj", expected, dir);
}

TEST_CASE("zip stored members start at aligned offsets", "[zip]") {
    fs::path dir = scratch_dir("zip_alignment");
    std::vector<member> members;
    // Names and sizes of every parity, so the padding needed differs from member to member.
    for (int i = 0; i < 24; ++i) {
        member_options o = aligned_store(i % 3 == 0 ? 4096 : 64);
        o.force_zip64 = i % 4 == 1;
        members.push_back({std::string(static_cast<std::size_t>(i + 1), 'n') + ".npy",
                           random_bytes(static_cast<std::size_t>(i * 37 + i % 5), static_cast<std::uint64_t>(i)), o});
        // Compressed members ignore the alignment but shift the ones that follow.
        members.push_back({cat({"j", std::to_string(i), ".json"}), compressible_bytes(static_cast<std::size_t>(i * 11)),
                           using_method(compression_method::deflate)});
    }
    write_archive(dir / "aligned.zanj", members);
    zip_reader reader(dir / "aligned.zanj");
    const std::string bytes = file_text(dir / "aligned.zanj");
    for (std::size_t i = 0; i < members.size(); ++i) {
        const member& m = members[i];
        if (m.options.compression.method != compression_method::store) continue;
        const zip_entry& e = reader.entries()[i];
        INFO(m.name);
        CHECK(reader.data_offset(e) % m.options.align == 0);
        // The padding lives in a zipalign field (0xD935) of the local header only.
        std::string field = local_extra_field(bytes, e.local_header_offset, 0xD935);
        REQUIRE(field.size() >= 2);
        CHECK(le(field, 0, 2) == m.options.align);
        std::size_t central = central_entry_of(bytes, m.name);
        CHECK(le(bytes, central + 30, 2) == 0); // no extra field in the central directory
    }
    check_everywhere(dir / "aligned.zanj", members, dir);
}

TEST_CASE("zip force_zip64 writes a ZIP64 local header as numpy does", "[zip]") {
    auto method = GENERATE(compression_method::store, compression_method::deflate, compression_method::zstd);
    fs::path dir = scratch_dir("zip_force_zip64_" + std::string(zanj::to_string(method)));
    member_options o = using_method(method);
    o.force_zip64 = true;
    std::vector<member> members = {
        {"x.npy", random_bytes(3000, 11), o}, {"y.npy", compressible_bytes(9000), o}, {"z.npy", "", o}};
    write_archive(dir / "z64.zanj", members);
    check_everywhere(dir / "z64.zanj", members, dir);

    zip_reader reader(dir / "z64.zanj");
    const std::string bytes = file_text(dir / "z64.zanj");
    for (const zip_entry& e : reader.entries()) {
        INFO(e.name);
        const std::uint64_t h = e.local_header_offset;
        CHECK(le(bytes, h + 4, 2) == (method == compression_method::zstd ? 63u : 45u)); // version needed
        CHECK(le(bytes, h + 18, 4) == 0xFFFFFFFFu); // compressed size: see the ZIP64 field
        CHECK(le(bytes, h + 22, 4) == 0xFFFFFFFFu); // uncompressed size
        std::string zip64 = local_extra_field(bytes, h, 0x0001);
        REQUIRE(zip64.size() == 16);
        CHECK(le(zip64, 0, 8) == e.uncompressed_size);
        CHECK(le(zip64, 8, 8) == e.compressed_size);
        // The central directory needs no ZIP64 field for small members, but agrees on the version.
        std::size_t central = central_entry_of(bytes, e.name);
        CHECK(le(bytes, central + 6, 2) == le(bytes, h + 4, 2));
        CHECK(le(bytes, central + 20, 4) == e.compressed_size);
    }
}

TEST_CASE("zip archives of 65535 members or more get ZIP64 end records", "[zip]") {
    fs::path dir = scratch_dir("zip_many_members");
    fs::path path = dir / "many.zanj";
    const std::size_t count = 70000;
    {
        zip_writer writer(path);
        for (std::size_t i = 0; i < count; ++i)
            writer.add("m/" + std::to_string(i), bytes_of(std::to_string(i * i)), member_options{});
        writer.commit();
    }
    const std::string bytes = file_text(path);
    CHECK(bytes.find(std::string("PK\x06\x06", 4)) != std::string::npos);
    CHECK(bytes.find(std::string("PK\x06\x07", 4)) != std::string::npos);
    CHECK(le(bytes, bytes.size() - 22 + 10, 2) == 0xFFFF); // the classic record defers to ZIP64

    zip_reader reader(path);
    REQUIRE(reader.entries().size() == count);
    for (std::size_t i : {std::size_t{0}, std::size_t{65534}, std::size_t{65535}, count - 1}) {
        const zip_entry* e = reader.find("m/" + std::to_string(i));
        REQUIRE(e);
        CHECK(read_member(reader, *e) == std::to_string(i * i));
    }

    int code = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_CHECKCONS | ZIP_RDONLY, &code);
    REQUIRE(archive);
    CHECK(zip_get_num_entries(archive, 0) == static_cast<zip_int64_t>(count));
    zip_discard(archive);

    auto r = run(python() +
                 " -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); "
                 "print(len(z.namelist()), z.testzip(), z.read(\"m/69999\").decode())' " +
                 quote(path));
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output == "70000 None " + std::to_string(69999ull * 69999ull) + "\n");
    check_with_unzip(path);
    check_with_7z(path);
}

TEST_CASE("zip reader reads archives written by libzip", "[zip]") {
    fs::path dir = scratch_dir("zip_libzip_written");
    fs::path path = dir / "libzip.zip";
    std::vector<member> members = {
        {"__zanj_meta__.json", compressible_bytes(500), using_method(compression_method::deflate)},
        {"__zanj__.json", compressible_bytes(60000), using_method(compression_method::deflate)},
        {"w/0.npy", random_bytes(300000, 12), {}},
        {"w/empty.npy", "", {}},
        {"w/d.bin", random_bytes(5000, 13), using_method(compression_method::deflate)},
    };
    int code = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    REQUIRE(archive);
    for (const member& m : members) {
        zip_source_t* source = zip_source_buffer(archive, m.data.data(), m.data.size(), 0);
        REQUIRE(source);
        zip_int64_t index = zip_file_add(archive, m.name.c_str(), source, ZIP_FL_ENC_UTF_8);
        REQUIRE(index >= 0);
        bool stored = m.options.compression.method == compression_method::store;
        REQUIRE(zip_set_file_compression(archive, static_cast<zip_uint64_t>(index),
                                         stored ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0) == 0);
    }
    REQUIRE(zip_close(archive) == 0);
    check_with_our_reader(path, members);
}

// read_small reads a stored member with its local header in one go, guessing the size of the
// local extra field, which only the local header gives; a longer one must still read right.
TEST_CASE("zip reader reads small members whatever their local extra field holds", "[zip]") {
    namespace rz = zanj_test::raw_zip;
    fs::path dir = scratch_dir("zip_small_extra");
    const std::string data = random_bytes(700, 20);
    std::string bytes;
    std::vector<std::uint64_t> offsets;
    const std::vector<std::size_t> extra_sizes = {0, 100, 400, 60000};
    for (std::size_t extra_size : extra_sizes) {
        offsets.push_back(bytes.size());
        std::string header =
            rz::local_header("m" + std::to_string(extra_size), 0, rz::crc_of(data), data.size(), data.size());
        rz::patch_le(header, 28, extra_size, 2);
        std::string extra;
        if (extra_size) {
            rz::put(extra, 0xCAFE, 2); // an unknown field, which readers skip
            rz::put(extra, extra_size - 4, 2);
            extra.append(extra_size - 4, 'x');
        }
        bytes += header + extra + data;
    }
    const std::uint64_t directory_offset = bytes.size();
    for (std::size_t i = 0; i < offsets.size(); ++i) {
        bytes += rz::central_header("m" + std::to_string(extra_sizes[i]), 0, rz::crc_of(data), data.size(), data.size(),
                                    offsets[i]);
    }
    bytes += rz::end_record(offsets.size(), bytes.size() - directory_offset, directory_offset);
    const fs::path path = dir / "extra.zip";
    write_file(path, bytes);
    zip_reader reader(path);
    for (const bool windowed : {false, true}) {
        std::optional<zip_reader::read_ahead> ahead;
        if (windowed) ahead.emplace(reader);
        for (const zip_entry& e : reader.entries()) {
            INFO("member " << e.name << (windowed ? ", through a read-ahead window" : ""));
            const std::span<const std::byte> small = reader.read_small(e);
            CHECK(std::string(reinterpret_cast<const char*>(small.data()), small.size()) == data);
            CHECK(read_member(reader, e) == data);
        }
    }
}

TEST_CASE("zip reader's read-ahead windows give the bytes one read per member gives", "[zip]") {
    fs::path dir = scratch_dir("zip_read_ahead");
    // Over several 256 KiB windows, with compressed members (read as before) between stored
    // ones, one member larger than a window, and small members aligned or not.
    std::vector<member> members;
    for (int i = 0; i < 300; ++i) {
        const std::string name = "m" + std::to_string(i) + ".npy";
        if (i == 150)
            members.push_back({name, random_bytes(300000, 7), {}});
        else if (i % 10 == 3)
            members.push_back({name, compressible_bytes(5000), using_method(compression_method::deflate)});
        else
            members.push_back({name, random_bytes(3000 + 7 * i, i), i % 2 ? aligned_store(64) : member_options{}});
    }
    write_archive(dir / "a.zip", members);
    write_archive(dir / "b.zip", {{"only.bin", random_bytes(100, 1), {}}});
    zip_reader reader(dir / "a.zip"), other(dir / "b.zip");
    auto small_of = [](const zip_reader& r, const zip_entry& e) {
        const std::span<const std::byte> bytes = r.read_small(e);
        return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    };
    auto check_in = [&](const std::vector<std::size_t>& order) {
        for (std::size_t i : order) {
            INFO("member " << members[i].name);
            CHECK(small_of(reader, *reader.find(members[i].name)) == members[i].data);
        }
    };
    std::vector<std::size_t> order(members.size());
    std::iota(order.begin(), order.end(), 0);
    {
        zip_reader::read_ahead ahead(reader);
        check_in(order);
        std::reverse(order.begin(), order.end());
        check_in(order);
        std::shuffle(order.begin(), order.end(), std::mt19937_64(5));
        {
            zip_reader::read_ahead nested(reader);
            zip_reader::read_ahead for_another(other); // does nothing while the first is open
            check_in(order);
            CHECK(small_of(other, other.entries()[0]) == random_bytes(100, 1));
        }
        check_in(order); // the outer scope still holds
    }
    check_in(order); // and without a scope

    SECTION("damage is found inside a window, and the members around it still read") {
        std::string bytes = file_text(dir / "a.zip");
        const zip_entry& hurt = *reader.find("m20.npy");
        flip_byte(bytes, static_cast<std::size_t>(reader.data_offset(hurt) + 10));
        write_file(dir / "damaged.zip", bytes);
        zip_reader damaged(dir / "damaged.zip");
        zip_reader::read_ahead ahead(damaged);
        CHECK(small_of(damaged, *damaged.find("m19.npy")) == members[19].data);
        REQUIRE_THROWS_WITH(damaged.read_small(*damaged.find("m20.npy")),
                            Contains("CRC-32 mismatch in member 'm20.npy'"));
        CHECK(small_of(damaged, *damaged.find("m21.npy")) == members[21].data);
    }
}

TEST_CASE("zip reader reads archives written by Python's zipfile", "[zip]") {
    const std::string options =
        GENERATE(as<std::string>{}, "", "--store", "--force-zip64", "--store --force-zip64",
                 "--zip64-limit 1000 --filecount-limit 2", "--store --zip64-limit 1000 --filecount-limit 2");
    fs::path dir = scratch_dir("zip_python_written");
    fs::path source = dir / "source";
    fs::path path = dir / "python.zip";
    const bool stored = options.find("--store") != std::string::npos;
    const member_options method = using_method(stored ? compression_method::store : compression_method::deflate);
    // In the sorted order the script writes them.
    std::vector<member> members = {
        {"__zanj__.json", compressible_bytes(20000), method},
        {"__zanj_meta__.json", compressible_bytes(800), method},
        {"empty.txt", "", method},
        {"layers/0/w.npy", random_bytes(100000, 14), method},
        {"layers/1/w.npy", random_bytes(999, 15), method},
    };
    for (const member& m : members) {
        fs::create_directories((source / m.name).parent_path());
        write_file(source / m.name, m.data);
    }
    auto r = run(python() + " " + quote(python_script("zip_write.py")) + " " + quote(source) + " " + quote(path) + " " +
                 options);
    INFO("zip_write.py " << options << ": " << r.output);
    REQUIRE(r.exit_code == 0);
    check_with_our_reader(path, members);

    if (options.find("--zip64-limit") != std::string::npos) {
        // Make sure the ZIP64 records we meant to read are really there.
        const std::string bytes = file_text(path);
        CHECK(bytes.find(std::string("PK\x06\x06", 4)) != std::string::npos);
        std::size_t central = central_entry_of(bytes, "layers/1/w.npy");
        CHECK(le(bytes, central + 42, 4) == 0xFFFFFFFFu); // offset in the ZIP64 field
    }
}

TEST_CASE("zip reader refuses damaged or foreign input with clear errors", "[zip]") {
    fs::path dir = scratch_dir("zip_bad_input");
    fs::path good = dir / "good.zanj";
    const std::vector<member> members = {
        {"a.json", compressible_bytes(20000), using_method(compression_method::deflate)},
        {"b.npy", random_bytes(3000, 16), aligned_store(64)},
        {"c.txt", "hello, world", {}},
        {"d.npy", random_bytes(5000, 17), using_method(compression_method::zstd)},
    };
    write_archive(good, members);
    const std::string bytes = file_text(good);
    zip_reader reader(good);
    const zip_entry& a = *reader.find("a.json");
    const zip_entry& b = *reader.find("b.npy");
    const zip_entry& c = *reader.find("c.txt");
    const zip_entry& d = *reader.find("d.npy");
    fs::path bad = dir / "bad.zanj";
    const std::string bad_name = bad.string();

    SECTION("a missing file is an I/O error") {
        fs::path missing = dir / "missing.zanj";
        REQUIRE_THROWS_AS(open_archive(missing), zanj::io_error);
        REQUIRE_THROWS_WITH(open_archive(missing),
                            Contains("cannot open " + missing.string()) && Contains("No such file or directory"));
    }
    SECTION("an empty file") {
        write_file(bad, "");
        REQUIRE_THROWS_AS(open_archive(bad), zanj::format_error);
        REQUIRE_THROWS_WITH(open_archive(bad), Contains("not a zip archive") && Contains(bad_name));
    }
    SECTION("random bytes") {
        write_file(bad, random_bytes(5000, 18));
        REQUIRE_THROWS_AS(open_archive(bad), zanj::format_error);
        REQUIRE_THROWS_WITH(open_archive(bad),
                            Contains("not a zip archive (no end-of-central-directory record): " + bad_name));
    }
    SECTION("a truncated archive") {
        // Cut inside a local header, inside member data, inside the central directory and
        // inside the end record.
        const std::size_t n = bytes.size();
        for (std::size_t keep : {std::size_t{3}, std::size_t{10}, std::size_t{100}, n / 3, n / 2, n - 100, n - 60,
                                 n - 22, n - 21, n - 15, n - 10, n - 1}) {
            INFO("kept " << keep << " of " << n << " bytes");
            write_file(bad, bytes.substr(0, keep));
            REQUIRE_THROWS_AS(open_archive(bad), zanj::format_error);
            REQUIRE_THROWS_WITH(open_archive(bad), Contains("archive is truncated") && Contains(bad_name));
        }
    }
    SECTION("a member that extends past the end of the file") {
        std::string patched = bytes;
        patch_le(patched, central_entry_of(patched, "b.npy") + 20, 1u << 30, 4); // compressed size
        write_file(bad, patched);
        REQUIRE_THROWS_AS(open_archive(bad), zanj::format_error);
        REQUIRE_THROWS_WITH(open_archive(bad), Contains("archive is truncated: member 'b.npy' extends past the end "
                                                        "of the file (" +
                                                        bad_name + ")"));
    }
    SECTION("a flipped byte in stored data fails the CRC check") {
        std::string patched = bytes;
        flip_byte(patched, reader.data_offset(b) + 100);
        write_file(bad, patched);
        zip_reader damaged(bad);
        REQUIRE_THROWS_AS(damaged.read(*damaged.find("b.npy")), zanj::format_error);
        REQUIRE_THROWS_WITH(damaged.read(*damaged.find("b.npy")),
                            Contains("CRC-32 mismatch in member 'b.npy' (" + bad_name + "): the archive is corrupt"));
        REQUIRE_THROWS_WITH(damaged.read_small(*damaged.find("b.npy")),
                            Contains("CRC-32 mismatch in member 'b.npy' (" + bad_name + "): the archive is corrupt"));
        CHECK(read_member(damaged, *damaged.find("c.txt")) == "hello, world"); // the rest stays readable
    }
    SECTION("a flipped byte in deflate data") {
        std::string patched = bytes;
        flip_byte(patched, reader.data_offset(a) + a.compressed_size / 2);
        write_file(bad, patched);
        zip_reader damaged(bad);
        REQUIRE_THROWS_AS(damaged.read(*damaged.find("a.json")), zanj::format_error);
        REQUIRE_THROWS_WITH(damaged.read(*damaged.find("a.json")), Contains("'a.json'") && Contains(bad_name));
    }
    SECTION("a flipped byte in zstd data") {
        std::string patched = bytes;
        flip_byte(patched, reader.data_offset(d) + d.compressed_size / 2);
        write_file(bad, patched);
        zip_reader damaged(bad);
        REQUIRE_THROWS_AS(damaged.read(*damaged.find("d.npy")), zanj::format_error);
        REQUIRE_THROWS_WITH(damaged.read(*damaged.find("d.npy")), Contains("'d.npy'") && Contains(bad_name));
    }
    SECTION("a size that disagrees with the deflate data") {
        std::string patched = bytes;
        patch_le(patched, central_entry_of(patched, "a.json") + 24, a.uncompressed_size - 1, 4);
        write_file(bad, patched);
        zip_reader damaged(bad);
        REQUIRE_THROWS_AS(damaged.read(*damaged.find("a.json")), zanj::format_error);
        REQUIRE_THROWS_WITH(damaged.read(*damaged.find("a.json")),
                            Contains("corrupt deflate data in member 'a.json'") && Contains(bad_name));
    }
    SECTION("duplicate member names") {
        fs::path source = dir / "source";
        fs::create_directories(source);
        write_file(source / "a.json", "{}");
        write_file(source / "b.npy", "data");
        auto r = run(python() + " " + quote(python_script("zip_write.py")) + " " + quote(source) + " " + quote(bad) +
                     " --duplicate a.json");
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        REQUIRE_THROWS_AS(open_archive(bad), zanj::format_error);
        REQUIRE_THROWS_WITH(open_archive(bad), Contains("duplicate member name 'a.json' (" + bad_name + ")"));
    }
    SECTION("an encrypted member") {
        std::string patched = bytes;
        const std::size_t central = central_entry_of(patched, "c.txt");
        patch_le(patched, central + 8, le(patched, central + 8, 2) | 1, 2);
        write_file(bad, patched);
        REQUIRE_THROWS_AS(open_archive(bad), zanj::format_error);
        REQUIRE_THROWS_WITH(open_archive(bad), Contains("member 'c.txt' is encrypted") && Contains(bad_name));
    }
    SECTION("overlapping members") {
        std::string patched = bytes;
        // a.json's data now runs into b.npy's local header.
        patch_le(patched, central_entry_of(patched, "a.json") + 20, b.local_header_offset - reader.data_offset(a) + 10,
                 4);
        write_file(bad, patched);
        REQUIRE_THROWS_AS(open_archive(bad), zanj::format_error);
        REQUIRE_THROWS_WITH(open_archive(bad), Contains("members 'a.json' and 'b.npy' overlap") && Contains(bad_name));
    }
    SECTION("a central directory offset pointing at another member") {
        std::string patched = bytes;
        patch_le(patched, central_entry_of(patched, "c.txt") + 42, b.local_header_offset, 4);
        write_file(bad, patched);
        REQUIRE_THROWS_AS(open_archive(bad), zanj::format_error);
        REQUIRE_THROWS_WITH(open_archive(bad), Contains("members 'b.npy' and 'c.txt' overlap") && Contains(bad_name));
    }
    SECTION("a central directory offset pointing into data") {
        std::string patched = bytes;
        patch_le(patched, central_entry_of(patched, "c.txt") + 42, reader.data_offset(b) + 8, 4);
        write_file(bad, patched);
        REQUIRE_THROWS_AS(zip_reader(bad), zanj::format_error);
        REQUIRE_THROWS_WITH(zip_reader(bad), Contains("members 'b.npy' and 'c.txt' overlap") && Contains(bad_name));
    }
    SECTION("a damaged local header is found when its member is read") {
        std::string patched = bytes;
        patched[c.local_header_offset] = 'Q';
        write_file(bad, patched);
        zip_reader damaged(bad); // the central directory is intact
        CHECK(read_member(damaged, *damaged.find("b.npy")) == members[1].data);
        REQUIRE_THROWS_AS(damaged.read(*damaged.find("c.txt")), zanj::format_error);
        REQUIRE_THROWS_WITH(damaged.read(*damaged.find("c.txt")),
                            Contains("member 'c.txt' has no local header") && Contains(bad_name));
        REQUIRE_THROWS_WITH(damaged.read_small(*damaged.find("c.txt")),
                            Contains("member 'c.txt' has no local header") && Contains(bad_name));
        REQUIRE_THROWS_WITH(open_archive(bad), Contains("member 'c.txt' has no local header"));
    }
    SECTION("a local header naming another member") {
        std::string patched = bytes;
        patched[c.local_header_offset + 30] = 'X'; // first letter of the name
        write_file(bad, patched);
        REQUIRE_THROWS_WITH(open_archive(bad), Contains("member 'c.txt': its local header names a different member"));
        zip_reader damaged(bad);
        REQUIRE_THROWS_WITH(damaged.read_small(*damaged.find("c.txt")),
                            Contains("member 'c.txt': its local header names a different member"));
    }
    SECTION("a member too large for read_small is refused, not cut") {
        const fs::path large = dir / "large.zanj";
        write_archive(large, {{"big.bin", random_bytes(zip_reader::small_member_size + 1, 19), {}}});
        zip_reader reader_of_large(large);
        REQUIRE_THROWS_AS(reader_of_large.read_small(*reader_of_large.find("big.bin")), zanj::usage_error);
        REQUIRE_THROWS_WITH(reader_of_large.read_small(*reader_of_large.find("big.bin")),
                            Contains("'big.bin' has 1048577 bytes, more than 1048576"));
    }
    SECTION("a central directory offset inside the central directory") {
        std::string patched = bytes;
        patch_le(patched, central_entry_of(patched, "c.txt") + 42, central_entry_of(patched, "a.json"), 4);
        write_file(bad, patched);
        REQUIRE_THROWS_AS(open_archive(bad), zanj::format_error);
        REQUIRE_THROWS_WITH(open_archive(bad), Contains("member 'c.txt' overlaps the central directory"));
    }
    SECTION("a damaged central directory") {
        std::string patched = bytes;
        patched[central_entry_of(patched, "b.npy")] = 'Q';
        write_file(bad, patched);
        REQUIRE_THROWS_AS(open_archive(bad), zanj::format_error);
        REQUIRE_THROWS_WITH(open_archive(bad),
                            Contains("corrupt central directory: entry 2 of 4") && Contains(bad_name));
    }
    SECTION("an unsupported compression method is refused when read") {
        std::string patched = bytes;
        patch_le(patched, central_entry_of(patched, "c.txt") + 10, 12, 2); // bzip2
        write_file(bad, patched);
        zip_reader odd(bad);
        CHECK(read_member(odd, *odd.find("b.npy")) == members[1].data);
        REQUIRE_THROWS_AS(odd.read(*odd.find("c.txt")), zanj::format_error);
        REQUIRE_THROWS_WITH(odd.read(*odd.find("c.txt")),
                            Contains("member 'c.txt' uses compression method 12") && Contains(bad_name));
    }
    SECTION("a declared size beyond the file is refused when read") {
        // Limits on decompressed sizes are in test_limits.cpp.
        zip_entry huge = c;
        huge.uncompressed_size = huge.compressed_size = (std::uint64_t{1} << 40) + 1;
        REQUIRE_THROWS_AS(reader.read(huge), zanj::format_error);
        REQUIRE_THROWS_WITH(reader.read(huge), Contains("'c.txt'") && Contains("extends past the end of the file"));
    }
}

TEST_CASE("zip members packed at the open unpack later, whatever happened to the file", "[zip]") {
    auto method = GENERATE(compression_method::store, compression_method::deflate, compression_method::zstd);
    fs::path dir = scratch_dir("zip_packed_" + std::string(zanj::to_string(method)));
    fs::path path = dir / "archive.zanj";
    const std::string text = compressible_bytes(100000);
    write_archive(path, {{"meta.json", text, using_method(method)}, {"other.bin", "x", using_method(method)}});

    zip_reader reader(path);
    const zip_entry& e = *reader.find("meta.json");
    const zip_reader::packed_member packed = reader.read_packed(e);
    // An update in place may overwrite the member once it is packed.
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(reader.data_offset(e)));
        f << std::string(static_cast<std::size_t>(e.compressed_size), '#');
    }
    const auto bytes = reader.unpack(packed, 16);
    CHECK(std::string(reinterpret_cast<const char*>(bytes.get()), text.size()) == text);
    CHECK_THROWS_AS(reader.read(e), zanj::format_error); // the file's copy is gone

    // Damage in the packed bytes is found by the CRC (or the decompressor), naming the member.
    zip_reader::packed_member damaged = packed;
    damaged.bytes[damaged.bytes.size() / 2] ^= std::byte{0x5A};
    CHECK_THROWS_WITH(reader.unpack(damaged), Catch::Contains("meta.json"));
    CHECK_THROWS_AS(reader.unpack(damaged), zanj::format_error);
}

// A padded buffer is a text for a parser: from 512 KiB on it spans whole 2 MiB pages (which the
// kernel may back with one huge page each); its bytes and zero padding are those of any read.
TEST_CASE("zip members read for a parser: large ones in whole huge pages, padded with zeros", "[zip]") {
    auto method = GENERATE(compression_method::store, compression_method::deflate);
    fs::path dir = scratch_dir("zip_transient_" + std::string(zanj::to_string(method)));
    fs::path path = dir / "archive.zanj";
    const std::string large = compressible_bytes(600000), small = compressible_bytes(1000);
    write_archive(path, {{"large.json", large, using_method(method)}, {"small.json", small, using_method(method)}});
    zip_reader reader(path);
    constexpr std::size_t padding = 64;
    auto check = [&](const std::string& name, const std::string& text, std::uintptr_t alignment) {
        const zip_entry& e = *reader.find(name);
        for (const auto& bytes : {reader.read(e, padding), reader.unpack(reader.read_packed(e), padding)}) {
            CHECK(reinterpret_cast<std::uintptr_t>(bytes.get()) % alignment == 0);
            CHECK(std::string(reinterpret_cast<const char*>(bytes.get()), text.size()) == text);
            CHECK(std::all_of(bytes.get() + text.size(), bytes.get() + text.size() + padding,
                              [](std::byte b) { return b == std::byte{0}; }));
        }
    };
    check("large.json", large, std::uintptr_t{2} << 20);
    check("small.json", small, 64);
    // Unpadded reads (array storage, kept after the read) are plain 64-byte aligned buffers.
    const auto kept = reader.read(*reader.find("large.json"));
    CHECK(reinterpret_cast<std::uintptr_t>(kept.get()) % 64 == 0);
    CHECK(std::string(reinterpret_cast<const char*>(kept.get()), large.size()) == large);
}

TEST_CASE("zip writer replaces the destination atomically", "[zip]") {
    fs::path dir = scratch_dir("zip_atomic");
    fs::path dest = dir / "out.zanj";
    write_file(dest, "old contents");

    SECTION("an uncommitted writer leaves the destination alone and removes its temporary file") {
        {
            zip_writer writer(dest);
            writer.add("a.json", bytes_of("{}"), {});
            auto temps = temp_files_in(dir);
            REQUIRE(temps.size() == 1);
            CHECK(temps[0].rfind(".out.zanj.tmp-", 0) == 0);
        }
        CHECK(file_text(dest) == "old contents");
        CHECK(temp_files_in(dir).empty());
    }
    SECTION("commit replaces the destination and leaves no temporary file") {
        std::vector<member> members = {{"a.json", "{\"a\": 1}", {}}, {"b.npy", random_bytes(100, 19), {}}};
        write_archive(dest, members);
        CHECK(temp_files_in(dir).empty());
        check_with_our_reader(dest, members);
        // Again, over the archive just written.
        members.pop_back();
        write_archive(dest, members);
        CHECK(temp_files_in(dir).empty());
        check_with_our_reader(dest, members);
    }
    SECTION("the archive gets the mode of an ordinary new file") {
        write_archive(dest, {{"a", "b", {}}});
        mode_t mask = ::umask(0);
        ::umask(mask);
        struct stat st {};
        REQUIRE(::stat(dest.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == (0666 & ~mask));
    }
    SECTION("a missing folder is an I/O error naming it") {
        fs::path nowhere = dir / "no-such-folder" / "x.zanj";
        REQUIRE_THROWS_AS(zip_writer(nowhere), zanj::io_error);
        REQUIRE_THROWS_WITH(zip_writer(nowhere), Contains((dir / "no-such-folder").string()));
    }
}

TEST_CASE("zip writer refuses misuse", "[zip]") {
    fs::path dir = scratch_dir("zip_misuse");
    fs::path dest = dir / "out.zanj";
    zip_writer writer(dest);
    CHECK(writer.destination() == dest);
    writer.add("a.json", bytes_of("{}"), {});

    SECTION("a duplicate name, after which the writer still works") {
        REQUIRE_THROWS_AS(writer.add("a.json", bytes_of("[]"), {}), zanj::usage_error);
        REQUIRE_THROWS_WITH(writer.add("a.json", bytes_of("[]"), {}), Contains("duplicate member name 'a.json'"));
        writer.add("b.json", bytes_of("[]"), {});
        writer.commit();
        check_with_our_reader(dest, {{"a.json", "{}", {}}, {"b.json", "[]", {}}});
    }
    SECTION("bad options") {
        member_options odd_align;
        odd_align.align = 48;
        REQUIRE_THROWS_AS(writer.add("x", bytes_of("x"), odd_align), zanj::usage_error);
        REQUIRE_THROWS_AS(writer.add("x", bytes_of("x"), using_method(compression_method::deflate, 13)),
                          zanj::usage_error);
        REQUIRE_THROWS_AS(writer.add("x", bytes_of("x"), using_method(compression_method::zstd, 23)),
                          zanj::usage_error);
        REQUIRE_THROWS_AS(writer.add("x", bytes_of("x"), using_method(static_cast<compression_method>(12))),
                          zanj::usage_error);
        REQUIRE_THROWS_AS(writer.add("", bytes_of("x"), {}), zanj::usage_error);
    }
    SECTION("add or commit after commit") {
        writer.commit();
        REQUIRE_THROWS_AS(writer.add("b.json", bytes_of("[]"), {}), zanj::usage_error);
        REQUIRE_THROWS_AS(writer.commit(), zanj::usage_error);
        check_with_our_reader(dest, {{"a.json", "{}", {}}});
    }
}

TEST_CASE("zip compression levels are honoured", "[zip]") {
    fs::path dir = scratch_dir("zip_levels");
    const std::string text = wordy_bytes(1 << 20, 20);
    auto compressed_size = [&](compression_method method, int level) {
        fs::path path = dir / cat({"l", std::to_string(level), ".zanj"});
        write_archive(path, {{"t", text, using_method(method, level)}});
        zip_reader reader(path);
        CHECK(read_member(reader, reader.entries()[0]) == text);
        return reader.entries()[0].compressed_size;
    };
    CHECK(compressed_size(compression_method::deflate, 0) > text.size()); // level 0: stored blocks
    CHECK(compressed_size(compression_method::deflate, 1) > compressed_size(compression_method::deflate, 9));
    CHECK(compressed_size(compression_method::deflate, -1) == compressed_size(compression_method::deflate, 6));
    CHECK(compressed_size(compression_method::zstd, 1) > compressed_size(compression_method::zstd, 19));
    CHECK(compressed_size(compression_method::zstd, -1) == compressed_size(compression_method::zstd, 3));
}
