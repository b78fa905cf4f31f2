#include <zanj/polymorphic.hpp>

#include <algorithm>
#include <deque>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <unordered_map>

namespace zanj::detail {

namespace {

struct relation {
    std::type_index base;
    std::string base_name;
    void* (*upcast)(void*);
};

// Process-wide, as a type's place in a class hierarchy is. Types are never removed, so the
// pointers `find_polymorphic` returns stay valid.
struct polymorphic_registry {
    std::shared_mutex mutex;
    std::deque<polymorphic_type> types;
    std::unordered_map<std::type_index, const polymorphic_type*> by_type;
    std::unordered_map<std::string, const polymorphic_type*> by_format;
    std::unordered_map<std::type_index, std::vector<relation>> bases;
};

polymorphic_registry& registry() {
    static polymorphic_registry r;
    return r;
}

// The path of upcasts from `from` to `to` (breadth first, so the shortest), or false.
bool find_chain(const polymorphic_registry& r, std::type_index from, std::type_index to,
                std::vector<void* (*)(void*)>& chain) {
    struct step {
        std::type_index type;
        std::size_t parent;
        void* (*upcast)(void*);
    };
    std::vector<step> seen{{from, 0, nullptr}};
    for (std::size_t i = 0; i < seen.size(); ++i) {
        if (seen[i].type == to) {
            for (std::size_t at = i; at != 0; at = seen[at].parent) chain.push_back(seen[at].upcast);
            std::reverse(chain.begin(), chain.end());
            return true;
        }
        auto it = r.bases.find(seen[i].type);
        if (it == r.bases.end()) continue;
        for (const relation& rel : it->second)
            if (std::none_of(seen.begin(), seen.end(), [&](const step& s) { return s.type == rel.base; }))
                seen.push_back({rel.base, i, rel.upcast});
    }
    return false;
}

} // namespace

void register_polymorphic_type(polymorphic_type type) {
    auto& r = registry();
    std::unique_lock lock(r.mutex);
    if (auto it = r.by_type.find(type.type); it != r.by_type.end()) {
        if (it->second->format != type.format)
            throw usage_error("register_polymorphic: " + type.name + " is registered with the format key '" +
                              it->second->format + "', not '" + type.format + "'");
        return;
    }
    if (auto it = r.by_format.find(type.format); it != r.by_format.end())
        throw usage_error("register_polymorphic: the format key '" + type.format + "' of " + type.name +
                          " is already registered for " + it->second->name);
    const polymorphic_type& added = r.types.emplace_back(std::move(type));
    r.by_type.emplace(added.type, &added);
    r.by_format.emplace(added.format, &added);
}

void register_polymorphic_relation(std::type_index derived, std::type_index base, std::string base_name,
                                   void* (*upcast)(void*)) {
    auto& r = registry();
    std::unique_lock lock(r.mutex);
    auto& list = r.bases[derived];
    if (std::none_of(list.begin(), list.end(), [&](const relation& rel) { return rel.base == base; }))
        list.push_back({base, std::move(base_name), upcast});
}

const polymorphic_type* find_polymorphic(std::type_index type) noexcept {
    auto& r = registry();
    std::shared_lock lock(r.mutex);
    auto it = r.by_type.find(type);
    return it == r.by_type.end() ? nullptr : it->second;
}

const polymorphic_type* find_polymorphic(std::string_view format) noexcept {
    auto& r = registry();
    std::shared_lock lock(r.mutex);
    if (r.types.empty()) return nullptr;
    if (auto it = r.by_format.find(std::string(format)); it != r.by_format.end()) return it->second;
    const polymorphic_type* best = nullptr;
    for (const auto& t : r.types)
        if (t.prefix && format.starts_with(t.format) && (!best || t.format.size() > best->format.size())) best = &t;
    return best;
}

void* polymorphic_cast(void* object, std::type_index from, std::type_index to) noexcept {
    if (from == to) return object;
    auto& r = registry();
    std::vector<void* (*)(void*)> chain;
    {
        std::shared_lock lock(r.mutex);
        if (!find_chain(r, from, to, chain)) return nullptr;
    }
    for (auto upcast : chain) object = upcast(object);
    return object;
}

bool polymorphic_related(std::type_index from, std::type_index to) noexcept {
    if (from == to) return true;
    auto& r = registry();
    std::vector<void* (*)(void*)> chain;
    std::shared_lock lock(r.mutex);
    return find_chain(r, from, to, chain);
}

std::vector<std::string> derived_type_names(std::type_index base) {
    auto& r = registry();
    std::set<std::string> names;
    std::shared_lock lock(r.mutex);
    for (const auto& t : r.types) {
        std::vector<void* (*)(void*)> chain;
        if (t.type != base && find_chain(r, t.type, base, chain)) names.insert(t.name);
    }
    return {names.begin(), names.end()};
}

value serialize_polymorphic(const void* most_derived, std::type_index dynamic, std::type_index base, serializer& s) {
    const polymorphic_type* derived = find_polymorphic(dynamic);
    if (!derived)
        throw usage_error("the object's dynamic type " + type_name(dynamic) + " is not registered: a pointer to " +
                              type_name(base) + " saves it only after zanj::register_polymorphic<" +
                              type_name(dynamic) + ", " + type_name(base) + ">()",
                          s.path().str());
    if (!polymorphic_related(dynamic, base))
        throw usage_error(type_name(dynamic) + " is registered, but not as derived from " + type_name(base) +
                              ": a pointer to " + type_name(base) + " could not read it back (register_polymorphic<" +
                              type_name(dynamic) + ", " + type_name(base) + ">())",
                          s.path().str());
    return derived->serialize(most_derived, s);
}

const void* polymorphic_instance(const std::any& instance, std::type_index to) noexcept {
    auto& r = registry();
    const polymorphic_type* held = nullptr;
    const void* object = nullptr;
    {
        std::shared_lock lock(r.mutex);
        for (const auto& t : r.types)
            if ((object = t.in_any(instance))) {
                held = &t;
                break;
            }
    }
    if (!held) return nullptr;
    return polymorphic_cast(const_cast<void*>(object), held->type, to);
}

} // namespace zanj::detail
