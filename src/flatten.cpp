#include <zanj/flatten.hpp>

#include "array_dict.hpp"

#include <zanj/object_path.hpp>

#include <string>
#include <string_view>

namespace zanj {

namespace {

void flatten_into(const value& node, object_path& path, const flatten_options& options, value::dict_type& out) {
    switch (node.type()) {
    case value::kind::array: out.insert_or_assign(path.joined(), node); return;
    case value::kind::list:
        for (std::size_t i = 0; i < node.size(); ++i) {
            path.push(i);
            flatten_into(node.as_list()[i], path, options, out);
            path.pop();
        }
        return;
    case value::kind::dict:
        for (const auto& [key, child] : node.as_dict()) {
            if (key.empty() || key.find('/') != std::string::npos) {
                if (options.skip_non_arrays && !child.is_array() && !child.is_list() && !child.is_dict()) continue;
                throw type_error("flatten_arrays: the key '" + key + "' cannot be a step of a \"/\"-joined name",
                                 path.str());
            }
            path.push(key);
            flatten_into(child, path, options, out);
            path.pop();
        }
        return;
    default:
        if (options.skip_non_arrays) return;
        throw type_error("flatten_arrays: a " + std::string(node.type_name()) + " is not an array " +
                             "(flatten_options::skip_non_arrays leaves such items out)",
                         path.str());
    }
}

} // namespace

value flatten_arrays(const value& tree, const flatten_options& options) {
    value::dict_type out;
    object_path root;
    flatten_into(tree, root, options, out);
    return out;
}

value unflatten_arrays(const value& flat) {
    const value::dict_type& items = detail::array_dict(flat, "unflatten_arrays");
    if (items.size() == 1 && items.begin()->first.empty()) return items.begin()->second;
    value root = value::dict();
    for (const auto& [name, array] : items) {
        value* node = &root;
        std::string_view rest = name;
        while (true) {
            const std::size_t slash = rest.find('/');
            const std::string_view step = rest.substr(0, slash);
            if (step.empty()) throw type_error("unflatten_arrays: the name '" + name + "' has an empty step");
            value::dict_type& dict = node->as_dict();
            value* child = dict.find(step);
            if (slash == std::string_view::npos) {
                if (child)
                    throw type_error("unflatten_arrays: '" + name + "' is both an array and a folder of other names");
                dict.insert_or_assign(step, array);
                break;
            }
            if (!child)
                child = &dict.insert_or_assign(step, value::dict());
            else if (!child->is_dict())
                throw type_error("unflatten_arrays: '" + std::string(name, 0, name.size() - rest.size() + slash) +
                                 "' is both an array and a folder holding '" + name + "'");
            node = child;
            rest.remove_prefix(slash + 1);
        }
    }
    return root;
}

} // namespace zanj
