#pragma once
// Runs tests/python/types_interop.py: the archive Python writes with tables, sparse matrices,
// chrono items, variants, enum names and byte arrays, and what Python makes of archives we write.
// Needs catch.hpp included first.

#include "support.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>

namespace zanj_test {

/// Whether the test Python imports `module` (pandas and scipy are optional); asked once each.
inline bool python_has(const std::string& module) {
    static std::map<std::string, bool> known;
    auto it = known.find(module);
    if (it == known.end())
        it = known.emplace(module, run(python() + " -c 'import " + module + "'").exit_code == 0).first;
    return it->second;
}

/// python_types.zanj, written by Python into a fresh folder.
inline std::filesystem::path python_types_archive() {
    const std::filesystem::path dir = fresh_dir("python_types");
    const auto result = run(python() + " " + quote(python_script("types_interop.py")) + " write " + quote(dir));
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
    return dir / "python_types.zanj";
}

/// What Python reads from `archive`: its canonical JSON, with DataFrames, scipy matrices,
/// datetimes and timedeltas converted as the script describes.
inline nlohmann::json python_view(const std::filesystem::path& archive) {
    const std::filesystem::path out = archive.string() + ".python.json";
    const auto result =
        run(python() + " " + quote(python_script("types_interop.py")) + " read " + quote(archive) + " " + quote(out));
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
    return nlohmann::json::parse(read_file(out));
}

} // namespace zanj_test

/// Ends the test case with a warning when the test Python lacks `module` (Catch2 v2 has no SKIP).
#define ZANJ_TEST_NEEDS_PYTHON_MODULE(module)                                                                          \
    do {                                                                                                               \
        if (!zanj_test::python_has(module)) {                                                                          \
            WARN("skipped: " << zanj_test::python() << " cannot import " << (module));                                 \
            return;                                                                                                    \
        }                                                                                                              \
    } while (false)
