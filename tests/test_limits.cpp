// Read limits and the one validator of the zip directory (src/zip_reader.cpp): every rule has
// a crafted file that breaks it, and each refusal names the rule or limit and the member. Zip
// bombs of the classic kinds are refused when the archive is opened, before anything is
// decompressed; bench/bombs.cpp measures how fast and in how little memory.

#include <zanj/detail/codec.hpp>
#include <zanj/detail/json_io.hpp>
#include <zanj/detail/npy.hpp>
#include <zanj/detail/zip.hpp>
#include <zanj/zanj.hpp>

#include "raw_zip.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace rz = zanj_test::raw_zip;
using namespace zanj_test;
using Catch::Contains;
using zanj::read_limits;
using zanj::detail::zip_reader;

constexpr std::uint64_t MiB = std::uint64_t{1} << 20;
constexpr std::uint64_t GiB = std::uint64_t{1} << 30;

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

std::string compressed(zanj::compression_method method, const std::string& data) {
    zanj::detail::byte_buffer out;
    const std::span<const std::byte> pieces[] = {bytes_of(data)};
    zanj::detail::compress({method}, pieces, out);
    return {reinterpret_cast<const char*>(out.data()), out.size()};
}

std::string deflated(const std::string& data) { return compressed(zanj::compression_method::deflate, data); }

rz::entry stored(std::string name, std::string data) {
    rz::entry e;
    e.name = std::move(name);
    e.data = std::move(data);
    return e;
}

// A deflate member holding `data`, declaring the true sizes unless told otherwise.
rz::entry deflate_member(std::string name, const std::string& data) {
    rz::entry e;
    e.name = std::move(name);
    e.method = 8;
    e.data = deflated(data);
    e.uncompressed_size = data.size();
    e.crc = rz::crc_of(data);
    return e;
}

// Opening checks the whole directory; local headers too, so that nothing is left for reads.
void open_zip(const fs::path& p, const read_limits& limits = {}) {
    zip_reader reader(p, limits);
    reader.check_local_headers();
}

// A `.zanj` archive of stored members: the tree, the metadata and `more`.
std::string zanj_archive(const std::string& tree, const std::string& meta, std::vector<rz::entry> more = {}) {
    std::vector<rz::entry> entries = {stored("__zanj_meta__.json", meta), stored("__zanj__.json", tree)};
    for (rz::entry& e : more) entries.push_back(std::move(e));
    return rz::build(entries);
}

// The tree and metadata of an archive whose item "w" is the external array `member`.
std::string array_tree(const std::string& member, const std::string& shape, const std::string& dtype) {
    return R"({"w": {"__muutils_format__": "numpy.ndarray:external", "$ref": ")" + member + R"(", "shape": )" + shape +
           R"(, "dtype": ")" + dtype + R"("}})";
}
std::string array_meta(const std::string& member) {
    return R"({"externals_info": {")" + member + R"(": {"item_type": "npy", "path": ["w"]}}})";
}

// An NPY 1.0 member whose header (length field included) is padded to `header_length` bytes.
std::string npy_with_header(std::size_t header_length, const std::string& shape, const std::string& descr,
                            const std::string& data) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    std::string out("\x93NUMPY\x01\x00", 8);
    rz::put(out, header_length, 2);
    out += dict;
    out.append(header_length - dict.size() - 1, ' ');
    out += '\n';
    return out + data;
}

std::string nested_lists(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

} // namespace

TEST_CASE("read_limits have safe documented defaults and can be raised or disabled", "[limits]") {
    const read_limits d;
    CHECK(d.max_total_uncompressed == read_limits::unlimited);
    CHECK(d.max_archive_ratio == 100);
    CHECK(d.archive_ratio_checked_above == GiB);
    CHECK(d.max_compression_ratio == 65536);
    CHECK(d.ratio_checked_above == MiB);
    CHECK(d.max_npy_header_size == 10000);
    CHECK(d.max_npy_header_size == zanj::detail::npy_max_header_size);
    CHECK(d.max_json_depth == 1000);
    CHECK(d.max_members == std::uint64_t{1} << 20);
    CHECK(zanj::config{}.limits == d);
    const read_limits none = read_limits::none();
    for (std::uint64_t v :
         {none.max_total_uncompressed, none.max_compression_ratio, none.ratio_checked_above, none.max_npy_header_size,
          none.max_json_depth, none.max_members, none.max_archive_ratio, none.archive_ratio_checked_above})
        CHECK(v == read_limits::unlimited);
    // A limit refusal is a format error, and keeps its class when re-thrown with a location.
    try {
        zanj::detail::rethrow_at(zanj::limit_error("too big"), "/w", "w.npy");
    } catch (const zanj::limit_error& e) {
        CHECK(e.member() == "w.npy");
        CHECK(e.object_path() == "/w");
    }
}

TEST_CASE("limits: total uncompressed size of compressed members", "[limits]") {
    const fs::path dir = fresh_dir("limits");
    const fs::path bad = dir / "bad.zip";

    SECTION("one member declaring 40 GB from a small file") {
        // A real deflate stream of 1 MiB of zeros; the headers claim 40 GB, as a bomb of 40 GB
        // of zeros would (bench/bombs.cpp builds the real one).
        rz::entry e = deflate_member("zeros.bin", std::string(MiB, '\0'));
        e.uncompressed_size = 40'000'000'000;
        write_file(bad, rz::build({e}));
        const std::string file_size = std::to_string(fs::file_size(bad));
        // Its ratio is beyond any codec's; past that, beyond 100 times the file.
        REQUIRE_THROWS_AS(open_zip(bad), zanj::limit_error);
        REQUIRE_THROWS_WITH(open_zip(bad),
                            Contains("member 'zeros.bin' declares 40000000000 bytes uncompressed from") &&
                                Contains("read_limits::max_compression_ratio") && Contains(bad.string()));
        read_limits raised;
        raised.max_compression_ratio = read_limits::unlimited;
        REQUIRE_THROWS_AS(open_zip(bad, raised), zanj::limit_error);
        REQUIRE_THROWS_WITH(open_zip(bad, raised),
                            Contains("member 'zeros.bin' brings the archive's compressed members to 40000000000 bytes "
                                     "uncompressed, more than read_limits::max_archive_ratio (100) times the file's "
                                     "size (" +
                                     file_size +
                                     " bytes; checked past 1073741824 bytes); raise "
                                     "config::limits.max_archive_ratio to read an archive you trust") &&
                                Contains(bad.string()));
        try {
            open_zip(bad, raised);
        } catch (const zanj::limit_error& err) {
            CHECK(err.member() == "zeros.bin");
        }
        // A cap on the total, when set, is checked first; disabling both ratios opens it
        // (nothing is read).
        read_limits capped = raised;
        capped.max_total_uncompressed = GiB;
        REQUIRE_THROWS_WITH(open_zip(bad, capped),
                            Contains("member 'zeros.bin' declares 40000000000 bytes "
                                     "uncompressed, above read_limits::max_total_uncompressed "
                                     "(1073741824); raise config::limits.max_total_uncompressed"));
        raised.max_archive_ratio = read_limits::unlimited;
        REQUIRE_NOTHROW(open_zip(bad, raised));
    }
    SECTION("several members adding up to more than 100 times the file past 1 GiB") {
        // 1.5 MiB of incompressible bytes each, declaring 600 MiB: a ratio of 400 per member,
        // allowed; the total goes past 1 GiB at the second.
        std::vector<rz::entry> entries;
        for (const char* name : {"a.bin", "b.bin", "c.bin"}) {
            rz::entry e;
            e.name = name;
            e.method = 8;
            e.data = std::string(3 * MiB / 2, 'x');
            e.uncompressed_size = 600 * MiB;
            entries.push_back(e);
        }
        write_file(bad, rz::build(entries));
        const std::uint64_t file_size = fs::file_size(bad);
        REQUIRE_THROWS_AS(open_zip(bad), zanj::limit_error);
        REQUIRE_THROWS_WITH(open_zip(bad), Contains("member 'b.bin' brings the archive's compressed members to "
                                                    "1258291200 bytes uncompressed, more than "
                                                    "read_limits::max_archive_ratio (100) times the file's size (" +
                                                    std::to_string(file_size) + " bytes;"));
        // 1800 MiB from a file of 4.5 MiB and a few headers: a ratio just under 400.
        const std::uint64_t ratio = 1800 * MiB / file_size;
        REQUIRE(ratio == 399);
        read_limits limits;
        limits.max_archive_ratio = ratio;
        REQUIRE_THROWS_WITH(open_zip(bad, limits), Contains("member 'c.bin' brings the archive's compressed members "
                                                            "to 1887436800 bytes uncompressed, more than "
                                                            "read_limits::max_archive_ratio (399)"));
        limits.max_archive_ratio = ratio + 1;
        REQUIRE_NOTHROW(open_zip(bad, limits));
        // Up to the allowance the ratio is not checked: there the file's size does not matter.
        limits = {};
        limits.archive_ratio_checked_above = 1800 * MiB;
        REQUIRE_NOTHROW(open_zip(bad, limits));
        limits.archive_ratio_checked_above = 1800 * MiB - 1;
        REQUIRE_THROWS_WITH(open_zip(bad, limits),
                            Contains("member 'c.bin' brings") && Contains("checked past 1887436799 bytes"));
        // Stored members make the file larger, and so lower its ratio: the same members beside
        // 16 MiB of stored data open under the defaults.
        entries.push_back(stored("padding.bin", std::string(16 * MiB, 'p')));
        write_file(bad, rz::build(entries));
        REQUIRE_NOTHROW(open_zip(bad));
        // A cap on the total, when set, holds whatever the file's size.
        limits = {};
        limits.max_total_uncompressed = GiB;
        REQUIRE_THROWS_WITH(open_zip(bad, limits), Contains("member 'b.bin' brings the archive's compressed members to "
                                                            "1258291200 bytes uncompressed, above "
                                                            "read_limits::max_total_uncompressed (1073741824); raise "
                                                            "config::limits.max_total_uncompressed to read an archive "
                                                            "you trust"));
        limits.max_total_uncompressed = 2 * GiB;
        REQUIRE_NOTHROW(open_zip(bad, limits));
    }
    SECTION("stored members do not count: their bytes are in the file") {
        read_limits tight;
        tight.max_total_uncompressed = 1000;
        write_file(bad, rz::build({stored("big.bin", std::string(5000, 'x')), stored("more.bin", "y")}));
        REQUIRE_NOTHROW(open_zip(bad, tight));
        write_file(bad, rz::build({deflate_member("big.bin", std::string(5000, 'x'))}));
        REQUIRE_THROWS_WITH(open_zip(bad, tight), Contains("read_limits::max_total_uncompressed (1000)"));
    }
    SECTION("through zanj::archive, ZANJ and load_any, whose settings carry the limits") {
        const std::string data = std::string(3000, '\0');
        const std::string npy = npy_with_header(118, "(3000,)", "|u1", data);
        rz::entry w = deflate_member("w.npy", npy);
        write_file(bad, zanj_archive(array_tree("w.npy", "[3000]", "uint8"), array_meta("w.npy"), {w}));
        zanj::config tight;
        tight.limits.max_total_uncompressed = 1000;
        REQUIRE_THROWS_AS(zanj::ZANJ(tight).read(bad), zanj::limit_error);
        REQUIRE_THROWS_WITH(zanj::archive(bad, tight), Contains("member 'w.npy' declares 3128 bytes uncompressed"));
        REQUIRE_THROWS_WITH(zanj::ZANJ(tight).read_meta(bad), Contains("read_limits::max_total_uncompressed"));
        REQUIRE_THROWS_AS(zanj::load_any(bad, tight.limits), zanj::limit_error);
        // The archive-wide ratio, lowered to be reached: 3128 bytes from a file of under 1564.
        REQUIRE(fs::file_size(bad) < 3128 / 2);
        zanj::config steep;
        steep.limits.archive_ratio_checked_above = 1000;
        steep.limits.max_archive_ratio = 2;
        REQUIRE_THROWS_WITH(zanj::ZANJ(steep).read(bad), Contains("member 'w.npy' brings the archive's compressed "
                                                                  "members to 3128 bytes uncompressed, more than "
                                                                  "read_limits::max_archive_ratio (2)"));
        REQUIRE_THROWS_AS(zanj::archive(bad, steep), zanj::limit_error);
        REQUIRE_THROWS_AS(zanj::load_any(bad, steep.limits), zanj::limit_error);
        // The defaults read it.
        const zanj::value v = zanj::ZANJ{}.read(bad);
        CHECK(v["w"].as_array().nbytes() == 3000);
        CHECK(zanj::load_any(bad)["w"].as_array().nbytes() == 3000);
    }
}

TEST_CASE("limits: the archive-wide ratio on archives ZANJ saves", "[limits]") {
    // With the allowance lowered to 1 MiB, 8 MiB arrays take the place of multi-GiB saves: noise
    // compresses about 1.1:1 and reads, zeros about 1000:1 and are refused, both as the defaults
    // treat such archives past 1 GiB.
    const fs::path dir = fresh_dir("limits");
    zanj::config steep;
    steep.limits.archive_ratio_checked_above = MiB;
    for (const zanj::compression_method method : {zanj::compression_method::deflate, zanj::compression_method::zstd}) {
        CAPTURE(static_cast<int>(method));
        zanj::config save;
        save.compress = zanj::compression_policy::all({method});
        std::map<std::string, xt::xarray<float>> data;
        data["noise"] = xt::xarray<float>::from_shape({2 * MiB});
        std::uint32_t x = 2463534242u; // xorshift32: incompressible bits, cheaply
        for (float& f : data["noise"]) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            f = static_cast<float>(x) / 4294967296.0f;
        }
        zanj::ZANJ(save).save(data, dir / "noise");
        CHECK(zanj::ZANJ(steep).read<std::map<std::string, xt::xarray<float>>>(dir / "noise.zanj") == data);

        data["noise"] = xt::zeros<float>({2 * MiB});
        zanj::ZANJ(save).save(data, dir / "zeros");
        REQUIRE_THROWS_AS(zanj::ZANJ(steep).read(dir / "zeros.zanj"), zanj::limit_error);
        REQUIRE_THROWS_WITH(zanj::archive(dir / "zeros.zanj", steep),
                            Contains("member 'noise.npy' brings the archive's compressed members to 8388736 bytes "
                                     "uncompressed, more than read_limits::max_archive_ratio (100)") &&
                                Contains("zeros.zanj"));
        steep.limits.max_archive_ratio = 100000;
        CHECK(zanj::ZANJ(steep).read<std::map<std::string, xt::xarray<float>>>(dir / "zeros.zanj") == data);
        steep.limits.max_archive_ratio = read_limits{}.max_archive_ratio;
        // The defaults read both: neither is past 1 GiB.
        CHECK(zanj::ZANJ{}.read<std::map<std::string, xt::xarray<float>>>(dir / "zeros.zanj") == data);
    }
}

TEST_CASE("limits: compression ratio of one member", "[limits]") {
    const fs::path dir = fresh_dir("limits");
    const fs::path bad = dir / "bad.zip";

    SECTION("a member declaring far more than its compressed bytes can hold") {
        rz::entry e = deflate_member("bomb.bin", std::string(4096, '\0'));
        e.uncompressed_size = 500 * MiB; // under the total limit
        write_file(bad, rz::build({e}));
        REQUIRE_THROWS_AS(open_zip(bad), zanj::limit_error);
        REQUIRE_THROWS_WITH(open_zip(bad),
                            Contains("member 'bomb.bin' declares 524288000 bytes uncompressed from " +
                                     std::to_string(e.data.size()) +
                                     ", a compression ratio above read_limits::max_compression_ratio "
                                     "(65536:1 past 1048576 bytes; raise config::limits.max_compression_ratio") &&
                                Contains(bad.string()));
    }
    SECTION("honest members of zeros read by default, and a lowered limit refuses them") {
        // 2 MiB of zeros: zstd shrinks them past 10000:1, and Python's zlib (what zipfile
        // deflates with, at its default level) 1028:1.
        const std::string zeros(2 * MiB, '\0');
        const fs::path python_deflated = dir / "zeros.deflate";
        REQUIRE(zanj_test::run(zanj_test::python() +
                               " -c \"import sys, zlib; c = zlib.compressobj(6, zlib.DEFLATED, -15); "
                               "open(sys.argv[1], 'wb').write(c.compress(bytes(2 << 20)) + c.flush())\" " +
                               zanj_test::quote(python_deflated))
                    .exit_code == 0);
        for (auto [name, method] : {std::pair{"zeros.zst", zanj::compression_method::zstd},
                                    std::pair{"zeros.deflate", zanj::compression_method::deflate}}) {
            rz::entry z;
            z.name = name;
            z.method = static_cast<std::uint16_t>(method);
            const std::vector<char> from_python = zanj_test::read_file(python_deflated);
            z.data = method == zanj::compression_method::zstd ? compressed(method, zeros)
                                                              : std::string(from_python.begin(), from_python.end());
            z.uncompressed_size = zeros.size();
            z.crc = rz::crc_of(zeros);
            write_file(bad, rz::build({z}));
            CAPTURE(name, z.data.size());
            CHECK(zeros.size() > 1000 * z.data.size());
            zip_reader reader(bad);
            auto data = reader.read(reader.entries().front());
            CHECK(std::string(reinterpret_cast<const char*>(data.get()), zeros.size()) == zeros);
            read_limits lowered;
            lowered.max_compression_ratio = 1000;
            CHECK_THROWS_WITH(open_zip(bad, lowered), Contains("member '" + std::string(name) + "'") &&
                                                          Contains("max_compression_ratio (1000:1"));
        }
    }
    SECTION("members up to 1 MiB may shrink as much as they like") {
        const std::string zeros(MiB, '\0');
        write_file(bad, rz::build({deflate_member("zeros.bin", zeros)}));
        zip_reader reader(bad);
        auto data = reader.read(reader.entries().front());
        CHECK(std::string(reinterpret_cast<const char*>(data.get()), zeros.size()) == zeros);
    }
    SECTION("a compressed member of no bytes declaring many") {
        rz::entry e;
        e.name = "empty.bin";
        e.method = 8;
        e.uncompressed_size = 2 * MiB;
        write_file(bad, rz::build({e}));
        REQUIRE_THROWS_WITH(open_zip(bad), Contains("member 'empty.bin' declares 2097152 bytes uncompressed from 0"));
    }
}

TEST_CASE("limits: decompression stops at the declared size", "[limits]") {
    const fs::path dir = fresh_dir("limits");
    const fs::path bad = dir / "bad.zip";
    // 8 MiB of zeros that declare 1 MiB: within every limit, so only decompression can tell.
    const std::string zeros(8 * MiB, '\0');
    for (auto [method, name] :
         {std::pair{zanj::compression_method::deflate, "deflate"}, std::pair{zanj::compression_method::zstd, "zstd"}}) {
        INFO(name);
        rz::entry e;
        e.name = "liar.bin";
        e.method = static_cast<std::uint16_t>(method);
        e.data = compressed(method, zeros);
        e.uncompressed_size = MiB;
        e.crc = rz::crc_of(zeros.substr(0, MiB));
        write_file(bad, rz::build({e}));
        zip_reader reader(bad);
        REQUIRE_THROWS_AS(reader.read(reader.entries().front()), zanj::format_error);
        REQUIRE_THROWS_WITH(reader.read(reader.entries().front()),
                            Contains(std::string("corrupt ") + name + " data in member 'liar.bin'") &&
                                Contains("more than the 1048576 bytes the archive declares"));
    }
}

TEST_CASE("member streams: pieces in order, checked at the end; every way the data can disagree", "[limits]") {
    const fs::path dir = fresh_dir("limits");
    const fs::path file = dir / "stream.zip";
    std::string data(300 * 1024, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 7 + i / 1000) % 251);
    auto member = [&](std::uint16_t method, const std::string& plain) {
        rz::entry e;
        e.name = "m.bin";
        e.method = method;
        e.data = method == 0 ? plain : compressed(static_cast<zanj::compression_method>(method), plain);
        e.uncompressed_size = plain.size();
        e.crc = rz::crc_of(plain);
        return e;
    };
    auto read_all = [](const zip_reader& reader, std::initializer_list<std::size_t> pieces) {
        zip_reader::member_stream in(reader, reader.entries().front());
        std::string out;
        for (std::size_t n : pieces) {
            std::string piece(std::min<std::uint64_t>(n, in.remaining()), '\0');
            in.read(std::as_writable_bytes(std::span(piece.data(), piece.size())));
            out += piece;
        }
        in.finish();
        return out;
    };
    for (const std::uint16_t method : {std::uint16_t{0}, std::uint16_t{8}, std::uint16_t{93}}) {
        INFO("method " << method);
        write_file(file, rz::build({member(method, data)}));
        const zip_reader reader(file);
        const zanj::detail::zip_entry& e = reader.entries().front();
        CHECK(read_all(reader, {1, 9, 1000, 0, 65536, data.size()}) == data);
        {
            zip_reader::member_stream in(reader, e);
            std::vector<std::byte> all(data.size() + 1);
            CHECK_THROWS_AS(in.read(all), zanj::usage_error); // more than the member holds
            in.read(std::span(all).first(10));
            CHECK(in.remaining() == data.size() - 10);
            CHECK_THROWS_WITH(in.finish(), Contains("finished with " + std::to_string(data.size() - 10)));
        }

        // A wrong CRC in the directory: found once the last byte is read.
        rz::entry bad_crc = member(method, data);
        bad_crc.crc = *bad_crc.crc ^ 1;
        write_file(file, rz::build({bad_crc}));
        const zip_reader crc_reader(file);
        CHECK_THROWS_WITH(read_all(crc_reader, {data.size()}), Contains("CRC-32 mismatch in member 'm.bin'"));
        if (method == 0) continue;
        const std::string name = method == 8 ? "deflate" : "zstd";

        // Data longer and shorter than the directory declares.
        rz::entry longer = member(method, data);
        longer.uncompressed_size = data.size() - 100;
        longer.crc = rz::crc_of(data.substr(0, data.size() - 100));
        write_file(file, rz::build({longer}));
        const zip_reader longer_reader(file);
        CHECK_THROWS_WITH(read_all(longer_reader, {data.size()}),
                          Contains("corrupt " + name + " data in member 'm.bin'") &&
                              Contains("more than the " + std::to_string(data.size() - 100) + " bytes"));
        rz::entry shorter = member(method, data);
        shorter.uncompressed_size = data.size() + 100;
        write_file(file, rz::build({shorter}));
        const zip_reader shorter_reader(file);
        CHECK_THROWS_WITH(read_all(shorter_reader, {data.size() + 100}),
                          Contains("corrupt " + name + " data in member 'm.bin'") &&
                              Contains("holds " + std::to_string(data.size()) + " bytes, not the " +
                                       std::to_string(data.size() + 100)));

        // Compressed bytes cut short, followed by something else (zstd reads on after a frame; a
        // deflate stream says where it ends), or with a byte flipped.
        for (const std::string& damage : {std::string("cut"), std::string("trailing"), std::string("flipped")}) {
            INFO(damage);
            if (damage == "trailing" && method == 8) continue;
            rz::entry damaged = member(method, data);
            if (damage == "cut") damaged.data.resize(damaged.data.size() / 2);
            if (damage == "trailing") damaged.data += std::string(16, 'x');
            if (damage == "flipped") damaged.data[damaged.data.size() / 2] ^= 0x55;
            write_file(file, rz::build({damaged}));
            const zip_reader damaged_reader(file);
            CHECK_THROWS_AS(read_all(damaged_reader, {100, data.size()}), zanj::format_error);
            CHECK_THROWS_WITH(read_all(damaged_reader, {100, data.size()}), Contains("'m.bin'"));
        }
    }
}

TEST_CASE("validator: compressed sizes beyond what the declared size needs", "[limits]") {
    // The compressed bytes are read whole before decompressing: they must be plausible for the
    // declared size, or a small declared size would make zanj read a huge member for nothing.
    const fs::path bad = fresh_dir("limits") / "padded.zip";
    rz::entry e = deflate_member("padded.bin", "abc");
    e.data += std::string(4096, 'x');
    write_file(bad, rz::build({e}));
    REQUIRE_THROWS_AS(open_zip(bad, read_limits::none()), zanj::format_error);
    REQUIRE_THROWS_WITH(open_zip(bad), Contains("member 'padded.bin' declares 3 bytes uncompressed from " +
                                                std::to_string(e.data.size()) +
                                                ", more than any compressor needs: the archive is corrupt"));
}

TEST_CASE("limits: NPY header length", "[limits]") {
    const fs::path dir = fresh_dir("limits");
    const fs::path file = dir / "header.zanj";
    const std::string data(24, '\0');
    for (std::uint16_t method : {std::uint16_t{0}, std::uint16_t{8}}) {
        INFO("method " << method);
        for (std::size_t length : {std::size_t{10000}, std::size_t{10001}}) {
            INFO("header of " << length << " bytes");
            const std::string npy = npy_with_header(length, "(3,)", "<f8", data);
            rz::entry w = method == 0 ? stored("w.npy", npy) : deflate_member("w.npy", npy);
            write_file(file, zanj_archive(array_tree("w.npy", "[3]", "float64"), array_meta("w.npy"), {w}));
            if (length <= 10000) {
                CHECK(zanj::ZANJ{}.read(file)["w"].as_array().size() == 3);
                continue;
            }
            for (auto access : {zanj::access::copy, zanj::access::view}) {
                zanj::archive a(file);
                REQUIRE_THROWS_AS(a.read("/", {access}), zanj::limit_error);
                REQUIRE_THROWS_WITH(a.read("/", {access}),
                                    Contains("header of 10001 bytes exceeds numpy's limit of 10000 "
                                             "(read_limits::max_npy_header_size)") &&
                                        Contains("w.npy"));
            }
            zanj::config raised;
            raised.limits.max_npy_header_size = 20000;
            CHECK(zanj::ZANJ(raised).read(file)["w"].as_array().size() == 3);
            raised.limits.max_npy_header_size = 5000;
            REQUIRE_THROWS_WITH(zanj::ZANJ(raised).read(file),
                                Contains("exceeds read_limits::max_npy_header_size (5000)"));
        }
    }
    // numpy's own files go through the same parser.
    const std::string npy = npy_with_header(10001, "(3,)", "<f8", data);
    auto storage = zanj::detail::allocate_aligned(npy.size());
    std::memcpy(storage.get(), npy.data(), npy.size());
    REQUIRE_THROWS_AS(zanj::detail::npy_decode(storage, npy.size(), "x.npy"), zanj::limit_error);
    const fs::path npz = dir / "big_header.npz";
    write_file(npz, rz::build({stored("x.npy", npy)}));
    REQUIRE_THROWS_AS(zanj::read_npz(npz), zanj::limit_error);
    REQUIRE_THROWS_WITH(zanj::load_any(npz), Contains("max_npy_header_size") && Contains("x.npy"));
    read_limits raised;
    raised.max_npy_header_size = 10001;
    CHECK(zanj::load_any(npz, raised)["x"].as_array().size() == 3);
}

TEST_CASE("limits: JSON nesting depth", "[limits]") {
    const fs::path dir = fresh_dir("limits");
    const fs::path file = dir / "deep.zanj";

    SECTION("in __zanj__.json") {
        write_file(file, zanj_archive(R"({"a": )" + nested_lists(999) + "}", "{}"));
        CHECK(zanj::ZANJ{}.read(file)["a"].is_list()); // 1000 levels with the root
        // The lazy handle walks the parsed document instead of a tree: the same limit.
        CHECK(zanj::archive(file).find("/a")->kind == zanj::item_kind::list);
        write_file(file, zanj_archive(R"({"a": )" + nested_lists(1000) + "}", "{}"));
        REQUIRE_THROWS_AS(zanj::ZANJ{}.read(file), zanj::limit_error);
        for (auto open : std::initializer_list<std::function<void()>>{[&] { zanj::ZANJ{}.read(file); },
                                                                      [&] { zanj::archive{file}; }})
            REQUIRE_THROWS_WITH(open(), Contains("JSON in __zanj__.json nests arrays and objects deeper than "
                                                 "read_limits::max_json_depth (1000)"));
        zanj::config raised;
        raised.limits.max_json_depth = 2000;
        CHECK(zanj::ZANJ(raised).read(file)["a"].is_list());
        CHECK(zanj::archive(file, raised).find("/a")->kind == zanj::item_kind::list);
        // Deeper than simdjson goes (1024): the tree is built another way, and read the same.
        write_file(file, zanj_archive(R"({"a": )" + nested_lists(1500) + "}", "{}"));
        const zanj::archive deep(file, raised);
        CHECK(deep.items().size() > 1500);
        CHECK(deep.read("/a") == zanj::ZANJ(raised).read(file)["a"]);
    }
    SECTION("in __zanj_meta__.json") {
        write_file(file, zanj_archive("{}", R"({"x": )" + nested_lists(5000) + "}"));
        REQUIRE_THROWS_WITH(zanj::ZANJ{}.read(file), Contains("JSON in __zanj_meta__.json nests"));
        REQUIRE_THROWS_WITH(zanj::ZANJ{}.read_meta(file), Contains("read_limits::max_json_depth"));
    }
    SECTION("in a .jsonl line") {
        const std::string tree = R"({"l": {"__muutils_format__": "list:external", "$ref": "l.jsonl"}})";
        const std::string meta = R"({"externals_info": {"l.jsonl": {"item_type": "jsonl", "path": ["l"]}}})";
        write_file(file, zanj_archive(tree, meta, {stored("l.jsonl", "1\n" + nested_lists(1001) + "\n")}));
        REQUIRE_THROWS_AS(zanj::ZANJ{}.read(file), zanj::limit_error);
        REQUIRE_THROWS_WITH(zanj::ZANJ{}.read(file), Contains("l.jsonl line 2") && Contains("max_json_depth"));
    }
    SECTION("a million levels are refused without recursion") {
        REQUIRE_THROWS_AS(zanj::detail::parse_json(nested_lists(1'000'000), "deep"), zanj::limit_error);
        std::string objects;
        for (int i = 0; i < 100'000; ++i) objects += R"({"a": )";
        REQUIRE_THROWS_WITH(zanj::detail::parse_json(objects, "deep"), Contains("max_json_depth (1000)"));
    }
}

TEST_CASE("limits: member count", "[limits]") {
    const fs::path dir = fresh_dir("limits");
    const fs::path bad = dir / "many.zip";
    std::vector<rz::entry> entries;
    for (int i = 0; i < 11; ++i) entries.push_back(stored("m" + std::to_string(i), "x"));
    write_file(bad, rz::build(entries));
    read_limits ten;
    ten.max_members = 10;
    REQUIRE_THROWS_AS(open_zip(bad, ten), zanj::limit_error);
    REQUIRE_THROWS_WITH(open_zip(bad, ten),
                        Contains("the archive lists 11 members, above read_limits::max_members (10)") &&
                            Contains(bad.string()));
    ten.max_members = 11;
    REQUIRE_NOTHROW(open_zip(bad, ten));
}

TEST_CASE("validator: overlapping members and zip bombs", "[limits]") {
    const fs::path dir = fresh_dir("limits");
    const fs::path bad = dir / "bomb.zip";
    // Under 1 MiB per member and 1 GiB in all: only the overlap gives these away.
    const std::string kernel_data(512 * 1024, '\0');
    const std::string kernel = deflated(kernel_data);
    const std::uint32_t kernel_crc = rz::crc_of(kernel_data);

    SECTION("Fifield's full overlap: every entry points at one local header") {
        write_file(bad, rz::full_overlap_bomb(100, kernel, kernel_data.size(), kernel_crc));
        REQUIRE_THROWS_AS(open_zip(bad), zanj::format_error);
        // Which two of the hundred entries at offset 0 it names depends on the sort.
        REQUIRE_THROWS_WITH(open_zip(bad), Contains("members 'f") && Contains("overlap: the archive is corrupt") &&
                                               Contains(bad.string()));
    }
    SECTION("Fifield's quoted overlap: each member's data runs through the next local headers") {
        const std::string bomb = rz::quoted_overlap_bomb(100, kernel, kernel_data.size(), kernel_crc);
        write_file(bad, bomb);
        REQUIRE_THROWS_AS(open_zip(bad), zanj::format_error);
        REQUIRE_THROWS_WITH(open_zip(bad), Contains("members 'f0' and 'f1' overlap") && Contains(bad.string()));
    }
    SECTION("the same bombs with a large kernel trip the limits first") {
        const std::string big(8 * MiB, '\0');
        const std::string big_kernel = deflated(big);
        write_file(bad, rz::quoted_overlap_bomb(200, big_kernel, big.size(), rz::crc_of(big)));
        REQUIRE_THROWS_AS(open_zip(bad), zanj::limit_error);
        write_file(bad, rz::full_overlap_bomb(200, big_kernel, big.size(), rz::crc_of(big)));
        REQUIRE_THROWS_AS(open_zip(bad), zanj::limit_error);
        // With every limit off, the overlap still refuses them.
        REQUIRE_THROWS_WITH(open_zip(bad, read_limits::none()), Contains("overlap"));
    }
    SECTION("a member whose data runs into the central directory") {
        rz::entry a = stored("a.bin", "0123456789");
        a.compressed_size = a.uncompressed_size = 20;
        write_file(bad, rz::build({stored("first.bin", "abc"), a}));
        REQUIRE_THROWS_WITH(open_zip(bad), Contains("member 'a.bin' overlaps the central directory"));
    }
    SECTION("a local header inside another member's data") {
        rz::entry a = stored("a.bin", std::string(100, 'a'));
        rz::entry b = stored("b.bin", "b");
        b.central_only = true;
        b.offset = 40; // inside a.bin's data
        write_file(bad, rz::build({a, b}));
        REQUIRE_THROWS_WITH(open_zip(bad), Contains("members 'a.bin' and 'b.bin' overlap"));
    }
}

TEST_CASE("validator: duplicate and unsafe member names", "[limits]") {
    const fs::path dir = fresh_dir("limits");
    const fs::path bad = dir / "names.zip";

    SECTION("duplicate names") {
        write_file(bad, rz::build({stored("a.json", "{}"), stored("b", "x"), stored("a.json", "[]")}));
        REQUIRE_THROWS_AS(open_zip(bad), zanj::format_error);
        REQUIRE_THROWS_WITH(open_zip(bad), Contains("duplicate member name 'a.json'") && Contains(bad.string()));
    }
    SECTION("unsafe names") {
        const std::pair<std::string, std::string> cases[] = {
            {"../evil.npy", "'../evil.npy': it has a '..' step"},
            {"a/../../evil", "'a/../../evil': it has a '..' step"},
            {"a/..", "'a/..': it has a '..' step"},
            {"..\\evil", "'..\\evil': it has a '..' step"},
            {"a\\..\\b", "'a\\..\\b': it has a '..' step"},
            {"/etc/passwd", "'/etc/passwd': it starts with '/'"},
            {"\\windows\\x", "'\\windows\\x': it starts with '\\'"},
            {std::string("a\0b.npy", 7), "'a\\x00b.npy': it holds a NUL byte"},
        };
        for (const auto& [name, message] : cases) {
            INFO(message);
            write_file(bad, rz::build({stored("fine.txt", "x"), stored(name, "y")}));
            REQUIRE_THROWS_AS(open_zip(bad), zanj::format_error);
            REQUIRE_THROWS_WITH(open_zip(bad), Contains("unsafe member name " + message) && Contains(bad.string()));
            // Whatever reads it: zanj::archive, untyped and typed reads, load_any.
            REQUIRE_THROWS_WITH(zanj::archive(bad), Contains("unsafe member name"));
        }
    }
    SECTION("names that merely look odd are fine") {
        for (const std::string name : {"..a", "a..b", "a/.../b", "a/./b", "a/b/", "x..", "dir/..hidden"}) {
            INFO(name);
            write_file(bad, rz::build({stored(name, "y")}));
            REQUIRE_NOTHROW(open_zip(bad));
        }
    }
}

TEST_CASE("validator: sizes, offsets and shapes that overflow", "[limits]") {
    const fs::path dir = fresh_dir("limits");
    const fs::path bad = dir / "overflow.zip";

    SECTION("ZIP64 sizes and offsets near 2^64") {
        const std::uint64_t huge = ~std::uint64_t{0} - 10;
        rz::entry e = stored("a.bin", "abc");
        e.compressed_size = huge;
        write_file(bad, rz::build({e}));
        REQUIRE_THROWS_WITH(open_zip(bad, read_limits::none()),
                            Contains("archive is truncated: member 'a.bin' extends past the end of the file"));
        e.compressed_size.reset();
        e.offset = huge;
        write_file(bad, rz::build({e}));
        REQUIRE_THROWS_WITH(open_zip(bad, read_limits::none()), Contains("'a.bin'") && Contains("past the end"));
        rz::entry d = deflate_member("d.bin", "abc");
        d.uncompressed_size = huge;
        write_file(bad, rz::build({d}));
        // Whatever the limits: no object is that large.
        REQUIRE_THROWS_WITH(open_zip(bad), Contains("member 'd.bin' is too large for this machine's address space"));
        REQUIRE_THROWS_WITH(open_zip(bad, read_limits::none()),
                            Contains("member 'd.bin'") && Contains("address space"));
    }
    SECTION("an NPY shape whose byte size overflows") {
        const std::string npy = npy_with_header(118, "(4294967296, 4294967296)", "<f8", "");
        const fs::path file = dir / "shape.zanj";
        write_file(file, zanj_archive(array_tree("w.npy", "[4294967296, 4294967296]", "float64"), array_meta("w.npy"),
                                      {stored("w.npy", npy)}));
        for (auto access : {zanj::access::copy, zanj::access::view}) {
            zanj::archive a(file);
            REQUIRE_THROWS_AS(a.read("/", {access}), zanj::format_error);
            REQUIRE_THROWS_WITH(a.read("/", {access}),
                                Contains("shape (4294967296, 4294967296) of float64 overflows the address space") &&
                                    Contains("w.npy"));
        }
    }
    SECTION("inline array shapes the data cannot fill are refused before allocating") {
        const fs::path file = dir / "inline.zanj";
        for (const std::string mode : {"array_hex_meta", "array_b64_meta", "array_list_meta"}) {
            INFO(mode);
            const std::string data = mode == "array_list_meta" ? "[1, 2]" : R"("00")";
            write_file(file,
                       zanj_archive(R"({"w": {"__muutils_format__": "numpy.ndarray:)" + mode +
                                        R"(", "shape": [1000000, 1000000], "dtype": "float64", "data": )" + data + "}}",
                                    "{}"));
            REQUIRE_THROWS_AS(zanj::ZANJ{}.read(file), zanj::error);
            write_file(
                file,
                zanj_archive(R"({"w": {"__muutils_format__": "numpy.ndarray:)" + mode +
                                 R"(", "shape": [4294967296, 4294967296, 4294967296], "dtype": "float64", "data": )" +
                                 data + "}}",
                             "{}"));
            REQUIRE_THROWS_AS(zanj::ZANJ{}.read(file), zanj::error);
        }
    }
}

TEST_CASE("validator: the copy and view paths share it", "[limits]") {
    const fs::path dir = fresh_dir("limits");
    const fs::path file = dir / "paths.zanj";
    const std::string npy = npy_with_header(118, "(16,)", "<f8", std::string(128, '\0'));
    // An archive the validator refuses: every kind of read meets the same refusal, at opening.
    write_file(file, zanj_archive(array_tree("w.npy", "[16]", "float64"), array_meta("w.npy"),
                                  {stored("w.npy", npy), stored("../w.npy", npy)}));
    REQUIRE_THROWS_WITH(zanj::archive(file), Contains("unsafe member name '../w.npy'"));
    REQUIRE_THROWS_WITH(zanj::ZANJ{}.read(file), Contains("unsafe member name '../w.npy'"));
    // Entries not of the reader's own directory are validated at every read, mapped or copied.
    write_file(file, zanj_archive(array_tree("w.npy", "[16]", "float64"), array_meta("w.npy"), {stored("w.npy", npy)}));
    zip_reader reader(file);
    zanj::detail::zip_entry forged = *reader.find("w.npy");
    forged.name = "/w.npy";
    REQUIRE_THROWS_WITH(reader.map(forged), Contains("unsafe member name '/w.npy'"));
    REQUIRE_THROWS_WITH(reader.read(forged), Contains("unsafe member name '/w.npy'"));
    REQUIRE_THROWS_WITH(reader.verify(forged), Contains("unsafe member name '/w.npy'"));
    // And the good archive reads the same both ways.
    zanj::archive a(file);
    CHECK(a.array("/w", {zanj::access::copy}).size() == 16);
    CHECK(a.view("/w", true).size() == 16);
}
