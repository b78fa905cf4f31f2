// `zanj verify`: every check the library knows, reporting as many problems as it can find
// rather than stopping at the first.

#include "cli.hpp"

#include <zanj/archive.hpp>
#include <zanj/detail/zip.hpp>
#include <zanj/error.hpp>

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace zanj::cli {

int run_verify(const verify_options& o) {
    // An unreadable file or no zip at all is exit 3 (thrown to main), not a finding.
    detail::zip_reader zip(o.file);

    std::vector<std::string> problems;
    // Member by member first, so that one bad member does not hide the next.
    for (const detail::zip_entry& e : zip.entries()) {
        try {
            (void)zip.data_offset(e); // checks the local header
            zip.verify(e);
        } catch (const error& failure) {
            problems.push_back(failure.what());
        }
    }
    // Then the archive's own checks: the JSON members, externals_info against the tree, each
    // .npy header against its stub, each .jsonl line. They stop at their first problem, which
    // repeats a member's CRC failure already reported.
    try {
        archive a(o.file);
        a.verify();
    } catch (const error& failure) {
        bool known = false;
        for (const std::string& p : problems)
            known = known || p == failure.what() ||
                    (!failure.member().empty() && p.find(failure.member()) != std::string::npos);
        if (!known) problems.push_back(failure.what());
    }

    for (std::string_view p : problems) {
        if (p.starts_with("zanj: ")) p.remove_prefix(6);
        std::cout << o.file.string() << ": " << p << "\n";
    }
    if (!problems.empty()) {
        std::cout << o.file.string() << ": " << problems.size() << (problems.size() == 1 ? " problem" : " problems")
                  << "\n";
        return exit_problems;
    }
    if (!o.quiet) std::cout << o.file.string() << ": ok\n";
    return exit_ok;
}

} // namespace zanj::cli
