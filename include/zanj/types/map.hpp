#pragma once
/// \file
/// Handlers for std::map and std::unordered_map with string, integer or enum keys: JSON dicts
/// whose keys are strings, as Python writes them (`str(key)`; a named enum's key is its name).
/// Unordered maps are written in key order so that equal maps give equal files.

#include <zanj/enum.hpp>
#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace zanj {

namespace detail {

template <class K>
concept map_key =
    std::is_same_v<K, std::string> ||(std::is_integral_v<K> && !std::is_same_v<K, bool>) || std::is_enum_v<K>;

template <map_key K>
std::string key_to_string(const K& k, [[maybe_unused]] const serializer& s) {
    if constexpr (std::is_same_v<K, std::string>)
        return k;
    else if constexpr (named_enum<K>)
        return std::string(enum_name_for_saving(k, s));
    else if constexpr (std::is_enum_v<K>)
        return std::to_string(static_cast<std::underlying_type_t<K>>(k));
    else
        return std::to_string(k);
}

template <map_key K>
K key_from_string(const std::string& s, loader& l) {
    if constexpr (std::is_same_v<K, std::string>) {
        return s;
    } else if constexpr (named_enum<K>) {
        return enum_from_name<K>(s, l);
    } else if constexpr (std::is_enum_v<K>) {
        return static_cast<K>(key_from_string<std::underlying_type_t<K>>(s, l));
    } else {
        K k{};
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), k);
        if (ec != std::errc{} || end != s.data() + s.size() || s.empty())
            l.fail("dict key '" + s + "' is not " + (ec == std::errc::result_out_of_range ? "in range for" : "a") +
                   " " + std::to_string(sizeof(K) * 8) + "-bit integer key");
        return k;
    }
}

template <class Map>
value serialize_map(const Map& m, serializer& s, bool sort_keys) {
    value::dict_type out;
    out.reserve(m.size());
    auto add = [&](std::string_view key, const typename Map::mapped_type& v) {
        if (key == format_key) s.fail("a dict key equal to the format key \"__muutils_format__\" cannot be saved");
        s.add_field(out, key, v);
    };
    if (!sort_keys) {
        // In the map's own order, without a list of its keys first (400 KB for 10,000 arrays).
        for (const auto& [k, v] : m) {
            if constexpr (std::is_same_v<typename Map::key_type, std::string>)
                add(k, v);
            else
                add(key_to_string(k, s), v);
        }
        return out;
    }
    std::vector<std::pair<std::string, const typename Map::mapped_type*>> items;
    items.reserve(m.size());
    for (const auto& [k, v] : m) items.emplace_back(key_to_string(k, s), &v);
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [k, v] : items) add(k, *v);
    return out;
}

template <class Map>
Map load_map(const value& v, loader& l) {
    l.expect(v, value::kind::dict, "a dict");
    Map out;
    if constexpr (requires { out.reserve(std::size_t{}); }) out.reserve(v.as_dict().size());
    for (const auto& [k, item] : v.as_dict()) {
        auto key = key_from_string<typename Map::key_type>(k, l);
        loader::path_guard guard(l, k);
        // A std::map was saved in its own order, so each key usually goes last: with the hint,
        // that insert costs one compare instead of a search (log n string compares).
        out.insert_or_assign(out.end(), std::move(key), l.load<typename Map::mapped_type>(item));
    }
    return out;
}

} // namespace detail

/// std::map: a dict with string keys (`str(key)`, or an enum's name).
template <detail::map_key K, class V, class C, class A>
struct handler<std::map<K, V, C, A>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::map<K, V, C, A>& m, serializer& s) {
        // Integer keys sort numerically in the map; keep that order.
        return detail::serialize_map(m, s, false);
    }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::map<K, V, C, A> load(const value& v, loader& l) { return detail::load_map<std::map<K, V, C, A>>(v, l); }
};

/// std::unordered_map: as std::map, written in key order so equal maps give equal files.
template <detail::map_key K, class V, class H, class E, class A>
struct handler<std::unordered_map<K, V, H, E, A>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::unordered_map<K, V, H, E, A>& m, serializer& s) {
        return detail::serialize_map(m, s, true);
    }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::unordered_map<K, V, H, E, A> load(const value& v, loader& l) {
        return detail::load_map<std::unordered_map<K, V, H, E, A>>(v, l);
    }
};

} // namespace zanj
