#include <zanj/loader.hpp>

#include <zanj/archive.hpp>
#include <zanj/detail/array_codec.hpp>
#include <zanj/detail/object_ref.hpp>
#include <zanj/detail/type_loaders.hpp>
#include <zanj/polymorphic.hpp>
#include <zanj/types/value.hpp>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <utility>

namespace zanj {

namespace detail {
// The objects a typed read created for owning pointers, by the item they came from.
struct object_table {
    std::unordered_map<const value*, loaded_object> objects;
};
} // namespace detail

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

void loader::close_lists() noexcept {
    while (!open_lists_.empty() && open_lists_.back().first >= load_depth_) {
        const std::string_view member = open_lists_.back().second;
        open_lists_.pop_back();
        if (finds_items_by_address_) continue;
        try {
            externals_->release_jsonl(member);
        } catch (...) { // it only frees memory: failing to, the list stays parsed
        }
    }
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
            const value::list_type& items = externals_->jsonl(member).as_list();
            // Its first asker keeps it open: a load that asks again inside it must not close it.
            if (std::none_of(open_lists_.begin(), open_lists_.end(),
                             [&](const auto& open) { return open.second == member; }))
                open_lists_.emplace_back(load_depth_, member);
            return items;
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

// ---- pointers and shared objects ----------------------------------------------------------------

loader::object_scope::object_scope(loader& l, const value& root)
    : l_(l), root_(l.root_), root_path_(std::move(l.root_path_)), objects_(std::move(l.objects_)) {
    l.root_ = &root;
    l.root_path_ = l.path_;
    l.objects_.reset();
}

loader::object_scope::~object_scope() {
    l_.root_ = root_;
    l_.root_path_ = std::move(root_path_);
    l_.objects_ = std::move(objects_);
}

detail::loaded_object* loader::loaded(const value& item) noexcept {
    if (!objects_) return nullptr;
    auto it = objects_->objects.find(&item);
    return it == objects_->objects.end() ? nullptr : &it->second;
}

detail::loaded_object& loader::remember(const value& item, detail::loaded_object object) {
    finds_items_by_address_ = true;
    if (!objects_) objects_ = std::make_shared<detail::object_table>();
    object.path = path_;
    return objects_->objects.insert_or_assign(&item, std::move(object)).first->second;
}

void loader::forget(const value& item) noexcept {
    if (objects_) objects_->objects.erase(&item);
}

namespace {

std::string segment_text(const path_segment& s) {
    if (const auto* key = std::get_if<std::string>(&s)) return *key;
    return std::to_string(std::get<std::size_t>(s));
}

std::optional<std::size_t> parse_index(const std::string& step) {
    if (step.empty() || step.size() > 19 || (step.size() > 1 && step.front() == '0')) return std::nullopt;
    std::size_t n = 0;
    for (char c : step) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    return n;
}

bool is_external_list(const value& v) {
    std::string_view format = v.format();
    return format == "list:external" || format == "tuple:external";
}

std::string_view kind_name(detail::pointer_kind kind) {
    switch (kind) {
    case detail::pointer_kind::shared: return "shared_ptr";
    case detail::pointer_kind::unique: return "unique_ptr";
    case detail::pointer_kind::weak: return "weak_ptr";
    case detail::pointer_kind::raw: return "raw pointer";
    }
    return "pointer";
}

bool is_ref_item(const value& v) noexcept { return v.is_dict() && v.format() == object_ref_format; }

} // namespace

const value& loader::ref_target(const value& ref, object_path& target_path) {
    finds_items_by_address_ = true;
    const value* same_as = ref.find(same_as_key);
    if (!same_as || !same_as->is_string())
        fail("malformed ref item: it needs a \"same_as\" string, the JSON pointer of the object's first occurrence, "
             "found " +
             excerpt(ref));
    const std::string& pointer = same_as->as_string();
    const auto steps = detail::parse_json_pointer(pointer);
    if (!steps) fail("malformed ref item: \"" + pointer + "\" is not a JSON pointer (such as \"/layers/0\")");
    const auto& base = root_path_.segments();
    bool inside = steps->size() >= base.size();
    for (std::size_t i = 0; inside && i < base.size(); ++i) inside = (*steps)[i] == segment_text(base[i]);
    if (!inside)
        fail("the ref names \"" + pointer + "\", outside the item being read (" + root_path_.str() +
             "): read an item that holds both");
    target_path = root_path_;
    const value* node = root_;
    for (std::size_t i = base.size(); i < steps->size(); ++i) {
        const std::string& step = (*steps)[i];
        const value* next = node->is_dict() ? node->find(step) : nullptr;
        if (next) {
            target_path.push(step);
        } else if (node->is_list() || (node->is_dict() && is_external_list(*node))) {
            const auto& items = sequence(*node);
            if (auto index = parse_index(step); index && *index < items.size()) {
                next = &items[*index];
                target_path.push(*index);
            }
        }
        if (!next)
            fail("the ref names \"" + pointer + "\", which is not in the file (nothing at '" + step + "' in " +
                 target_path.str() + ")");
        node = next;
    }
    if (is_ref_item(*node))
        fail("the ref names \"" + pointer + "\", which is itself a ref item: a ref names an object's first occurrence");
    return *node;
}

detail::loaded_object& loader::load_pointee(const value& item, const detail::pointee_info& pointee,
                                            detail::pointer_kind kind) {
    const std::string kind_text(kind_name(kind));
    if (is_ref_item(item)) {
        object_path target_path;
        const value& target = ref_target(item, target_path);
        const std::string target_text = target_path.str();
        if (kind == detail::pointer_kind::unique)
            fail("a unique_ptr cannot load a ref item (it names " + target_text +
                 "): its object would have a second owner");
        if (detail::loaded_object* found = loaded(target)) {
            if (kind == detail::pointer_kind::shared && !found->complete)
                fail("the ref names " + target_text +
                     ", an object that holds this shared_ptr: a cycle of shared_ptr (only weak_ptr and raw "
                     "pointers may point to an enclosing object)");
            if (found->unique && kind != detail::pointer_kind::raw)
                fail("the ref names " + target_text + ", which a unique_ptr owns: a " + kind_text + " cannot share it");
            return *found;
        }
        if (kind == detail::pointer_kind::raw)
            fail("the raw pointer's ref names " + target_text +
                 ", which no shared_ptr or unique_ptr loaded before it: a raw pointer points back to an object an "
                 "owning pointer holds");
        // A ref may point forward (a handler may load its members in another order than it saved them):
        // the target is loaded first, at its own path, and its owner finds it later.
        object_path here = std::exchange(path_, std::move(target_path));
        try {
            detail::loaded_object& created = create_owned(target, pointee, false);
            path_ = std::move(here);
            return created;
        } catch (const type_error& e) {
            const std::string at = path_.str();
            path_ = std::move(here);
            throw type_error("the ref at " + path_.str() + " names " + target_text + ", which does not load as a " +
                                 pointee.name + ": " + e.reason(),
                             e.object_path().empty() ? at : e.object_path(), e.member());
        } catch (...) {
            path_ = std::move(here);
            throw;
        }
    }
    if (kind == detail::pointer_kind::weak || kind == detail::pointer_kind::raw)
        fail("a " + kind_text + " loads from null or a ref item ({\"" + std::string(format_key) + "\": \"" +
             std::string(object_ref_format) + "\", \"same_as\": \"/path\"}), found " + excerpt(item));
    if (detail::loaded_object* found = loaded(item)) {
        // Created already, through a ref that pointed forward.
        if (kind == detail::pointer_kind::unique || found->unique)
            fail("this object is shared by a ref loaded before it, and a unique_ptr cannot share its object");
        return *found;
    }
    return create_owned(item, pointee, kind == detail::pointer_kind::unique);
}

detail::loaded_object& loader::create_owned(const value& item, const detail::pointee_info& pointee, bool unique) {
    const std::string format(item.format());
    const detail::polymorphic_type* derived =
        pointee.polymorphic && !format.empty() ? detail::find_polymorphic(format) : nullptr;
    if (derived && derived->type != pointee.type) {
        if (!detail::polymorphic_related(derived->type, pointee.type))
            fail("the format key '" + format + "' is registered for " + derived->name +
                 ", which is not registered as derived from " + pointee.name);
        if (unique && !pointee.virtual_destructor)
            fail("a unique_ptr<" + pointee.name + "> cannot own a " + derived->name + ": " + pointee.name +
                 " has no virtual destructor");
        return derived->create(item, *this, unique);
    }
    const bool own_format = !format.empty() && !pointee.format.empty() && format.starts_with(pointee.format);
    if (pointee.polymorphic && !derived && !format.empty() && !own_format &&
        (!pointee.format.empty() || !pointee.create)) {
        std::string known;
        for (const auto& name : detail::derived_type_names(pointee.type)) known += (known.empty() ? "" : ", ") + name;
        fail("no type registered as derived from " + pointee.name + " has the format key '" + format + "' (" +
             (known.empty() ? std::string("none is registered: see zanj::register_polymorphic")
                            : "registered: " + known) +
             ")");
    }
    if (!pointee.create)
        fail(pointee.name + " cannot be loaded itself (it is abstract or has no loader), and the item" +
             (format.empty() ? std::string(" has no format key") : "'s format key '" + format + "' is its own") +
             ": the item must name a registered derived type");
    return pointee.create(item, *this, unique);
}

void* loader::cast_pointee(const detail::loaded_object& object, const detail::pointee_info& pointee) const {
    if (object.type == pointee.type) return object.address;
    if (void* p = detail::polymorphic_cast(object.address, object.type, pointee.type)) return p;
    throw type_error("the object at " + object.path.str() + " is a " + detail::type_name(object.type) + ", not a " +
                         pointee.name + " (nor registered as derived from it)",
                     path_.str());
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
    // Ref items stay as they are; the rebuild attaches their target's object (see rebuild_node).
    add({std::string(object_ref_format), false, [](value item, loader&) { return item; },
         "a later occurrence of an object shared by pointers (kept as its item)"});
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

// What one untyped read remembers: the objects attached so far, by JSON pointer, so that a ref
// item gets the object of the item it names.
struct rebuild_context {
    std::unordered_map<std::string, std::shared_ptr<const std::any>> instances;
};

value rebuild_node(const loader_registry& registry, value v, loader& l, rebuild_context& context);

// Runs an item loader (or a registered polymorphic type's rebuild) as the error mode says.
template <class Load>
value run_item_loader(value v, loader& l, rebuild_context& context, Load&& load) {
    const error_mode mode = l.settings().error_mode;
    value out;
    if (mode == error_mode::except) {
        out = load(std::move(v));
    } else {
        try {
            out = load(v);
        } catch (const error& e) {
            if (mode == error_mode::warn)
                warn(l.settings(), std::string("zanj: warning: ") + e.what() + "; kept as a dict");
            return v;
        }
    }
    if (out.has_instance()) context.instances.insert_or_assign(detail::json_pointer(l.path()), out.shared_instance());
    return out;
}

value rebuild_node(const loader_registry& registry, value v, loader& l, rebuild_context& context) {
    if (v.is_list()) {
        auto& items = v.as_list();
        for (std::size_t i = 0; i < items.size(); ++i) {
            loader::path_guard guard(l, i);
            items[i] = rebuild_node(registry, std::move(items[i]), l, context);
        }
        return v;
    }
    if (v.is_set()) {
        for (auto& item : v.as_set().items) item = rebuild_node(registry, std::move(item), l, context);
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
        child = rebuild_node(registry, std::move(child), l, context);
    }
    std::string format(v.format());
    if (format.empty()) return v;
    const error_mode mode = l.settings().error_mode;
    if (format == object_ref_format) {
        // The ref stays as Python sees it; it shares the object of the item it names, when that
        // item came before it and got one.
        const value* same_as = v.find(same_as_key);
        if (same_as && same_as->is_string())
            if (auto it = context.instances.find(same_as->as_string()); it != context.instances.end())
                v.set_instance(it->second);
        return v;
    }
    if (const item_loader* found = registry.find(format))
        return run_item_loader(std::move(v), l, context, [&](value item) { return found->load(std::move(item), l); });
    if (const detail::polymorphic_type* derived = detail::find_polymorphic(format))
        return run_item_loader(std::move(v), l, context, [&](value item) {
            item.set_instance(derived->rebuild(item, l));
            return item;
        });
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

value loader_registry::rebuild(value tree, loader& l) const {
    rebuild_context context;
    return rebuild_node(*this, std::move(tree), l, context);
}

value handler<value>::load(const value& v, loader& l) { return l.registry()->rebuild(v, l); }

} // namespace zanj
