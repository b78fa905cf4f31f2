// Run-time marshalers (zanj/marshaler.hpp), and the loader's side of schema evolution warnings.
#include <zanj/marshaler.hpp>

#include <zanj/error.hpp>
#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

#include <algorithm>
#include <iostream>
#include <mutex>

#if defined(__GNUC__) || defined(__clang__)
#include <cstdlib>
#include <cxxabi.h>
#endif

namespace zanj {

namespace detail {

std::string type_name(std::type_index type) {
#if defined(__GNUC__) || defined(__clang__)
    int status = 0;
    char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
    if (status == 0 && name) {
        std::string out(name);
        std::free(name);
        return out;
    }
#endif
    return type.name();
}

} // namespace detail

// ---- marshaler_registry -------------------------------------------------------------------------

std::vector<marshaler_info> marshaler_registry::list() const {
    std::vector<marshaler_info> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_)
        out.push_back({e.format, e.priority, e.type_name, e.description, static_cast<bool>(e.load),
                       static_cast<bool>(e.applies)});
    return out;
}

const detail::marshaler_entry* marshaler_registry::find(std::string_view format) const noexcept {
    for (const auto& e : entries_)
        if (e.format == format) return &e;
    return nullptr;
}

const detail::marshaler_entry* marshaler_registry::for_object(std::type_index type, const void* obj) const {
    auto it = by_type_.find(type);
    if (it == by_type_.end()) return nullptr;
    for (std::size_t i : it->second) {
        const auto& e = entries_[i];
        if (e.serialize && (!e.applies || e.applies(obj))) return &e;
    }
    return nullptr;
}

const detail::marshaler_entry* marshaler_registry::for_item(std::type_index type, const value& item) const {
    auto it = by_type_.find(type);
    if (it == by_type_.end()) return nullptr;
    for (std::size_t i : it->second) {
        const auto& e = entries_[i];
        if (!e.load) continue;
        if (e.check ? e.check(item) : item.format() == e.format) return &e;
    }
    return nullptr;
}

std::string marshaler_registry::formats_of(std::type_index type) const {
    auto it = by_type_.find(type);
    if (it == by_type_.end()) return "none";
    std::string out;
    for (std::size_t i : it->second) out += (out.empty() ? "'" : ", '") + entries_[i].format + "'";
    return out;
}

void marshaler_registry::add(detail::marshaler_entry e) {
    if (find(e.format))
        throw usage_error("a run-time marshaler for format key '" + e.format + "' is already registered (for " +
                          find(e.format)->type_name + ")");
    const std::size_t index = entries_.size();
    auto& of_type = by_type_[e.type];
    entries_.push_back(std::move(e));
    // Highest priority first; among equals, the first registered.
    auto place = std::find_if(of_type.begin(), of_type.end(),
                              [&](std::size_t i) { return entries_[i].priority < entries_[index].priority; });
    of_type.insert(place, index);
}

// ---- loader_registry ----------------------------------------------------------------------------

void loader_registry::add_marshaler_entry(detail::marshaler_entry e) {
    if (e.format.empty()) throw usage_error("a run-time marshaler for " + e.type_name + " needs a format key");
    if (!e.serialize && !e.load)
        throw usage_error("the run-time marshaler '" + e.format + "' has neither a serialize nor a load function");
    {
        std::shared_lock lock(mutex_);
        if (const auto* existing = marshalers_.find(e.format))
            throw usage_error("a run-time marshaler for format key '" + e.format + "' is already registered (for " +
                              existing->type_name + ")");
        for (const auto& l : loaders_)
            if (l.format == e.format)
                throw usage_error("format key '" + e.format + "' already has a loader: " + l.description);
    }
    if (e.rebuild)
        add({e.format, false, e.rebuild,
             "run-time marshaler for " + e.type_name + (e.description.empty() ? "" : ": " + e.description)});
    std::unique_lock lock(mutex_);
    marshalers_.add(std::move(e));
}

// ---- loader -------------------------------------------------------------------------------------

void loader::warn(std::string_view message) const {
    std::string text = "zanj: warning: ";
    text.append(message);
    text += " (at " + path_.str() + ")";
    if (settings_.warning_sink)
        settings_.warning_sink(text);
    else
        std::cerr << text << '\n';
}

void loader::run_marshaler(const detail::marshaler_entry& m, const value& v, void* out) { m.load(v, *this, out); }

void loader::no_marshaler(std::type_index type, const value& v) const {
    std::string format(v.format());
    throw usage_error("no run-time marshaler loads this item as " + detail::type_name(type) +
                          (format.empty() ? std::string(" (it has no format key)") : " (format key '" + format + "')") +
                          "; the marshalers registered for it: " +
                          (marshalers_ ? marshalers_->formats_of(type) : std::string("none")),
                      path_.str());
}

} // namespace zanj
