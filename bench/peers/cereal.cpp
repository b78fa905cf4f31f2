// cereal's binary archive. Arrays are written as cereal writes a std::vector<float> to a binary
// archive (a size, then the bytes in one binary_data call), here with the shape as the size.

#include "../cases.hpp"

#include <cereal/archives/binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <fstream>

namespace cereal {

template <class Archive, class T>
void save(Archive& ar, const xt::xarray<T>& a) {
    ar(std::vector<std::size_t>(a.shape().begin(), a.shape().end()));
    ar(binary_data(a.data(), a.size() * sizeof(T)));
}

template <class Archive, class T>
void load(Archive& ar, xt::xarray<T>& a) {
    std::vector<std::size_t> shape;
    ar(shape);
    a.resize(shape);
    ar(binary_data(a.data(), a.size() * sizeof(T)));
}

} // namespace cereal

namespace bench {

template <class Archive>
void serialize(Archive& ar, record& r) {
    ar(r.id, r.name, r.score, r.count, r.flag);
}

template <class Archive>
void serialize(Archive& ar, mixed& m) {
    ar(m.field, m.labels, m.records);
}

std::vector<case_spec> cereal_cases(const workload& w) {
    const auto file = w.dir / "cereal.bin";
    return std::visit(
        [&](const auto& data) -> std::vector<case_spec> {
            using T = std::decay_t<decltype(data)>;
            return {
                {"cereal", "binary", op::save, codec::store, file, in_child([&data, file](stopwatch&) {
                     {
                         std::ofstream os(file, std::ios::binary);
                         cereal::BinaryOutputArchive ar(os);
                         ar(data);
                         check(os.flush().good(), "cereal: cannot write " + file.string());
                     }
                     sync_file(file);
                 })},
                {"cereal", "binary", op::load, codec::store, file, in_child([&data, file](stopwatch& sw) {
                     T back;
                     {
                         std::ifstream is(file, std::ios::binary);
                         cereal::BinaryInputArchive ar(is);
                         ar(back);
                     }
                     sw.stop();
                     check(back == data, "cereal read back other data");
                 })},
            };
        },
        w.data);
}

} // namespace bench
