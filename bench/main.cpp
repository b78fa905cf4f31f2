// The zanj benchmark (issue 3, point 6): zanj against the physical limit and its peers on four
// workloads, every figure a median of several runs, each run in a forked child.
//
//   zanj_bench [--scale S] [--reps N] [--out DIR] [--csv FILE] [--workloads abcd] [--tools raw,zanj,...]
//
// Prints one line per case and writes them to a CSV (plus FILE.json with the run's settings and
// machine) from which bench/report.py draws docs/benchmarks.md and its chart.

#include "cases.hpp"

#include <zanj/version.hpp>

#include <cereal/version.hpp>
#include <nlohmann/json.hpp>
#include <xtensor/xtensor_config.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <malloc.h>
#include <optional>
#include <iostream>
#include <sstream>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <thread>

namespace bench {

const char* to_string(op o) {
    switch (o) {
    case op::save: return "save";
    case op::load: return "load";
    case op::open_list: return "open+list";
    case op::load_one: return "load one";
    }
    return "?";
}

const char* to_string(codec c) {
    switch (c) {
    case codec::none: return "none";
    case codec::store: return "store";
    case codec::deflate: return "deflate";
    case codec::zstd: return "zstd";
    }
    return "?";
}

namespace {

namespace fs = std::filesystem;

struct options {
    double scale = 1;
    int reps = 3;
    fs::path out = "bench-out";
    fs::path csv = "benchmarks.csv";
    std::string workloads = "abcd";
    std::string tools; // empty: all
};

// Every tool, in the order its cases run: the raw anchor and zanj first, since the other rows
// are ratios to them.
struct tool {
    const char* name;
    std::vector<case_spec> (*cases)(const workload&);
};
const tool tools[] = {
    {"raw", raw_cases},           {"zanj", zanj_cases},     {"numpy", numpy_cases},   {"xtensor", xtensor_npy_cases},
    {"hdf5", hdf5_cases},         {"cereal", cereal_cases}, {"libzip", libzip_cases}, {"libzstd", libzstd_cases},
    {"nlohmann", nlohmann_cases},
};

// One case's outcome, as printed and written to the CSV.
struct row {
    std::string workload, tool, variant;
    bench::op op = op::save;
    bench::codec codec = codec::none;
    std::string status = "ok"; // ok, n/a (slot not filled), failed
    double seconds = NAN;
    double bytes = 0;          // what the throughput counts (0: time only)
    double vs_limit = NAN;     // throughput / the raw anchor's
    double zanj_speedup = NAN; // zanj's throughput / this one's, same op and codec
    double peak_extra = NAN;
    double file_bytes = NAN;
    std::string note;
    double mb_per_s() const { return bytes > 0 ? bytes / seconds / 1e6 : NAN; }
};

options parse(int argc, char** argv) {
    options o;
    if (const char* s = std::getenv("ZANJ_BENCH_SCALE"); s && *s) o.scale = std::stod(s);
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--scale")
            o.scale = std::stod(value());
        else if (a == "--reps")
            o.reps = std::stoi(value());
        else if (a == "--out")
            o.out = value();
        else if (a == "--csv")
            o.csv = value();
        else if (a == "--workloads")
            o.workloads = value();
        else if (a == "--tools")
            o.tools = value();
        else
            throw std::invalid_argument("unknown option " + a + " (see the top of bench/main.cpp)");
    }
    if (o.scale <= 0 || o.reps < 1) throw std::invalid_argument("--scale and --reps must be positive");
    return o;
}

bool wanted(const options& o, const tool& t) {
    return o.tools.empty() || std::string(t.name) == "raw" ||
           ("," + o.tools + ",").find("," + std::string(t.name) + ",") != std::string::npos;
}

const row* find_row(const std::vector<row>& rows, std::string_view tool, op o, codec c) {
    for (const row& r : rows)
        if (r.tool == tool && r.op == o && r.codec == c && r.status == "ok") return &r;
    return nullptr;
}

// Opening and loading one array take milliseconds: more runs steady their median.
int runs_per_rep(const case_spec& c) { return c.op == op::open_list || c.op == op::load_one ? 3 : 1; }

// The runs of every case of a workload, interleaved: each repetition runs every case once (saves
// before the loads that read their files), so that the machine's slow moments spread over all
// cases rather than landing on one.
std::vector<row> run_workload(const workload& w, const std::vector<case_spec>& cases, int reps) {
    std::vector<row> rows(cases.size());
    std::vector<std::vector<double>> seconds(cases.size()), peaks(cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const case_spec& c = cases[i];
        row& r = rows[i];
        r.workload = w.id, r.tool = c.tool, r.variant = c.variant, r.op = c.op, r.codec = c.codec, r.note = c.note;
        r.bytes = c.op == op::load_one    ? static_cast<double>(w.probe_blob().bytes.size())
                  : c.op == op::open_list ? 0
                                          : static_cast<double>(w.payload_bytes());
        if (!c.run) r.status = "n/a";
    }
    // What a case may claim at most: a file's worth of page cache and a copy of the data loaded,
    // with room for buffers (see ready_free_memory).
    const std::size_t ready_bytes = 2 * w.payload_bytes() + (std::size_t{256} << 20);
    for (int rep = 1; rep <= reps; ++rep) {
        std::printf("  run %d of %d...", rep, reps);
        std::fflush(stdout);
        for (std::size_t i = 0; i < cases.size(); ++i) {
            const case_spec& c = cases[i];
            if (rows[i].status != "ok") continue;
            // Reads are warm-cache for every tool: the file is held in the page cache while timed.
            std::optional<page_cache_pin> cached;
            if (c.op != op::save && !c.file.empty()) cached.emplace(c.file);
            try {
                for (int k = 0; k < runs_per_rep(c); ++k) {
                    ready_free_memory(ready_bytes);
                    const sample s = c.run();
                    seconds[i].push_back(s.seconds);
                    peaks[i].push_back(static_cast<double>(s.peak_extra));
                }
            } catch (const std::exception& e) {
                rows[i].status = "failed";
                rows[i].note = e.what();
                std::printf(" [%s %s %s failed: %s]", c.tool.c_str(), c.variant.c_str(), to_string(c.op), e.what());
            }
        }
        std::printf(" done\n");
    }
    for (std::size_t i = 0; i < cases.size(); ++i) {
        if (rows[i].status != "ok") continue;
        rows[i].seconds = median(seconds[i]);
        rows[i].peak_extra = median(peaks[i]);
        if (!cases[i].file.empty()) rows[i].file_bytes = static_cast<double>(disk_size(cases[i].file));
    }
    for (row& r : rows) {
        if (r.status != "ok") continue;
        if (const row* limit = find_row(rows, "raw", r.op, codec::store)) r.vs_limit = limit->seconds / r.seconds;
        if (const row* z = find_row(rows, "zanj", r.op, r.codec); z && r.tool != "zanj" && r.tool != "raw")
            r.zanj_speedup = r.seconds / z->seconds;
    }
    return rows;
}

std::string fixed(double v, int decimals) {
    if (std::isnan(v)) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

void print_header() {
    std::printf("%-3s %-15s %-20s %-9s %10s %9s %8s %7s %9s %9s  %s\n", "", "tool", "variant", "op", "time ms", "MB/s",
                "x limit", "zanj x", "peak MiB", "size MB", "note");
}

void print_row(const row& r) {
    std::printf("(%s) %-15s %-20s %-9s %10s %9s %8s %7s %9s %9s  %s\n", r.workload.c_str(), r.tool.c_str(),
                r.variant.c_str(), to_string(r.op), fixed(r.seconds * 1e3, r.seconds < 0.01 ? 3 : 1).c_str(),
                fixed(r.mb_per_s(), r.mb_per_s() < 100 ? 2 : 0).c_str(), fixed(r.vs_limit, 2).c_str(),
                fixed(r.zanj_speedup, 2).c_str(), fixed(r.peak_extra / 1048576.0, 1).c_str(),
                fixed(r.file_bytes / 1e6, 1).c_str(),
                r.status == "ok" ? r.note.c_str() : (r.status + ": " + r.note).c_str());
    std::fflush(stdout);
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return out + "\"";
}

void write_csv_row(std::ofstream& csv, const row& r) {
    auto num = [](double v) { return std::isnan(v) ? std::string() : fixed(v, 9); };
    csv << r.workload << ',' << csv_field(r.tool) << ',' << csv_field(r.variant) << ',' << to_string(r.op) << ','
        << to_string(r.codec) << ',' << r.status << ',' << num(r.seconds) << ',' << num(r.mb_per_s()) << ','
        << num(r.vs_limit) << ',' << num(r.zanj_speedup) << ',' << num(r.peak_extra) << ',' << num(r.file_bytes) << ','
        << fixed(r.bytes, 0) << ',' << csv_field(r.note) << '\n';
    csv.flush();
}

std::string first_line_of(const char* file, const std::string& key) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key, 0) == 0) return line.substr(line.find(':') + 2);
    return "?";
}

std::string filesystem_of(const fs::path& dir) {
    struct statfs s {};
    if (::statfs(dir.c_str(), &s) != 0) return "?";
    switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53: return "ext4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs";
    case 0x794C7630: return "overlayfs";
    }
    std::ostringstream o;
    o << "0x" << std::hex << s.f_type;
    return o.str();
}

nlohmann::json machine(const options& o) {
    utsname u{};
    ::uname(&u);
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    return {
        {"date", date},
        {"scale", o.scale},
        {"reps", o.reps},
        {"folder", fs::absolute(o.out).string()},
        {"filesystem", filesystem_of(o.out)},
        {"cpu", first_line_of("/proc/cpuinfo", "model name")},
        {"cores", std::thread::hardware_concurrency()},
        {"kernel", std::string(u.sysname) + " " + u.release},
        {"compiler", "g++ " __VERSION__},
        {"versions",
         {{"zanj", zanj::version},
          {"libzip", libzip_version()},
          {"libzstd", libzstd_version()},
          {"HDF5", hdf5_version()},
          {"cereal", std::to_string(CEREAL_VERSION_MAJOR) + "." + std::to_string(CEREAL_VERSION_MINOR) + "." +
                         std::to_string(CEREAL_VERSION_PATCH)},
          {"xtensor", std::to_string(XTENSOR_VERSION_MAJOR) + "." + std::to_string(XTENSOR_VERSION_MINOR) + "." +
                          std::to_string(XTENSOR_VERSION_PATCH)},
          {"nlohmann_json", std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                                std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                                std::to_string(NLOHMANN_JSON_VERSION_PATCH)}}},
    };
}

int run(const options& o) {
    // Every case starts as a fresh process would: large blocks come from mmap, as fresh pages.
    // (glibc otherwise raises this threshold when the parent frees a large block, and children
    // would reuse the parent's resident heap instead.)
    ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    fs::create_directories(o.out);
    if (o.csv.has_parent_path()) fs::create_directories(o.csv.parent_path());
    std::ofstream csv(o.csv);
    csv << "workload,tool,variant,op,codec,status,seconds,mb_per_s,vs_limit,zanj_speedup,peak_extra_bytes,file_bytes,"
           "payload_bytes,note\n";
    nlohmann::json meta = machine(o);
    std::printf("zanj benchmark: scale %g, median of %d interleaved runs (x3 for open/load one), files in %s (%s), "
                "warm-cache reads\n",
                o.scale, o.reps, fs::absolute(o.out).c_str(), meta["filesystem"].get<std::string>().c_str());
    std::printf("x limit: throughput over raw write()+fsync (saves) or pread (loads); zanj x: zanj's throughput over "
                "this row's, "
                "same op and codec\n");
    for (const char id : o.workloads) {
        const workload w = make_workload(id, o.scale, o.out);
        meta["workloads"].push_back(
            {{"id", w.id}, {"title", w.title}, {"payload_bytes", w.payload_bytes()}, {"arrays", w.blobs.size()}});
        std::printf("\n(%s) %s: %.1f MB\n", w.id.c_str(), w.title.c_str(),
                    static_cast<double>(w.payload_bytes()) / 1e6);
        std::vector<case_spec> cases;
        for (const tool& t : tools)
            if (wanted(o, t))
                for (case_spec& c : t.cases(w)) cases.push_back(std::move(c));
        const std::vector<row> rows = run_workload(w, cases, o.reps);
        fs::remove_all(w.dir);
        print_header();
        for (const row& r : rows) {
            print_row(r);
            write_csv_row(csv, r);
        }
    }
    std::ofstream(fs::path(o.csv).replace_extension(".json")) << meta.dump(1) << '\n';
    std::error_code ignore;
    fs::remove(o.out, ignore); // only when empty: the folder may hold files that are not ours
    std::printf("\nwrote %s\n", o.csv.c_str());
    return 0;
}

} // namespace

} // namespace bench

int main(int argc, char** argv) {
    try {
        return bench::run(bench::parse(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "zanj_bench: %s\n", e.what());
        return 1;
    }
}
