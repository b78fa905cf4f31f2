// How fast, and in how little memory, zip bombs are refused (docs/robustness.md). Builds the
// bombs in a scratch folder, then reads each with zanj::ZANJ{}.read in a fresh process of its
// own (this program run again), timing the read and taking the process's peak resident size.
//
//   zanj_bombs <scratch folder>          build every bomb and measure each
//   zanj_bombs --read <file>             (internal) one measured read
//
// Built by scripts/measure-bombs.sh; needs zlib, for the one bomb libdeflate cannot make.

#include <zanj/detail/crc32.hpp>
#include <zanj/detail/codec.hpp>
#include <zanj/zanj.hpp>

#include "../tests/raw_zip.hpp"

#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace rz = zanj_test::raw_zip;

constexpr std::uint64_t MiB = std::uint64_t{1} << 20;

void write_file(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

// A raw deflate stream of `prefix` followed by `repeats` x `chunk` zero bytes, built from one
// compressed chunk of zeros repeated: after a sync flush each chunk's blocks end on a byte
// boundary, and once the window holds only zeros every chunk compresses to the same bytes.
std::string deflate_zeros(const std::string& prefix, std::uint64_t chunk, std::uint64_t repeats) {
    z_stream s{};
    if (deflateInit2(&s, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
    std::vector<unsigned char> zeros(chunk, 0);
    std::vector<unsigned char> buffer(chunk + chunk / 100 + 1024);
    auto run = [&](const unsigned char* in, std::size_t n, int flush) {
        s.next_in = const_cast<unsigned char*>(in);
        s.avail_in = static_cast<uInt>(n);
        std::string out;
        do {
            s.next_out = buffer.data();
            s.avail_out = static_cast<uInt>(buffer.size());
            deflate(&s, flush);
            out.append(reinterpret_cast<const char*>(buffer.data()), buffer.size() - s.avail_out);
        } while (s.avail_out == 0);
        return out;
    };
    std::string stream = run(reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size(), Z_SYNC_FLUSH);
    stream += run(zeros.data(), zeros.size(), Z_SYNC_FLUSH); // fills the window with zeros
    const std::string repeated = run(zeros.data(), zeros.size(), Z_SYNC_FLUSH);
    for (std::uint64_t i = 2; i < repeats; ++i) stream += repeated;
    if (repeats >= 2) stream += repeated;
    stream += run(nullptr, 0, Z_FINISH);
    deflateEnd(&s);
    return stream;
}

// The CRC-32 of `prefix` and `n` zero bytes, without touching n bytes: the CRC of 2^k zeros
// is that of 2^(k-1) zeros combined with itself.
std::uint32_t crc_with_zeros(const std::string& prefix, std::uint64_t n) {
    const unsigned char zero = 0;
    uLong result = crc32(0, reinterpret_cast<const Bytef*>(prefix.data()), static_cast<uInt>(prefix.size()));
    uLong power_crc = crc32(0, &zero, 1); // of `power` zeros
    std::uint64_t power = 1;
    for (std::uint64_t left = n; left; left >>= 1) {
        if (left & 1) result = crc32_combine64(result, power_crc, static_cast<z_off64_t>(power));
        power_crc = crc32_combine64(power_crc, power_crc, static_cast<z_off64_t>(power));
        power *= 2;
    }
    return static_cast<std::uint32_t>(result);
}

// A `.zanj` archive whose one array is the member `w.npy`, given as its local-header-ready entry.
std::string zanj_with(const rz::entry& w, std::uint64_t elements) {
    const std::string tree = R"({"w": {"__muutils_format__": "numpy.ndarray:external", "$ref": "w.npy", "shape": [)" +
                             std::to_string(elements) + R"(], "dtype": "uint8", "n_elements": )" +
                             std::to_string(elements) + "}}";
    const std::string meta = R"({"externals_info": {"w.npy": {"item_type": "npy", "path": ["w"]}}})";
    rz::entry t, m;
    t.name = "__zanj__.json";
    t.data = tree;
    m.name = "__zanj_meta__.json";
    m.data = meta;
    return rz::build({m, t, w});
}

std::string npy_header(std::uint64_t elements) {
    std::string dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (" + std::to_string(elements) + ",), }";
    std::string out("\x93NUMPY\x01\x00", 8);
    const std::size_t length = 128 - 10;
    rz::put(out, length, 2);
    out += dict;
    out.append(length - dict.size() - 1, ' ');
    return out + "\n";
}

struct bomb {
    std::string name;
    std::string what;
};

std::vector<bomb> build_bombs(const fs::path& dir) {
    std::vector<bomb> out;
    // 1. 40 GB of zeros in one deflate member (about 39 MB compressed), declared honestly.
    {
        const std::uint64_t chunk = 64 * MiB, repeats = 596; // 39,996,882,944 bytes + header
        const std::uint64_t elements = chunk * repeats;
        const std::string header = npy_header(elements);
        rz::entry w;
        w.name = "w.npy";
        w.method = 8;
        w.data = deflate_zeros(header, chunk, repeats);
        w.uncompressed_size = header.size() + elements;
        w.crc = crc_with_zeros(header, elements);
        write_file(dir / "zeros-40GB.zanj", zanj_with(w, elements));
        out.push_back({"zeros-40GB.zanj", "40 GB of zeros, one deflate member of " + std::to_string(w.data.size()) +
                                              " bytes, sizes declared honestly"});
        // 2. The same stream declaring 1 MiB: within the size and ratio limits, but no compressor
        // needs 39 MB for 1 MiB, so it is not read at all.
        w.uncompressed_size = MiB;
        write_file(dir / "zeros-40GB-declared-1MiB.zanj", zanj_with(w, MiB - header.size()));
        out.push_back({"zeros-40GB-declared-1MiB.zanj", "the same 40 GB stream declaring 1 MiB"});
    }
    // 3, 4. Fifield's overlapping bombs over one kernel of 32 MiB of zeros.
    {
        const std::string zeros(32 * MiB, '\0');
        zanj::detail::byte_buffer kernel_bytes;
        const std::span<const std::byte> pieces[] = {std::as_bytes(std::span(zeros.data(), zeros.size()))};
        zanj::detail::compress({zanj::compression_method::deflate, 12}, pieces, kernel_bytes);
        const std::string kernel(reinterpret_cast<const char*>(kernel_bytes.data()), kernel_bytes.size());
        const std::uint32_t crc = rz::crc_of(zeros);
        write_file(dir / "fifield-quoted-overlap.zip", rz::quoted_overlap_bomb(1000, kernel, zeros.size(), crc));
        out.push_back({"fifield-quoted-overlap.zip", "Fifield's quoted overlap: 1000 members of 32 MiB over one "
                                                     "kernel, 32 GiB in all"});
        write_file(dir / "fifield-full-overlap.zip", rz::full_overlap_bomb(65000, kernel, zeros.size(), crc));
        out.push_back({"fifield-full-overlap.zip", "Fifield's full overlap: 65000 entries over one local header, "
                                                   "2 TiB in all"});
        // 5. The quoted overlap with every limit disabled: only the overlap rule is left.
        out.push_back({"fifield-quoted-overlap.zip:none", "the quoted overlap read with read_limits::none()"});
    }
    return out;
}

// One read in this process: prints seconds, peak RSS in KiB, and the outcome.
int measured_read(const std::string& file) {
    std::string path = file;
    zanj::config settings;
    if (path.ends_with(":none")) {
        path.resize(path.size() - 5);
        settings.limits = zanj::read_limits::none();
    }
    const auto start = std::chrono::steady_clock::now();
    std::string outcome;
    try {
        zanj::ZANJ(settings).read(path);
        outcome = "READ (not refused)";
    } catch (const zanj::limit_error& e) {
        outcome = std::string("limit_error: ") + e.what();
    } catch (const zanj::error& e) {
        outcome = std::string("error: ") + e.what();
    } catch (const std::exception& e) {
        outcome = std::string("NOT A ZANJ ERROR: ") + e.what();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // VmHWM, not getrusage: Linux carries ru_maxrss over an exec, from the process that forked.
    long peak_kib = -1;
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.starts_with("VmHWM:")) peak_kib = std::stol(line.substr(6));
    std::printf("%.3f %ld %s\n", seconds * 1000, peak_kib, outcome.c_str());
    return 0;
}

std::string run_child(const std::string& self, const std::string& arg) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(self.c_str(), self.c_str(), "--read", arg.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    close(fds[1]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return out;
}

} // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--read") return measured_read(argv[2]);
    if (argc != 2) {
        std::cerr << "usage: zanj_bombs <scratch folder>\n";
        return 2;
    }
    const fs::path dir = argv[1];
    fs::create_directories(dir);
    const std::string self = fs::canonical("/proc/self/exe").string();
    std::cerr << "building the bombs in " << dir << "...\n";
    const std::vector<bomb> bombs = build_bombs(dir);
    // The same process reading nothing: what every measurement includes anyway.
    std::printf("%-34s %10s %10s  %s\n", "file", "ms", "peak KiB", "outcome");
    for (const bomb& b : bombs) {
        const std::string name = b.name.substr(0, b.name.find(':'));
        std::printf("# %s (%ju bytes): %s\n", b.name.c_str(), static_cast<std::uintmax_t>(fs::file_size(dir / name)),
                    b.what.c_str());
        for (int trial = 0; trial < 3; ++trial) {
            std::string line = run_child(self, (dir / b.name).string());
            double ms = 0;
            long kib = 0;
            int used = 0;
            std::sscanf(line.c_str(), "%lf %ld %n", &ms, &kib, &used);
            std::printf("%-34s %10.3f %10ld  %s", b.name.c_str(), ms, kib, line.c_str() + used);
        }
    }
    return 0;
}
