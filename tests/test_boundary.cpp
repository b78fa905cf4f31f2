// Boundary and malformed-input catalogue (docs/robustness.md): each input below is one case that
// either throws the exact zanj exception class with a message naming what is wrong and where, or
// reads back exactly. Every distinct input calls count_case(), so that
//   zanj_tests "[boundary]" -s | grep -c "boundary case:"
// counts them. Classes already proven elsewhere (unsafe names, bombs, 10,001-byte headers at the
// zip level, 1,000,000-deep JSON...) are referenced in the catalogue rather than repeated here.
// Sizes past 4 GiB are declared in hand-made headers or live in sparse files: nothing here writes
// or reads gigabytes.

#include <zanj/detail/codec.hpp>
#include <zanj/detail/crc32.hpp>
#include <zanj/detail/npy.hpp>
#include <zanj/detail/zip.hpp>
#include <zanj/zanj.hpp>

#include "raw_zip.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <complex>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace boundary_test {

struct record {
    zanj::ndarray a;
    zanj::ndarray b;
    std::vector<int> l;
    std::string s;
};
ZANJ_DATACLASS(record, a, b, l, s);

} // namespace boundary_test

namespace {

namespace fs = std::filesystem;
namespace rz = zanj_test::raw_zip;
using namespace zanj_test;
using Catch::Contains;
using zanj::read_limits;
using zanj::detail::zip_entry;
using zanj::detail::zip_reader;

constexpr std::uint64_t four_gib = std::uint64_t{1} << 32;
const std::uint64_t around_four_gib[] = {four_gib - 1, four_gib, four_gib + 1};

// ---- outcomes -------------------------------------------------------------------------------

enum class outcome { ok, format_error, limit_error, io_error, type_error, usage_error, other_error };

const char* name_of(outcome o) {
    switch (o) {
    case outcome::ok: return "no exception";
    case outcome::format_error: return "zanj::format_error";
    case outcome::limit_error: return "zanj::limit_error";
    case outcome::io_error: return "zanj::io_error";
    case outcome::type_error: return "zanj::type_error";
    case outcome::usage_error: return "zanj::usage_error";
    case outcome::other_error: break;
    }
    return "zanj::error";
}

// The most derived class of `e` (a limit_error is also a format_error).
outcome classify(const zanj::error& e) {
    if (dynamic_cast<const zanj::limit_error*>(&e)) return outcome::limit_error;
    if (dynamic_cast<const zanj::format_error*>(&e)) return outcome::format_error;
    if (dynamic_cast<const zanj::io_error*>(&e)) return outcome::io_error;
    if (dynamic_cast<const zanj::type_error*>(&e)) return outcome::type_error;
    if (dynamic_cast<const zanj::usage_error*>(&e)) return outcome::usage_error;
    return outcome::other_error;
}

// Marks one distinct input of the suite.
void count_case(const std::string& label) { SUCCEED("boundary case: " << label); }

// Runs `f`: it must throw exactly `want` with `text` in its message, or, for outcome::ok, return
// (its own checks decide the rest). Anything but a zanj::error is a failure too.
template <class F>
void expect(outcome want, const std::string& text, F&& f) {
    try {
        f();
        if (want != outcome::ok) FAIL_CHECK("no exception; expected a " << name_of(want) << " saying: " << text);
    } catch (const zanj::error& e) {
        INFO("thrown: " << e.what());
        CHECK(std::string(name_of(classify(e))) == name_of(want));
        if (want != outcome::ok) CHECK_THAT(std::string(e.what()), Contains(text));
    } catch (const std::exception& e) {
        FAIL_CHECK("an exception outside zanj's hierarchy: " << e.what());
    }
}

// ---- bytes ----------------------------------------------------------------------------------

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

std::vector<std::byte> to_vector(const std::string& s) {
    const auto b = bytes_of(s);
    return {b.begin(), b.end()};
}

template <class Bytes>
std::string to_text(const Bytes& v) {
    return {reinterpret_cast<const char*>(v.data()), v.size()};
}

using zanj_test::raw_zip::le;
using zanj_test::raw_zip::patch_le;

std::string compressed(zanj::compression_method method, const std::string& data) {
    zanj::detail::byte_buffer out;
    const std::span<const std::byte> pieces[] = {bytes_of(data)};
    zanj::detail::compress({method}, pieces, out);
    return to_text(out);
}

rz::entry stored(std::string name, std::string data) {
    rz::entry e;
    e.name = std::move(name);
    e.data = std::move(data);
    return e;
}

// A member compressed with `method` (0, 8 or 93), its sizes and CRC honest.
rz::entry member_of(std::string name, std::uint16_t method, const std::string& data) {
    if (method == 0) return stored(std::move(name), data);
    rz::entry e;
    e.name = std::move(name);
    e.method = method;
    e.data = compressed(static_cast<zanj::compression_method>(method), data);
    e.uncompressed_size = data.size();
    e.crc = rz::crc_of(data);
    return e;
}

// An archive of stored JSON members and `more`.
std::string zanj_zip(const std::string& tree, const std::string& meta, std::vector<rz::entry> more = {}) {
    std::vector<rz::entry> entries = {stored("__zanj_meta__.json", meta), stored("__zanj__.json", tree)};
    for (rz::entry& e : more) entries.push_back(std::move(e));
    return rz::build(entries);
}

std::string array_stub(const std::string& member, const std::string& shape, const std::string& dtype) {
    return R"({"__muutils_format__": "numpy.ndarray:external", "$ref": ")" + member + R"(", "shape": )" + shape +
           R"(, "dtype": ")" + dtype + R"("})";
}
std::string array_tree(const std::string& member, const std::string& shape, const std::string& dtype) {
    return R"({"w": )" + array_stub(member, shape, dtype) + "}";
}
std::string npy_info(const std::string& member, const std::string& path) {
    return "\"" + member + R"(": {"item_type": "npy", "path": )" + path + "}";
}
std::string array_meta(const std::string& member) {
    return R"({"externals_info": {)" + npy_info(member, R"(["w"])") + "}}";
}

zanj::archive open_bytes(const std::string& s, const zanj::config& c = {}) {
    return zanj::archive::from_bytes(to_vector(s), c);
}

// Opens the bytes as a zip and checks every local header.
void open_zip(const std::string& s, const read_limits& limits = {}) {
    zip_reader reader(bytes_of(s), nullptr, "mem.zip", limits);
    reader.check_local_headers();
}

std::string member_text(const zip_reader& reader, const zip_entry& e) {
    auto data = reader.read(e);
    return {reinterpret_cast<const char*>(data.get()), static_cast<std::size_t>(e.uncompressed_size)};
}

// What a ZIP64 end record and its locator declare.
struct zip64_fields {
    std::uint64_t count = 0;
    std::uint64_t directory_size = 0;
    std::uint64_t directory_offset = 0;
    std::uint64_t record_offset = 0; // where the locator says the record is
};

// A ZIP64 end record at `at` declaring `f`, its locator and a classic end record deferring to it.
std::string zip64_end_records(std::uint64_t at, const zip64_fields& f) {
    std::string out;
    rz::put(out, 0x06064b50, 4);
    rz::put(out, 44, 8); // the record's size after this field
    rz::put(out, 45, 2);
    rz::put(out, 45, 2);
    rz::put(out, 0, 4); // this disk
    rz::put(out, 0, 4); // the directory's disk
    rz::put(out, f.count, 8);
    rz::put(out, f.count, 8);
    rz::put(out, f.directory_size, 8);
    rz::put(out, f.directory_offset, 8);
    rz::put(out, 0x07064b50, 4);
    rz::put(out, 0, 4);
    rz::put(out, f.record_offset == 0 ? at : f.record_offset, 8);
    rz::put(out, 1, 4);
    rz::put(out, 0x06054b50, 4);
    rz::put(out, 0, 2);
    rz::put(out, 0, 2);
    rz::put(out, 0xFFFF, 2);
    rz::put(out, 0xFFFF, 2);
    rz::put(out, 0xFFFFFFFF, 4);
    rz::put(out, 0xFFFFFFFF, 4);
    rz::put(out, 0, 2);
    return out;
}

// `archive` (ending in a classic end record without comment) with a ZIP64 end record and
// locator inserted; `lie` may change what they declare.
std::string with_zip64_end(const std::string& archive, std::uint64_t count,
                           const std::function<void(zip64_fields&)>& lie = {}) {
    const std::size_t end = archive.size() - 22;
    REQUIRE(le(archive, end, 4) == 0x06054b50);
    zip64_fields f{count, le(archive, end + 12, 4), le(archive, end + 16, 4), 0};
    if (lie) lie(f);
    return archive.substr(0, end) + zip64_end_records(end, f);
}

// Where the records of an archive (without comment) are, read independently of the library.
struct zip_layout {
    struct member {
        std::string name;
        std::uint64_t local = 0, data_start = 0, data_end = 0, central = 0, central_end = 0;
    };
    std::vector<member> members;
    std::uint64_t directory = 0, zip64_record = 0, locator = 0, end = 0;
    bool zip64 = false;

    // Every offset where a record or a part of one starts or ends.
    std::set<std::uint64_t> boundaries() const {
        std::set<std::uint64_t> out = {directory, end, end + 22};
        if (zip64) out.insert({zip64_record, zip64_record + 56, locator, locator + 20});
        for (const member& m : members)
            out.insert({m.local, m.local + 30, m.local + 30 + m.name.size(), m.data_start, m.data_end, m.central,
                        m.central + 46, m.central + 46 + m.name.size(), m.central_end});
        return out;
    }
};

zip_layout layout_of(const std::string& bytes) {
    zip_layout l;
    l.end = bytes.size() - 22;
    REQUIRE(le(bytes, l.end, 4) == 0x06054b50);
    std::uint64_t count = le(bytes, l.end + 10, 2);
    l.directory = le(bytes, l.end + 16, 4);
    if (l.end >= 20 && le(bytes, l.end - 20, 4) == 0x07064b50) {
        l.zip64 = true;
        l.locator = l.end - 20;
        l.zip64_record = le(bytes, l.locator + 8, 8);
        count = le(bytes, l.zip64_record + 32, 8);
        l.directory = le(bytes, l.zip64_record + 48, 8);
    }
    std::uint64_t pos = l.directory;
    for (std::uint64_t i = 0; i < count; ++i) {
        REQUIRE(le(bytes, pos, 4) == 0x02014b50);
        zip_layout::member m;
        const std::size_t name_size = le(bytes, pos + 28, 2);
        m.name = bytes.substr(pos + 46, name_size);
        m.central = pos;
        m.central_end = pos + 46 + name_size + le(bytes, pos + 30, 2) + le(bytes, pos + 32, 2);
        m.local = le(bytes, pos + 42, 4);
        REQUIRE(le(bytes, m.local, 4) == 0x04034b50);
        m.data_start = m.local + 30 + le(bytes, m.local + 26, 2) + le(bytes, m.local + 28, 2);
        m.data_end = m.data_start + le(bytes, pos + 20, 4);
        l.members.push_back(m);
        pos = m.central_end;
    }
    return l;
}

const zip_layout::member& member_named(const zip_layout& l, const std::string& suffix) {
    for (const auto& m : l.members)
        if (m.name.size() >= suffix.size() && m.name.compare(m.name.size() - suffix.size(), suffix.size(), suffix) == 0)
            return m;
    FAIL("no member ending in " << suffix);
    return l.members.front();
}

// ---- arrays ---------------------------------------------------------------------------------

std::string shape_text(const zanj::shape_type& s) {
    std::string out = "(";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + (s.size() == 1 ? ",)" : ")");
}

std::string json_shape(const zanj::shape_type& s) {
    std::string out = "[";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

// Element k of every sample array: k + 1 (bool: k odd; complex: (k + 1) - (k + 1)i).
void put_element(zanj::ndarray& a, std::size_t k) {
    std::byte* p = a.bytes() + k * zanj::dtype_size(a.type());
    const double x = static_cast<double>(k + 1);
    auto put = [&](auto v) { std::memcpy(p, &v, sizeof v); };
    switch (a.type()) {
    case zanj::dtype::bool_: put(k % 2 == 1); break;
    case zanj::dtype::int8: put(static_cast<std::int8_t>(x)); break;
    case zanj::dtype::int16: put(static_cast<std::int16_t>(-x)); break;
    case zanj::dtype::int32: put(static_cast<std::int32_t>(x * 1000003)); break;
    case zanj::dtype::int64: put(static_cast<std::int64_t>(x) << 40); break;
    case zanj::dtype::uint8: put(static_cast<std::uint8_t>(x)); break;
    case zanj::dtype::uint16: put(static_cast<std::uint16_t>(x * 257)); break;
    case zanj::dtype::uint32: put(static_cast<std::uint32_t>(x * 16777259)); break;
    case zanj::dtype::uint64: put(static_cast<std::uint64_t>(x) << 50); break;
    case zanj::dtype::float16: put(zanj::detail::float_to_half(static_cast<float>(x) / 4)); break;
    case zanj::dtype::float32: put(static_cast<float>(x) / 8); break;
    case zanj::dtype::float64: put(x / 3); break;
    case zanj::dtype::complex64: put(std::complex<float>(static_cast<float>(x), static_cast<float>(-x))); break;
    case zanj::dtype::complex128: put(std::complex<double>(x, -x)); break;
    default: FAIL("no sample values for this dtype");
    }
}

zanj::ndarray sample(zanj::dtype t, const zanj::shape_type& shape) {
    zanj::ndarray a(t, shape);
    for (std::size_t k = 0; k < a.size(); ++k) put_element(a, k);
    return a;
}

// The data of `a` as an NPY member holds it: Fortran order and big-endian on request.
std::string npy_data(const zanj::ndarray& a, bool fortran, bool big_endian) {
    const std::size_t element = zanj::dtype_size(a.type());
    const std::size_t n = a.size();
    std::string out;
    out.reserve(n * element);
    const zanj::shape_type& shape = a.shape();
    std::vector<std::size_t> index(shape.size(), 0);
    for (std::size_t f = 0; f < n; ++f) {
        std::size_t c = 0;
        if (fortran) {
            for (std::size_t d = 0; d < shape.size(); ++d) c = c * shape[d] + index[d];
            for (std::size_t d = 0; d < shape.size(); ++d) { // the first axis varies fastest
                if (++index[d] < shape[d]) break;
                index[d] = 0;
            }
        } else {
            c = f;
        }
        std::string e(reinterpret_cast<const char*>(a.bytes()) + c * element, element);
        if (big_endian) {
            const std::size_t unit = zanj::is_complex(a.type()) ? element / 2 : element;
            for (std::size_t u = 0; u < element; u += unit) std::reverse(e.begin() + u, e.begin() + u + unit);
        }
        out += e;
    }
    return out;
}

// An NPY member: magic, version, a header of `header_length` bytes (0: padded so the data starts
// at a multiple of 64), the data.
std::string npy_bytes(const std::string& descr, bool fortran, const std::string& shape, const std::string& data,
                      int major = 1, std::size_t header_length = 0) {
    const std::string dict =
        "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
    const std::size_t prefix = major == 1 ? 10 : 12;
    std::size_t length = header_length;
    if (length == 0) {
        length = dict.size() + 1;
        length += (64 - (prefix + length) % 64) % 64;
    }
    REQUIRE(length >= dict.size() + 1);
    std::string out("\x93NUMPY", 6);
    out += static_cast<char>(major);
    out += '\0';
    rz::put(out, length, major == 1 ? 2 : 4);
    out += dict;
    out.append(length - dict.size() - 1, ' ');
    out += '\n';
    return out + data;
}

std::string npy_header_of(zanj::dtype t, const zanj::shape_type& shape) { return zanj::detail::npy_header(t, shape); }

zanj::ndarray decode(const std::string& npy, std::uint64_t max_header_size = zanj::detail::npy_max_header_size) {
    auto storage = zanj::detail::allocate_aligned(npy.size());
    if (!npy.empty()) std::memcpy(storage.get(), npy.data(), npy.size());
    return zanj::detail::npy_decode(storage, npy.size(), "x.npy", max_header_size);
}

// A .zanj holding `npy` as the stored member w.npy of the item /w, its stub declaring `shape`
// and `dtype`.
std::string npy_archive(const std::string& npy, const zanj::shape_type& shape, zanj::dtype t,
                        std::uint16_t method = 0) {
    return zanj_zip(array_tree("w.npy", json_shape(shape), std::string(zanj::dtype_name(t))), array_meta("w.npy"),
                    {member_of("w.npy", method, npy)});
}

// Whether a typed array holds the values of an ndarray of float64, in C order.
bool same_values(const xt::xarray<double>& got, const zanj::ndarray& expected) {
    const std::span<const double> want = expected.values<double>();
    return got.size() == want.size() && std::equal(got.begin(), got.end(), want.begin());
}

// The CRC-32 of n zero bytes, without n bytes.
std::uint32_t crc_of_zeros(std::uint64_t n) {
    constexpr std::uint64_t block = std::uint64_t{1} << 20;
    std::uint32_t power = rz::crc_of(std::string(block, '\0'));
    std::uint64_t power_length = block;
    std::uint32_t crc = 0;
    for (std::uint64_t blocks = n / block; blocks; blocks >>= 1) {
        if (blocks & 1) crc = zanj::detail::crc32_combine(crc, power, power_length);
        power = zanj::detail::crc32_combine(power, power, power_length);
        power_length *= 2;
    }
    const std::uint64_t rest = n % block;
    return zanj::detail::crc32_combine(crc, rz::crc_of(std::string(rest, '\0')), rest);
}

std::string nested_lists(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }
std::string nested_objects(std::size_t depth) {
    std::string out;
    for (std::size_t i = 0; i < depth; ++i) out += R"({"a": )";
    return out + "1" + std::string(depth, '}');
}

} // namespace

// ---- member counts ----------------------------------------------------------------------------

TEST_CASE("boundary: archives of 65,534, 65,535 and 65,536 members", "[boundary]") {
    auto check_reads = [](const std::string& bytes, std::size_t n) {
        zip_reader reader(bytes_of(bytes), nullptr, "many.zip");
        REQUIRE(reader.entries().size() == n);
        for (std::size_t i : {std::size_t{0}, n / 2, n - 1}) {
            const zip_entry* e = reader.find("m/" + std::to_string(i));
            REQUIRE(e);
            const auto got = member_text(reader, *e);
            CHECK(got == std::to_string(i));
        }
        read_limits exact;
        exact.max_members = n;
        CHECK_NOTHROW(zip_reader(bytes_of(bytes), nullptr, "many.zip", exact));
        exact.max_members = n - 1;
        expect(outcome::limit_error,
               "the archive lists " + std::to_string(n) + " members, above read_limits::max_members (" +
                   std::to_string(n - 1) + ")",
               [&] { zip_reader(bytes_of(bytes), nullptr, "many.zip", exact); });
    };
    for (const std::size_t n : {std::size_t{65534}, std::size_t{65535}, std::size_t{65536}}) {
        INFO(n << " members");
        // Our writer: a classic end record up to 65,534; from 65,535 on its count says 0xFFFF and
        // defers to a ZIP64 end record.
        count_case("zip_writer, " + std::to_string(n) + " members");
        zanj::detail::zip_writer writer(zanj::detail::in_memory, "many.zip");
        for (std::size_t i = 0; i < n; ++i)
            writer.add("m/" + std::to_string(i), bytes_of(std::to_string(i)), zanj::detail::member_options{});
        writer.commit();
        const std::string written = to_text(writer.contents());
        const zip_layout layout = layout_of(written);
        CHECK(layout.zip64 == (n >= 65535));
        CHECK(le(written, layout.end + 10, 2) == std::min<std::size_t>(n, 0xFFFF));
        CHECK(layout.members.size() == n);
        check_reads(written, n);
    }
    std::vector<rz::entry> entries;
    for (std::size_t i = 0; i < 65536; ++i) entries.push_back(stored("m/" + std::to_string(i), std::to_string(i)));
    {
        // Hand-made: a classic count of 0xFFFF without ZIP64 records means 65,535 members.
        std::vector<rz::entry> some(entries.begin(), entries.begin() + 65535);
        const std::string classic = rz::build(some);
        count_case("classic end record counting 65,535 members, no ZIP64 record");
        check_reads(classic, 65535);
        count_case("ZIP64 end record counting 65,535 members");
        check_reads(with_zip64_end(classic, 65535), 65535);
        some.pop_back();
        count_case("classic end record counting 65,534 members");
        check_reads(rz::build(some), 65534);
        count_case("ZIP64 end record counting 65,536 members");
        check_reads(with_zip64_end(rz::build(entries), 65536), 65536);
    }
    // Whole .zanj archives of that many members (the two JSON members and fillers) open and read.
    for (const std::size_t n : {std::size_t{65534}, std::size_t{65535}, std::size_t{65536}}) {
        INFO(".zanj of " << n << " members");
        count_case(".zanj archive of " + std::to_string(n) + " members");
        std::vector<rz::entry> fillers(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(n - 2));
        std::string bytes = zanj_zip(R"({"a": 1})", "{}", fillers);
        if (n >= 65535) bytes = with_zip64_end(bytes, n);
        const zanj::archive a = open_bytes(bytes);
        const auto got = a.read()["a"].as_int();
        CHECK(got == 1);
        CHECK(a.items().size() == 2);
    }
}

// ---- 4 GiB +- 1, declared -------------------------------------------------------------------

TEST_CASE("boundary: sizes, offsets and counts of 4 GiB +- 1 declared in headers", "[boundary]") {
    const std::string past_end = "archive is truncated: member 'a.bin' extends past the end of the file";
    for (const std::uint64_t s : around_four_gib) {
        INFO("declared " << s);
        const std::string n = std::to_string(s);
        {
            count_case("stored member declaring " + n + " bytes");
            rz::entry e = stored("a.bin", "abc");
            e.compressed_size = e.uncompressed_size = s;
            const std::string bytes = rz::build({e});
            expect(outcome::format_error, past_end, [&] { open_zip(bytes); });
            expect(outcome::format_error, past_end, [&] { open_zip(bytes, read_limits::none()); });
        }
        {
            count_case("local header offset " + n);
            rz::entry e = stored("a.bin", "abc");
            e.offset = s;
            const std::string bytes = rz::build({e});
            expect(outcome::format_error, past_end, [&] { open_zip(bytes, read_limits::none()); });
        }
        {
            count_case("deflate member declaring " + n + " bytes uncompressed");
            rz::entry e = member_of("d.bin", 8, "abc");
            e.uncompressed_size = s;
            const std::string bytes = rz::build({e});
            expect(outcome::limit_error,
                   "member 'd.bin' declares " + n + " bytes uncompressed from " + std::to_string(e.data.size()) +
                       ", a compression ratio above read_limits::max_compression_ratio",
                   [&] { open_zip(bytes); });
            // Without limits it opens (nothing is decompressed), the size read exactly.
            expect(outcome::ok, "", [&] {
                zip_reader reader(bytes_of(bytes), nullptr, "mem.zip", read_limits::none());
                CHECK(reader.entries().at(0).uncompressed_size == s);
            });
        }
        const std::string small = rz::build({stored("a.bin", "abc")});
        for (const char* field : {"count", "directory size", "directory offset", "locator"}) {
            count_case(std::string("ZIP64 end record: ") + field + " " + n);
            const std::string bytes = with_zip64_end(small, 1, [&](zip64_fields& f) {
                if (field == std::string("count")) f.count = s;
                if (field == std::string("directory size")) f.directory_size = s;
                if (field == std::string("directory offset")) f.directory_offset = s;
                if (field == std::string("locator")) f.record_offset = s;
            });
            const std::string message =
                field == std::string("count") ? "corrupt central directory: it lists " + n +
                                                    " members but has room "
                                                    "for fewer"
                : field == std::string("locator")
                    ? std::string("corrupt ZIP64 end-of-central-directory locator")
                    : std::string("archive is truncated or corrupt: its central directory lies outside the file");
            expect(outcome::format_error, message, [&] { open_zip(bytes, read_limits::none()); });
        }
        {
            count_case("NPY header declaring " + n + " bytes of uint8 in a member of none");
            const zanj::shape_type shape{static_cast<std::size_t>(s)};
            const std::string bytes =
                npy_archive(npy_bytes("|u1", false, shape_text(shape), ""), shape, zanj::dtype::uint8);
            const zanj::archive a = open_bytes(bytes);
            const std::string message =
                "shape " + shape_text(shape) + " of uint8 needs " + n + " bytes of data, the member holds 0";
            expect(outcome::format_error, message, [&] { a.array("/w"); });
            expect(outcome::format_error, message, [&] { a.rows("/w", 0, 1); });
            expect(outcome::format_error, message, [&] { a.verify(); });
        }
    }
    // 32-bit fields of 0xFFFFFFFF, and the classic end record's 32-bit fields at their largest.
    const std::string small = rz::build({stored("a.bin", "abc")});
    const std::size_t central = le(small, small.size() - 22 + 16, 4);
    {
        count_case("0xFFFFFFFF sizes without a ZIP64 extra field");
        std::string bytes = small;
        patch_le(bytes, central + 20, 0xFFFFFFFF, 4);
        patch_le(bytes, central + 24, 0xFFFFFFFF, 4);
        expect(outcome::format_error, past_end, [&] { open_zip(bytes, read_limits::none()); });
        count_case("0xFFFFFFFF offset without a ZIP64 extra field");
        bytes = small;
        patch_le(bytes, central + 42, 0xFFFFFFFF, 4);
        expect(outcome::format_error, past_end, [&] { open_zip(bytes, read_limits::none()); });
    }
    {
        // The sizes defer to a ZIP64 field that holds 4 bytes, or that claims more than the extra.
        auto with_extra = [&](const std::string& extra) {
            std::string c = rz::central_header("a.bin", 0, rz::crc_of("abc"), 3, 3, 0);
            patch_le(c, 20, 0xFFFFFFFF, 4);
            patch_le(c, 24, 0xFFFFFFFF, 4);
            patch_le(c, 30, extra.size(), 2);
            c += extra;
            const std::string local = rz::local_header("a.bin", 0, rz::crc_of("abc"), 3, 3) + "abc";
            return local + c + rz::end_record(1, c.size(), local.size());
        };
        std::string short_field;
        rz::put(short_field, 1, 2);
        rz::put(short_field, 4, 2);
        rz::put(short_field, 3, 4);
        count_case("ZIP64 extra field of 4 bytes for two 8-byte sizes");
        expect(outcome::format_error, "corrupt ZIP64 extra field in member 'a.bin'",
               [&] { open_zip(with_extra(short_field)); });
        std::string overlong;
        rz::put(overlong, 1, 2);
        rz::put(overlong, 16, 2);
        rz::put(overlong, 3, 8);
        count_case("extra field claiming more bytes than it has");
        expect(outcome::format_error, "corrupt extra field in member 'a.bin'", [&] { open_zip(with_extra(overlong)); });
    }
    for (const std::uint64_t s : {four_gib - 2, four_gib - 1}) {
        for (const int field : {12, 16}) {
            count_case("classic end record " + std::string(field == 12 ? "directory size " : "directory offset ") +
                       std::to_string(s));
            std::string bytes = small;
            patch_le(bytes, bytes.size() - 22 + field, s, 4);
            expect(outcome::format_error, "its central directory lies outside the file",
                   [&] { open_zip(bytes, read_limits::none()); });
        }
    }
}

// ---- 4 GiB +- 1, real -------------------------------------------------------------------------

namespace {

// A file written piece by piece at given offsets; what lies between is a hole.
void write_sparse(const fs::path& path, const std::vector<std::pair<std::uint64_t, std::string>>& pieces) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    for (const auto& [offset, bytes] : pieces) {
        const auto written = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
        REQUIRE(written == static_cast<ssize_t>(bytes.size()));
    }
    REQUIRE(::close(fd) == 0);
}

bool is_sparse(const fs::path& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_blocks) * 512 < (std::uint64_t{64} << 20);
}

// A .zanj whose JSON members come first, then `layout` places the other members; the central
// directory and ZIP64 end records follow the last.
struct sparse_member {
    rz::entry entry; // name, declared sizes and CRC (data unused)
    std::uint64_t offset = 0;
    std::vector<std::pair<std::uint64_t, std::string>> data; // pieces, relative to the data start
};

void write_sparse_zanj(const fs::path& path, const std::string& tree, const std::string& meta,
                       const std::vector<sparse_member>& members) {
    std::vector<std::pair<std::uint64_t, std::string>> pieces;
    std::string head;
    std::string central;
    for (const auto& [name, data] : {std::pair<std::string, std::string>{"__zanj_meta__.json", meta},
                                     std::pair<std::string, std::string>{"__zanj__.json", tree}}) {
        central += rz::central_header(name, 0, rz::crc_of(data), data.size(), data.size(), head.size());
        head += rz::local_header(name, 0, rz::crc_of(data), data.size(), data.size()) + data;
    }
    pieces.emplace_back(0, head);
    std::uint64_t end = head.size();
    for (const sparse_member& m : members) {
        const rz::entry& e = m.entry;
        REQUIRE(m.offset >= end);
        const std::uint64_t size = *e.compressed_size;
        const std::string local = rz::local_header(e.name, 0, *e.crc, size, size);
        pieces.emplace_back(m.offset, local);
        for (const auto& [at, bytes] : m.data) pieces.emplace_back(m.offset + local.size() + at, bytes);
        central += rz::central_header(e.name, 0, *e.crc, size, size, m.offset);
        end = m.offset + local.size() + size;
    }
    const std::string records = zip64_end_records(end + central.size(), {members.size() + 2, central.size(), end, 0});
    pieces.emplace_back(end, central + records);
    write_sparse(path, pieces);
}

} // namespace

TEST_CASE("boundary: members at offsets and of sizes of 4 GiB +- 1 in sparse files", "[boundary]") {
    REQUIRE(crc_of_zeros((std::uint64_t{3} << 20) + 5) == rz::crc_of(std::string((std::size_t{3} << 20) + 5, '\0')));
    const fs::path dir = fresh_dir("boundary");
    const zanj::ndarray w = sample(zanj::dtype::float64, {3});
    const std::string w_npy = npy_bytes("<f8", false, "(3,)", npy_data(w, false, false));
    const std::string tree = array_tree("w.npy", "[3]", "float64");

    for (const std::uint64_t target : around_four_gib) {
        INFO("w.npy's local header at " << target);
        count_case("member whose local header is at " + std::to_string(target));
        const fs::path file = dir / "offset.zanj";
        // pad.bin, a hole of zeros, places w.npy's local header at `target`.
        const std::uint64_t pad_offset = 4096;
        const std::uint64_t pad_size = target - pad_offset - 30 - 7;
        sparse_member pad{stored("pad.bin", ""), pad_offset, {}};
        pad.entry.compressed_size = pad.entry.uncompressed_size = pad_size;
        pad.entry.crc = crc_of_zeros(pad_size);
        sparse_member member{stored("w.npy", w_npy), target, {{0, w_npy}}};
        member.entry.compressed_size = member.entry.uncompressed_size = w_npy.size();
        member.entry.crc = rz::crc_of(w_npy);
        write_sparse_zanj(file, tree, array_meta("w.npy"), {pad, member});
        if (!is_sparse(file)) {
            WARN("the file system does not keep holes: skipping the sparse cases");
            fs::remove(file);
            return;
        }
        expect(outcome::ok, "", [&] {
            zip_reader reader(file);
            REQUIRE(reader.find("w.npy"));
            CHECK(reader.find("w.npy")->local_header_offset == target);
            CHECK(reader.find("pad.bin")->uncompressed_size == pad_size);
            reader.verify(*reader.find("w.npy"));
            const zanj::archive a(file);
            const auto copied = a.array("/w");
            CHECK(copied == w);
            const auto viewed = a.view("/w", true);
            CHECK(viewed == w);
            const auto some_rows = a.rows("/w", 1, 3);
            CHECK(some_rows == w.rows(1, 3));
            const auto viewed_rows = a.rows("/w", 2, 3, {zanj::access::view});
            CHECK(viewed_rows == w.rows(2, 3));
        });
        fs::remove(file);
    }

    for (const std::uint64_t size : around_four_gib) {
        INFO("w.npy of " << size << " bytes");
        count_case("stored .npy member of " + std::to_string(size) + " bytes");
        const fs::path file = dir / "size.zanj";
        const std::size_t header_size = npy_header_of(zanj::dtype::uint8, {std::size_t{4000000000}}).size();
        const std::size_t n = static_cast<std::size_t>(size - header_size);
        const std::string header = npy_header_of(zanj::dtype::uint8, {n});
        REQUIRE(header.size() == header_size);
        // Zeros but for the last element, 42.
        sparse_member member{stored("w.npy", ""), 4096, {{0, header}, {size - 1, "*"}}};
        member.entry.compressed_size = member.entry.uncompressed_size = size;
        member.entry.crc = zanj::detail::crc32_combine(
            zanj::detail::crc32_combine(rz::crc_of(header), crc_of_zeros(n - 1), n - 1), rz::crc_of("*"), 1);
        write_sparse_zanj(file, array_tree("w.npy", "[" + std::to_string(n) + "]", "uint8"), array_meta("w.npy"),
                          {member});
        if (!is_sparse(file)) {
            WARN("the file system does not keep holes: skipping the sparse cases");
            fs::remove(file);
            return;
        }
        expect(outcome::ok, "", [&] {
            zip_reader reader(file);
            REQUIRE(reader.find("w.npy"));
            CHECK(reader.find("w.npy")->uncompressed_size == size);
            CHECK(reader.find("w.npy")->compressed_size == size);
            const zanj::archive a(file);
            const auto info = a.find("/w");
            REQUIRE(info);
            REQUIRE(info->array);
            CHECK(info->array->uncompressed_size == size);
            CHECK(info->array->shape == zanj::shape_type{n});
            const zanj::ndarray v = a.view("/w"); // mapped: nothing is read
            REQUIRE(v.shape() == zanj::shape_type{n});
            CHECK(v.values<std::uint8_t>()[0] == 0);
            CHECK(v.values<std::uint8_t>()[n - 2] == 0);
            CHECK(v.values<std::uint8_t>()[n - 1] == 42);
            const zanj::ndarray last = a.rows("/w", n - 2, n); // a copy of two bytes
            REQUIRE(last.shape() == zanj::shape_type{2});
            CHECK(last.values<std::uint8_t>()[0] == 0);
            CHECK(last.values<std::uint8_t>()[1] == 42);
            expect(outcome::usage_error, "rows " + std::to_string(n) + " to " + std::to_string(n + 1) + " are outside",
                   [&] { a.rows("/w", n, n + 1); });
        });
        fs::remove(file);
    }
}

// ---- 0-d and empty arrays -------------------------------------------------------------------

TEST_CASE("boundary: 0-d and empty arrays round-trip in every storage", "[boundary]") {
    struct storage {
        const char* name;
        zanj::config settings;
        bool external;
    };
    std::vector<storage> storages;
    for (auto mode :
         {zanj::array_mode::array_list_meta, zanj::array_mode::array_hex_meta, zanj::array_mode::array_b64_meta}) {
        zanj::config c;
        c.internal_array_mode = mode;
        c.external_array_threshold = SIZE_MAX;
        storages.push_back({zanj::to_string(mode).data(), c, false});
    }
    for (auto method :
         {zanj::compression_method::store, zanj::compression_method::deflate, zanj::compression_method::zstd}) {
        zanj::config c;
        c.external_array_threshold = 0;
        c.compress.arrays = {method};
        storages.push_back({zanj::to_string(method).data(), c, true});
    }
    const zanj::shape_type shapes[] = {{}, {0}, {2, 0}, {0, 3}, {0, 0, 0}, {1}};
    for (const storage& s : storages) {
        for (const zanj::shape_type& shape : shapes) {
            for (const zanj::dtype t : {zanj::dtype::float64, zanj::dtype::bool_, zanj::dtype::complex64}) {
                const std::string label =
                    std::string(s.name) + ", " + std::string(zanj::dtype_name(t)) + " " + shape_text(shape);
                INFO(label);
                count_case("array " + label);
                const zanj::ndarray original = sample(t, shape);
                const std::map<std::string, zanj::ndarray> saved{{"w", original}};
                expect(outcome::ok, "", [&] {
                    const zanj::archive a =
                        zanj::archive::from_bytes(zanj::ZANJ(s.settings).save_to_bytes(saved), s.settings);
                    const auto info = a.find("/w");
                    REQUIRE(info);
                    REQUIRE(info->array);
                    // 0-d arrays stay inline (numpy.ndarray:zero_dim), as Python's zanj writes them.
                    CHECK(info->array->member.empty() == (!s.external || shape.empty()));
                    CHECK(info->array->shape == shape);
                    const auto copied = a.array("/w");
                    CHECK(copied == original);
                    const auto viewed = a.view("/w", true);
                    CHECK(viewed == original);
                    const auto typed = a.read<std::map<std::string, zanj::ndarray>>().at("w");
                    CHECK(typed == original);
                    if (shape.empty()) {
                        expect(outcome::usage_error, "a 0-d array has no rows to select", [&] { a.rows("/w", 0, 0); });
                    } else if (shape[0] == 0) {
                        const auto no_rows = a.rows("/w", 0, 0);
                        CHECK(no_rows == original);
                        expect(outcome::usage_error, "rows 0 to 1 are outside an array of shape " + shape_text(shape),
                               [&] { a.rows("/w", 0, 1); });
                    }
                });
            }
        }
    }
}

// ---- NPY byte orders, Fortran order, versions -------------------------------------------------

TEST_CASE("boundary: big-endian and Fortran-order NPY members of every dtype", "[boundary]") {
    const std::pair<const char*, zanj::dtype> descrs[] = {
        {"|b1", zanj::dtype::bool_},       {"|i1", zanj::dtype::int8},      {"|u1", zanj::dtype::uint8},
        {"<i2", zanj::dtype::int16},       {">i2", zanj::dtype::int16},     {">u2", zanj::dtype::uint16},
        {"<i4", zanj::dtype::int32},       {">i4", zanj::dtype::int32},     {">u4", zanj::dtype::uint32},
        {">i8", zanj::dtype::int64},       {">u8", zanj::dtype::uint64},    {">f2", zanj::dtype::float16},
        {">f4", zanj::dtype::float32},     {"<f8", zanj::dtype::float64},   {">f8", zanj::dtype::float64},
        {"=f8", zanj::dtype::float64},     {">c8", zanj::dtype::complex64}, {"<c16", zanj::dtype::complex128},
        {">c16", zanj::dtype::complex128},
    };
    // Each decoded alone and as the stored member of an archive (copied, viewed, by rows).
    auto check = [](const std::string& npy, const zanj::ndarray& expected) {
        expect(outcome::ok, "", [&] {
            const auto decoded = decode(npy);
            CHECK(decoded == expected);
            const zanj::archive a = open_bytes(npy_archive(npy, expected.shape(), expected.type()));
            const auto copied = a.array("/w");
            CHECK(copied == expected);
            const auto viewed = a.view("/w");
            CHECK(viewed == expected);
            if (!expected.shape().empty() && expected.shape()[0] > 0) {
                const auto some_rows = a.rows("/w", 1, expected.shape()[0]);
                CHECK(some_rows == expected.rows(1, expected.shape()[0]));
            }
            a.verify();
        });
    };
    for (const auto& [descr, t] : descrs) {
        for (const bool fortran : {false, true}) {
            const std::string label = std::string(descr) + (fortran ? " Fortran" : " C") + " order (2, 3)";
            INFO(label);
            count_case(label);
            const zanj::ndarray expected = sample(t, {2, 3});
            check(npy_bytes(descr, fortran, "(2, 3)", npy_data(expected, fortran, descr[0] == '>')), expected);
        }
    }
    const zanj::shape_type shapes[] = {{}, {5}, {2, 3, 4}, {0, 3}, {3, 0}, {1, 1, 1}, {4, 1, 2}};
    for (const zanj::shape_type& shape : shapes) {
        const std::string label = ">f8 Fortran order " + shape_text(shape);
        INFO(label);
        count_case(label);
        const zanj::ndarray expected = sample(zanj::dtype::float64, shape);
        check(npy_bytes(">f8", true, shape_text(shape), npy_data(expected, true, true)), expected);
    }
    // NPY 2.0 and 3.0 (a 4-byte header length; 3.0 allows UTF-8 in the header).
    for (const int major : {2, 3}) {
        const std::string label = "NPY " + std::to_string(major) + ".0, >c16 Fortran order (2, 3)";
        INFO(label);
        count_case(label);
        const zanj::ndarray expected = sample(zanj::dtype::complex128, {2, 3});
        check(npy_bytes(">c16", true, "(2, 3)", npy_data(expected, true, true), major), expected);
    }
    for (const int major : {0, 4, 255}) {
        const std::string label = "NPY version " + std::to_string(major) + ".0";
        INFO(label);
        count_case(label);
        const std::string npy = npy_bytes("<f8", false, "(1,)", std::string(8, '\0'), major);
        const std::string message = "unsupported NPY version " + std::to_string(major) + ".0";
        expect(outcome::format_error, message, [&] { decode(npy); });
        const zanj::archive a = open_bytes(npy_archive(npy, {1}, zanj::dtype::float64));
        expect(outcome::format_error, message, [&] { a.array("/w"); });
        expect(outcome::format_error, message, [&] { a.view("/w"); });
    }
}

TEST_CASE("boundary: typed reads of compressed NPY members in every byte order and layout", "[boundary]") {
    // Plain members stream into the array; big-endian and Fortran-order ones are converted.
    for (const std::uint16_t method : {std::uint16_t{0}, std::uint16_t{8}, std::uint16_t{93}}) {
        for (const char* descr : {"<f8", ">f8"}) {
            for (const bool fortran : {false, true}) {
                for (const int major : {1, 2}) {
                    const std::string label = std::string(descr) + (fortran ? " Fortran" : " C") + " order, NPY " +
                                              std::to_string(major) + ".0, method " + std::to_string(method);
                    INFO(label);
                    count_case(label);
                    const zanj::ndarray expected = sample(zanj::dtype::float64, {2, 3});
                    const std::string npy =
                        npy_bytes(descr, fortran, "(2, 3)", npy_data(expected, fortran, descr[0] == '>'), major);
                    const zanj::archive a = open_bytes(npy_archive(npy, {2, 3}, zanj::dtype::float64, method));
                    expect(outcome::ok, "", [&] {
                        const auto got = a.read<xt::xarray<double>>("/w");
                        CHECK(got.shape() == std::vector<std::size_t>{2, 3});
                        CHECK(same_values(got, expected));
                    });
                }
            }
        }
    }
    // A stub naming another shape is refused, and so is an array of another rank or dtype.
    for (const std::uint16_t method : {std::uint16_t{8}, std::uint16_t{93}}) {
        INFO("method " << method);
        const zanj::ndarray w = sample(zanj::dtype::float64, {3});
        const std::string npy = npy_header_of(zanj::dtype::float64, {3}) + npy_data(w, false, false);
        const zanj::archive a = open_bytes(npy_archive(npy, {4}, zanj::dtype::float64, method));
        expect(outcome::format_error, "the stub of 'w.npy' says shape (4,), the member holds (3,)",
               [&] { a.read<xt::xarray<double>>("/w"); });
        const zanj::archive b = open_bytes(npy_archive(npy, {3}, zanj::dtype::float64, method));
        expect(outcome::type_error, "", [&] { b.read<xt::xtensor<double, 2>>("/w"); });
        expect(outcome::type_error, "", [&] { b.read<xt::xarray<float>>("/w"); });
    }
}

// ---- NPY header lengths -----------------------------------------------------------------------

TEST_CASE("boundary: NPY headers of 9,999 to 10,001 and 65,535 bytes, versions 1.0 to 3.0", "[boundary]") {
    const zanj::ndarray expected = sample(zanj::dtype::float64, {3});
    const std::string data = npy_data(expected, false, false);
    struct header_case {
        int major;
        std::size_t length;
        std::uint64_t limit; // read_limits::max_npy_header_size
        outcome want;
        std::string text;
    };
    const std::string refused = " bytes exceeds numpy's limit of 10000 (read_limits::max_npy_header_size)";
    const header_case cases[] = {
        {1, 9999, 10000, outcome::ok, ""},
        {1, 10000, 10000, outcome::ok, ""},
        {1, 10001, 10000, outcome::limit_error, "header of 10001" + refused},
        {2, 10000, 10000, outcome::ok, ""},
        {2, 10001, 10000, outcome::limit_error, "header of 10001" + refused},
        {3, 10000, 10000, outcome::ok, ""},
        {3, 10001, 10000, outcome::limit_error, "header of 10001" + refused},
        {1, 65535, 10000, outcome::limit_error, "header of 65535" + refused},
        {1, 65535, 65535, outcome::ok, ""},
        {2, 65536, 65535, outcome::limit_error,
         "header of 65536 bytes exceeds read_limits::max_npy_header_size (65535)"},
        {2, 65536, 65536, outcome::ok, ""},
    };
    for (const header_case& c : cases) {
        const std::string label = "NPY " + std::to_string(c.major) + ".0 header of " + std::to_string(c.length) +
                                  " bytes, limit " + std::to_string(c.limit);
        INFO(label);
        count_case(label);
        const std::string npy = npy_bytes("<f8", false, "(3,)", data, c.major, c.length);
        expect(c.want, c.text, [&] {
            const auto got = decode(npy, c.limit);
            CHECK(got == expected);
        });
        for (const std::uint16_t method : {std::uint16_t{0}, std::uint16_t{8}, std::uint16_t{93}}) {
            zanj::config settings;
            settings.limits.max_npy_header_size = c.limit;
            const zanj::archive a = open_bytes(npy_archive(npy, {3}, zanj::dtype::float64, method), settings);
            expect(c.want, c.text, [&] {
                const auto got = a.array("/w");
                CHECK(got == expected);
            });
            expect(c.want, c.text, [&] {
                const auto got = a.view("/w");
                CHECK(got == expected);
            });
            // A typed read puts the data straight into its place (a compressed member's header is
            // read first, then the rest decompressed into the array).
            expect(c.want, c.text, [&] {
                const auto got = a.read<xt::xarray<double>>("/w");
                CHECK(same_values(got, expected));
            });
        }
    }
    {
        // A 4-byte length field at its largest: refused by the limit, or found to be truncated.
        count_case("NPY 2.0 header length 0xFFFFFFFF");
        std::string npy = npy_bytes("<f8", false, "(3,)", data, 2);
        patch_le(npy, 8, 0xFFFFFFFF, 4);
        expect(outcome::limit_error, "header of 4294967295" + refused, [&] { decode(npy); });
        expect(outcome::format_error, "invalid NPY data: header is truncated",
               [&] { decode(npy, read_limits::unlimited); });
        const zanj::archive a = open_bytes(npy_archive(npy, {3}, zanj::dtype::float64));
        expect(outcome::limit_error, "header of 4294967295" + refused, [&] { a.array("/w"); });
        expect(outcome::limit_error, "header of 4294967295" + refused, [&] { a.view("/w"); });
    }
    // The writer switches to version 2.0 when the header outgrows 65,535 bytes: shapes of
    // thousands of dimensions around that point, each parsed back.
    std::size_t first_v2 = 0;
    for (std::size_t ndim = 21700; ndim < 22000 && !first_v2; ++ndim)
        if (zanj::detail::npy_header(zanj::dtype::uint8, zanj::shape_type(ndim, 1))[6] == 2) first_v2 = ndim;
    REQUIRE(first_v2 != 0);
    for (std::size_t ndim = first_v2 - 2; ndim <= first_v2 + 1; ++ndim) {
        INFO(ndim << " dimensions");
        count_case("written header for " + std::to_string(ndim) + " dimensions");
        const zanj::shape_type shape(ndim, 1);
        const std::string header = zanj::detail::npy_header(zanj::dtype::uint8, shape);
        CHECK(static_cast<int>(header[6]) == (ndim < first_v2 ? 1 : 2));
        CHECK(header.size() % 64 == 0);
        CHECK(header.size() - (ndim < first_v2 ? 10 : 12) == le(header, 8, ndim < first_v2 ? 2 : 4));
        expect(outcome::ok, "", [&] {
            const auto info = zanj::detail::npy_parse_header(bytes_of(header + "x"), "x.npy", read_limits::unlimited);
            CHECK(info.shape == shape);
            CHECK(info.data_offset == header.size());
        });
    }
}

// ---- truncation ---------------------------------------------------------------------------------

namespace {

boundary_test::record sample_record() {
    boundary_test::record r;
    r.a = sample(zanj::dtype::float64, {8});
    r.b = sample(zanj::dtype::int32, {2, 3});
    r.l = {1, -2, 3, -4};
    r.s = "boundary";
    return r;
}

// Stored arrays, a zstd array (b), a deflated .jsonl (l) and deflated JSON members.
zanj::config record_settings() {
    zanj::config c;
    c.external_array_threshold = 4;
    c.external_list_threshold = 3;
    zanj::storage_hint zstd;
    zstd.path = "/b";
    zstd.compression = zanj::compression{zanj::compression_method::zstd};
    c.storage_hints.push_back(zstd);
    return c;
}

void check_record(const zanj::archive& a, const boundary_test::record& expected) {
    const auto got = a.read<boundary_test::record>();
    CHECK(got.a == expected.a);
    CHECK(got.b == expected.b);
    CHECK(got.l == expected.l);
    CHECK(got.s == expected.s);
}

} // namespace

TEST_CASE("boundary: an archive truncated at every structural boundary and next to it", "[boundary]") {
    const boundary_test::record original = sample_record();
    const std::string classic = to_text(zanj::ZANJ(record_settings()).save_to_bytes(original));
    const zip_layout classic_layout = layout_of(classic);
    REQUIRE(classic_layout.members.size() == 5); // two JSON members, a.npy, b.npy, l.jsonl
    const std::string zip64 = with_zip64_end(classic, classic_layout.members.size());
    for (const auto& variant : {std::pair{"classic", classic}, std::pair{"ZIP64", zip64}}) {
        const char* const kind = variant.first;
        const std::string& bytes = variant.second; // not a structured binding: lambdas capture it
        INFO(kind << " end records");
        // The whole archive reads back exactly.
        count_case(std::string("untruncated archive, ") + kind + " end records");
        expect(outcome::ok, "", [&] { check_record(open_bytes(bytes), original); });
        std::set<std::uint64_t> cuts;
        for (const std::uint64_t b : layout_of(bytes).boundaries())
            for (const std::uint64_t c : {b - 1, b, b + 1})
                if (b > 0 && c < bytes.size()) cuts.insert(c);
        cuts.insert(0);
        for (const std::uint64_t cut : cuts) {
            INFO("cut to " << cut << " of " << bytes.size() << " bytes");
            count_case(std::string(kind) + " archive cut to " + std::to_string(cut) + " bytes");
            const std::string prefix = bytes.substr(0, cut);
            const std::string message = cut == 0   ? "not a zip archive (the file is empty)"
                                        : cut == 1 ? "not a zip archive (no end-of-central-directory record)"
                                                   : "archive is truncated (no end-of-central-directory record)";
            expect(outcome::format_error, message, [&] { open_bytes(prefix); });
        }
    }
}

TEST_CASE("boundary: members truncated inside, at each boundary of their contents", "[boundary]") {
    const zanj::ndarray w = sample(zanj::dtype::float64, {3});
    const std::string npy = npy_header_of(zanj::dtype::float64, {3}) + npy_data(w, false, false);
    const std::size_t h = npy.size() - 24; // the header
    // The NPY member: in its magic, version, length field, header and data.
    for (const std::size_t cut :
         {std::size_t{0}, std::size_t{1}, std::size_t{5}, std::size_t{6}, std::size_t{7}, std::size_t{8},
          std::size_t{9}, std::size_t{10}, std::size_t{11}, h - 1, h, h + 1, h + 16, h + 23}) {
        INFO("w.npy cut to " << cut << " bytes");
        count_case("NPY member cut to " + std::to_string(cut) + " bytes");
        const std::string message =
            cut < 10  ? "invalid NPY data: missing the \\x93NUMPY magic"
            : cut < h ? "invalid NPY data: header is truncated"
                      : "shape (3,) of float64 needs 24 bytes of data, the member holds " + std::to_string(cut - h);
        for (const std::uint16_t method : {std::uint16_t{0}, std::uint16_t{93}}) {
            const zanj::archive a = open_bytes(npy_archive(npy.substr(0, cut), {3}, zanj::dtype::float64, method));
            expect(outcome::format_error, message, [&] { a.array("/w"); });
            expect(outcome::format_error, message, [&] { a.view("/w"); });
            expect(outcome::format_error, message, [&] { a.verify(); });
            expect(outcome::format_error, message, [&] { a.read<xt::xarray<double>>("/w"); });
        }
    }
    // __zanj__.json and __zanj_meta__.json cut anywhere: no prefix of a JSON object is JSON.
    const std::string tree = R"({"a": [1, 2.5, {"b": "text"}], "n": null, "t": true})";
    for (std::size_t cut = 0; cut < tree.size(); ++cut) {
        INFO("__zanj__.json cut to " << cut);
        count_case("__zanj__.json cut to " + std::to_string(cut) + " bytes");
        expect(outcome::format_error, "__zanj__.json", [&] { open_bytes(zanj_zip(tree.substr(0, cut), "{}")); });
        expect(outcome::format_error, "invalid JSON", [&] { open_bytes(zanj_zip(tree.substr(0, cut), "{}")); });
    }
    const std::string meta = R"({"externals_info": {}})";
    for (const std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{10}, meta.size() - 1}) {
        INFO("__zanj_meta__.json cut to " << cut);
        count_case("__zanj_meta__.json cut to " + std::to_string(cut) + " bytes");
        // Opening and listing need the tree alone; the first read checks the meta.
        const zanj::archive a = open_bytes(zanj_zip("{}", meta.substr(0, cut)));
        CHECK(a.items().size() == 1);
        expect(outcome::format_error, "__zanj_meta__.json", [&] { a.read(); });
        expect(outcome::format_error, "__zanj_meta__.json", [&] { a.meta(); });
    }
    // A .jsonl member cut inside a line names the line; cut at a line's end, it holds fewer rows
    // than its stub records.
    const std::string lines = "1\n[2, 3]\n{\"x\": 4}\n";
    const std::string list_tree =
        R"j({"l": {"__muutils_format__": "list:external", "$ref": "l.jsonl", "len(data)": 3}})j";
    const std::string list_meta = R"({"externals_info": {"l.jsonl": {"item_type": "jsonl", "path": ["l"]}}})";
    for (const std::size_t cut : {std::size_t{4}, std::size_t{10}, std::size_t{15}}) {
        INFO("l.jsonl cut to " << cut);
        count_case("jsonl member cut inside line, to " + std::to_string(cut) + " bytes");
        const zanj::archive a = open_bytes(zanj_zip(list_tree, list_meta, {stored("l.jsonl", lines.substr(0, cut))}));
        const std::string line = cut < 8 ? "line 2" : "line 3";
        expect(outcome::format_error, "l.jsonl " + line, [&] { a.read(); });
        expect(outcome::format_error, "l.jsonl " + line, [&] { a.verify(); });
    }
}

// A .jsonl member that ends at a line boundary before all the rows its stub records: the CRC
// matches (the member was written short), and len(data) is the only witness.
TEST_CASE("boundary: a .jsonl member holding fewer rows than its stub records", "[boundary]") {
    const std::string lines = "1\n[2, 3]\n{\"x\": 4}\n";
    const std::string list_tree =
        R"j({"l": {"__muutils_format__": "list:external", "$ref": "l.jsonl", "len(data)": 3}})j";
    const std::string list_meta = R"({"externals_info": {"l.jsonl": {"item_type": "jsonl", "path": ["l"]}}})";
    for (const std::size_t cut : {std::size_t{0}, std::size_t{2}, std::size_t{8}}) {
        INFO("l.jsonl cut to " << cut);
        count_case("jsonl member cut at a line end, to " + std::to_string(cut) + " bytes");
        const zanj::archive a = open_bytes(zanj_zip(list_tree, list_meta, {stored("l.jsonl", lines.substr(0, cut))}));
        expect(outcome::format_error, "l.jsonl", [&] { a.read(); });
    }
}

// A .jsonl member of several MiB is parsed in parts of whole lines on config::threads threads:
// the list and the line a failure names must not depend on where the parts were cut.
TEST_CASE("boundary: long .jsonl members parse in parts as in one", "[boundary]") {
    const std::string pad(40, 'x');
    std::vector<std::string> lines;
    std::size_t bytes = 0;
    for (std::size_t i = 0; bytes < (std::size_t{9} << 20); ++i) {
        // CRLF endings, and now and then a blank line, which is no item.
        lines.push_back(i % 50000 == 7 ? "  \r" : "[" + std::to_string(i) + ", \"" + pad + "\"]\r");
        bytes += lines.back().size() + 1;
    }
    std::size_t items = 0;
    for (const std::string& line : lines) items += line[0] == '[';
    auto member_of = [&](const std::vector<std::string>& text) {
        std::string out;
        for (const std::string& line : text) out += line + "\n";
        return out;
    };
    auto archive_of = [&](const std::string& member) {
        const std::string tree = R"j({"l": {"__muutils_format__": "list:external", "$ref": "l.jsonl", "len(data)": )j" +
                                 std::to_string(items) + "}}";
        return zanj_zip(tree, R"({"externals_info": {"l.jsonl": {"item_type": "jsonl", "path": ["l"]}}})",
                        {stored("l.jsonl", member)});
    };
    const std::string good = archive_of(member_of(lines));
    // The lines the two halves' first bad line would be on: one in each part when cut in two.
    const std::size_t early = lines.size() / 4 + 1, late = 3 * lines.size() / 4 + 1;
    std::vector<std::string> bad_late = lines, bad_both = lines;
    bad_late[late - 1] = "[1, ";
    bad_both[late - 1] = "[1, ";
    bad_both[early - 1] = "{\"open\": ";
    const std::string late_text = archive_of(member_of(bad_late)), both_text = archive_of(member_of(bad_both));
    for (unsigned threads : {1u, 2u, 3u}) {
        INFO(threads << " thread(s)");
        count_case("a 9 MiB .jsonl member on " + std::to_string(threads) + " thread(s)");
        zanj::config settings;
        settings.threads = threads;
        const zanj::value back = open_bytes(good, settings).read("/l");
        REQUIRE(back.size() == items);
        for (const std::size_t i : {std::size_t{0}, std::size_t{7}, items / 2, items - 1}) {
            INFO("item " << i);
            // Item i is line i, but for the blank lines before it.
            const std::size_t line = i + (i >= 7 ? 1 : 0) + (i >= 50000 ? (i - 7) / 49999 : 0);
            CHECK(back.as_list()[i] ==
                  zanj::value(zanj::value::list_type{zanj::value(static_cast<std::int64_t>(line)), zanj::value(pad)}));
        }
        expect(outcome::format_error, "l.jsonl line " + std::to_string(late) + ":",
               [&] { open_bytes(late_text, settings).read(); });
        expect(outcome::format_error, "l.jsonl line " + std::to_string(early) + ":",
               [&] { open_bytes(both_text, settings).read(); });
    }
}

// ---- CRCs -----------------------------------------------------------------------------------------

TEST_CASE("boundary: CRC-32 fields that disagree with the data", "[boundary]") {
    const boundary_test::record original = sample_record();
    const std::string good = to_text(zanj::ZANJ(record_settings()).save_to_bytes(original));
    const zip_layout layout = layout_of(good);
    for (const zip_layout::member& m : layout.members) {
        for (const std::uint32_t flip : {0x00000001u, 0x80000000u, 0xFFFFFFFFu}) {
            const std::string label = "central CRC of " + m.name + " xor " + std::to_string(flip);
            INFO(label);
            count_case(label);
            std::string bytes = good;
            patch_le(bytes, m.central + 16, le(bytes, m.central + 16, 4) ^ flip, 4);
            const std::string message = "CRC-32 mismatch in member '" + m.name + "'";
            if (m.name == "__zanj__.json") { // read when the archive opens
                expect(outcome::format_error, message, [&] { open_bytes(bytes); });
                continue;
            }
            const zanj::archive a = open_bytes(bytes);
            if (m.name == "__zanj_meta__.json") { // copied as stored at the open, checked when first needed
                CHECK(a.items().size() > 1);
                expect(outcome::format_error, message, [&] { a.meta(); });
                expect(outcome::format_error, message, [&] { a.read<boundary_test::record>(); });
                expect(outcome::format_error, message, [&] { a.verify(); });
                continue;
            }
            const std::string path = "/" + m.name.substr(0, m.name.find('.'));
            expect(outcome::format_error, message, [&] { a.read<boundary_test::record>(); });
            expect(outcome::format_error, message, [&] { a.verify(); });
            if (m.name.ends_with(".npy")) {
                expect(outcome::format_error, message, [&] { a.array(path); });
                // Rows of a stored member are read alone, unchecked (checking needs all of it).
                const bool stored_member = le(bytes, m.central + 10, 2) == 0;
                expect(stored_member ? outcome::ok : outcome::format_error, message, [&] {
                    const zanj::ndarray& expected = path == "/a" ? original.a : original.b;
                    const auto got = a.rows(path, 0, 1);
                    CHECK(got == expected.rows(0, 1));
                });
            }
        }
    }
    // Mapped views are unchecked unless asked: the same damage, viewed from a file.
    {
        const zip_layout::member& a_npy = member_named(layout, "a.npy");
        count_case("central CRC of a.npy xor 1, viewed");
        std::string bytes = good;
        patch_le(bytes, a_npy.central + 16, le(bytes, a_npy.central + 16, 4) ^ 1, 4);
        const fs::path file = fresh_dir("boundary") / "crc.zanj";
        write_file(file, bytes);
        const zanj::archive a(file);
        expect(outcome::ok, "", [&] {
            const auto got = a.view("/a");
            CHECK(got == original.a);
        });
        expect(outcome::ok, "", [&] {
            const auto got = a.rows("/a", 2, 5, {zanj::access::view});
            CHECK(got == original.a.rows(2, 5));
        });
        expect(outcome::format_error, "CRC-32 mismatch in member 'a.npy'", [&] { a.view("/a", true); });
        expect(outcome::format_error, "CRC-32 mismatch in member 'a.npy'", [&] {
            a.rows("/a", 2, 5, {zanj::access::view, true});
        });
    }
    // The local headers' copies of the CRC are not what the reader checks against.
    for (const zip_layout::member& m : layout.members) {
        const std::string label = "local header CRC of " + m.name + " xor 1";
        INFO(label);
        count_case(label);
        std::string bytes = good;
        patch_le(bytes, m.local + 14, le(bytes, m.local + 14, 4) ^ 1, 4);
        expect(outcome::ok, "", [&] {
            const zanj::archive a = open_bytes(bytes);
            check_record(a, original);
            a.verify();
        });
    }
    // Empty members: CRC 0 is right, anything else wrong, whatever the method.
    for (const std::uint16_t method : {std::uint16_t{0}, std::uint16_t{8}, std::uint16_t{93}}) {
        for (const std::uint32_t crc : {0u, 1u}) {
            const std::string label = "empty member, method " + std::to_string(method) + ", CRC " + std::to_string(crc);
            INFO(label);
            count_case(label);
            rz::entry e = member_of("e.bin", method, "");
            e.crc = crc;
            const std::string bytes = rz::build({e});
            expect(crc == 0 ? outcome::ok : outcome::format_error, "CRC-32 mismatch in member 'e.bin'", [&] {
                zip_reader reader(bytes_of(bytes), nullptr, "mem.zip");
                const auto got = member_text(reader, reader.entries().at(0));
                CHECK(got.empty());
            });
        }
    }
}

// ---- wrong magic ------------------------------------------------------------------------------------

TEST_CASE("boundary: each byte of each signature and of the NPY magic, wrong", "[boundary]") {
    const boundary_test::record original = sample_record();
    const std::string good = with_zip64_end(to_text(zanj::ZANJ(record_settings()).save_to_bytes(original)), 5);
    const zip_layout layout = layout_of(good);
    expect(outcome::ok, "", [&] { check_record(open_bytes(good), original); });
    struct signature {
        std::string what;
        std::uint64_t at;
        std::string message;
    };
    std::vector<signature> signatures;
    for (const zip_layout::member& m : layout.members)
        signatures.push_back({"local header of " + m.name, m.local,
                              "member '" + m.name + "' has no local header where the central directory says"});
    const zip_layout::member& third = layout.members.at(2);
    signatures.push_back({"central directory entry of " + third.name, third.central,
                          "corrupt central directory: entry 3 of 5 is missing or damaged"});
    signatures.push_back({"ZIP64 end record", layout.zip64_record, "missing ZIP64 end-of-central-directory record"});
    // Without its locator the classic record's 0xFFFFFFFF fields are taken as they are.
    signatures.push_back({"ZIP64 locator", layout.locator, "its central directory lies outside the file"});
    signatures.push_back({"end record", layout.end, "archive is truncated (no end-of-central-directory record)"});
    for (const signature& s : signatures) {
        for (std::size_t i = 0; i < 4; ++i) {
            const std::string label = s.what + ", signature byte " + std::to_string(i);
            INFO(label);
            count_case(label);
            std::string bytes = good;
            bytes[s.at + i] = static_cast<char>(bytes[s.at + i] ^ 0x20);
            expect(outcome::format_error, s.message, [&] { open_bytes(bytes).verify(); });
        }
    }
    const zanj::ndarray w = sample(zanj::dtype::float64, {3});
    const std::string npy = npy_header_of(zanj::dtype::float64, {3}) + npy_data(w, false, false);
    for (std::size_t i = 0; i < 6; ++i) {
        INFO("NPY magic byte " << i);
        count_case("NPY magic byte " + std::to_string(i));
        std::string bad = npy;
        bad[i] = static_cast<char>(bad[i] ^ 0x20);
        const std::string message = "invalid NPY data: missing the \\x93NUMPY magic";
        expect(outcome::format_error, message, [&] { decode(bad); });
        const zanj::archive a = open_bytes(npy_archive(bad, {3}, zanj::dtype::float64));
        expect(outcome::format_error, message, [&] { a.array("/w"); });
        expect(outcome::format_error, message, [&] { a.view("/w"); });
        expect(outcome::format_error, message, [&] { a.rows("/w", 0, 1); });
    }
}

// ---- NPY headers that lie about the shape -----------------------------------------------------------

TEST_CASE("boundary: NPY headers whose shape disagrees with the data or the stub", "[boundary]") {
    struct lie {
        std::string label;
        std::string descr;
        std::string header_shape;
        std::size_t data_bytes;
        zanj::shape_type stub_shape;
        std::string stub_dtype;
        outcome want;
        std::string text;
    };
    const std::string huge = "18446744073709551615";
    const lie lies[] = {
        {"one element more than the data",
         "<f8",
         "(4,)",
         24,
         {4},
         "float64",
         outcome::format_error,
         "shape (4,) of float64 needs 32 bytes of data, the member holds 24"},
        {"one element fewer than the data",
         "<f8",
         "(2,)",
         24,
         {2},
         "float64",
         outcome::format_error,
         "shape (2,) of float64 needs 16 bytes of data, the member holds 24"},
        {"one byte short",
         "<f8",
         "(3,)",
         23,
         {3},
         "float64",
         outcome::format_error,
         "shape (3,) of float64 needs 24 bytes of data, the member holds 23"},
        {"one byte over",
         "<f8",
         "(3,)",
         25,
         {3},
         "float64",
         outcome::format_error,
         "shape (3,) of float64 needs 24 bytes of data, the member holds 25"},
        {"empty shape with data",
         "<f8",
         "(0,)",
         8,
         {0},
         "float64",
         outcome::format_error,
         "shape (0,) of float64 needs 0 bytes of data, the member holds 8"},
        {"0-d without data",
         "<f8",
         "()",
         0,
         {},
         "float64",
         outcome::format_error,
         "shape () of float64 needs 8 bytes of data, the member holds 0"},
        {"2^64-1 bytes",
         "|u1",
         "(" + huge + ",)",
         8,
         {SIZE_MAX},
         "uint8",
         outcome::format_error,
         "needs 18446744073709551615 bytes of data, the member holds 8"},
        {"an extent of 2^64",
         "|u1",
         "(18446744073709551616,)",
         8,
         {1},
         "uint8",
         outcome::format_error,
         "invalid NPY data: shape extent overflows"},
        {"a byte size past 2^64",
         "<f8",
         "(4611686018427387904, 4)",
         8,
         {1},
         "float64",
         outcome::format_error,
         "shape (4611686018427387904, 4) of float64 overflows the address space"},
        {"empty, its other extents 2^32 (leading 0)",
         "<f8",
         "(0, 4294967296, 4294967296)",
         0,
         {0, four_gib, four_gib},
         "float64",
         outcome::ok,
         ""},
        {"stub shape (3,), header (4,)", "<f8", "(4,)", 32, {3}, "float64", outcome::format_error, "(3,)"},
        {"stub shape (), header (1,)", "<f8", "(1,)", 8, {}, "float64", outcome::format_error, "(1,)"},
        {"stub shape (1,), header ()", "<f8", "()", 8, {1}, "float64", outcome::format_error, "(1,)"},
        {"stub dtype float32, header <f8", "<f8", "(3,)", 24, {3}, "float32", outcome::format_error, "float32"},
        {"stub dtype int64, header <f8", "<f8", "(3,)", 24, {3}, "int64", outcome::format_error, "int64"},
    };
    for (const lie& l : lies) {
        INFO(l.label);
        count_case("NPY header: " + l.label);
        const std::string npy = npy_bytes(l.descr, false, l.header_shape, std::string(l.data_bytes, '\x01'));
        const std::string bytes = zanj_zip(array_tree("w.npy", json_shape(l.stub_shape), l.stub_dtype),
                                           array_meta("w.npy"), {stored("w.npy", npy)});
        const zanj::archive a = open_bytes(bytes);
        expect(l.want, l.text, [&] {
            const auto got = a.array("/w").shape();
            CHECK(got == l.stub_shape);
        });
        expect(l.want, l.text, [&] {
            const auto got = a.read()["w"].as_array().shape();
            CHECK(got == l.stub_shape);
        });
        expect(l.want, l.text, [&] { a.verify(); });
    }
}

// An empty array numpy writes (np.empty((2**32, 2**32, 0))): its element count is 0, whatever the
// other extents, as the NPY parser itself says.
TEST_CASE("boundary: an empty NPY array whose leading extents multiply past 2^64", "[boundary]") {
    for (const std::string shape : {"(4294967296, 4294967296, 0)", "(18446744073709551615, 2, 0)"}) {
        INFO(shape);
        count_case("NPY header: empty, its leading extents past 2^64, " + shape);
        const std::string npy = npy_bytes("<f8", false, shape, "");
        expect(outcome::ok, "", [&] {
            const auto got = decode(npy).size();
            CHECK(got == 0);
        });
    }
}

// ---- $ref and externals_info ------------------------------------------------------------------------

TEST_CASE("boundary: $ref to a missing or wrong member", "[boundary]") {
    const zanj::ndarray w = sample(zanj::dtype::float64, {3});
    const std::string npy = npy_header_of(zanj::dtype::float64, {3}) + npy_data(w, false, false);
    struct ref_case {
        std::string label;
        std::string tree;
        std::string meta;
        std::vector<rz::entry> members;
        outcome want;
        std::string text;
        bool at_open;      // refused when the archive opens (else when /w is read: externals_info is
                           // checked against the tree by the first read)
        bool typed = true; // also read as a map of arrays
    };
    const std::string stub_of_other = array_tree("other.npy", "[3]", "float64");
    const std::string list_stub = R"({"w": {"__muutils_format__": "list:external", "$ref": "w.npy"}})";
    const ref_case cases[] = {
        {"$ref to a member that is absent and not in externals_info",
         array_tree("missing.npy", "[3]", "float64"),
         "{}",
         {},
         outcome::format_error,
         "external array 'missing.npy' was not loaded",
         false},
        {"externals_info lists a member the archive lacks",
         array_tree("w.npy", "[3]", "float64"),
         array_meta("w.npy"),
         {},
         outcome::format_error,
         "externals_info lists member 'w.npy', which the archive does not hold",
         false},
        {"$ref to another member than externals_info gives the path",
         stub_of_other,
         array_meta("w.npy"),
         {stored("w.npy", npy), stored("other.npy", npy)},
         outcome::format_error,
         "is not the stub of member 'w.npy' (its $ref is \"other.npy\")",
         false},
        {"$ref differing in case",
         array_tree("W.npy", "[3]", "float64"),
         array_meta("w.npy"),
         {stored("w.npy", npy)},
         outcome::format_error,
         "is not the stub of member 'w.npy' (its $ref is \"W.npy\")",
         false},
        {"$ref empty",
         array_tree("", "[3]", "float64"),
         array_meta("w.npy"),
         {stored("w.npy", npy)},
         outcome::format_error,
         "is not the stub of member 'w.npy' (its $ref is \"\")",
         false},
        {"$ref a number",
         R"({"w": {"__muutils_format__": "numpy.ndarray:external", "$ref": 5, "shape": [3], "dtype": "float64"}})",
         array_meta("w.npy"),
         {stored("w.npy", npy)},
         outcome::format_error,
         "is not the stub of member 'w.npy' (its $ref is 5)",
         false},
        {"stub without $ref",
         R"({"w": {"__muutils_format__": "numpy.ndarray:external", "shape": [3], "dtype": "float64"}})",
         array_meta("w.npy"),
         {stored("w.npy", npy)},
         outcome::format_error,
         "is not the stub of member 'w.npy' (its $ref is missing)",
         false},
        {"$ref to __zanj__.json, listed as an npy member",
         array_tree("__zanj__.json", "[3]", "float64"),
         R"({"externals_info": {)" + npy_info("__zanj__.json", R"(["w"])") + "}}",
         {},
         outcome::format_error,
         "invalid NPY data: missing the \\x93NUMPY magic",
         false},
        {"$ref to an unsafe name",
         array_tree("../w.npy", "[3]", "float64"),
         array_meta("../w.npy"),
         {stored("../w.npy", npy)},
         outcome::format_error,
         "unsafe member name '../w.npy'",
         true},
        {"an array stub whose member is listed as jsonl",
         array_tree("w.npy", "[3]", "float64"),
         R"({"externals_info": {"w.npy": {"item_type": "jsonl", "path": ["w"]}}})",
         {stored("w.npy", npy)},
         outcome::format_error,
         "w.npy",
         false},
        {"a list stub whose member is an npy array",
         list_stub,
         array_meta("w.npy"),
         {stored("w.npy", npy)},
         outcome::format_error,
         "w.npy",
         false,
         false},
        {"$ref to a .jsonl member from an array stub",
         array_tree("l.jsonl", "[3]", "float64"),
         R"({"externals_info": {"l.jsonl": {"item_type": "jsonl", "path": ["w"]}}})",
         {stored("l.jsonl", "1\n2\n3\n")},
         outcome::format_error,
         "l.jsonl",
         false},
    };
    for (const ref_case& c : cases) {
        INFO(c.label);
        count_case(c.label);
        const std::string bytes = zanj_zip(c.tree, c.meta, c.members);
        if (c.at_open) {
            expect(c.want, c.text, [&] { open_bytes(bytes); });
            continue;
        }
        const zanj::archive a = open_bytes(bytes);
        expect(c.want, c.text, [&] { a.read(); });
        if (c.typed) expect(c.want, c.text, [&] { a.read<std::map<std::string, zanj::ndarray>>(); });
    }
}

// Opening and listing need the tree alone, and reading one item goes by its stub: what
// externals_info says is parsed and checked by reads of the whole tree and by verify().
TEST_CASE("boundary: items and single reads go by the tree; whole reads check externals_info", "[boundary]") {
    const zanj::ndarray w = sample(zanj::dtype::float64, {3});
    const std::string npy = npy_header_of(zanj::dtype::float64, {3}) + npy_data(w, false, false);
    struct meta_case {
        std::string label;
        std::string meta;
        std::string text; // what whole reads and verify() say
    };
    const meta_case cases[] = {
        {"consistent", array_meta("w.npy"), ""},
        {"meta not JSON", R"({"externals_info": )", "__zanj_meta__.json"},
        {"member not listed", "{}", "external array 'w.npy' was not loaded"},
        {"a listed member missing",
         array_meta("w.npy").substr(0, 20) + R"("x.npy": {"item_type": "npy", "path": ["x"]}, )" +
             array_meta("w.npy").substr(20),
         "externals_info lists member 'x.npy', which the archive does not hold"},
    };
    for (const meta_case& c : cases) {
        INFO(c.label);
        count_case("externals_info read lazily: " + c.label);
        const zanj::archive a =
            open_bytes(zanj_zip(array_tree("w.npy", "[3]", "float64"), c.meta, {stored("w.npy", npy)}));
        REQUIRE(a.items().size() == 2);
        CHECK(a.items()[1].member == "w.npy");
        REQUIRE(a.items()[1].array);
        CHECK(a.items()[1].array->shape == zanj::shape_type{3});
        CHECK(a.array("/w") == w);
        CHECK(a.view("/w") == w);
        CHECK(a.rows("/w", 1, 3) == w.rows(1, 3));
        CHECK(a.read("/w").as_array() == w);
        CHECK(a.read<zanj::ndarray>("/w") == w);
        if (c.text.empty()) {
            CHECK(a.read()["w"].as_array() == w);
            a.verify();
            continue;
        }
        expect(outcome::format_error, c.text, [&] { a.read(); });
        expect(outcome::format_error, c.text, [&] { a.read<std::map<std::string, zanj::ndarray>>(); });
        expect(outcome::format_error, c.text, [&] { a.read_filter([](const zanj::item_info&) { return true; }); });
        if (c.label != "member not listed") // externals_info need not list what no one reads
            expect(outcome::format_error, c.text, [&] { a.verify(); });
    }
    // A list stub is listed by its stub too; its rows are read only when externals_info lists it.
    count_case("externals_info read lazily: an external list it does not list");
    const zanj::archive a =
        open_bytes(zanj_zip(R"j({"l": {"__muutils_format__": "list:external", "$ref": "l.jsonl", "len(data)": 2}})j",
                            "{}", {stored("l.jsonl", "1\n2\n")}));
    REQUIRE(a.items().size() == 2);
    CHECK(a.items()[1].kind == zanj::item_kind::external_list);
    CHECK(a.items()[1].length == 2);
    expect(outcome::format_error, "external list 'l.jsonl' is not listed in externals_info",
           [&] { a.read_filter([](const zanj::item_info&) { return true; }); });
    expect(outcome::format_error, "external list was not loaded", [&] { a.read(); });
    expect(outcome::format_error, "external list was not loaded", [&] { a.read("/l"); });
    expect(outcome::usage_error, "the archive has no item at /l/0", [&] { a.read("/l/0"); });
}

// A whole read of a file whose meta is large checks externals_info on a second thread while it
// loads, and the arrays' stubs in the tree say what to load meanwhile: each problem must still
// fail the read, with the same message as when the check comes first (one thread, a small meta).
TEST_CASE("boundary: whole reads that check externals_info behind the load fail as before", "[boundary]") {
    const zanj::ndarray w = sample(zanj::dtype::float64, {3});
    const std::string npy = npy_header_of(zanj::dtype::float64, {3}) + npy_data(w, false, false);
    // Makes the meta large enough for the check to get a thread of its own.
    const std::string padding = R"("padding": ")" + std::string(300 << 10, 'x') + R"(", )";
    auto meta_of = [&](const std::string& externals_info) { return "{" + padding + externals_info + "}"; };
    const std::string listed = R"("externals_info": {)" + npy_info("w.npy", R"(["w"])") + "}";
    struct behind_case {
        std::string label;
        std::string tree;
        std::string meta;
        std::vector<rz::entry> members;
        std::string text; // empty: the read succeeds
    };
    const behind_case cases[] = {
        {"consistent", array_tree("w.npy", "[3]", "float64"), meta_of(listed), {stored("w.npy", npy)}, ""},
        {"member not listed",
         array_tree("w.npy", "[3]", "float64"),
         meta_of(R"("externals_info": {})"),
         {stored("w.npy", npy)},
         "external array 'w.npy' was not loaded"},
        {"a listed member missing",
         array_tree("w.npy", "[3]", "float64"),
         meta_of(R"("externals_info": {)" + npy_info("w.npy", R"(["w"])") + ", " + npy_info("x.npy", R"(["x"])") + "}"),
         {stored("w.npy", npy)},
         "externals_info lists member 'x.npy', which the archive does not hold"},
        {"listed at another path",
         R"({"v": )" + array_stub("v.npy", "[3]", "float64") + R"(, "w": )" + array_stub("w.npy", "[3]", "float64") +
             "}",
         meta_of(R"("externals_info": {)" + npy_info("v.npy", R"(["w"])") + ", " + npy_info("w.npy", R"(["w"])") + "}"),
         {stored("v.npy", npy), stored("w.npy", npy)},
         "is not the stub of member 'v.npy'"},
        {"meta not JSON",
         array_tree("w.npy", "[3]", "float64"),
         meta_of(listed).substr(0, 200 << 10),
         {stored("w.npy", npy)},
         "__zanj_meta__.json"},
    };
    const fs::path dir = fresh_dir("boundary");
    for (const behind_case& c : cases) {
        const fs::path file = dir / "behind.zanj";
        write_file(file, zanj_zip(c.tree, c.meta, c.members));
        for (unsigned threads : {1u, 2u}) {
            INFO(c.label << ", " << threads << " thread(s)");
            count_case("externals_info checked behind a whole read: " + c.label + ", " + std::to_string(threads));
            zanj::config settings;
            settings.threads = threads;
            const zanj::ZANJ z(settings);
            using arrays = std::map<std::string, zanj::ndarray>;
            using vectors = std::map<std::string, std::vector<double>>;
            if (c.text.empty()) {
                CHECK(z.read<arrays>(file).at("w") == w);
                const std::span<const double> values = w.values<double>();
                CHECK(z.read<vectors>(file).at("w") == std::vector<double>(values.begin(), values.end()));
                CHECK(z.read(file)["w"].as_array() == w);
                continue;
            }
            expect(outcome::format_error, c.text, [&] { z.read<arrays>(file); });
            expect(outcome::format_error, c.text, [&] { z.read<vectors>(file); });
            expect(outcome::format_error, c.text, [&] { z.read(file); });
            if (c.label == "member not listed") {
                // The path of the stub, as the loader gives it when the check comes first.
                expect(outcome::format_error, "/w", [&] { z.read<vectors>(file); });
                // error_mode ignore keeps that stub: such reads check before they load.
                zanj::config ignore = settings;
                ignore.error_mode = zanj::error_mode::ignore;
                CHECK(zanj::ZANJ(ignore).read(file)["w"].format() == "numpy.ndarray:external");
            }
        }
    }
}

TEST_CASE("boundary: externals_info paths that do not resolve", "[boundary]") {
    const zanj::ndarray w = sample(zanj::dtype::float64, {3});
    const std::string npy = npy_header_of(zanj::dtype::float64, {3}) + npy_data(w, false, false);
    const std::string stub = array_stub("w.npy", "[3]", "float64");
    // The stub sits at /l/0 and at /d/0 (a dict key "0"); /n is a number, /s a string.
    const std::string tree = R"({"l": [)" + stub + R"(], "d": {"0": )" + stub + R"(}, "n": 5, "s": "x"})";
    struct path_case {
        std::string path; // JSON
        outcome want;
        std::string text;
    };
    const std::string nowhere = "which does not exist in __zanj__.json";
    const path_case cases[] = {
        {R"(["l", 0])", outcome::ok, ""},
        {R"(["d", 0])", outcome::ok, ""}, // Python's walk: an integer step on a dict is the key str(i)
        {R"(["d", "0"])", outcome::ok, ""},
        {R"([])", outcome::format_error, "is not the stub of member 'w.npy'"},
        {R"(["l"])", outcome::format_error, "is not the stub of member 'w.npy'"},
        {R"(["x"])", outcome::format_error, nowhere},
        {R"(["l", 1])", outcome::format_error, nowhere},
        {R"(["l", -1])", outcome::format_error, nowhere},
        {R"(["l", "0"])", outcome::format_error, nowhere},
        {R"(["l", 0.0])", outcome::format_error, nowhere},
        {R"(["l", true])", outcome::format_error, nowhere},
        {R"(["l", null])", outcome::format_error, nowhere},
        {R"(["l", 18446744073709551615])", outcome::format_error, nowhere},
        {R"(["l", 1e300])", outcome::format_error, nowhere},
        {R"(["d", 1])", outcome::format_error, nowhere},
        {R"(["n", "x"])", outcome::format_error, nowhere},
        {R"(["n", 0])", outcome::format_error, nowhere},
        {R"(["s", 0])", outcome::format_error, nowhere},
        {R"([["l"]])", outcome::format_error, nowhere},
        {R"([{"l": 0}])", outcome::format_error, nowhere},
        {R"("l")", outcome::format_error, R"(externals_info entry of 'w.npy' lacks "item_type" or "path")"},
        {R"(null)", outcome::format_error, R"(externals_info entry of 'w.npy' lacks "item_type" or "path")"},
    };
    for (const path_case& c : cases) {
        INFO("path " << c.path);
        count_case("externals_info path " + c.path);
        const std::string meta = R"({"externals_info": {"w.npy": {"item_type": "npy", "path": )" + c.path + "}}}";
        const std::string bytes = zanj_zip(tree, meta, {stored("w.npy", npy)});
        expect(c.want, c.text, [&] {
            const zanj::archive a = open_bytes(bytes);
            a.verify();
            const zanj::value v = a.read();
            const auto in_list = v["l"][0].as_array();
            CHECK(in_list == w);
            const auto in_dict = v["d"]["0"].as_array();
            CHECK(in_dict == w);
            const auto copied_list = a.array("/l/0");
            CHECK(copied_list == w);
            const auto copied_dict = a.array("/d/0");
            CHECK(copied_dict == w);
        });
    }
    {
        // A path through an external list, to an index past its end: found when the list is read.
        count_case("externals_info path into an external list, past its end");
        const std::string list_tree = R"({"l": {"__muutils_format__": "list:external", "$ref": "l.jsonl"}})";
        const std::string meta = R"({"externals_info": {"l.jsonl": {"item_type": "jsonl", "path": ["l"]}, )" +
                                 npy_info("w.npy", R"(["l", 5])") + "}}";
        const zanj::archive a =
            open_bytes(zanj_zip(list_tree, meta, {stored("l.jsonl", "1\n2\n3\n"), stored("w.npy", npy)}));
        expect(outcome::format_error, nowhere, [&] { a.read(); });
        expect(outcome::format_error, nowhere, [&] { a.verify(); });
    }
    {
        // A path through the array stub itself: the array reads by its $ref, the check finds the path.
        count_case("externals_info path through an array stub");
        const std::string meta = R"({"externals_info": {)" + npy_info("w.npy", R"(["l", 0, "x"])") + "}}";
        const zanj::archive a = open_bytes(zanj_zip(tree, meta, {stored("w.npy", npy)}));
        expect(outcome::format_error, "goes through the external 'w.npy'", [&] { a.verify(); });
    }
}

// ---- JSON nesting -------------------------------------------------------------------------------------

TEST_CASE("boundary: JSON nested to the depth limit and one past it", "[boundary]") {
    struct depth_case {
        std::string label;
        std::uint64_t limit;
        std::string tree, meta, jsonl;
        outcome want;
    };
    const std::string list_tree = R"({"l": {"__muutils_format__": "list:external", "$ref": "l.jsonl"}})";
    const std::string list_meta = R"({"externals_info": {"l.jsonl": {"item_type": "jsonl", "path": ["l"]}}})";
    std::vector<depth_case> cases;
    for (const std::uint64_t limit : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{64}, std::uint64_t{1000}}) {
        for (const std::uint64_t depth : {limit, limit + 1}) {
            const outcome want = depth <= limit ? outcome::ok : outcome::limit_error;
            const std::string d = std::to_string(depth) + " levels, limit " + std::to_string(limit);
            // The root object is the first level.
            cases.push_back({"__zanj__.json, objects, " + d, limit, nested_objects(depth), "{}", "", want});
            if (depth >= 2) {
                cases.push_back(
                    {"__zanj__.json, lists, " + d, limit, R"({"a": )" + nested_lists(depth - 1) + "}", "{}", "", want});
                cases.push_back({"__zanj_meta__.json, lists, " + d, limit, "{}",
                                 R"({"x": )" + nested_lists(depth - 1) + "}", "", want});
            }
            if (depth >= 3) {
                // Lines are counted alone; the tree and metadata need 3 and 4 levels.
                if (limit >= 4)
                    cases.push_back({".jsonl line, lists, " + d, limit, list_tree, list_meta,
                                     "1\n" + nested_lists(depth) + "\n", want});
            }
        }
    }
    for (const depth_case& c : cases) {
        INFO(c.label);
        count_case("JSON nesting: " + c.label);
        std::vector<rz::entry> more;
        if (!c.jsonl.empty()) more.push_back(stored("l.jsonl", c.jsonl));
        zanj::config settings;
        settings.limits.max_json_depth = c.limit;
        const std::string bytes = zanj_zip(c.tree, c.meta, more);
        expect(c.want,
               "nests arrays and objects deeper than read_limits::max_json_depth (" + std::to_string(c.limit) + ")",
               [&] { open_bytes(bytes, settings).read(); });
    }
}

// ---- zip odds and ends --------------------------------------------------------------------------------

TEST_CASE("boundary: comments, names and empty members at their limits", "[boundary]") {
    const boundary_test::record original = sample_record();
    const std::string good = to_text(zanj::ZANJ(record_settings()).save_to_bytes(original));
    // The end record's comment: none, one byte, the most there can be, and a length that lies.
    for (const std::size_t comment : {std::size_t{0}, std::size_t{1}, std::size_t{65535}}) {
        INFO("comment of " << comment << " bytes");
        count_case("comment of " + std::to_string(comment) + " bytes");
        std::string bytes = good;
        patch_le(bytes, bytes.size() - 2, comment, 2);
        bytes += std::string(comment, 'c');
        expect(outcome::ok, "", [&] { check_record(open_bytes(bytes), original); });
        if (comment == 65535) continue; // the field holds no more
        count_case("comment length " + std::to_string(comment) + " claiming one byte more");
        std::string lying = bytes;
        patch_le(lying, good.size() - 2, comment + 1, 2);
        expect(outcome::format_error, "archive is truncated (no end-of-central-directory record)",
               [&] { open_bytes(lying); });
    }
    {
        count_case("a 65,535-byte comment and one more byte after it");
        std::string bytes = good;
        patch_le(bytes, bytes.size() - 2, 65535, 2);
        bytes += std::string(65536, 'c');
        expect(outcome::format_error, "archive is truncated (no end-of-central-directory record)",
               [&] { open_bytes(bytes); });
    }
    {
        count_case("bytes after an end record without comment");
        expect(outcome::ok, "", [&] { check_record(open_bytes(good + "trailing"), original); });
    }
    {
        count_case("a zip of no members");
        const std::string empty = rz::end_record(0, 0, 0);
        expect(outcome::ok, "", [&] {
            const zip_reader reader(bytes_of(empty), nullptr, "mem.zip");
            CHECK(reader.entries().empty());
        });
        expect(outcome::format_error, "not a zanj archive (a zip without", [&] { open_bytes(empty); });
    }
    // Member names of 65,535 bytes, the most a zip can hold, and one more.
    for (const std::size_t length : {std::size_t{65535}, std::size_t{65536}}) {
        INFO("name of " << length << " bytes");
        count_case("member name of " + std::to_string(length) + " bytes");
        const std::string name(length, 'n');
        zanj::detail::zip_writer writer(zanj::detail::in_memory, "names.zip");
        if (length > 65535) {
            expect(outcome::usage_error, "is longer than 65535 bytes",
                   [&] { writer.add(name, bytes_of("x"), zanj::detail::member_options{}); });
            continue;
        }
        writer.add(name, bytes_of("x"), zanj::detail::member_options{});
        writer.commit();
        const std::string bytes = to_text(writer.contents());
        expect(outcome::ok, "", [&] {
            zip_reader reader(bytes_of(bytes), nullptr, "names.zip");
            REQUIRE(reader.find(name));
            const auto got = member_text(reader, *reader.find(name));
            CHECK(got == "x");
        });
    }
    // Empty members of every method, with and without a ZIP64 local header.
    for (const auto method :
         {zanj::compression_method::store, zanj::compression_method::deflate, zanj::compression_method::zstd}) {
        for (const bool zip64 : {false, true}) {
            const std::string label =
                "empty " + std::string(zanj::to_string(method)) + " member" + (zip64 ? ", ZIP64 local header" : "");
            INFO(label);
            count_case(label);
            zanj::detail::zip_writer writer(zanj::detail::in_memory, "empty.zip");
            zanj::detail::member_options options;
            options.compression = {method};
            options.force_zip64 = zip64;
            writer.add("e", std::span<const std::byte>{}, options);
            writer.commit();
            const std::string bytes = to_text(writer.contents());
            expect(outcome::ok, "", [&] {
                zip_reader reader(bytes_of(bytes), nullptr, "empty.zip");
                REQUIRE(reader.entries().size() == 1);
                CHECK(reader.entries()[0].uncompressed_size == 0);
                const auto got = member_text(reader, reader.entries()[0]);
                CHECK(got.empty());
                reader.verify(reader.entries()[0]);
            });
        }
    }
}
