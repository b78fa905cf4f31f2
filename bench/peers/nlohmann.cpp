// nlohmann::json on the tree of structs (c): the structs converted to JSON, dumped and written
// (and fsynced, as every save here), then parsed and converted back.

#include "../cases.hpp"

#include <nlohmann/json.hpp>

namespace bench {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(record, id, name, score, count, flag)

std::vector<case_spec> nlohmann_cases(const workload& w) {
    const auto* data = std::get_if<tree>(&w.data);
    if (!data) return {};
    const auto file = w.dir / "nlohmann.json";
    return {
        {"nlohmann::json", "dump", op::save, codec::store, file, in_child([data, file](stopwatch&) {
             const std::string text = nlohmann::json(*data).dump();
             write_file_synced(file, std::as_bytes(std::span(text)));
         })},
        {"nlohmann::json", "dump", op::load, codec::store, file, in_child([data, file](stopwatch& sw) {
             const auto back = nlohmann::json::parse(read_file(file)).get<tree>();
             sw.stop();
             check(back == *data, "nlohmann::json read back other data");
         }),
         "parse"},
    };
}

} // namespace bench
