#pragma once
// Round trips of one object through a handler's JSON form: in memory (serializer + loader, no
// archive) and through a real .zanj archive. Needs catch.hpp and the handlers included first.

#include "support.hpp"

#include <zanj/facade.hpp>

#include <filesystem>

namespace zanj_test {

template <class T>
zanj::value to_value(const T& obj, const zanj::config& cfg = zanj::config{}) {
    zanj::serializer s(cfg);
    return s.serialize(obj);
}

template <class T>
T from_value(const zanj::value& v, const zanj::config& cfg = zanj::config{}) {
    zanj::loader l(cfg);
    return l.load<T>(v);
}

template <class T>
T via_memory(const T& obj, const zanj::config& cfg = zanj::config{}) {
    return from_value<T>(to_value(obj, cfg), cfg);
}

template <class T>
T via_archive(const T& obj, const zanj::config& cfg = zanj::config{}) {
    zanj::ZANJ z(cfg);
    std::filesystem::path p = z.save(obj, fresh_dir("roundtrip") / "x");
    return z.read<T>(p);
}

} // namespace zanj_test

/// Equal after a trip through memory and after a trip through an archive.
/// (Not decomposed: xtensor's operator templates would capture Catch's.)
#define CHECK_ROUND_TRIPS(...)                                                                                         \
    do {                                                                                                               \
        const auto& original_ = (__VA_ARGS__);                                                                         \
        CHECK((zanj_test::via_memory(original_) == original_));                                                        \
        CHECK((zanj_test::via_archive(original_) == original_));                                                       \
    } while (false)
