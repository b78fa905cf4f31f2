#pragma once
/// \file
/// Handler for nlohmann::json (and ordered_json): passed through as the JSON it is.

#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

#include <nlohmann/json.hpp>

namespace zanj {

namespace detail {
template <class Json>
struct json_handler {
    static value serialize(const Json& j, serializer& s) {
        switch (j.type()) {
        case Json::value_t::null:
        case Json::value_t::discarded: return value{};
        case Json::value_t::boolean: return value(j.template get<bool>());
        case Json::value_t::number_integer: return value(j.template get<std::int64_t>());
        case Json::value_t::number_unsigned: return value(j.template get<std::uint64_t>());
        case Json::value_t::number_float: return value(j.template get<double>());
        case Json::value_t::string: return s.write_string(j.template get_ref<const std::string&>());
        case Json::value_t::array: return s.serialize_sequence(j);
        case Json::value_t::object: {
            value::dict_type out;
            for (auto it = j.begin(); it != j.end(); ++it) s.add_field(out, it.key(), *it);
            return out;
        }
        case Json::value_t::binary: s.fail("nlohmann::json binary values have no JSON form");
        }
        return value{};
    }

    static Json load(const value& v, loader& l) {
        switch (v.type()) {
        case value::kind::null: return nullptr;
        case value::kind::boolean: return v.as_bool();
        case value::kind::integer: return v.as_int();
        case value::kind::unsigned_integer: return v.as_uint();
        case value::kind::floating: return v.as_double();
        case value::kind::string: return v.as_string();
        case value::kind::list:
        case value::kind::set: {
            Json out = Json::array();
            const auto& items = l.sequence(v);
            for (std::size_t i = 0; i < items.size(); ++i) out.push_back(l.load_element<Json>(items[i], i));
            return out;
        }
        case value::kind::dict: {
            if (v.format() == "list:external" || v.format() == "tuple:external") {
                return load(value(l.sequence(v)), l);
            }
            Json out = Json::object();
            for (const auto& [k, item] : v.as_dict()) {
                loader::path_guard guard(l, k);
                out[k] = load(item, l);
            }
            return out;
        }
        case value::kind::array:
            l.fail("an array cannot be loaded as nlohmann::json; load it as an ndarray or xtensor container");
        }
        return nullptr;
    }
};
} // namespace detail

template <>
struct handler<nlohmann::json> : detail::json_handler<nlohmann::json> {};
template <>
struct handler<nlohmann::ordered_json> : detail::json_handler<nlohmann::ordered_json> {};

} // namespace zanj
