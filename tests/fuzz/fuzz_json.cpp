// libFuzzer target: JSON text (a `__zanj__.json`, `__zanj_meta__.json` or `.jsonl` line) parsed
// into a zanj::value, then loaded to objects both ways: untyped (loader_registry::rebuild, what
// ZANJ::read does) and typed (loader::load<T> for a dataclass using most handlers). Any exception
// other than zanj::error, and any sanitizer report, is a finding.
#include "fuzz_support.hpp"

#include <zanj/detail/json_io.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

template <class T>
void load_as(const zanj::value& tree, const zanj::config& settings, const zanj::loader_registry* registry) {
    try {
        zanj::loader l(settings, registry);
        l.load<T>(tree);
    } catch (const zanj::error&) {}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const zanj::config settings = zanj_fuzz::settings();
    static const auto registry = zanj_fuzz::registry();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    zanj::value tree;
    try {
        tree = zanj::detail::parse_json(text, "__zanj__.json", false, settings.limits.max_json_depth);
    } catch (const zanj::error&) {
        return 0;
    }
    try {
        zanj::loader l(settings, registry.get());
        zanj::value rebuilt = registry->rebuild(tree, l);
        zanj::detail::write_json(rebuilt, {.indent = -1, .describe_arrays = true});
    } catch (const zanj::error&) {}
    load_as<zanj_fuzz::run>(tree, settings, registry.get());
    load_as<std::vector<zanj_fuzz::layer>>(tree, settings, registry.get());
    load_as<std::map<std::string, zanj::ndarray>>(tree, settings, registry.get());
    return 0;
}
