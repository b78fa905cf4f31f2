#include <zanj/detail/sysinfo.hpp>
#include <zanj/version.hpp>

#include <libdeflate.h>
#include <nlohmann/json.hpp>
#include <xtensor/xtensor_config.hpp>
#include <zstd.h>

#include <sys/utsname.h>

namespace zanj::detail {

namespace {
std::string compiler() {
#if defined(__clang__)
    return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    return std::string("gcc ") + __VERSION__;
#else
    return "unknown";
#endif
}

std::string version3(int a, int b, int c) {
    return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c);
}
} // namespace

value system_description() {
    value::dict_type platform;
    struct utsname u {};
    if (::uname(&u) == 0) {
        platform.insert_or_assign("system", std::string(u.sysname));
        platform.insert_or_assign("release", std::string(u.release));
        platform.insert_or_assign("machine", std::string(u.machine));
    }
    value::dict_type libraries;
    libraries.insert_or_assign("zanj-cpp", std::string(zanj::version));
    libraries.insert_or_assign("nlohmann_json", version3(NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
                                                         NLOHMANN_JSON_VERSION_PATCH));
    libraries.insert_or_assign("xtensor",
                               version3(XTENSOR_VERSION_MAJOR, XTENSOR_VERSION_MINOR, XTENSOR_VERSION_PATCH));
    libraries.insert_or_assign("zstd", std::string(ZSTD_versionString()));
    libraries.insert_or_assign("libdeflate", std::string(LIBDEFLATE_VERSION_STRING));

    value::dict_type out;
    out.insert_or_assign("language", "C++");
    out.insert_or_assign("compiler", compiler());
    out.insert_or_assign("cplusplus", static_cast<std::int64_t>(__cplusplus));
    out.insert_or_assign("platform", value(std::move(platform)));
    out.insert_or_assign("libraries", value(std::move(libraries)));
    return out;
}

value serialization_handler_descriptions() {
    static const char* const descriptions[][2] = {
        {"numpy.ndarray:external", "arrays at or above external_array_threshold, as .npy members"},
        {"list:external", "lists and sequences at or above external_list_threshold, as .jsonl members"},
        {"numpy.ndarray:<array_mode>", "smaller arrays (xtensor containers, zanj::ndarray) inline"},
        {"SerializableDataclass", "ZANJ_DATACLASS types, field by field"},
        {"set", "std::set and std::unordered_set"},
        {"builtins", "bool, integers, floats, strings, paths, optional, vectors, arrays, deques, lists, maps, "
                     "pairs, tuples, enums, complex, nlohmann::json"},
    };
    value::list_type out;
    for (const auto& [uid, desc] : descriptions) {
        value::dict_type d;
        d.insert_or_assign("uid", uid);
        d.insert_or_assign("source_pckg", "zanj-cpp");
        d.insert_or_assign("desc", desc);
        out.emplace_back(std::move(d));
    }
    return out;
}

} // namespace zanj::detail
