#pragma once
/// \file
/// `zanj::ConfiguredModel`: a model built from a config object alone, saved with its config, its
/// named parameters (the state dict) and its training records in one `.zanj` file, in the layout
/// of Python's `zanj.torchutil.ConfiguredModel`, and rebuilt from that file.
///
/// \code
/// struct MLPConfig { int n_in, n_hidden, n_out; };
/// ZANJ_DATACLASS(MLPConfig, n_in, n_hidden, n_out);
///
/// class MLP : public zanj::ConfiguredModel<MLP, MLPConfig> {
/// public:
///     static constexpr std::string_view class_name = "MLP";   // the Python class name
///     explicit MLP(MLPConfig cfg)                               // built from the config alone
///         : ConfiguredModel(cfg), w1({std::size_t(cfg.n_hidden), std::size_t(cfg.n_in)}) {}
///     template <class Visit>
///     void visit_parameters(Visit&& param) { param("fc1.weight", w1); }   // the state dict
///     xt::xtensor<float, 2> w1;
/// };
///
/// model.save("mlp");                       // mlp.zanj
/// MLP back = MLP::read("mlp.zanj");        // MLP(config), then every parameter filled
/// \endcode
///
/// The model class provides:
/// - `static constexpr std::string_view class_name`: written as the item's format key, and
///   checked on reading (a file of another model class is a type_error naming both);
/// - a constructor from `Config` that gives every parameter its dtype and shape;
/// - `template <class Visit> void visit_parameters(Visit&& param)`, calling `param(name, p)` for
///   each parameter, where p is an `xt::xarray`/`xt::xtensor`/`xt::xtensor_fixed` (with
///   zanj/types/xtensor.hpp), a `zanj::ndarray`, a `std::vector` or `std::array` of numbers, or
///   any type with a `zanj::parameter_traits` specialisation. Saving only reads through it.
///   Naming one object twice (tied weights) writes its data once.

#include <zanj/compare.hpp>
#include <zanj/facade.hpp>
#include <zanj/handler.hpp>
#include <zanj/loader.hpp>
#include <zanj/ndarray.hpp>
#include <zanj/serializer.hpp>
#include <zanj/value.hpp>
#include <zanj/types/value.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace zanj {

/// What loading a state dict found besides the parameters it filled, as PyTorch's
/// `load_state_dict` reports it.
struct state_dict_report {
    /// Parameters of the model that the state dict lacks (they keep their constructed values).
    std::vector<std::string> missing_keys;
    /// Entries of the state dict that the model has no parameter for (ignored).
    std::vector<std::string> unexpected_keys;

    /// No missing and no unexpected keys.
    bool clean() const noexcept { return missing_keys.empty() && unexpected_keys.empty(); }
};

/// Two models, or their configs, are not the same; `differences()` says where, item by item.
class model_mismatch : public error {
public:
    /// `what` summarises; the differences follow it in `what()`, one per line.
    model_mismatch(const std::string& what, std::vector<difference> differences);
    /// Each differing item: its object path and both sides.
    const std::vector<difference>& differences() const noexcept { return differences_; }

private:
    std::vector<difference> differences_;
};

/// The configs of two models differ (Python's `ConfigMismatchException`): `differences()` is
/// the field-by-field diff, nested fields by their path (`/optimizer/lr`).
class config_mismatch : public model_mismatch {
public:
    /// The constructor of model_mismatch.
    using model_mismatch::model_mismatch;
};

/// ndarray parameters: any dtype; loading checks dtype and shape against the constructed array.
template <>
struct parameter_traits<ndarray> {
    /// Its dtype.
    static zanj::dtype type(const ndarray& a) { return a.type(); }
    /// Its shape.
    static shape_type shape(const ndarray& a) { return a.shape(); }
    /// Its bytes, row-major.
    static std::byte* data(ndarray& a) { return a.bytes(); }
};

/// std::vector of numbers: a 1-d parameter.
template <class T, class A>
requires array_element<T>
struct parameter_traits<std::vector<T, A>> {
    /// The element's dtype.
    static zanj::dtype type(const std::vector<T, A>&) { return dtype_of<T>; }
    /// (size,)
    static shape_type shape(const std::vector<T, A>& v) { return {v.size()}; }
    /// Its elements.
    static std::byte* data(std::vector<T, A>& v) { return reinterpret_cast<std::byte*>(v.data()); }
};

/// std::array of numbers: a 1-d parameter.
template <class T, std::size_t N>
requires array_element<T>
struct parameter_traits<std::array<T, N>> {
    /// The element's dtype.
    static zanj::dtype type(const std::array<T, N>&) { return dtype_of<T>; }
    /// (N,)
    static shape_type shape(const std::array<T, N>&) { return {N}; }
    /// Its elements.
    static std::byte* data(std::array<T, N>& a) { return reinterpret_cast<std::byte*>(a.data()); }
};

/// T can be a model parameter: it has a `parameter_traits` specialisation.
template <class T>
concept model_parameter = requires(T& p, const T& c) {
    { parameter_traits<T>::type(c) } -> std::convertible_to<dtype>;
    { parameter_traits<T>::shape(c) } -> std::convertible_to<shape_type>;
    { parameter_traits<T>::data(p) } -> std::convertible_to<std::byte*>;
};

namespace detail {

/// One parameter as a model's `visit_parameters` names it: where its bytes are.
struct parameter_ref {
    std::string name;
    zanj::dtype type;
    shape_type shape;
    std::byte* data;
};

/// Marks the ConfiguredModel bases so that one handler covers every model class.
struct configured_model_base {};

template <class T>
concept configured_model = std::derived_from<T, configured_model_base>;

template <class T>
inline constexpr bool always_false_parameter = false;

/// Checks a parameter list (non-empty, unique names) and throws naming the model otherwise.
void check_parameters(const std::vector<parameter_ref>& parameters, std::string_view class_name);

/// The parameters of `model`, in the order it visits them.
template <class Model>
std::vector<parameter_ref> parameters_of(Model& model) {
    std::vector<parameter_ref> out;
    model.visit_parameters([&out]<class P>(std::string_view name, P& p) {
        if constexpr (model_parameter<P>) {
            try {
                out.push_back({std::string(name), parameter_traits<P>::type(p), parameter_traits<P>::shape(p),
                               parameter_traits<P>::data(p)});
            } catch (const error& e) {
                throw usage_error("parameter '" + std::string(name) + "': " + e.reason());
            }
        } else {
            static_assert(always_false_parameter<P>,
                          "zanj: this parameter type has no zanj::parameter_traits (see 'P' above). Use an "
                          "xt::xarray / xt::xtensor (include zanj/types/xtensor.hpp), a zanj::ndarray, a "
                          "std::vector or std::array of numbers, or specialise zanj::parameter_traits<P> with "
                          "static dtype type(const P&), static shape_type shape(const P&) and static "
                          "std::byte* data(P&) (row-major bytes).");
        }
    });
    check_parameters(out, Model::class_name);
    return out;
}

/// The `state_dict` item: one array item per parameter, a `zanj::shared_parameter` item naming
/// the first for each later parameter on the same storage.
value write_state_dict(const std::vector<parameter_ref>& parameters, serializer& s);
/// Elements of all parameters, storage shared between parameters counted once.
std::size_t count_parameters(const std::vector<parameter_ref>& parameters);
/// The `meta` item Python writes (`class_name`, `num_params`).
value model_meta(std::string_view class_name, const std::vector<parameter_ref>& parameters);
/// Checks that `item` is a model of class `class_name`; throws type_error naming both classes.
void check_model_item(const value& item, std::string_view class_name, loader& l);
/// Fills the parameters from the `state_dict` item `state`, checking dtype and shape of each.
/// Strict (report null): missing or unexpected entries are a type_error listing them all, thrown
/// before anything is read. Otherwise they go to `*report`.
void read_state_dict(const value& state, const std::vector<parameter_ref>& parameters, loader& l,
                     state_dict_report* report);
/// The parameters as a dict of arrays viewing their storage (no copy).
value parameter_views(const std::vector<parameter_ref>& parameters);
/// A config's tree as an untyped read gives it (arrays as ndarray), for comparisons.
template <class Config>
value config_tree(const Config& cfg) {
    zanj::config inline_everything;
    serializer s(inline_everything);
    loader l(inline_everything);
    return l.load<value>(s.serialize(cfg));
}

template <class Model>
Model load_model(const value& item, loader& l, state_dict_report* report);

} // namespace detail

/// Base of models built from a `Config` (a ZANJ_DATACLASS or any saved and loaded type), with
/// training records of type `Records` (any saved and loaded type; `zanj::value` by default, null
/// until set). `Model` is the derived class itself (see the file's comment for what it provides).
template <class Model, class Config, class Records = value>
class ConfiguredModel : public detail::configured_model_base {
public:
    /// The config type.
    using config_type = Config;
    /// The training records' type.
    using records_type = Records;

    /// Keeps `config` (Python's `zanj_model_config`).
    explicit ConfiguredModel(Config config) : config_(std::move(config)) {}

    /// The config the model was built from.
    const Config& config() const noexcept { return config_; }
    /// Training records (losses, metrics...), saved and read with the model.
    Records& training_records() noexcept { return records_; }
    /// The same, read-only.
    const Records& training_records() const noexcept { return records_; }

    /// Saves the model to `file` (".zanj" appended when missing) with `z`'s settings and
    /// returns the path written.
    std::filesystem::path save(const std::filesystem::path& file, const ZANJ& z = ZANJ{}) const {
        return z.save(self(), file);
    }

    /// Reads a model saved by `save` (or by Python's ConfiguredModel): builds it from the stored
    /// config and fills every parameter, checking dtype and shape; missing or unexpected
    /// parameters are a type_error.
    static Model read(const std::filesystem::path& file, const ZANJ& z = ZANJ{}) { return z.read<Model>(file); }

    /// The same, non-strict: missing parameters keep their constructed values, unexpected
    /// entries are skipped, and both are listed in `report` (dtype or shape mismatches still
    /// throw).
    static Model read(const std::filesystem::path& file, state_dict_report& report, const ZANJ& z = ZANJ{}) {
        report = {};
        return z.open(file).load_with(
            "/", [&report](const value& item, loader& l) { return detail::load_model<Model>(item, l, &report); });
    }

    /// Elements in all parameters, storage shared by several parameters counted once.
    std::size_t num_params() const { return detail::count_parameters(parameters()); }

    /// The parameter names, in the order `visit_parameters` gives them.
    std::vector<std::string> parameter_names() const {
        std::vector<std::string> names;
        for (const auto& p : parameters()) names.push_back(p.name);
        return names;
    }

    /// The state dict: each parameter name with a copy of its array.
    value state_dict() const {
        value views = detail::parameter_views(parameters());
        for (auto& [name, a] : views.as_dict()) a = a.as_array().clone();
        return views;
    }

    /// Fills the parameters from a state dict (a dict of arrays or array items, as `state_dict()`
    /// or an untyped read of a model's `state_dict` gives it), checking dtype and shape. Strict:
    /// missing or unexpected entries are a type_error; otherwise they are reported.
    state_dict_report load_state_dict(const value& state, bool strict = true) {
        zanj::config defaults;
        object_path where;
        where.push("state_dict");
        loader l(defaults, nullptr, nullptr, std::move(where));
        state_dict_report report;
        detail::read_state_dict(state, detail::parameters_of(self()), l, strict ? nullptr : &report);
        return report;
    }

private:
    Model& self() noexcept { return static_cast<Model&>(*this); }
    const Model& self() const noexcept { return static_cast<const Model&>(*this); }
    // Saving reads parameters through the non-const visitor; nothing is written through it.
    std::vector<detail::parameter_ref> parameters() const { return detail::parameters_of(const_cast<Model&>(self())); }

    Config config_;
    Records records_{};
};

namespace detail {

template <class Model>
Model load_model(const value& item, loader& l, state_dict_report* report) {
    static_assert(std::constructible_from<Model, typename Model::config_type>,
                  "zanj: a ConfiguredModel must be constructible from its config alone: Model(Config)");
    check_model_item(item, Model::class_name, l);
    Model model(l.load_field<typename Model::config_type>(item, "zanj_model_config"));
    if (const value* records = item.find("training_records"); records && !records->is_null())
        model.training_records() = l.load_field<typename Model::records_type>(item, "training_records");
    const value& state = l.field(item, "state_dict");
    loader::path_guard guard(l, "state_dict");
    read_state_dict(state, parameters_of(model), l, report);
    return model;
}

} // namespace detail

/// Every ConfiguredModel: saved in Python's layout, read (strictly) by building the model from
/// its config. Models can thus also be fields of other saved types and be registered for
/// untyped reads (`ZANJ::register_type<Model>()`).
template <detail::configured_model Model>
struct handler<Model> {
    /// The model's class name.
    static std::string format_key() { return std::string(Model::class_name); }
    /// Untyped reads match the class name exactly: "Net" is not "NetConfig(SerializableDataclass)".
    static constexpr bool exact_format_key = true;

    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const Model& model, serializer& s) {
        const auto parameters = detail::parameters_of(const_cast<Model&>(model)); // only read
        value::dict_type out;
        out.insert_or_assign(zanj::format_key, format_key());
        out.insert_or_assign("zanj_model_config", s.serialize_field("zanj_model_config", model.config()));
        out.insert_or_assign("meta", detail::model_meta(Model::class_name, parameters));
        out.insert_or_assign("training_records", s.serialize_field("training_records", model.training_records()));
        out.insert_or_assign("state_dict", detail::write_state_dict(parameters, s));
        return out;
    }

    /// Reads the item back (the contract of zanj/handler.hpp), strictly.
    static Model load(const value& v, loader& l) { return detail::load_model<Model>(v, l, nullptr); }
};

/// Checks that two models have equal configs (field by field, exactly); throws config_mismatch
/// carrying the differences otherwise (Python's `assert_model_cfg_equality`).
template <detail::configured_model A, detail::configured_model B>
void assert_model_cfg_equality(const A& a, const B& b) {
    compare_options sides;
    sides.a_name = "a";
    sides.b_name = "b";
    auto differences = compare(detail::config_tree(a.config()), detail::config_tree(b.config()), sides);
    if (!differences.empty())
        throw config_mismatch("the configs of " + std::string(A::class_name) + " a and " + std::string(B::class_name) +
                                  " b differ",
                              std::move(differences));
}

/// Checks that two models have equal configs, the same parameter names and bit-equal parameters
/// (NaN equal to NaN); throws config_mismatch or model_mismatch naming every difference
/// (Python's `assert_model_exact_equality`).
template <detail::configured_model A, detail::configured_model B>
void assert_model_exact_equality(const A& a, const B& b) {
    assert_model_cfg_equality(a, b);
    compare_options sides;
    sides.a_name = "a";
    sides.b_name = "b";
    auto differences = compare(detail::parameter_views(detail::parameters_of(const_cast<A&>(a))),
                               detail::parameter_views(detail::parameters_of(const_cast<B&>(b))), sides);
    if (!differences.empty())
        throw model_mismatch("the parameters of " + std::string(A::class_name) + " a and " +
                                 std::string(B::class_name) + " b differ",
                             std::move(differences));
}

} // namespace zanj
