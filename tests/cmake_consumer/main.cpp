// A downstream project: finds the installed package and saves and reads an archive.
#include <zanj/zanj.hpp>

#include <iostream>

struct Settings {
    int epochs = 3;
    std::vector<double> schedule{0.1, 0.01};
    xt::xarray<float> weights = xt::ones<float>({20, 20});
};
ZANJ_DATACLASS(Settings, epochs, schedule, weights);

int main() {
    zanj::ZANJ z;
    auto path = z.save(Settings{}, "consumer-out/settings");
    Settings back = z.read<Settings>(path);
    bool ok = back.epochs == 3 && back.schedule.size() == 2 && back.weights == Settings{}.weights;
    std::cout << (ok ? "consumer: ok" : "consumer: MISMATCH") << " (zanj " << zanj::version << ")\n";
    return ok ? 0 : 1;
}
