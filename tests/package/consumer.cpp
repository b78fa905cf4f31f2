// A downstream program, built by every packaging test (tests/package/run.sh): through
// find_package, add_subdirectory, FetchContent and pkg-config. It saves a struct with a list and
// an external array, reads it back typed and untyped, and prints "consumer: ok (zanj VERSION)".
#include <zanj/zanj.hpp>

#include <iostream>
#include <string>
#include <vector>

struct Settings {
    int epochs = 3;
    std::vector<double> schedule{0.1, 0.01};
    xt::xarray<float> weights = xt::ones<float>({20, 20}); // 400 elements: a .npy member
};
ZANJ_DATACLASS(Settings, epochs, schedule, weights);

int main() {
    zanj::ZANJ z;
    std::string path = z.save(Settings{}, "consumer-out/settings");
    Settings back = z.read<Settings>(path);
    zanj::value tree = z.read(path);
    bool ok = back.epochs == 3 && back.schedule == Settings{}.schedule && back.weights == Settings{}.weights &&
              tree["weights"].as_array().size() == 400 && std::string(zanj::version) == ZANJ_VERSION_STRING;
    std::cout << (ok ? "consumer: ok" : "consumer: MISMATCH") << " (zanj " << zanj::version << ")\n";
    return ok ? 0 : 1;
}
