#pragma once
// A case is one operation of one tool on one workload ("numpy savez, save, (a)"). Each tool lists
// its cases for a workload, saves before the loads that read what they wrote; the driver runs
// every list in one loop, in the order of the `tools` table.

#include "harness.hpp"
#include "workloads.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace bench {

enum class op {
    save,      ///< memory to a durable file (every save ends with fsync)
    load,      ///< the whole file back into memory
    open_list, ///< open an archive and list its members
    load_one,  ///< open an archive and load one array of it
};
const char* to_string(op o);

/// How a case stores data: peers are compared with zanj's case of the same op and codec.
enum class codec { none, store, deflate, zstd };
const char* to_string(codec c);

struct case_spec {
    case_spec(std::string tool_, std::string variant_, bench::op op_, bench::codec codec_, std::filesystem::path file_,
              std::function<sample()> run_, std::string note_ = {})
        : tool(std::move(tool_)), variant(std::move(variant_)), op(op_), codec(codec_), file(std::move(file_)),
          run(std::move(run_)), note(std::move(note_)) {}

    std::string tool;    ///< "zanj", "numpy", "HDF5"...
    std::string variant; ///< "stored", "savez_compressed", "chunked+deflate"...
    bench::op op;
    bench::codec codec;
    /// The file (or folder) a save writes and the other ops read; empty when there is none.
    std::filesystem::path file;
    /// One timed run. Empty: a slot for an API that has not landed yet, reported as n/a.
    std::function<sample()> run;
    /// Shown in the report, e.g. why a slot is empty.
    std::string note;
};

/// A case body run in a forked child.
inline std::function<sample()> in_child(body b) {
    return [b = std::move(b)] { return run_in_child(b); };
}

/// Every tool: its cases for workload `w` (none where it does not apply).
std::vector<case_spec> raw_cases(const workload& w);
std::vector<case_spec> zanj_cases(const workload& w);
std::vector<case_spec> numpy_cases(const workload& w);
std::vector<case_spec> xtensor_npy_cases(const workload& w);
std::vector<case_spec> hdf5_cases(const workload& w);
std::vector<case_spec> cereal_cases(const workload& w);
std::vector<case_spec> libzip_cases(const workload& w);
std::vector<case_spec> libzstd_cases(const workload& w);
std::vector<case_spec> nlohmann_cases(const workload& w);

/// zanj's stored archive of `w`, which the zip readers of other tools open in (b).
std::filesystem::path zanj_stored_file(const workload& w);
/// The zip member holding array `name` in zanj's archives.
std::string zanj_member(const std::string& name);

/// Library versions, for the report.
std::string hdf5_version();
std::string libzip_version();
std::string libzstd_version();

} // namespace bench
