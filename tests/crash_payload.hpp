#pragma once
// The archive the crash-safety tests save over and over (test_crash.cpp, crash_helper.cpp): a
// few megabytes in several stored `.npy` members, a `.jsonl` list and the JSON, all fixed by
// one generation number, so that a reader can tell which save a file holds and check every byte.

#include <zanj/zanj.hpp>

#include <xtensor/xarray.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace zanj_test {

struct crash_payload {
    long long generation = 0;
    std::string note;
    std::vector<xt::xarray<float>> blocks;
    std::vector<std::string> log; // long enough to become a .jsonl member
};
ZANJ_DATACLASS(crash_payload, generation, note, blocks, log);

/// Generation `generation`'s payload: `blocks` arrays of 1 MiB each.
inline crash_payload make_crash_payload(long long generation, std::size_t blocks = 8) {
    crash_payload p;
    p.generation = generation;
    p.note = "generation " + std::to_string(generation);
    for (std::size_t b = 0; b < blocks; ++b) {
        xt::xarray<float> a = xt::xarray<float>::from_shape({512, 512});
        float* data = a.data();
        for (std::size_t k = 0; k < a.size(); ++k)
            data[k] = static_cast<float>(generation % 100000) + static_cast<float>(b) * 0.25f +
                      static_cast<float>(k % 4093) * 1e-3f;
        p.blocks.push_back(std::move(a));
    }
    for (int i = 0; i < 300; ++i) p.log.push_back("gen " + std::to_string(generation) + " line " + std::to_string(i));
    return p;
}

/// The settings both sides save with: JSON deflated, arrays stored (the default), one thread.
inline zanj::config crash_config() {
    zanj::config c;
    c.threads = 1;
    return c;
}

} // namespace zanj_test
