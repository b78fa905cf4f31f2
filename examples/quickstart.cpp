// The README's demo: save a whole experiment in one call, list what the archive holds, read it
// back typed and untyped. Leaves quickstart-out/run.zanj behind for unzip or Python to open.

#include <zanj/zanj.hpp>

#include <xtensor/xrandom.hpp>

#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

struct Layer {
    std::string name;
    xt::xarray<float> w;
    std::vector<int> shape;
};
ZANJ_DATACLASS(Layer, name, w, shape);

struct Run {
    std::string title;
    double lr = 1e-3;
    std::map<std::string, double> metrics;
    std::vector<Layer> layers;
    std::optional<std::string> note;
};
ZANJ_DATACLASS(Run, title, lr, metrics, layers, note);

int main() {
    xt::random::seed(42);
    Run run{"quickstart", 3e-4, {{"loss", 0.125}, {"accuracy", 0.97}}, {}, std::nullopt};
    run.layers.push_back({"embed", xt::random::randn<float>({64, 32}), {64, 32}});
    run.layers.push_back({"head", xt::random::randn<float>({32, 4}), {32, 4}});

    zanj::ZANJ z; // Python's defaults: arrays of 256+ elements become .npy members
    std::string path = z.save(run, "quickstart-out/run");
    std::cout << "saved " << path << "\n";

    // What is inside: the untyped tree, with arrays materialised.
    zanj::value tree = z.read(path);
    std::cout << "title: " << tree["title"].as_string() << "\n";
    for (const auto& layer : tree["layers"].as_list()) {
        const zanj::ndarray& w = layer["w"].as_array();
        std::cout << "  layer " << layer["name"].as_string() << ": " << zanj::dtype_name(w.type()) << " "
                  << w.shape_string() << "\n";
    }
    zanj::value meta = z.read_meta(path);
    for (const auto& [member, info] : meta["externals_info"].as_dict())
        std::cout << "  member " << member << " (" << info["item_type"].as_string() << ")\n";

    // The typed read gives back an equal object.
    Run back = z.read<Run>(path);
    bool same = back.title == run.title && back.lr == run.lr && back.metrics == run.metrics &&
                back.layers.size() == run.layers.size() && back.note == run.note;
    for (std::size_t i = 0; same && i < run.layers.size(); ++i)
        same = back.layers[i].name == run.layers[i].name && back.layers[i].w == run.layers[i].w &&
               back.layers[i].shape == run.layers[i].shape;
    std::cout << (same ? "read back: identical\n" : "read back: DIFFERENT\n");
    return same ? 0 : 1;
}
