// A configured model: a small multilayer perceptron in xtensor, built from its config alone,
// trained for a few steps on generated data, saved with its loss history in one .zanj file, read
// back, and shown to give the same outputs. model_read.py opens the same file with numpy.
// Leaves model-out/mlp.zanj behind.

#include <zanj/zanj.hpp>

#include <xtensor/xmath.hpp>
#include <xtensor/xrandom.hpp>

#include <cmath>
#include <cstddef>
#include <iostream>
#include <string>
#include <vector>

struct MLPConfig {
    std::size_t n_in = 4;
    std::size_t n_hidden = 64; // fc1.weight has 256 elements: an .npy member
    std::size_t n_out = 1;
    double learning_rate = 0.05;
    unsigned seed = 7;
};
ZANJ_DATACLASS(MLPConfig, n_in, n_hidden, n_out, learning_rate, seed);

struct TrainingLog {
    std::vector<double> loss;
    std::size_t steps = 0;
};
ZANJ_DATACLASS(TrainingLog, loss, steps);

// out = x * w^T + b, for x (batch, in), w (out, in), b (out).
xt::xtensor<float, 2> affine(const xt::xtensor<float, 2>& x, const xt::xtensor<float, 2>& w,
                             const xt::xtensor<float, 1>& b) {
    xt::xtensor<float, 2> out({x.shape(0), w.shape(0)});
    for (std::size_t i = 0; i < x.shape(0); ++i)
        for (std::size_t o = 0; o < w.shape(0); ++o) {
            float sum = b(o);
            for (std::size_t k = 0; k < x.shape(1); ++k) sum += x(i, k) * w(o, k);
            out(i, o) = sum;
        }
    return out;
}

class MLP : public zanj::ConfiguredModel<MLP, MLPConfig, TrainingLog> {
public:
    // The class name written to the file, as Python's ConfiguredModel writes its class's name.
    static constexpr std::string_view class_name = "MLP";

    // Everything the model needs comes from the config, so reading can rebuild it.
    explicit MLP(MLPConfig cfg) : ConfiguredModel(cfg) {
        xt::random::seed(cfg.seed);
        const float scale1 = 1.0f / std::sqrt(float(cfg.n_in));
        const float scale2 = 1.0f / std::sqrt(float(cfg.n_hidden));
        w1 = scale1 * xt::random::randn<float>({cfg.n_hidden, cfg.n_in});
        b1 = xt::zeros<float>({cfg.n_hidden});
        w2 = scale2 * xt::random::randn<float>({cfg.n_out, cfg.n_hidden});
        b2 = xt::zeros<float>({cfg.n_out});
    }

    // The state dict: PyTorch's names for two Linear layers.
    template <class Visit>
    void visit_parameters(Visit&& param) {
        param("fc1.weight", w1);
        param("fc1.bias", b1);
        param("fc2.weight", w2);
        param("fc2.bias", b2);
    }

    xt::xtensor<float, 2> forward(const xt::xtensor<float, 2>& x) const {
        return affine(xt::tanh(affine(x, w1, b1)), w2, b2);
    }

    // One full-batch gradient step on the mean squared error; returns the loss before it.
    double train_step(const xt::xtensor<float, 2>& x, const xt::xtensor<float, 2>& y) {
        const xt::xtensor<float, 2> h = xt::tanh(affine(x, w1, b1));
        const xt::xtensor<float, 2> err = affine(h, w2, b2) - y;
        const float n = float(x.shape(0));
        const double loss = double(xt::sum(err * err)()) / n;

        const xt::xtensor<float, 2> d_out = (2.0f / n) * err; // (batch, out)
        xt::xtensor<float, 2> d_w2 = xt::zeros<float>(w2.shape());
        xt::xtensor<float, 2> d_h = xt::zeros<float>(h.shape());
        for (std::size_t i = 0; i < x.shape(0); ++i)
            for (std::size_t o = 0; o < w2.shape(0); ++o)
                for (std::size_t k = 0; k < w2.shape(1); ++k) {
                    d_w2(o, k) += d_out(i, o) * h(i, k);
                    d_h(i, k) += d_out(i, o) * w2(o, k);
                }
        const xt::xtensor<float, 2> d_pre = d_h * (1.0f - h * h); // through tanh
        xt::xtensor<float, 2> d_w1 = xt::zeros<float>(w1.shape());
        for (std::size_t i = 0; i < x.shape(0); ++i)
            for (std::size_t j = 0; j < w1.shape(0); ++j)
                for (std::size_t k = 0; k < w1.shape(1); ++k) d_w1(j, k) += d_pre(i, j) * x(i, k);

        const float lr = float(config().learning_rate);
        w2 -= lr * d_w2;
        b2 -= lr * xt::sum(d_out, {0});
        w1 -= lr * d_w1;
        b1 -= lr * xt::sum(d_pre, {0});
        training_records().loss.push_back(loss);
        ++training_records().steps;
        return loss;
    }

    xt::xtensor<float, 2> w1, w2;
    xt::xtensor<float, 1> b1, b2;
};

int main() {
    // Generated data: y = sin(x0 + x1) - x2 * x3 / 2.
    xt::random::seed(1);
    const xt::xtensor<float, 2> x = xt::random::randn<float>({256, 4});
    xt::xtensor<float, 2> y({256, 1});
    for (std::size_t i = 0; i < 256; ++i) y(i, 0) = std::sin(x(i, 0) + x(i, 1)) - x(i, 2) * x(i, 3) / 2.0f;

    MLP model(MLPConfig{});
    for (int step = 0; step < 200; ++step) model.train_step(x, y);
    const auto& loss = model.training_records().loss;
    std::cout << "trained " << model.training_records().steps << " steps: loss " << loss.front() << " -> "
              << loss.back() << " (" << model.num_params() << " parameters)\n";

    const auto path = model.save("model-out/mlp");
    std::cout << "saved " << path.string() << "\n";

    // Rebuilt from the stored config, then every parameter filled and checked.
    const MLP back = MLP::read(path);
    zanj::assert_model_exact_equality(model, back); // throws, naming each difference, if not
    const float max_diff = xt::amax(xt::abs(back.forward(x) - model.forward(x)))();
    std::cout << "read back: " << back.config().n_hidden << " hidden units, " << back.training_records().loss.size()
              << " recorded losses, outputs differ by at most " << max_diff << "\n";
    if (max_diff != 0.0f) {
        std::cerr << "the model read back gives other outputs\n";
        return 1;
    }
    std::cout << "open it from Python: /usr/bin/python3 examples/model_read.py " << path.string() << "\n";
    return 0;
}
