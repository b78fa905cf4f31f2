// ConfiguredModel: configs, parameters and training records saved in Python's layout and read
// back by building the model from its config; strict and non-strict loading, mismatch diffs,
// wrong classes, shared parameters, and files written in Python's layout.

#include "support.hpp"

#include <zanj/detail/json_io.hpp>
#include <zanj/zanj.hpp>

#include <xtensor/xrandom.hpp>

#include <map>
#include <string>
#include <vector>

namespace model_test {

struct optimizer_config {
    std::string name = "sgd";
    double lr = 0.1;
};
ZANJ_DATACLASS(optimizer_config, name, lr);

struct net_config {
    int n_in = 4;
    int n_hidden = 8;
    std::string activation = "relu";
    optimizer_config optimizer{};
};
ZANJ_DATACLASS_NAMED(net_config, "NetConfig", n_in, n_hidden, activation, optimizer);

struct history {
    std::vector<double> loss;
    int steps = 0;
};
ZANJ_DATACLASS(history, loss, steps);

// A two-layer net whose parameters have element type T.
template <class T>
class net : public zanj::ConfiguredModel<net<T>, net_config, history> {
public:
    static constexpr std::string_view class_name = "Net";

    explicit net(net_config cfg)
        : zanj::ConfiguredModel<net<T>, net_config, history>(cfg),
          w1({std::size_t(cfg.n_hidden), std::size_t(cfg.n_in)}), b1(std::size_t(cfg.n_hidden)),
          w2(typename xt::xarray<T>::shape_type{1, std::size_t(cfg.n_hidden)}) {
        w1.fill(T(0));
        std::fill(b1.begin(), b1.end(), T(0));
        w2.fill(T(0));
    }

    template <class Visit>
    void visit_parameters(Visit&& param) {
        param("fc1.weight", w1);
        param("fc1.bias", b1);
        param("fc2.weight", w2);
    }

    void randomize(unsigned seed) {
        std::size_t k = seed;
        for (auto& x : w1) x = T(float((k++ * 37) % 101) / 50.0f - 1.0f);
        for (auto& x : b1) x = T(float((k++ * 13) % 17) / 8.0f);
        for (auto& x : w2) x = T(float((k++ * 7) % 23) / 4.0f - 2.0f);
    }

    xt::xtensor<T, 2> w1;
    std::vector<T> b1;
    xt::xarray<T> w2;
};

// Another class with the same config, for wrong-class reads.
class other_net : public zanj::ConfiguredModel<other_net, net_config, history> {
public:
    static constexpr std::string_view class_name = "OtherNet";
    explicit other_net(net_config cfg) : ConfiguredModel(cfg) {}
    template <class Visit>
    void visit_parameters(Visit&&) {}
};

// "Net" again, with a parameter set that differs from net<T>'s: for missing/unexpected keys.
class net_v2 : public zanj::ConfiguredModel<net_v2, net_config, history> {
public:
    static constexpr std::string_view class_name = "Net";
    explicit net_v2(net_config cfg)
        : ConfiguredModel(cfg), w1({std::size_t(cfg.n_hidden), std::size_t(cfg.n_in)}), gate({7.0f, 7.0f}) {
        w1.fill(-1.0f);
    }
    template <class Visit>
    void visit_parameters(Visit&& param) {
        param("fc1.weight", w1);
        param("gate", gate);
    }
    xt::xtensor<float, 2> w1;
    std::array<float, 2> gate;
};

// "Net" whose fc1.weight has another dtype or shape.
template <class T, int Transpose>
class net_mismatched : public zanj::ConfiguredModel<net_mismatched<T, Transpose>, net_config, history> {
public:
    static constexpr std::string_view class_name = "Net";
    explicit net_mismatched(net_config cfg)
        : zanj::ConfiguredModel<net_mismatched<T, Transpose>, net_config, history>(cfg),
          w1(Transpose ? typename xt::xarray<T>::shape_type{std::size_t(cfg.n_in), std::size_t(cfg.n_hidden)}
                       : typename xt::xarray<T>::shape_type{std::size_t(cfg.n_hidden), std::size_t(cfg.n_in)}) {}
    template <class Visit>
    void visit_parameters(Visit&& param) {
        param("fc1.weight", w1);
        param("fc1.bias", b1);
        param("fc2.weight", w2);
    }
    xt::xarray<T> w1;
    std::vector<float> b1 = std::vector<float>(8);
    xt::xarray<float> w2 = xt::zeros<float>({1, 8});
};

// Tied weights: the embedding and the output projection are one array.
class tied_net : public zanj::ConfiguredModel<tied_net, net_config> {
public:
    static constexpr std::string_view class_name = "TiedNet";
    explicit tied_net(net_config cfg)
        : ConfiguredModel(cfg), embedding(xt::zeros<float>({std::size_t(cfg.n_hidden), std::size_t(cfg.n_in)})),
          bias(zanj::dtype::float64, {std::size_t(cfg.n_hidden)}) {}
    template <class Visit>
    void visit_parameters(Visit&& param) {
        param("embed.weight", embedding);
        param("bias", bias);
        param("lm_head.weight", embedding);
    }
    xt::xtensor<float, 2> embedding;
    zanj::ndarray bias;
};

// The same names, not tied: loading a tied file copies the shared data into both.
class untied_net : public zanj::ConfiguredModel<untied_net, net_config> {
public:
    static constexpr std::string_view class_name = "TiedNet";
    explicit untied_net(net_config cfg)
        : ConfiguredModel(cfg), embedding(xt::zeros<float>({std::size_t(cfg.n_hidden), std::size_t(cfg.n_in)})),
          head(embedding), bias(zanj::dtype::float64, {std::size_t(cfg.n_hidden)}) {}
    template <class Visit>
    void visit_parameters(Visit&& param) {
        param("embed.weight", embedding);
        param("bias", bias);
        param("lm_head.weight", head);
    }
    xt::xtensor<float, 2> embedding;
    xt::xtensor<float, 2> head;
    zanj::ndarray bias;
};

// The model Python's layout test reads (tests/python/write_model.py).
struct tiny_config {
    int n_in = 0;
    int n_hidden = 0;
    int n_out = 0;
    std::string activation;
    double dropout = 0;
};
ZANJ_DATACLASS_NAMED(tiny_config, "TinyNetConfig", n_in, n_hidden, n_out, activation, dropout);

class tiny_net : public zanj::ConfiguredModel<tiny_net, tiny_config> {
public:
    static constexpr std::string_view class_name = "TinyNet";
    explicit tiny_net(tiny_config c)
        : ConfiguredModel(c), fc1_w({std::size_t(c.n_hidden), std::size_t(c.n_in)}), fc1_b(std::size_t(c.n_hidden)),
          fc2_w({std::size_t(c.n_out), std::size_t(c.n_hidden)}), fc2_b(std::size_t(c.n_out)), scale({8, 40}) {}
    template <class Visit>
    void visit_parameters(Visit&& param) {
        param("fc1.weight", fc1_w);
        param("fc1.bias", fc1_b);
        param("fc2.weight", fc2_w);
        param("fc2.bias", fc2_b);
        param("scale", scale);
    }
    xt::xtensor<float, 2> fc1_w;
    std::vector<float> fc1_b;
    xt::xtensor<float, 2> fc2_w;
    std::vector<float> fc2_b;
    xt::xtensor<double, 2> scale;
};

// Names one parameter twice.
struct twice : zanj::ConfiguredModel<twice, net_config> {
    static constexpr std::string_view class_name = "Twice";
    explicit twice(net_config c) : ConfiguredModel(c) {}
    template <class Visit>
    void visit_parameters(Visit&& param) {
        param("w", a);
        param("w", b);
    }
    std::vector<float> a{1}, b{2};
};

// A saved experiment holding a model among other things.
struct experiment {
    std::string name;
    net<float> model{net_config{}};
};
ZANJ_DATACLASS(experiment, name, model);

} // namespace model_test

using namespace model_test;
using zanj_test::fresh_dir;

namespace {

net_config small_config() {
    net_config c;
    c.n_in = 20;
    c.n_hidden = 16; // fc1.weight has 320 elements: an external .npy member
    c.optimizer.lr = 0.01;
    return c;
}

template <class T>
net<T> trained_net(unsigned seed = 3) {
    net<T> m(small_config());
    m.randomize(seed);
    m.training_records().loss = {2.0, 1.0, 0.5};
    m.training_records().steps = 3;
    return m;
}

std::vector<std::string> members_of(const std::filesystem::path& file) {
    zanj::archive a(file);
    std::vector<std::string> out;
    for (const auto& item : a.items())
        if (!item.member.empty()) out.push_back(item.member);
    return out;
}

} // namespace

TEMPLATE_TEST_CASE("a model round-trips its config, parameters and records", "[model]", float, double, zanj::float16,
                   zanj::bfloat16) {
    auto dir = fresh_dir("model");
    net<TestType> saved = trained_net<TestType>();
    auto file = saved.save(dir / "net");
    CHECK(file.extension() == ".zanj");

    net<TestType> back = net<TestType>::read(file);
    CHECK(back.config().n_hidden == 16);
    CHECK(back.config().optimizer.lr == 0.01);
    CHECK(back.training_records().loss == std::vector<double>{2.0, 1.0, 0.5});
    CHECK(back.training_records().steps == 3);
    CHECK_NOTHROW(zanj::assert_model_exact_equality(saved, back));
    CHECK(back.num_params() == 16 * 20 + 16 + 16);

    // Python's layout: format key, config item, meta, records, state dict of array items.
    zanj::archive a(file);
    const zanj::value& tree = a.tree();
    CHECK(tree.format() == "Net");
    CHECK(tree["zanj_model_config"].format() == "NetConfig(SerializableDataclass)");
    CHECK(tree["meta"]["class_name"].as_string() == "Net");
    CHECK(tree["meta"]["num_params"].as_int() == 352);
    CHECK(tree["state_dict"]["fc1.weight"].format() == "numpy.ndarray:external");
    CHECK(tree["state_dict"]["fc1.bias"].format() == "numpy.ndarray:array_list_meta");
    CHECK(a.find("/state_dict/fc1.weight")->member == "state_dict/fc1.weight.npy");
}

TEST_CASE("a model's untyped parameters keep their dtype and values", "[model]") {
    auto dir = fresh_dir("model");
    net<float> saved = trained_net<float>();
    auto file = saved.save(dir / "net");
    zanj::value tree = zanj::ZANJ().read(file);
    const zanj::ndarray& w1 = tree["state_dict"]["fc1.weight"].as_array();
    CHECK(w1.type() == zanj::dtype::float32);
    CHECK(w1.shape() == zanj::shape_type{16, 20});
    CHECK(w1.values<float>()[5] == saved.w1.data()[5]);

    // The state dict API: copies out, and loads back (strictly) into another model.
    zanj::value state = saved.state_dict();
    CHECK(state.as_dict().size() == 3);
    net<float> other(small_config());
    CHECK(other.load_state_dict(state).clean());
    CHECK_NOTHROW(zanj::assert_model_exact_equality(saved, other));
    // From an untyped read of the file too.
    net<float> third(small_config());
    CHECK(third.load_state_dict(tree["state_dict"]).clean());
    CHECK((third.w1 == saved.w1));
}

TEST_CASE("strict loading refuses missing and unexpected parameters, naming them", "[model]") {
    auto dir = fresh_dir("model");
    auto file = trained_net<float>().save(dir / "net");
    try {
        (void)net_v2::read(file);
        FAIL("read should have thrown");
    } catch (const zanj::type_error& e) {
        const std::string what = e.what();
        CHECK(what.find("missing parameters 'gate'") != std::string::npos);
        CHECK(what.find("unexpected entries 'fc1.bias', 'fc2.weight'") != std::string::npos);
        CHECK(e.object_path() == "/state_dict");
    }
}

TEST_CASE("non-strict loading reports missing and unexpected parameters", "[model]") {
    auto dir = fresh_dir("model");
    net<float> saved = trained_net<float>();
    auto file = saved.save(dir / "net");
    zanj::state_dict_report report;
    report.missing_keys = {"stale"};
    net_v2 back = net_v2::read(file, report);
    CHECK(report.missing_keys == std::vector<std::string>{"gate"});
    CHECK(report.unexpected_keys == std::vector<std::string>{"fc1.bias", "fc2.weight"});
    CHECK_FALSE(report.clean());
    CHECK((back.w1 == saved.w1));                         // loaded
    CHECK(back.gate == std::array<float, 2>{7.0f, 7.0f}); // missing: as constructed

    // The same through load_state_dict.
    net_v2 other(small_config());
    auto r = other.load_state_dict(saved.state_dict(), false);
    CHECK(r.missing_keys == std::vector<std::string>{"gate"});
    CHECK(r.unexpected_keys.size() == 2);
    CHECK((other.w1 == saved.w1));
    CHECK_THROWS_AS(other.load_state_dict(saved.state_dict()), zanj::type_error);
}

TEST_CASE("dtype and shape mismatches are errors even when non-strict", "[model]") {
    auto dir = fresh_dir("model");
    auto file = trained_net<float>().save(dir / "net");
    zanj::state_dict_report report;
    try {
        (void)net_mismatched<double, 0>::read(file, report);
        FAIL("read should have thrown");
    } catch (const zanj::type_error& e) {
        CHECK(std::string(e.what()).find("dtype mismatch for parameter 'fc1.weight': the file holds float32, the "
                                         "model has float64") != std::string::npos);
        CHECK(e.object_path() == "/state_dict/fc1.weight");
        CHECK(e.member() == "state_dict/fc1.weight.npy");
    }
    try {
        (void)net_mismatched<float, 1>::read(file);
        FAIL("read should have thrown");
    } catch (const zanj::type_error& e) {
        CHECK(std::string(e.what()).find("shape mismatch for parameter 'fc1.weight': the file holds (16, 20), the "
                                         "model has (20, 16)") != std::string::npos);
    }
}

TEST_CASE("reading a model as another class names both classes", "[model]") {
    auto dir = fresh_dir("model");
    auto file = trained_net<float>().save(dir / "net");
    try {
        (void)other_net::read(file);
        FAIL("read should have thrown");
    } catch (const zanj::type_error& e) {
        const std::string what = e.what();
        CHECK(what.find("the file holds a model of class 'Net', not 'OtherNet'") != std::string::npos);
    }
    // Not a model at all.
    auto cfg_file = zanj::ZANJ().save(small_config(), dir / "cfg");
    CHECK_THROWS_WITH(net<float>::read(cfg_file),
                      Catch::Contains("expected a model of class 'Net', found a 'NetConfig(SerializableDataclass)'"));
    auto plain = zanj::ZANJ().save(std::map<std::string, int>{{"a", 1}}, dir / "plain");
    CHECK_THROWS_WITH(net<float>::read(plain), Catch::Contains("found a dict without a format key"));
}

TEST_CASE("config mismatches carry a field-by-field diff", "[model]") {
    net<float> a = trained_net<float>();
    net_config changed = small_config();
    changed.n_hidden = 32;
    changed.optimizer.lr = 0.5;
    net<float> b(changed);
    try {
        zanj::assert_model_cfg_equality(a, b);
        FAIL("configs should differ");
    } catch (const zanj::config_mismatch& e) {
        REQUIRE(e.differences().size() == 2);
        CHECK(e.differences()[0].str() == "/n_hidden: 16 in a, 32 in b");
        CHECK(e.differences()[1].str() == "/optimizer/lr: 0.01 in a, 0.5 in b");
        CHECK(std::string(e.what()).find("the configs of Net a and Net b differ:\n/n_hidden") != std::string::npos);
    }
    CHECK_NOTHROW(zanj::assert_model_cfg_equality(a, trained_net<float>(9)));
    // Equal configs, different weights.
    net<float> c = trained_net<float>(9);
    c.w1(3, 4) += 1.0f;
    try {
        zanj::assert_model_exact_equality(a, c);
        FAIL("weights should differ");
    } catch (const zanj::config_mismatch&) {
        FAIL("the configs are equal");
    } catch (const zanj::model_mismatch& e) {
        CHECK(!e.differences().empty());
        CHECK(e.differences()[0].path == "/fc1.weight");
        CHECK(e.differences()[0].what.find("elements differ") != std::string::npos);
    }
    net<float> d = trained_net<float>(3);
    CHECK_NOTHROW(zanj::assert_model_exact_equality(a, d));
}

TEST_CASE("parameters that share storage are written once", "[model]") {
    auto dir = fresh_dir("model");
    tied_net saved(small_config());
    for (std::size_t i = 0; i < saved.embedding.size(); ++i) saved.embedding.data()[i] = float(i) * 0.5f;
    for (std::size_t i = 0; i < saved.bias.size(); ++i) saved.bias.values<double>()[i] = double(i);
    CHECK(saved.num_params() == 16 * 20 + 16);
    auto file = saved.save(dir / "tied");

    // One member for the embedding, the head a reference to it.
    CHECK(members_of(file) == std::vector<std::string>{"state_dict/embed.weight.npy"});
    zanj::archive a(file);
    const zanj::value& head = a.tree()["state_dict"]["lm_head.weight"];
    CHECK(head.format() == "zanj::shared_parameter");
    CHECK(head["same_as"].as_string() == "embed.weight");
    CHECK(a.tree()["meta"]["num_params"].as_int() == 336);

    tied_net back = tied_net::read(file);
    CHECK((back.embedding == saved.embedding));
    CHECK(back.bias == saved.bias);
    CHECK_NOTHROW(zanj::assert_model_exact_equality(saved, back));

    // A model that keeps the two apart gets the data in both.
    untied_net apart = untied_net::read(file);
    CHECK((apart.embedding == saved.embedding));
    CHECK((apart.head == saved.embedding));
    CHECK(apart.num_params() == 2 * 16 * 20 + 16);

    // And an untied model saves both.
    CHECK(members_of(apart.save(dir / "apart")).size() == 2);
}

TEST_CASE("a model file written in Python's layout loads", "[model][python]") {
    auto dir = fresh_dir("model");
    auto file = dir / "tiny.zanj";
    auto weights = dir / "tiny.npz";
    auto r = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("write_model.py") + " " +
                            zanj_test::quote(file) + " " + zanj_test::quote(weights));
    INFO(r.output);
    REQUIRE(r.exit_code == 0);

    tiny_net m = tiny_net::read(file);
    CHECK(m.config().n_in == 32);
    CHECK(m.config().activation == "relu");
    CHECK(m.config().dropout == 0.1);
    zanj::value expected = zanj::load_any(weights);
    CHECK(zanj::compare(m.state_dict(), expected).empty());
    CHECK(m.state_dict()["scale"].as_array().type() == zanj::dtype::float64);

    // The records are any value: here Python's dict.
    CHECK(m.training_records()["epochs"].as_int() == 3);
    CHECK(m.training_records()["loss"].as_list().size() == 3);
}

TEST_CASE("Python reads a saved model's config and weights", "[model][python]") {
    auto dir = fresh_dir("model");
    tied_net saved(small_config());
    saved.embedding.fill(0.25f);
    auto file = saved.save(dir / "tied");
    auto r = zanj_test::run(zanj_test::python() + " " + zanj_test::python_script("read_zanj.py") + " -q " +
                            zanj_test::quote(file));
    INFO(r.output);
    CHECK(r.exit_code == 0);
    std::string script = "import json, zipfile, numpy as np\n"
                         "z = zipfile.ZipFile(" +
                         zanj_test::quote(file) +
                         ")\n"
                         "t = json.loads(z.read('__zanj__.json'))\n"
                         "w = np.load(z.open('state_dict/embed.weight.npy'))\n"
                         "print(t['__muutils_format__'], t['zanj_model_config']['n_hidden'], w.shape, w.dtype, "
                         "w[0, 0], t['state_dict']['lm_head.weight']['same_as'])\n";
    zanj_test::write_file(dir / "check.py", script);
    auto p = zanj_test::run(zanj_test::python() + " " + zanj_test::quote(dir / "check.py"));
    INFO(p.output);
    CHECK(p.exit_code == 0);
    CHECK(p.output.find("TiedNet 16 (16, 20) float32 0.25 embed.weight") != std::string::npos);
}

TEST_CASE("a model can be a field and an untyped read can rebuild it", "[model]") {
    auto dir = fresh_dir("model");
    experiment e;
    e.name = "run 1";
    e.model = trained_net<float>();
    zanj::ZANJ z;
    auto file = z.save(e, dir / "experiment");
    experiment back = z.read<experiment>(file);
    CHECK(back.name == "run 1");
    CHECK_NOTHROW(zanj::assert_model_exact_equality(back.model, e.model));
    CHECK(members_of(file) == std::vector<std::string>{"model/state_dict/fc1.weight.npy"});

    z.register_type<net<float>>();
    zanj::value tree = z.read(file);
    const net<float>* rebuilt = tree["model"].instance<net<float>>();
    REQUIRE(rebuilt != nullptr);
    CHECK((rebuilt->w1 == e.model.w1));
}

TEST_CASE("malformed model items are clear errors", "[model]") {
    zanj::config settings;
    zanj::loader l(settings);
    auto json = [](const std::string& text) { return zanj::detail::parse_json(text, "test"); };
    auto item = [&json](std::string_view state_dict_json) {
        return json(R"({"__muutils_format__": "Net", "zanj_model_config": {"n_in": 20, "n_hidden": 16,
                                      "activation": "relu", "optimizer": {"name": "sgd", "lr": 0.1}},
                                      "state_dict": )" +
                    std::string(state_dict_json) + "}");
    };
    CHECK_THROWS_WITH(l.load<net<float>>(json(R"({"__muutils_format__": "Net"})")),
                      Catch::Contains("zanj_model_config"));
    CHECK_THROWS_WITH(l.load<net<float>>(item("[1, 2]")), Catch::Contains("a dict of parameters"));
    CHECK_THROWS_WITH(
        l.load<net<float>>(item(R"({"fc1.weight": {"__muutils_format__": "zanj::shared_parameter", "same_as": "nope"},
                                    "fc1.bias": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0], "fc2.weight": [[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]]})")),
        Catch::Contains("shared parameter 'fc1.weight' names 'nope'"));
    CHECK_THROWS_WITH(l.load<net<float>>(item(R"({"fc1.weight": "x", "fc1.bias": 1, "fc2.weight": 2})")),
                      Catch::Contains("/state_dict/fc1.weight"));
    // A class whose name merely starts with "Net" is another class.
    CHECK_THROWS_WITH(
        l.load<net<float>>(json(R"({"__muutils_format__": "Network", "zanj_model_config": {}, "state_dict": {}})")),
        Catch::Contains("class 'Network', not 'Net'"));
}

TEST_CASE("duplicate parameter names are a usage error", "[model]") {
    twice t(net_config{});
    CHECK_THROWS_WITH(t.num_params(), Catch::Contains("names the parameter 'w' twice"));
    CHECK_THROWS_AS(t.save(fresh_dir("model") / "twice"), zanj::usage_error);
}

TEST_CASE("examples/model_read.py prints a saved model's config and weight shapes", "[model][python]") {
    auto dir = fresh_dir("model");
    auto file = trained_net<float>().save(dir / "net");
    auto r = zanj_test::run(zanj_test::python() + " " +
                            zanj_test::quote(std::string(ZANJ_TEST_SOURCE_DIR) + "/../examples/model_read.py") + " " +
                            zanj_test::quote(file));
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("class: Net with 352 parameters") != std::string::npos);
    CHECK(r.output.find("\"n_hidden\": 16") != std::string::npos);
    CHECK(r.output.find("loss: 3 steps, 2.0000 -> 0.5000") != std::string::npos);
    CHECK(r.output.find("fc1.weight   float32  (16, 20)") != std::string::npos);
    CHECK(r.output.find("fc2.weight   float32  (1, 16)") != std::string::npos);
}
