// xtensor's npy support: xt::dump_npy / xt::load_npy, one .npy file per array in a folder.

#include "../cases.hpp"

#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

#include <cstring>
#include <memory>

namespace bench {

namespace {

std::string npy_path(const std::filesystem::path& folder, const blob& b) {
    return (folder / (b.name + ".npy")).string();
}

} // namespace

std::vector<case_spec> xtensor_npy_cases(const workload& w) {
    if (!w.arrays) return {};
    const auto folder = w.dir / "xtensor-npy";
    return {
        {"xtensor", "dump_npy/load_npy", op::save, codec::store, folder, in_child([&w, folder](stopwatch&) {
             std::filesystem::create_directories(folder);
             for (const blob& b : w.blobs) {
                 with_type(b.dtype, [&](auto t) {
                     using T = decltype(t);
                     const auto data = typed<T>(b);
                     xt::dump_npy(npy_path(folder, b),
                                  xt::adapt(data.data(), data.size(), xt::no_ownership(), b.shape));
                 });
                 sync_file(npy_path(folder, b));
             }
         })},
        {"xtensor", "dump_npy/load_npy", op::load, codec::store, folder, in_child([&w, folder](stopwatch& sw) {
             std::vector<std::function<void()>> checks; // each holds a loaded array until it is checked
             for (const blob& b : w.blobs)
                 with_type(b.dtype, [&](auto t) {
                     using T = decltype(t);
                     auto a = std::make_shared<decltype(xt::load_npy<T>(std::string()))>(
                         xt::load_npy<T>(npy_path(folder, b)));
                     checks.push_back([a, &b] {
                         check(a->size() * sizeof(T) == b.bytes.size() &&
                                   std::memcmp(a->data(), b.bytes.data(), b.bytes.size()) == 0,
                               "xt::load_npy read other data for " + b.name);
                     });
                 });
             sw.stop();
             for (const auto& c : checks) c();
         })},
    };
}

} // namespace bench
