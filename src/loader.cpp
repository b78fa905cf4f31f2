#include <zanj/loader.hpp>

#include <zanj/archive.hpp>
#include <zanj/detail/array_codec.hpp>
#include <zanj/detail/type_loaders.hpp>
#include <zanj/types/value.hpp>

#include <cstring>
#include <iostream>
#include <mutex>
#include <shared_mutex>

namespace zanj {

namespace {

// A value as a short excerpt for messages.
std::string excerpt(const value& v) {
    std::string text = v.dump();
    if (text.size() > 80) text = text.substr(0, 77) + "...";
    return text;
}

const loader_registry& default_registry() {
    static const loader_registry registry;
    return registry;
}

void warn(const config& settings, const std::string& message) {
    if (settings.warning_sink)
        settings.warning_sink(message);
    else
        std::cerr << message << '\n';
}

} // namespace

// ---- loader -------------------------------------------------------------------------------------

loader::loader(const config& settings, const loader_registry* registry, const detail::external_source* externals,
               object_path start)
    : settings_(settings), registry_(registry ? registry : &default_registry()), externals_(externals),
      path_(std::move(start)), marshalers_(registry_->marshalers().empty() ? nullptr : &registry_->marshalers()) {}

std::string_view loader::pending_member(const value& v) const noexcept {
    if (!v.is_dict() || v.contains("data")) return {};
    const value* ref = v.find(ref_key);
    return ref && ref->is_string() ? std::string_view(ref->as_string()) : std::string_view{};
}

void loader::fail(const std::string& why) const { throw type_error(why, path_.str()); }

void loader::expect(const value& v, value::kind k, std::string_view what) const {
    if (v.type() != k && !(k == value::kind::integer && v.is_integer()))
        fail("expected " + std::string(what) + ", found " + std::string(v.type_name()) + " " + excerpt(v));
}

const value& loader::field(const value& v, std::string_view key) const {
    expect(v, value::kind::dict, "a dict");
    const value* member = v.find(key);
    if (!member) fail("missing field '" + std::string(key) + "'");
    return *member;
}

const value::list_type& loader::sequence(const value& v) const {
    if (v.is_list()) return v.as_list();
    if (v.is_set()) return v.as_set().items;
    if (std::string_view member = pending_member(v); !member.empty() && externals_ && externals_->has_jsonl(member)) {
        try {
            return externals_->jsonl(member).as_list();
        } catch (const error& e) {
            detail::rethrow_at(e, path_.str(), std::string(member));
        }
    }
    std::string_view format = v.format();
    if (format == "list:external" || format == "tuple:external") {
        const value* data = v.find("data");
        if (!data) {
            const value* ref = v.find(ref_key);
            throw format_error("external list was not loaded (is it missing from externals_info?)", path_.str(),
                               ref && ref->is_string() ? ref->as_string() : std::string{});
        }
        return sequence(*data);
    }
    if (format == "set" || format == "frozenset") return sequence(field(v, "data"));
    fail("expected a list, found " + std::string(v.type_name()) + " " + excerpt(v));
}

ndarray loader::array(const value& v) const {
    const std::string_view pending = pending_member(v);
    try {
        if (!pending.empty() && externals_ && externals_->has_npy(pending)) {
            ndarray a = externals_->npy(pending);
            detail::check_stub(v, a.type(), a.shape(), pending);
            return a;
        }
        return detail::array_from_item(v);
    } catch (const error& e) {
        const value* ref = v.find(ref_key);
        detail::rethrow_at(e, path_.str(), ref && ref->is_string() ? ref->as_string() : std::string{});
    }
}

void loader::array_into(const value& v, const array_placer& place) const {
    const std::string_view pending = pending_member(v);
    if (!pending.empty() && externals_ && externals_->has_npy(pending)) {
        try {
            externals_->npy_into(pending, [&](dtype type, const shape_type& shape) {
                detail::check_stub(v, type, shape, pending);
                return place(type, shape);
            });
            return;
        } catch (const error& e) {
            detail::rethrow_at(e, path_.str(), std::string(pending));
        }
    }
    ndarray a = array(v);
    std::span<std::byte> out = place(a.type(), a.shape());
    if (out.size() != a.nbytes())
        throw usage_error("loader::array_into: room for " + std::to_string(out.size()) + " bytes, the array has " +
                              std::to_string(a.nbytes()),
                          path_.str());
    if (!out.empty()) std::memcpy(out.data(), a.bytes(), out.size());
}

// ---- loader_registry ----------------------------------------------------------------------------

loader_registry::loader_registry() {
    auto set_loader = [](bool frozen) {
        return [frozen](value item, loader& l) { return value(value_set{l.sequence(l.field(item, "data")), frozen}); };
    };
    add({"set", false, set_loader(false), "Python set"});
    add({"frozenset", false, set_loader(true), "Python frozenset"});
    auto external_list = [](value item, loader& l) { return value(l.sequence(item)); };
    add({"list:external", false, external_list, "list stored as a .jsonl member"});
    add({"tuple:external", false, external_list, "tuple stored as a .jsonl member"});
    auto array_loader = [](value item, loader& l) { return value(l.array(item)); };
    add({"numpy.ndarray:", true, array_loader, "numpy array, every mode"});
    add({"torch.Tensor:", true, array_loader, "torch tensor, every mode (read as an array)"});
    // What archive::read_filter left in place of the items it skipped stays as it is.
    add({std::string(not_loaded_format), false, [](value item, loader&) { return item; },
         "item skipped by a filtered read"});
    // Tables, sparse matrices, variants and chrono items: every registry has them, as it has arrays.
    detail::add_type_loaders(*this);
}

loader_registry::loader_registry(const loader_registry& other) {
    std::shared_lock lock(other.mutex_);
    loaders_ = other.loaders_;
    marshalers_ = other.marshalers_;
    for (const auto& l : loaders_)
        if (!l.prefix) exact_.emplace(l.format, &l);
}

loader_registry& loader_registry::operator=(const loader_registry& other) {
    if (this == &other) return *this;
    std::deque<item_loader> copy;
    marshaler_registry marshalers;
    {
        std::shared_lock lock(other.mutex_);
        copy = other.loaders_;
        marshalers = other.marshalers_;
    }
    std::unique_lock lock(mutex_);
    loaders_ = std::move(copy);
    marshalers_ = std::move(marshalers);
    exact_.clear();
    for (const auto& l : loaders_)
        if (!l.prefix) exact_.emplace(l.format, &l);
    return *this;
}

void loader_registry::add(item_loader l) {
    if (l.format.empty()) throw usage_error("a loader needs a format key");
    if (!l.load) throw usage_error("the loader for '" + l.format + "' has no load function");
    std::unique_lock lock(mutex_);
    for (const auto& existing : loaders_)
        if (existing.format == l.format && existing.prefix == l.prefix)
            throw usage_error("a loader for format key '" + l.format + "' is already registered");
    loaders_.push_back(std::move(l));
    const item_loader& back = loaders_.back();
    if (!back.prefix) exact_.emplace(back.format, &back);
}

std::vector<item_loader> loader_registry::loaders() const {
    std::shared_lock lock(mutex_);
    return {loaders_.begin(), loaders_.end()};
}

const item_loader* loader_registry::find(std::string_view format) const {
    std::shared_lock lock(mutex_);
    if (auto it = exact_.find(std::string(format)); it != exact_.end()) return it->second;
    const item_loader* best = nullptr;
    for (const auto& l : loaders_)
        if (l.prefix && format.starts_with(l.format) && (!best || l.format.size() > best->format.size())) best = &l;
    return best;
}

namespace {

value rebuild_node(const loader_registry& registry, value v, loader& l) {
    if (v.is_list()) {
        auto& items = v.as_list();
        for (std::size_t i = 0; i < items.size(); ++i) {
            loader::path_guard guard(l, i);
            items[i] = rebuild_node(registry, std::move(items[i]), l);
        }
        return v;
    }
    if (v.is_set()) {
        for (auto& item : v.as_set().items) item = rebuild_node(registry, std::move(item), l);
        return v;
    }
    if (!v.is_dict()) return v;
    // What a filtered read skipped stays as it is: filling in its external list would read it.
    if (v.format() == not_loaded_format) return v;
    // An external stub's other members are summaries written beside the data ("data[0]" of a
    // .jsonl list repeats its first item, with the unfilled stubs of arrays nested in it): as
    // in Python, whose loaders read only "data", they are not rebuilt.
    const bool external_stub = v.contains(ref_key);
    if (const value* ref = v.find(ref_key);
        ref && ref->is_string() && !v.contains("data") && l.externals() && l.externals()->has_jsonl(ref->as_string()))
        v.as_dict().insert_or_assign("data", l.externals()->jsonl(ref->as_string()));
    for (auto& [k, child] : v.as_dict()) {
        if (external_stub && k != "data") continue;
        loader::path_guard guard(l, k);
        child = rebuild_node(registry, std::move(child), l);
    }
    std::string format(v.format());
    if (format.empty()) return v;
    const error_mode mode = l.settings().error_mode;
    if (const item_loader* found = registry.find(format)) {
        if (mode == error_mode::except) return found->load(std::move(v), l);
        try {
            return found->load(v, l);
        } catch (const error& e) {
            if (mode == error_mode::warn)
                warn(l.settings(), std::string("zanj: warning: ") + e.what() + "; kept as a dict");
            return v;
        }
    }
    // A Python dataclass without a registered C++ type stays a dict, as Python keeps unknown items.
    if (format.ends_with("(SerializableDataclass)")) return v;
    if (detail::is_model_item(v)) return detail::resolve_shared_parameters(std::move(v));
    std::string why = "unknown format key '" + format + "': no loader is registered for it";
    if (mode == error_mode::except) l.fail(why + " (register one, or read with error_mode warn or ignore)");
    if (mode == error_mode::warn)
        warn(l.settings(), "zanj: warning: " + why + " (at " + l.path().str() + "); kept as a dict");
    return v;
}

} // namespace

value loader_registry::rebuild(value tree, loader& l) const { return rebuild_node(*this, std::move(tree), l); }

value handler<value>::load(const value& v, loader& l) { return l.registry()->rebuild(v, l); }

} // namespace zanj
