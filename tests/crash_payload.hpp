#pragma once
// The archive the crash-safety tests save over and over (test_crash.cpp, crash_helper.cpp): a
// few megabytes in several stored `.npy` members, a `.jsonl` list and the JSON, all fixed by
// one generation number, so that a reader can tell which save a file holds and check every byte.

#include <zanj/zanj.hpp>

#include <xtensor/xarray.hpp>

#include <cstddef>
#include <cstdlib>
#include <string>
#include <vector>

namespace zanj_test {

struct crash_payload {
    long long generation = 0;
    std::string note;
    std::vector<xt::xarray<float>> blocks;
    std::vector<xt::xarray<float>> small; // members of a few KiB, many to a write
    std::vector<std::string> log;         // long enough to become a .jsonl member
};
ZANJ_DATACLASS(crash_payload, generation, note, blocks, small, log);

/// Generation `generation`'s payload: `blocks` arrays of 1 MiB each, and 600 of 4 to 5 KB.
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
    for (std::size_t i = 0; i < 600; ++i) {
        xt::xarray<float> a = xt::xarray<float>::from_shape({1100 + i % 200});
        for (std::size_t k = 0; k < a.size(); ++k) a.data()[k] = static_cast<float>(generation % 1000 + i + k);
        p.small.push_back(std::move(a));
    }
    for (int i = 0; i < 300; ++i) p.log.push_back("gen " + std::to_string(generation) + " line " + std::to_string(i));
    return p;
}

/// The settings both sides save with: JSON deflated, arrays stored (the default), one thread
/// unless ZANJ_CRASH_THREADS says more (the writer then flushes behind the serializing thread).
inline zanj::config crash_config() {
    zanj::config c;
    c.threads = 1;
    if (const char* threads = std::getenv("ZANJ_CRASH_THREADS")) c.threads = static_cast<unsigned>(std::atoi(threads));
    return c;
}

} // namespace zanj_test
