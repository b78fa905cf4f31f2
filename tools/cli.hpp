#pragma once
/// \file
/// The `zanj` tool's subcommands, each a function from its parsed options to an exit code, and
/// the helpers they share. Only main.cpp sees CLI11.

#include <zanj/config.hpp>
#include <zanj/limits.hpp>
#include <zanj/load_any.hpp>
#include <zanj/ndarray.hpp>
#include <zanj/value.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace zanj::cli {

/// Exit codes, as `zanj --help` and docs/cli.md document them.
enum exit_code : int {
    exit_ok = 0,
    exit_problems = 1, ///< verify found damage, diff found differences
    exit_usage = 2,    ///< bad command line
    exit_error = 3,    ///< a file that cannot be read, or is no valid archive
};

struct ls_options {
    std::filesystem::path file;
    std::string object_path = "/";
    bool json = false;
};
struct cat_options {
    std::filesystem::path file;
    std::string object_path = "/";
    bool full = false;
};
struct meta_options {
    std::filesystem::path file;
};
struct verify_options {
    std::filesystem::path file;
    bool quiet = false;
};
struct extract_options {
    std::filesystem::path file;
    std::filesystem::path dir;
    std::string object_path = "/";
};
struct convert_options {
    std::filesystem::path in;
    std::filesystem::path out;
    bool compress = false;
    bool skip_non_arrays = false;
    /// Draw a progress bar for large conversions when stderr is a terminal.
    bool progress = true;
};
struct diff_options {
    std::filesystem::path a;
    std::filesystem::path b;
    double rtol = 1e-5;
    double atol = 1e-8;
};

// Each returns an exit code; zanj::error escapes to main, which prints it and returns exit_error.
// Every file is read within `limits` (--max-size, --max-ratio, --max-archive-ratio, --no-limits).
int run_ls(const ls_options& o, const read_limits& limits);
int run_cat(const cat_options& o, const read_limits& limits);
int run_meta(const meta_options& o, const read_limits& limits);
int run_verify(const verify_options& o, const read_limits& limits);
int run_extract(const extract_options& o, const read_limits& limits);
int run_convert(const convert_options& o, const read_limits& limits);
int run_diff(const diff_options& o, const read_limits& limits);

// ---- shared helpers (common.cpp) ----

/// Default settings reading within `limits`.
config reading_config(const read_limits& limits);

/// "/a/b" for "a/b", "/a/b/" and "/a/b"; "/" for "" and "/".
std::string normalize_path(std::string_view p);
/// True when `path` is `prefix` or lies below it (both normalized).
bool path_under(std::string_view path, std::string_view prefix);

/// `array([0.0, 0.5, ..., 255.5], dtype=float32, shape=(16, 32))`: the first and last 3 values,
/// or every value, nested by shape, when `full`.
std::string array_preview(const ndarray& a, bool full);

/// `v` as indented JSON (2 spaces), arrays shown by array_preview.
std::string pretty_json(const value& v, bool full_arrays = false);

/// The sub-tree of `root` at `path` (dict keys and list indices), or nullptr.
const value* value_at(const value& root, std::string_view path);

/// Writes `bytes` to `file`, creating or truncating it; throws io_error.
void write_file(const std::filesystem::path& file, std::string_view bytes);

} // namespace zanj::cli
