#include <zanj/model.hpp>

#include <zanj/detail/type_loaders.hpp>

#include <unordered_map>
#include <unordered_set>

namespace zanj {

namespace {

// Marks a parameter whose storage an earlier one already holds (tied weights): Python sees a
// plain dict naming the parameter that holds the data.
constexpr std::string_view shared_parameter_format = "zanj::shared_parameter";

std::size_t nbytes_of(const detail::parameter_ref& p) { return shape_elements(p.shape) * dtype_size(p.type); }

bool same_storage(const detail::parameter_ref& a, const detail::parameter_ref& b) {
    return a.data == b.data && a.type == b.type && a.shape == b.shape;
}

std::string quoted_list(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
    return out;
}

bool identifier_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_shared_parameter(const value& entry) { return entry.is_dict() && entry.format() == shared_parameter_format; }

} // namespace

model_mismatch::model_mismatch(const std::string& what, std::vector<difference> differences)
    : error(what + ":\n" + to_string(differences)), differences_(std::move(differences)) {}

namespace detail {

void check_parameters(const std::vector<parameter_ref>& parameters, std::string_view class_name) {
    std::unordered_set<std::string_view> seen;
    for (const parameter_ref& p : parameters) {
        if (p.name.empty())
            throw usage_error("model " + std::string(class_name) + " names a parameter with an empty name");
        if (!seen.insert(p.name).second)
            throw usage_error("model " + std::string(class_name) + " names the parameter '" + p.name +
                              "' twice in visit_parameters");
    }
}

value write_state_dict(const std::vector<parameter_ref>& parameters, serializer& s) {
    serializer::path_guard in_state(s, "state_dict");
    value::dict_type out;
    std::unordered_map<const std::byte*, const parameter_ref*> first_at;
    for (const parameter_ref& p : parameters) {
        s.write_string(p.name);
        const parameter_ref* holder = nullptr;
        if (nbytes_of(p) > 0) {
            auto [it, inserted] = first_at.try_emplace(p.data, &p);
            if (!inserted && same_storage(*it->second, p)) holder = it->second;
        }
        if (holder != nullptr) {
            value::dict_type shared;
            shared.insert_or_assign(format_key, shared_parameter_format);
            shared.insert_or_assign("same_as", holder->name);
            shared.insert_or_assign("dtype", dtype_name(p.type));
            value::list_type shape(p.shape.begin(), p.shape.end());
            shared.insert_or_assign("shape", std::move(shape));
            out.insert_or_assign(p.name, std::move(shared));
        } else {
            serializer::path_guard in_parameter(s, p.name);
            out.insert_or_assign(p.name, s.write_array(array_view{p.type, p.shape, p.data}));
        }
    }
    return out;
}

std::size_t count_parameters(const std::vector<parameter_ref>& parameters) {
    std::unordered_set<const std::byte*> counted;
    std::size_t n = 0;
    for (const parameter_ref& p : parameters)
        if (nbytes_of(p) > 0 && counted.insert(p.data).second) n += shape_elements(p.shape);
    return n;
}

value model_meta(std::string_view class_name, const std::vector<parameter_ref>& parameters) {
    value::dict_type meta;
    meta.insert_or_assign("class_name", class_name);
    meta.insert_or_assign("num_params", count_parameters(parameters));
    return meta;
}

void check_model_item(const value& item, std::string_view class_name, loader& l) {
    const std::string wanted(class_name);
    l.expect(item, value::kind::dict, "a dict for a model of class '" + wanted + "'");
    const std::string_view found = item.format();
    if (found.empty()) l.fail("expected a model of class '" + wanted + "', found a dict without a format key");
    // Python matches the class name as a prefix of the format; a longer class name is another class.
    const bool same_class = found.starts_with(class_name) &&
                            (found.size() == class_name.size() || !identifier_char(found[class_name.size()]));
    if (!same_class) {
        if (item.contains("state_dict") && item.contains("zanj_model_config"))
            l.fail("the file holds a model of class '" + std::string(found) + "', not '" + wanted + "'");
        l.fail("expected a model of class '" + wanted + "', found a '" + std::string(found) + "' item");
    }
}

void read_state_dict(const value& state, const std::vector<parameter_ref>& parameters, loader& l,
                     state_dict_report* report) {
    l.expect(state, value::kind::dict, "a dict of parameters (the state dict)");
    const value::dict_type& entries = state.as_dict();
    std::unordered_map<std::string_view, const parameter_ref*> by_name;
    for (const parameter_ref& p : parameters) by_name.emplace(p.name, &p);

    state_dict_report found;
    for (const parameter_ref& p : parameters)
        if (!entries.contains(p.name)) found.missing_keys.push_back(p.name);
    for (const auto& [key, entry] : entries) {
        if (!by_name.contains(key)) found.unexpected_keys.push_back(key);
        if (is_shared_parameter(entry)) {
            loader::path_guard in_entry(l, key);
            const value* same_as = entry.find("same_as");
            if (same_as == nullptr || !same_as->is_string()) l.fail("a shared parameter without a 'same_as' name");
            const value* holder = entries.find(same_as->as_string());
            if (holder == nullptr || is_shared_parameter(*holder))
                l.fail("shared parameter '" + key + "' names '" + same_as->as_string() +
                       "', which is not a parameter with data in the state dict");
        }
    }
    if (report == nullptr && !found.clean()) {
        std::string why = "the state dict does not match the model:";
        if (!found.missing_keys.empty()) why += " missing parameters " + quoted_list(found.missing_keys) + ";";
        if (!found.unexpected_keys.empty()) why += " unexpected entries " + quoted_list(found.unexpected_keys) + ";";
        why.back() = ' ';
        l.fail(why + "(read non-strictly to skip them)");
    }

    auto fill = [&l](const parameter_ref& p, const value& entry) {
        l.array_into(entry, [&](dtype type, const shape_type& shape) {
            if (type != p.type)
                l.fail("dtype mismatch for parameter '" + p.name + "': the file holds " +
                       std::string(dtype_name(type)) + ", the model has " + std::string(dtype_name(p.type)));
            if (shape != p.shape)
                l.fail("shape mismatch for parameter '" + p.name + "': the file holds " + shape_string(shape) +
                       ", the model has " + shape_string(p.shape));
            return std::span<std::byte>(p.data, nbytes_of(p));
        });
    };
    // Plain entries first, so that a shared one finds its holder filled.
    for (const auto& [key, entry] : entries) {
        auto it = by_name.find(key);
        if (it == by_name.end() || is_shared_parameter(entry)) continue;
        loader::path_guard in_entry(l, key);
        fill(*it->second, entry);
    }
    for (const auto& [key, entry] : entries) {
        if (!is_shared_parameter(entry)) continue;
        auto it = by_name.find(key);
        if (it == by_name.end()) continue; // unexpected, reported above
        loader::path_guard in_entry(l, key);
        const std::string& holder_name = entry.find("same_as")->as_string(); // checked above
        const value& holder = *entries.find(holder_name);
        auto held = by_name.find(holder_name);
        // Tied in the model too: filling the holder filled this one.
        if (held != by_name.end() && same_storage(*held->second, *it->second)) continue;
        fill(*it->second, holder);
    }
    if (report != nullptr) *report = std::move(found);
}

bool is_model_item(const value& item) noexcept {
    return item.is_dict() && !item.format().empty() && item.contains("zanj_model_config") &&
           item.contains("state_dict");
}

value resolve_shared_parameters(value item) {
    value* state = item.as_dict().find("state_dict");
    if (state == nullptr || !state->is_dict()) return item;
    for (auto& [key, entry] : state->as_dict()) {
        if (!is_shared_parameter(entry)) continue;
        const value* same_as = entry.find("same_as");
        const value* holder = same_as && same_as->is_string() ? state->find(same_as->as_string()) : nullptr;
        if (holder != nullptr && holder->is_array()) entry = *holder; // shares the holder's storage
    }
    return item;
}

value parameter_views(const std::vector<parameter_ref>& parameters) {
    value::dict_type out;
    for (const parameter_ref& p : parameters) out.insert_or_assign(p.name, ndarray(p.type, p.shape, nullptr, p.data));
    return out;
}

} // namespace detail

} // namespace zanj
