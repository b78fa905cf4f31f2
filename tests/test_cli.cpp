// The `zanj` command-line tool (tools/), run as a separate process: golden output of `ls` and
// `cat`, `verify` on damaged archives, `extract` refusing names that leave its folder, exit codes,
// read limits, conversions checked by Python, and the progress bar on a pseudo-terminal.

#include <zanj/zanj.hpp>
#include <zanj/detail/zip.hpp>
#include "raw_zip.hpp"
#include "support.hpp"
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#ifdef ZANJ_TOOL_PATH

namespace {

namespace fs = std::filesystem;
namespace rz = zanj_test::raw_zip;
using zanj_test::fresh_dir;
using zanj_test::quote;

struct tool_result {
    int code;
    std::string out;
    std::string err;
};

std::string slurp(const fs::path& p) {
    std::vector<char> v = zanj_test::read_file(p);
    return {v.begin(), v.end()};
}

// Runs `zanj ARGS` with stdout and stderr captured apart, inside `dir`.
tool_result zanj_cli(const std::string& args, const fs::path& dir) {
    const fs::path out = dir / "cli.stdout", err = dir / "cli.stderr";
    std::string command =
        "cd " + quote(dir) + " && " + quote(ZANJ_TOOL_PATH) + " " + args + " >" + quote(out) + " 2>" + quote(err);
    const int status = std::system(command.c_str());
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    tool_result r{code, slurp(out), slurp(err)};
    fs::remove(out);
    fs::remove(err);
    return r;
}

// Runs `zanj ARGS` in `dir` with stderr on a pseudo-terminal and stdout to /dev/null; returns
// what the terminal received.
std::string zanj_cli_on_terminal(const std::vector<std::string>& args, const fs::path& dir) {
    const int terminal = ::posix_openpt(O_RDWR | O_NOCTTY);
    REQUIRE(terminal >= 0);
    REQUIRE(::grantpt(terminal) == 0);
    REQUIRE(::unlockpt(terminal) == 0);
    const int side = ::open(::ptsname(terminal), O_RDWR | O_NOCTTY);
    REQUIRE(side >= 0);
    std::vector<std::string> words{ZANJ_TOOL_PATH};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    const std::string folder = dir.string();
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) { // only async-signal-safe calls from here to exec
        const int null = ::open("/dev/null", O_WRONLY);
        if (null < 0 || ::chdir(folder.c_str()) != 0 || ::dup2(null, 1) < 0 || ::dup2(side, 2) < 0) ::_exit(126);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(side); // the child holds it: reads end (EIO) once the child is gone
    std::string shown;
    char buf[4096];
    while (true) {
        const ssize_t n = ::read(terminal, buf, sizeof buf);
        if (n > 0) {
            shown.append(buf, static_cast<std::size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            break;
        }
    }
    ::close(terminal);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    return shown;
}

// A small archive with fixed content: scalars, a list, an inline and an external (stored) array.
fs::path fixed_archive(const fs::path& dir, float big_bump = 0.0f, double lr = 0.5) {
    zanj::value tree = zanj::value::dict();
    tree["name"] = "demo";
    tree["lr"] = lr;
    tree["tags"] = zanj::value(zanj::value::list_type{zanj::value("a"), zanj::value("b")});
    tree["small"] = zanj::ndarray::from(std::vector<float>{0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f}, {2, 3});
    std::vector<float> big(512);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<float>(i) * 0.5f;
    big[100] += big_bump;
    tree["big"] = zanj::ndarray::from(big, {16, 32});
    zanj::config cfg;
    cfg.compress = zanj::compression_policy::none(); // fixed member sizes
    return zanj::ZANJ(cfg).save(tree, dir / "fixed");
}

// Rewrites a zanj archive with Python's zipfile (stored, CRCs recomputed), damaging it as each
// operation says: "drop:MEMBER" leaves a member out, "shape:KEY:[...]" sets the stub at /KEY's
// shape, "ref:KEY:NAME" its $ref, "unlist:MEMBER" removes a member from externals_info,
// "line:MEMBER:N:TEXT" replaces line N (from 0) of a .jsonl member.
void rewrite_zip(const fs::path& src, const fs::path& dst, const std::vector<std::string>& operations) {
    const fs::path script = src.parent_path() / "rewrite.py";
    zanj_test::write_file(script, R"(import sys, zipfile, json
src, dst, ops = sys.argv[1], sys.argv[2], [op.split(":", 3) for op in sys.argv[3:]]
with zipfile.ZipFile(src) as zin:
    members = {info.filename: zin.read(info.filename) for info in zin.infolist()}
tree = json.loads(members["__zanj__.json"])
meta = json.loads(members["__zanj_meta__.json"])
for op in ops:
    if op[0] == "drop":
        del members[op[1]]
    elif op[0] == "shape":
        tree[op[1]]["shape"] = json.loads(op[2])
    elif op[0] == "ref":
        tree[op[1]]["$ref"] = op[2]
    elif op[0] == "unlist":
        del meta["externals_info"][op[1]]
    elif op[0] == "line":
        lines = members[op[1]].decode().split("\n")
        lines[int(op[2])] = op[3]
        members[op[1]] = "\n".join(lines).encode()
members["__zanj__.json"] = json.dumps(tree, indent="\t").encode()
members["__zanj_meta__.json"] = json.dumps(meta, indent="\t").encode()
with zipfile.ZipFile(dst, "w") as zout:
    for name, data in members.items():
        zout.writestr(name, data)
)");
    std::string command = zanj_test::python() + " " + quote(script) + " " + quote(src) + " " + quote(dst);
    for (const std::string& op : operations) command += " " + quote(op);
    const auto r = zanj_test::run(command);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
}

// A zip holding a harmless member and one named `name`.
void hostile_zip(const fs::path& dst, const std::string& name) {
    const fs::path script = dst.parent_path() / "hostile.py";
    zanj_test::write_file(script, R"(import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("ok.txt", b"fine")
    z.writestr(zipfile.ZipInfo(sys.argv[2]), b"evil")
)");
    const auto r = zanj_test::run(zanj_test::python() + " " + quote(script) + " " + quote(dst) + " " + quote(name));
    REQUIRE(r.exit_code == 0);
}

void flip_byte(const fs::path& p, std::uint64_t offset) {
    std::string bytes = slurp(p);
    REQUIRE(offset < bytes.size());
    bytes[offset] = static_cast<char>(~bytes[offset]);
    zanj_test::write_file(p, bytes);
}

std::vector<fs::path> files_below(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (!e.is_directory()) out.push_back(fs::relative(e.path(), dir));
    return out;
}

} // namespace

TEST_CASE("zanj ls prints the tree of a fixed archive", "[cli]") {
    const fs::path dir = fresh_dir("cli");
    fixed_archive(dir);
    const auto r = zanj_cli("ls fixed.zanj", dir);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK(r.out == "/        dict                           5 items\n"
                   "  name   str\n"
                   "  lr     float\n"
                   "  tags   list                           2 items\n"
                   "    0    str\n"
                   "    1    str\n"
                   "  small  numpy.ndarray:array_list_meta  float32 (2, 3)    inline\n"
                   "  big    numpy.ndarray:external         float32 (16, 32)  big.npy  store 2123 B\n");

    const auto sub = zanj_cli("ls fixed.zanj /tags", dir);
    CHECK(sub.code == 0);
    CHECK(sub.out == "/tags  list  2 items\n"
                     "  0    str\n"
                     "  1    str\n");
}

TEST_CASE("zanj ls --json is a JSON array of items", "[cli]") {
    const fs::path dir = fresh_dir("cli");
    fixed_archive(dir);
    const auto r = zanj_cli("ls --json fixed.zanj", dir);
    REQUIRE(r.code == 0);
    const auto j = nlohmann::json::parse(r.out);
    REQUIRE(j.is_array());
    REQUIRE(j.size() == 8);
    CHECK(j[0]["path"] == "/");
    CHECK(j[0]["kind"] == "dict");
    CHECK(j[0]["length"] == 5);
    const auto& big = j[7];
    CHECK(big["path"] == "/big");
    CHECK(big["kind"] == "array");
    CHECK(big["format"] == "numpy.ndarray:external");
    CHECK(big["member"] == "big.npy");
    CHECK(big["dtype"] == "float32");
    CHECK(big["shape"] == nlohmann::json::array({16, 32}));
    CHECK(big["method"] == "store");
    CHECK(big["uncompressed_size"] == 2123);
    CHECK(j[6]["mode"] == "array_list_meta");
    CHECK(j[6]["member"].is_null());
}

TEST_CASE("zanj cat prints sub-trees as JSON, arrays as a preview", "[cli]") {
    const fs::path dir = fresh_dir("cli");
    fixed_archive(dir);
    const auto r = zanj_cli("cat fixed.zanj /", dir);
    CHECK(r.code == 0);
    CHECK(r.out == "{\n"
                   "  \"name\": \"demo\",\n"
                   "  \"lr\": 0.5,\n"
                   "  \"tags\": [\"a\", \"b\"],\n"
                   "  \"small\": array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5], dtype=float32, shape=(2, 3)),\n"
                   "  \"big\": array([0.0, 0.5, 1.0, ..., 254.5, 255.0, 255.5], dtype=float32, shape=(16, 32))\n"
                   "}\n");

    CHECK(zanj_cli("cat fixed.zanj /name", dir).out == "\"demo\"\n");
    CHECK(zanj_cli("cat fixed.zanj small --full", dir).out ==
          "array([[0.0, 0.5, 1.0], [1.5, 2.0, 2.5]], dtype=float32, shape=(2, 3))\n");
    const auto full = zanj_cli("cat --full fixed.zanj /big", dir);
    CHECK(full.out.find("15.5], [16.0, 16.5,") != std::string::npos); // no elision
    CHECK(full.out.find("...") == std::string::npos);

    const auto missing = zanj_cli("cat fixed.zanj /nope", dir);
    CHECK(missing.code == 3);
    CHECK(missing.err.rfind("zanj: ", 0) == 0);
    CHECK(missing.err.find("/nope") != std::string::npos);
}

TEST_CASE("zanj meta prints the metadata", "[cli]") {
    const fs::path dir = fresh_dir("cli");
    fixed_archive(dir);
    const auto r = zanj_cli("meta fixed.zanj", dir);
    REQUIRE(r.code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["externals_info"]["big.npy"]["item_type"] == "npy");
    CHECK(j["zanj_cfg"]["external_array_threshold"] == 256);
}

// The lines of `text` (without their '\n').
std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t begin = 0;
    while (begin < text.size()) {
        const std::size_t end = std::min(text.find('\n', begin), text.size());
        out.push_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
    return out;
}

TEST_CASE("zanj verify passes a sound archive and finds each kind of damage", "[cli][verify]") {
    const fs::path dir = fresh_dir("cli");
    const fs::path p = fixed_archive(dir);
    const auto good = zanj_cli("verify fixed.zanj", dir);
    CHECK(good.code == 0);
    CHECK(good.out == "fixed.zanj: ok\n");
    CHECK(zanj_cli("verify -q fixed.zanj", dir).out.empty());

    SECTION("a flipped data byte") {
        zanj::detail::zip_reader zip(p);
        flip_byte(p, zip.data_offset(*zip.find("big.npy")) + 1000);
        const auto r = zanj_cli("verify fixed.zanj", dir);
        CHECK(r.code == 1);
        CHECK(lines_of(r.out) == std::vector<std::string>{"fixed.zanj: CRC-32 mismatch in member 'big.npy' "
                                                          "(fixed.zanj): the archive is corrupt",
                                                          "fixed.zanj: 1 problem"});
    }
    SECTION("a missing member") {
        rewrite_zip(p, dir / "missing.zanj", {"drop:big.npy"});
        const auto r = zanj_cli("verify missing.zanj", dir);
        CHECK(r.code == 1);
        CHECK(lines_of(r.out) == std::vector<std::string>{"missing.zanj: externals_info lists member 'big.npy', "
                                                          "which the archive does not hold (at /big, member big.npy)",
                                                          "missing.zanj: 1 problem"});
    }
    SECTION("a stub that disagrees with its member") {
        rewrite_zip(p, dir / "stub.zanj", {"shape:big:[32, 16]"});
        const auto r = zanj_cli("verify stub.zanj", dir);
        CHECK(r.code == 1);
        CHECK(lines_of(r.out) ==
              std::vector<std::string>{"stub.zanj: the stub of 'big.npy' says shape (32, 16), the member holds "
                                       "(16, 32) (at /big, member big.npy)",
                                       "stub.zanj: 1 problem"});
    }
    SECTION("a stub naming another member, and a member nobody lists") {
        rewrite_zip(p, dir / "ref.zanj", {"ref:big:other.npy", "unlist:big.npy"});
        const auto r = zanj_cli("verify ref.zanj", dir);
        CHECK(r.code == 1);
        CHECK(lines_of(r.out) ==
              std::vector<std::string>{"ref.zanj: member 'big.npy' is not listed in externals_info (member big.npy)",
                                       "ref.zanj: the item at /big refers to member 'other.npy', which externals_info "
                                       "does not list (at /big, member other.npy)",
                                       "ref.zanj: 2 problems"});
    }
    SECTION("an npz, which is no zanj archive") {
        zanj::write_npz(dir / "plain.npz",
                        zanj::value(zanj::value::dict_type{{"w", zanj::value(zanj::ndarray(zanj::dtype::int8, {3}))}}));
        const auto r = zanj_cli("verify plain.npz", dir);
        CHECK(r.code == 1);
        CHECK(lines_of(r.out) ==
              std::vector<std::string>{
                  "plain.npz: not a zanj archive: it has neither __zanj__.json nor __zanj_meta__.json",
                  "plain.npz: 1 problem"});
    }
    SECTION("a damaged JSON member hides nothing else") {
        zanj::detail::zip_reader zip(p);
        flip_byte(p, zip.data_offset(*zip.find("__zanj__.json")) + 3);
        flip_byte(p, zip.data_offset(*zip.find("big.npy")) + 200);
        const auto r = zanj_cli("verify fixed.zanj", dir);
        CHECK(r.code == 1);
        const auto lines = lines_of(r.out);
        REQUIRE(lines.size() == 3);
        CHECK(lines[0].find("member 'big.npy'") != std::string::npos);
        CHECK(lines[1].find("member '__zanj__.json'") != std::string::npos);
        CHECK(lines[2] == "fixed.zanj: 2 problems");
    }
}

TEST_CASE("zanj verify reports every problem of an archive, one per line", "[cli][verify]") {
    const fs::path dir = fresh_dir("cli");
    zanj::value tree = zanj::value::dict();
    std::vector<double> values(300);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i) / 7;
    for (const char* key : {"a", "b", "c", "d"}) tree[key] = zanj::ndarray::from(values, {300});
    tree["rows"] = zanj::value(zanj::value::list_type(300, zanj::value("row")));
    zanj::config cfg;
    cfg.compress = zanj::compression_policy::none();
    const fs::path p = zanj::ZANJ(cfg).save(tree, dir / "four");
    REQUIRE(zanj_cli("verify four.zanj", dir).code == 0);

    rewrite_zip(p, dir / "bad.zanj", {"drop:c.npy", "shape:b:[299]", "line:rows.jsonl:5:{not json"});
    {
        zanj::detail::zip_reader zip(dir / "bad.zanj");
        flip_byte(dir / "bad.zanj", zip.data_offset(*zip.find("a.npy")) + 500);
        flip_byte(dir / "bad.zanj", zip.data_offset(*zip.find("d.npy")) + 2);
    }
    const auto r = zanj_cli("verify bad.zanj", dir);
    CHECK(r.code == 1);
    const auto lines = lines_of(r.out);
    INFO(r.out);
    REQUIRE(lines.size() == 6);
    CHECK(lines[0].find("CRC-32 mismatch in member 'a.npy'") != std::string::npos);
    CHECK(lines[1].find("CRC-32 mismatch in member 'd.npy'") != std::string::npos);
    CHECK(lines[2].find("the stub of 'b.npy' says shape (299,), the member holds (300,) (at /b, member b.npy)") !=
          std::string::npos);
    CHECK(lines[3].find("externals_info lists member 'c.npy', which the archive does not hold") != std::string::npos);
    CHECK(lines[4].find("rows.jsonl line 6") != std::string::npos);
    CHECK(lines[5] == "bad.zanj: 5 problems");
    CHECK(r.err.empty());

    // The library's reader stops at the first of them.
    CHECK_THROWS_AS(zanj::ZANJ{}.read(dir / "bad.zanj"), zanj::format_error);
}

TEST_CASE("zanj extract writes members and refuses names that leave its folder", "[cli]") {
    const fs::path dir = fresh_dir("cli");
    fixed_archive(dir);
    const auto r = zanj_cli("extract fixed.zanj out", dir);
    CHECK(r.code == 0);
    CHECK(slurp(dir / "out" / "big.npy").size() == 2123);
    CHECK(fs::exists(dir / "out" / "__zanj__.json"));

    const auto some = zanj_cli("extract fixed.zanj part /big", dir);
    CHECK(some.code == 0);
    CHECK(files_below(dir / "part") == std::vector<fs::path>{"big.npy"});

    for (const std::string name : {"../escape.txt", "/tmp/zanj_cli_abs_escape.txt", "a/../../escape.txt",
                                   "a\\..\\escape.txt", "C:/escape.txt"}) {
        CAPTURE(name);
        const fs::path case_dir = fresh_dir("cli");
        hostile_zip(case_dir / "evil.zip", name);
        fs::create_directories(case_dir / "target");
        const auto e = zanj_cli("extract evil.zip target", case_dir);
        CHECK(e.code == 3);
        CHECK(e.err.rfind("zanj: ", 0) == 0);
        CHECK(files_below(case_dir / "target").empty()); // not even ok.txt
        CHECK_FALSE(fs::exists(case_dir / "escape.txt"));
        CHECK_FALSE(fs::exists("/tmp/zanj_cli_abs_escape.txt"));
    }

    // A symbolic link already in the target folder must not carry a member outside it.
    const fs::path case_dir = fresh_dir("cli");
    hostile_zip(case_dir / "linked.zip", "link/escape.txt");
    fs::create_directories(case_dir / "target");
    fs::create_directories(case_dir / "outside");
    fs::create_directory_symlink(case_dir / "outside", case_dir / "target" / "link");
    const auto e = zanj_cli("extract linked.zip target", case_dir);
    CHECK(e.code == 3);
    CHECK(e.err.find("is a symbolic link") != std::string::npos);
    CHECK(files_below(case_dir / "outside").empty());
    CHECK_FALSE(fs::exists(case_dir / "target" / "ok.txt")); // refused whole
}

TEST_CASE("zanj convert and diff", "[cli]") {
    const fs::path dir = fresh_dir("cli");
    fixed_archive(dir);
    CHECK(zanj_cli("convert fixed.zanj arrays.npz", dir).code == 3); // strings are no arrays
    REQUIRE(zanj_cli("convert fixed.zanj arrays.npz --skip-non-arrays --compress", dir).code == 0);
    REQUIRE(zanj_cli("convert arrays.npz arrays.safetensors", dir).code == 0);
    REQUIRE(zanj_cli("convert arrays.safetensors back.zanj", dir).code == 0);
    const auto same = zanj_cli("diff arrays.npz back.zanj", dir);
    CHECK(same.code == 0);
    CHECK(same.out == "no differences\n");
    const auto listed = zanj_cli("ls arrays.npz", dir).out; // deflated sizes vary with libdeflate
    CHECK(listed.rfind("/        dict   2 items\n"
                       "  small  array  float32 (2, 3)    small.npy  deflate 152 B -> ",
                       0) == 0);
    CHECK(listed.find("\n  big    array  float32 (16, 32)  big.npy  deflate 2176 B -> ") != std::string::npos);

    const fs::path other = dir / "other";
    fs::create_directories(other);
    fixed_archive(other, 1e-3f, 0.75);
    const auto differs = zanj_cli("diff fixed.zanj other/fixed.zanj", dir);
    CHECK(differs.code == 1);
    CHECK(differs.out.find("/lr: 0.5 in A, 0.75 in B") != std::string::npos);
    CHECK(differs.out.find("/big: 1 of 512 elements differ") != std::string::npos);
    CHECK(differs.out.find("2 differences") != std::string::npos);
    CHECK(zanj_cli("diff --atol 0.01 --rtol 0 arrays.npz other/fixed.zanj", dir).code == 1); // structure
}

TEST_CASE("zanj exit codes and --help", "[cli]") {
    const fs::path dir = fresh_dir("cli");
    for (const std::string sub : {"ls", "cat", "meta", "verify", "extract", "convert", "diff"}) {
        CAPTURE(sub);
        const auto r = zanj_cli(sub + " --help", dir);
        CHECK(r.code == 0);
        CHECK(r.out.find("Usage: zanj " + sub) != std::string::npos);
        CHECK(r.out.find("Exit codes") != std::string::npos);
    }
    const auto help = zanj_cli("--help", dir);
    CHECK(help.code == 0);
    CHECK(help.out.find("3  file or format error") != std::string::npos);

    CHECK(zanj_cli("", dir).code == 2);
    CHECK(zanj_cli("ls", dir).code == 2);
    CHECK(zanj_cli("ls --no-such-option x.zanj", dir).code == 2);
    CHECK(zanj_cli("frobnicate x.zanj", dir).code == 2);
    CHECK(zanj_cli("cat x.zanj", dir).code == 2); // OBJPATH is required

    zanj_test::write_file(dir / "text.zanj", "not a zip at all\n");
    for (const std::string args : {"ls missing.zanj", "ls text.zanj", "cat text.zanj /", "meta text.zanj",
                                   "verify text.zanj", "verify missing.zanj", "extract text.zanj out"}) {
        CAPTURE(args);
        const auto r = zanj_cli(args, dir);
        CHECK(r.code == 3);
        CHECK(r.err.rfind("zanj: ", 0) == 0);
        CHECK(r.out.empty());
    }
}

TEST_CASE("zanj options raise the read limits", "[cli][limits]") {
    const fs::path dir = fresh_dir("cli");
    // 4 MiB of zeros in zstd: within the default ratio, beyond a lowered one of 1000:1.
    zanj::value tree = zanj::value::dict();
    tree["zeros"] = zanj::ndarray(zanj::dtype::float32, {1024, 1024});
    zanj::config cfg;
    cfg.compress = zanj::compression_policy::all({zanj::compression_method::zstd});
    zanj::ZANJ(cfg).save(tree, dir / "zeros");

    for (const std::string sub :
         {"ls zeros.zanj", "cat zeros.zanj /", "meta zeros.zanj", "verify zeros.zanj", "extract zeros.zanj out",
          "convert zeros.zanj zeros.npz", "diff zeros.zanj zeros.zanj"}) {
        CAPTURE(sub);
        const auto refused = zanj_cli(sub + " --max-ratio 1000", dir);
        CHECK(refused.code == 3);
        CHECK(refused.err.find("max_compression_ratio") != std::string::npos);
        CHECK(refused.err.find("--max-ratio") != std::string::npos); // the hint
        CHECK(zanj_cli(sub, dir).code == 0);
        CHECK(zanj_cli(sub + " --no-limits", dir).code == 0);
        CHECK(zanj_cli(sub + " --max-ratio 1000000", dir).code == 0);
    }

    // The total of the compressed members' sizes: lowered, and raised again.
    fixed_archive(dir);
    cfg.compress = zanj::compression_policy::python();
    zanj::ZANJ(cfg).save(zanj::ZANJ{}.read(dir / "fixed.zanj"), dir / "deflated");
    const auto small = zanj_cli("ls deflated.zanj --max-size 1kb", dir);
    CHECK(small.code == 3);
    CHECK(small.err.find("max_total_uncompressed") != std::string::npos);
    CHECK(zanj_cli("ls deflated.zanj --max-size 1MiB", dir).code == 0);
    CHECK(zanj_cli("ls deflated.zanj --max-size 1000000000000", dir).code == 0);

    // Past 1 GiB in all, at most 100 times the file's size: three members of 1.5 MiB declaring
    // 600 MiB each (a ratio of about 400) are refused at the second, whatever their data.
    std::vector<rz::entry> members;
    for (const char* name : {"a.npy", "b.npy", "c.npy"}) {
        rz::entry e;
        e.name = name;
        e.method = 8;
        e.data = std::string(std::size_t{3} << 19, 'x');
        e.uncompressed_size = std::uint64_t{600} << 20;
        members.push_back(e);
    }
    zanj_test::write_file(dir / "amplified.npz", rz::build(members));
    const auto amplified = zanj_cli("ls amplified.npz", dir);
    CHECK(amplified.code == 3);
    CHECK(amplified.err.find("member 'b.npy' brings") != std::string::npos);
    CHECK(amplified.err.find("max_archive_ratio (100)") != std::string::npos);
    CHECK(amplified.err.find("--max-archive-ratio") != std::string::npos); // the hint
    const auto raised = zanj_cli("ls amplified.npz --max-archive-ratio 300", dir);
    CHECK(raised.err.find("member 'c.npy' brings") != std::string::npos); // 1800 MiB > 300 x 4.5 MiB
    CHECK(raised.err.find("max_archive_ratio (300)") != std::string::npos);
    // Raised past 400, the file opens, and its data (not deflate at all) is what fails.
    for (const std::string raise : {"--max-archive-ratio 1000", "--no-limits"}) {
        CAPTURE(raise);
        const auto opened = zanj_cli("ls amplified.npz " + raise, dir);
        CHECK(opened.code == 3);
        CHECK(opened.err.find("max_archive_ratio") == std::string::npos);
        CHECK(opened.err.find("a.npy") != std::string::npos);
    }

    CHECK(zanj_cli("ls deflated.zanj --max-size lots", dir).code == 2);
    CHECK(zanj_cli("ls deflated.zanj --max-archive-ratio 0", dir).code == 2);
    CHECK(zanj_cli("ls deflated.zanj --no-limits --max-archive-ratio 1000", dir).code == 2);
    CHECK(zanj_cli("ls deflated.zanj --max-ratio 0", dir).code == 2);
    CHECK(zanj_cli("ls deflated.zanj --no-limits --max-size 1GiB", dir).code == 2);
    const auto help = zanj_cli("convert --help", dir);
    CHECK(help.out.find("--max-size") != std::string::npos);
    CHECK(help.out.find("--max-ratio") != std::string::npos);
    CHECK(help.out.find("--max-archive-ratio") != std::string::npos);
    CHECK(help.out.find("--no-limits") != std::string::npos);
}

TEST_CASE("files zanj convert writes read the same in Python, value for value", "[cli][python]") {
    const fs::path dir = fresh_dir("cli");
    auto check = [&](const std::string& args) {
        const auto r = zanj_test::run("cd " + quote(dir) + " && " + zanj_test::python() + " " +
                                      zanj_test::python_script("convert_check.py") + " " + args);
        INFO(r.output);
        CHECK(r.exit_code == 0);
        return r.output;
    };
    check("write " + quote(dir));
    auto convert = [&](const std::string& args) {
        const auto r = zanj_cli("convert " + args, dir);
        INFO("zanj convert " << args << "\n" << r.err);
        REQUIRE(r.code == 0);
        CHECK(r.err.empty()); // no progress bar when stderr is no terminal
    };

    // numpy's npz through every format (and numpy's own deflate), then back.
    convert("source.npz a.zanj");
    convert("source.npz a.safetensors");
    convert("--compress source.npz a.npz");
    convert("a.zanj b.npz");
    convert("a.safetensors b.zanj --compress");
    convert("b.zanj c.safetensors");
    convert("c.safetensors c.npz");
    const std::string npz_checked =
        check("same source.npz a.zanj a.safetensors a.npz b.npz b.zanj c.safetensors c.npz");
    CHECK(npz_checked.find("c.npz: same 20 arrays") != std::string::npos);

    // One Fortran-order complex128 array (no safetensors dtype).
    convert("source.npy d.zanj");
    convert("d.zanj d.npy");
    convert("source.npy d.npz");
    convert("d.npz e.npy");
    check("same source.npy d.zanj d.npy d.npz e.npy");
    const auto refused = zanj_cli("convert source.npy d.safetensors", dir);
    CHECK(refused.code == 3);
    CHECK(refused.err.find("complex128") != std::string::npos);

    // Every safetensors dtype, BF16 and F8 through .zanj, and as their bits in an npz.
    convert("source.safetensors f.zanj");
    convert("f.zanj f.safetensors");
    convert("source.safetensors f.npz");
    check("same source.safetensors f.safetensors f.npz");
    const auto listed = zanj_cli("ls f.zanj /model/bf16.weight", dir);
    CHECK(listed.out.find("bfloat16 (3, 4)") != std::string::npos);
}

TEST_CASE("zanj convert draws a progress bar only on a terminal", "[cli][progress]") {
    const fs::path dir = fresh_dir("cli");
    // 17 MiB: above the 16 MiB from which a bar is drawn.
    zanj::value arrays = zanj::value::dict();
    arrays["a"] = zanj::ndarray(zanj::dtype::float32, {16 * 1024 * 256});
    arrays["b"] = zanj::ndarray(zanj::dtype::uint8, {1024 * 1024});
    zanj::write_npz(dir / "large.npz", arrays);
    zanj::write_npy(dir / "small.npy", zanj::ndarray(zanj::dtype::float64, {100}));

    for (const std::string out : {"large.zanj", "large.safetensors", "again.npz"}) {
        CAPTURE(out);
        const std::string shown = zanj_cli_on_terminal({"convert", "large.npz", out}, dir);
        CHECK(shown.find("writing " + out + " [") != std::string::npos);
        CHECK(shown.find("100%  17.0 MiB / 17.0 MiB") != std::string::npos);
        CHECK(shown.find('\r') != std::string::npos); // redrawn in place

        // Not on a terminal, and not when asked.
        const auto piped = zanj_cli("convert large.npz " + out, dir);
        CHECK(piped.code == 0);
        CHECK(piped.err.empty());
        CHECK(zanj_cli_on_terminal({"convert", "--no-progress", "large.npz", out}, dir).empty());
    }
    // Small conversions finish too soon for a bar.
    CHECK(zanj_cli_on_terminal({"convert", "small.npy", "small.npz"}, dir).empty());
}

#else

TEST_CASE("zanj command-line tool not built", "[cli][!mayfail]") {
    WARN("ZANJ_TOOL_PATH is not defined: the CLI tests are skipped");
}

#endif
