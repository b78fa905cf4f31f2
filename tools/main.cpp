// `zanj`: look inside, check, unpack, convert and compare .zanj archives (and .npy, .npz,
// .safetensors files) from the shell. Parses the command line and hands over to commands/*.cpp.

#include "cli.hpp"

#include <zanj/error.hpp>
#include <zanj/version.hpp>

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

namespace {

constexpr const char* exit_codes_text =
    "Exit codes:\n"
    "  0  success\n"
    "  1  problems found (verify: damage; diff: differences)\n"
    "  2  usage error (bad command line)\n"
    "  3  file or format error: a missing or unreadable file, no valid archive, no such object path\n";

// --max-size, --max-ratio, --max-archive-ratio and --no-limits on a subcommand: they raise (or
// lower) the read limits of zanj/limits.hpp for the files it reads.
void add_limit_options(CLI::App* sub, zanj::read_limits& limits, bool& no_limits) {
    const zanj::read_limits defaults;
    CLI::Option* size =
        sub->add_option("--max-size", limits.max_total_uncompressed,
                        "Largest total of the compressed members' uncompressed sizes to accept (default: no bound "
                        "but --max-archive-ratio)")
            ->transform(CLI::AsSizeValue(true))
            ->group("Read limits");
    CLI::Option* ratio = sub->add_option("--max-ratio", limits.max_compression_ratio,
                                         "Largest compression ratio to accept for a member above 1 MiB (default " +
                                             std::to_string(defaults.max_compression_ratio) + ")")
                             ->check(CLI::PositiveNumber)
                             ->group("Read limits");
    CLI::Option* archive_ratio =
        sub->add_option("--max-archive-ratio", limits.max_archive_ratio,
                        "Largest ratio of that total to the file's size, once the total passes " +
                            std::to_string(defaults.archive_ratio_checked_above >> 30) + " GiB (default " +
                            std::to_string(defaults.max_archive_ratio) + ")")
            ->check(CLI::PositiveNumber)
            ->group("Read limits");
    sub->add_flag("--no-limits", no_limits, "Read without any limit on sizes, ratios or nesting: for files you trust")
        ->excludes(size)
        ->excludes(ratio)
        ->excludes(archive_ratio)
        ->group("Read limits");
}

} // namespace

int main(int argc, char** argv) {
    using namespace zanj::cli;
    CLI::App app{"zanj " ZANJ_VERSION_STRING ": inspect, check and convert .zanj archives "
                 "(and .npy, .npz, .safetensors files)",
                 "zanj"};
    app.footer(exit_codes_text);
    app.set_version_flag("--version", ZANJ_VERSION_STRING);
    app.require_subcommand(1, 1);

    ls_options ls;
    CLI::App* ls_cmd = app.add_subcommand("ls", "List the items of the tree: path, kind or format key, and for "
                                                "arrays dtype, shape, member, sizes and compression");
    ls_cmd->add_option("FILE", ls.file, "A .zanj, .npy, .npz or .safetensors file")->required();
    ls_cmd->add_option("OBJPATH", ls.object_path, "Only the items at and below this object path (\"/layers/0\")");
    ls_cmd->add_flag("--json", ls.json, "Print a JSON array of items instead of the listing");

    cat_options cat;
    CLI::App* cat_cmd = app.add_subcommand("cat", "Print a sub-tree as indented JSON, arrays as a short preview");
    cat_cmd->add_option("FILE", cat.file, "A .zanj, .npy, .npz or .safetensors file")->required();
    cat_cmd->add_option("OBJPATH", cat.object_path, "The object path to print (\"/\" for everything)")->required();
    cat_cmd->add_flag("--full", cat.full, "Print every value of arrays, not the first and last 3");

    meta_options meta;
    CLI::App* meta_cmd = app.add_subcommand("meta", "Print the archive's metadata (__zanj_meta__.json)");
    meta_cmd->add_option("FILE", meta.file, "A .zanj archive")->required();

    verify_options verify;
    CLI::App* verify_cmd = app.add_subcommand(
        "verify", "Check every member's header and CRC-32, every .npy header against its stub and every "
                  ".jsonl line; one problem per line, exit 1 if any");
    verify_cmd->add_option("FILE", verify.file, "A .zanj archive")->required();
    verify_cmd->add_flag("-q,--quiet", verify.quiet, "Print nothing when the archive is sound");

    extract_options extract;
    CLI::App* extract_cmd = app.add_subcommand(
        "extract", "Write the archive's members (or those of the items under OBJPATH) to DIR; member names "
                   "that would leave DIR are refused and nothing is written");
    extract_cmd->add_option("FILE", extract.file, "A .zanj archive (or any zip, .npz included)")->required();
    extract_cmd->add_option("DIR", extract.dir, "The folder to write to (created when missing)")->required();
    extract_cmd->add_option("OBJPATH", extract.object_path, "Only the members of the items at and below this path");

    convert_options convert;
    CLI::App* convert_cmd = app.add_subcommand(
        "convert", "Convert between .zanj, .npy, .npz and .safetensors (the output format from OUT's extension); "
                   "nested arrays become flat names joined with '/'");
    convert_cmd->add_option("IN", convert.in, "The file to read")->required();
    convert_cmd->add_option("OUT", convert.out, "The file to write: *.zanj, *.npy, *.npz or *.safetensors")->required();
    convert_cmd->add_flag("--compress", convert.compress, "Deflate the members (.zanj and .npz)");
    convert_cmd->add_flag("--skip-non-arrays", convert.skip_non_arrays,
                          "To .npz/.safetensors/.npy: leave out what is no array instead of failing");
    convert_cmd->add_flag("!--no-progress", convert.progress,
                          "Never draw the progress bar (drawn on stderr for outputs of 16 MiB or more when "
                          "stderr is a terminal)");

    diff_options diff;
    CLI::App* diff_cmd = app.add_subcommand(
        "diff", "Compare two files item by item: structure, types, values; arrays element-wise within "
                "|a - b| <= atol + rtol * |b|; exit 1 if they differ");
    diff_cmd->add_option("A", diff.a, "The first file")->required();
    diff_cmd->add_option("B", diff.b, "The second file")->required();
    diff_cmd->add_option("--rtol", diff.rtol, "Relative tolerance")->capture_default_str();
    diff_cmd->add_option("--atol", diff.atol, "Absolute tolerance")->capture_default_str();

    zanj::read_limits limits;
    bool no_limits = false;
    for (CLI::App* sub : app.get_subcommands({})) {
        add_limit_options(sub, limits, no_limits);
        sub->footer(exit_codes_text);
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e); // prints help, version or the error
        return code == 0 ? exit_ok : exit_usage;
    }

    if (no_limits) limits = zanj::read_limits::none();
    try {
        if (*ls_cmd) return run_ls(ls, limits);
        if (*cat_cmd) return run_cat(cat, limits);
        if (*meta_cmd) return run_meta(meta, limits);
        if (*verify_cmd) return run_verify(verify, limits);
        if (*extract_cmd) return run_extract(extract, limits);
        if (*convert_cmd) return run_convert(convert, limits);
        if (*diff_cmd) return run_diff(diff, limits);
    } catch (const std::exception& e) { // zanj::error, and std::filesystem_error, bad_alloc...
        std::cout.flush();
        const std::string_view what = e.what();
        // zanj's messages already begin with "zanj: ".
        std::cerr << (what.starts_with("zanj: ") ? "" : "zanj: ") << what << "\n";
        if (dynamic_cast<const zanj::limit_error*>(&e) != nullptr)
            std::cerr << "zanj: the file goes beyond a read limit; if you trust it, raise the limit with --max-size, "
                         "--max-ratio or --max-archive-ratio, or lift them all with --no-limits\n";
        return exit_error;
    }
    return exit_usage;
}
