#pragma once
/// \file
/// Reading back: `zanj::loader` walks a tree into typed C++ objects through their handlers, and
/// `zanj::loader_registry` rebuilds typed items by their format key in untyped reads, as
/// Python's loader does.

#include <zanj/config.hpp>
#include <zanj/handler.hpp>
#include <zanj/marshaler.hpp>
#include <zanj/object_path.hpp>
#include <zanj/value.hpp>

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <typeindex>
#include <typeinfo>
#include <unordered_map>
#include <vector>

namespace zanj {

class loader_registry;

/// Where an array read into caller-provided storage goes: called once the array's dtype and
/// shape are known, it returns room for exactly its bytes (checking the dtype and shape first,
/// and throwing when they do not fit).
using array_placer = std::function<std::span<std::byte>(dtype type, const shape_type& shape)>;

namespace detail {

/// Where a loader finds what the tree only references: the lines of `.jsonl` members and the
/// arrays of `.npy` members (an open archive).
class external_source {
public:
    virtual ~external_source() = default;
    /// Whether `member` is an external of that kind (listed in `externals_info`).
    virtual bool has_jsonl(std::string_view member) const = 0;
    virtual bool has_npy(std::string_view member) const = 0;
    /// The parsed lines of a `.jsonl` member, as a list; parsed once and kept until released.
    virtual const value& jsonl(std::string_view member) const = 0;
    /// The array of a `.npy` member, viewed or copied as the read asked.
    virtual ndarray npy(std::string_view member) const = 0;
    /// Reads the array of a `.npy` member straight into the storage `place` gives.
    virtual void npy_into(std::string_view member, const array_placer& place) const = 0;
    /// Called once the read is over: makes the checks it left to its end, throwing what they find.
    virtual void finish() const {}
    /// The read is done with the list `jsonl(member)` gave: its parsed lines may be dropped.
    virtual void release_jsonl(std::string_view /*member*/) const {}
};

/// How a pointer holds the object it loads (zanj/types/pointer.hpp).
enum class pointer_kind { shared, unique, weak, raw };

/// An object a typed read created for an owning pointer, kept by the item it came from so that
/// every ref item naming that item gets the same object.
struct loaded_object {
    /// Owns the object when a shared_ptr holds it (null for a unique_ptr's object).
    std::shared_ptr<void> shared;
    /// Owns a unique_ptr's object until its handler takes it.
    std::unique_ptr<void, void (*)(void*)> pending_unique{nullptr, nullptr};
    /// The object, as `type`.
    void* address = nullptr;
    /// Its dynamic type.
    std::type_index type = typeid(void);
    /// Where its item sits.
    object_path path;
    /// False while its own item is loading (refs to it then come from inside it).
    bool complete = false;
    /// Owned by a unique_ptr.
    bool unique = false;
};

/// What the pointer handlers tell the loader of their pointee type T (see `pointee_info_of`).
struct pointee_info {
    /// T without const.
    std::type_index type;
    /// T's name, for messages.
    std::string name;
    /// T is polymorphic: items of registered derived types load as those.
    bool polymorphic;
    /// T has a virtual destructor (a unique_ptr<T> may own a derived object).
    bool virtual_destructor;
    /// Creates a T from its item and records it in the loader's table; null when T cannot be
    /// loaded itself (abstract, or without a loader).
    loaded_object& (*create)(const value& item, loader& l, bool unique);
    /// T's format key, when its handler declares one.
    std::string format;
};

struct object_table;

} // namespace detail

/// Walks a tree into typed objects; handlers receive it to load their members.
class loader {
public:
    /// A loader with these settings; `registry` rebuilds typed items in untyped reads (the
    /// built-in loaders when null), `externals` supplies external members' data (when null,
    /// external items must carry their data), and `start` is where the loaded item sits.
    explicit loader(const config& settings, const loader_registry* registry = nullptr,
                    const detail::external_source* externals = nullptr, object_path start = {});

    /// The read's settings.
    const config& settings() const noexcept { return settings_; }
    /// The registry untyped reads use, or nullptr for the built-in loaders.
    const loader_registry* registry() const noexcept { return registry_; }
    /// Where the item being loaded sits.
    const object_path& path() const noexcept { return path_; }
    /// Where external members' data comes from, or nullptr.
    const detail::external_source* externals() const noexcept { return externals_; }

    /// `v` as T, through T's handler.
    template <class T>
    T load(const value& v);

    /// The member `key` of the dict `v` as T; a missing key is an error naming it.
    template <class T>
    T load_field(const value& v, std::string_view key) {
        const value& member = field(v, key);
        path_guard guard(*this, key);
        return load<T>(member);
    }
    /// Element `index` of `items` as T.
    template <class T>
    T load_element(const value& item, std::size_t index) {
        path_guard guard(*this, index);
        return load<T>(item);
    }

    /// The member `key` of the dict `v`; throws when `v` is not a dict or lacks it.
    const value& field(const value& v, std::string_view key) const;

    /// The items of a list: a JSON list, a set, or a `list:external` / `tuple:external` item
    /// (whose `.jsonl` data the reader has filled in).
    const value::list_type& sequence(const value& v) const;

    /// An array in any of its forms: an ndarray, an array item of any mode (array_list_meta,
    /// array_hex_meta, array_b64_meta, zero_dim, external), or a bare nested list.
    ndarray array(const value& v) const;

    /// The same array read into storage that `place` provides once dtype and shape are known:
    /// an external array goes straight from the archive into it, without an intermediate copy.
    void array_into(const value& v, const array_placer& place) const;

    /// Throws type_error naming the current object path (and the member, when the item came
    /// from one).
    [[noreturn]] void fail(const std::string& why) const;

    /// Checks that `v` has the JSON kind a handler expects, failing with a clear message.
    void expect(const value& v, value::kind k, std::string_view what) const;

    /// Reports `message` through `config::warning_sink` (stderr without one), as
    /// "zanj: warning: <message> (at <object path>)".
    void warn(std::string_view message) const;

    // ---- pointers and shared objects (zanj/types/pointer.hpp) ----
    /// The object a pointer of kind `kind` to `pointee` loads from `item` (not null): created
    /// from a full item, or the object a ref item names (loaded first when the ref points
    /// forward), checked against the pointer's kind; fails naming the paths otherwise.
    detail::loaded_object& load_pointee(const value& item, const detail::pointee_info& pointee,
                                        detail::pointer_kind kind);
    /// The address of `object` as the pointee type; fails when it is neither that type nor
    /// registered as derived from it.
    void* cast_pointee(const detail::loaded_object& object, const detail::pointee_info& pointee) const;
    /// Records the object created from `item` (by `detail::create_pointee`).
    detail::loaded_object& remember(const value& item, detail::loaded_object object);
    /// Drops the record of `item` (its load failed).
    void forget(const value& item) noexcept;

    /// Starts a fresh table of shared objects for the load of `root`, an item sitting at `path()`
    /// whose ref items are followed from it, until destroyed. Every top-level `load` opens one;
    /// loaders of untyped reads open one per item they rebuild.
    class object_scope {
    public:
        /// Makes `root` the root of the refs followed until destroyed.
        object_scope(loader& l, const value& root);
        ~object_scope();
        object_scope(const object_scope&) = delete;
        object_scope& operator=(const object_scope&) = delete;

    private:
        loader& l_;
        const value* root_;
        object_path root_path_;
        std::shared_ptr<detail::object_table> objects_;
    };

    /// Pushes a path step for its lifetime.
    class path_guard {
    public:
        /// Pushes `key` until destroyed.
        path_guard(loader& l, std::string_view key) : l_(l) { l_.path_.push(key); }
        /// Pushes `index` until destroyed.
        path_guard(loader& l, std::size_t index) : l_(l) { l_.path_.push(index); }
        ~path_guard() { l_.path_.pop(); }
        path_guard(const path_guard&) = delete;
        path_guard& operator=(const path_guard&) = delete;

    private:
        loader& l_;
    };

private:
    // The member of an external stub that has no data yet, or empty.
    std::string_view pending_member(const value& v) const noexcept;
    // Loads `v` through a run-time marshaler into `out` (a std::optional<T>*).
    void run_marshaler(const detail::marshaler_entry& m, const value& v, void* out);
    // Fails: a runtime_marshaled type without a marshaler that loads `v`.
    [[noreturn]] void no_marshaler(std::type_index type, const value& v) const;
    // The item a ref item names, found from the root of this load; its path in `target_path`.
    const value& ref_target(const value& ref, object_path& target_path);
    // Creates the pointee from a full item, as its registered derived type when it names one.
    detail::loaded_object& create_owned(const value& item, const detail::pointee_info& pointee, bool unique);
    detail::loaded_object* loaded(const value& item) noexcept;
    // Hands the external lists sequence() gave to loads at this depth or deeper back to the
    // source: a whole read then holds the parsed lines of the lists it is inside, not of every
    // list it has read.
    void close_lists() noexcept;
    // Counts a load() in progress, and closes its lists when it returns.
    struct depth_guard {
        explicit depth_guard(loader& l) noexcept : l_(l) { ++l_.load_depth_; }
        ~depth_guard() {
            if (!l_.open_lists_.empty() && l_.open_lists_.back().first >= l_.load_depth_) l_.close_lists();
            --l_.load_depth_;
        }
        depth_guard(const depth_guard&) = delete;
        depth_guard& operator=(const depth_guard&) = delete;
        loader& l_;
    };

    const config& settings_;
    const loader_registry* registry_;
    const detail::external_source* externals_;
    object_path path_;
    // The registry's run-time marshalers, or null when it has none (the common case costs a test).
    const marshaler_registry* marshalers_ = nullptr;
    // The item the current top-level load started from, where ref items are followed from, and
    // its path; null between loads.
    const value* root_ = nullptr;
    object_path root_path_;
    // The objects created for owning pointers, by item; made on the first pointer.
    std::shared_ptr<detail::object_table> objects_;
    // The load() calls in progress, and the external lists sequence() gave out by the depth of
    // the load that first asked for each (deeper ones last).
    std::size_t load_depth_ = 0;
    mutable std::vector<std::pair<std::size_t, std::string_view>> open_lists_;
    // Set once the read has remembered an object or followed a ref: objects are found by their
    // item's address, and refs return items of lists, so from then on no list is closed.
    bool finds_items_by_address_ = false;
};

template <class T>
T loader::load(const value& v) {
    if (!root_) [[unlikely]] {
        object_scope scope(*this, v);
        return load<T>(v);
    }
    const depth_guard depth(*this);
    if (marshalers_) {
        if (const detail::marshaler_entry* m = marshalers_->for_item(typeid(T), v)) {
            std::optional<T> out;
            run_marshaler(*m, v, &out);
            return std::move(*out);
        }
    }
    if constexpr (detail::has_handler_load<T>) {
        return handler<T>::load(v, *this);
    } else if constexpr (detail::has_adl_load<T>) {
        using detail::zanj_load;
        return zanj_load(tag<T>{}, v, *this);
    } else if constexpr (runtime_marshaled<T>::value) {
        no_marshaler(typeid(T), v);
    } else if constexpr (!serializable<T>) {
        static_assert(detail::no_handler_for_type<T>::value);
        return T{};
    } else {
        static_assert(detail::no_loader_for_type<T>::value);
        return T{};
    }
}

/// How an untyped read rebuilds one kind of typed item.
struct item_loader {
    /// The format key this loader owns exactly, or, with `prefix` set, a prefix of the keys it owns.
    std::string format;
    /// True when `format` is a prefix: the loader then owns every key that starts with it.
    bool prefix = false;
    /// Rebuilds the item; its children are already rebuilt.
    std::function<value(value item, loader& l)> load;
    /// For `__zanj_meta__.json`.
    std::string description;
};

/// Loaders of typed items by format key, consulted by untyped reads: an exact key first, then
/// the longest registered prefix. Holds zanj's own loaders (arrays, sets, externals) from the
/// start; `add<T>()` adds a user type so untyped reads rebuild it as a T.
///
/// Thread safety: every member may be called from several threads at once, `add` included
/// (a shared mutex: lookups share it, `add` takes it alone). A loader, once added, is never
/// moved or removed, so what `find` returns stays valid while the registry lives.
class loader_registry {
public:
    /// A registry holding zanj's built-in loaders.
    loader_registry();
    /// A copy of `other`'s loaders (taken under its lock).
    loader_registry(const loader_registry& other);
    /// Replaces the loaders with a copy of `other`'s.
    loader_registry& operator=(const loader_registry& other);

    /// Adds a loader; a format key already registered is a usage_error.
    void add(item_loader l);

    /// Registers T (a dataclass, or any type whose handler declares `format_key`): untyped reads
    /// rebuild items of its format key as T, available through `value::instance<T>()`.
    template <class T>
    void add();

    /// The loader for a format key, or nullptr.
    const item_loader* find(std::string_view format) const;

    /// Registers a run-time marshaler for T (zanj/marshaler.hpp): saves and typed reads of T try
    /// it before T's compile-time handler, and, when it has a load function, untyped reads
    /// rebuild items of its format key through it. A format key already registered (by a
    /// marshaler or a loader) is a usage_error. Register marshalers before saving or reading
    /// with this registry: saves and reads look them up without a lock.
    template <class T>
    void add_marshaler(marshaler<T> m) {
        add_marshaler_entry(detail::erase_marshaler(std::move(m)));
    }

    /// The run-time marshalers.
    const marshaler_registry& marshalers() const noexcept { return marshalers_; }

    /// Every loader, in registration order (the built-in ones first): a copy, since another
    /// thread may add to the registry meanwhile.
    std::vector<item_loader> loaders() const;

    /// Rebuilds a whole tree bottom-up (what an untyped read returns).
    value rebuild(value tree, loader& l) const;

private:
    void add_marshaler_entry(detail::marshaler_entry e);

    marshaler_registry marshalers_;
    mutable std::shared_mutex mutex_;
    // A deque: adding never moves the loaders already there, which `find`'s callers point to.
    std::deque<item_loader> loaders_;
    std::unordered_map<std::string, const item_loader*> exact_;
};

template <class T>
void loader_registry::add() {
    static_assert(
        requires { handler<T>::format_key(); },
        "zanj: loader_registry::add<T>() needs T's format key: declare T with ZANJ_DATACLASS, or give "
        "its handler a static std::string format_key()");
    std::string key = handler<T>::format_key();
    item_loader l;
    l.format = key;
    // Python matches a class whose format string is a prefix of the item's value; a handler can
    // ask for exact matches (a model class "Net" must not claim "NetConfig(...)" items).
    l.prefix = true;
    if constexpr (requires { handler<T>::exact_format_key; }) l.prefix = !handler<T>::exact_format_key;
    l.description = "C++ type registered for '" + key + "'";
    l.load = [](value item, loader& ld) {
        // The item is a copy: refs inside it are followed inside it.
        loader::object_scope scope(ld, item);
        auto obj = std::make_shared<const std::any>(ld.load<T>(item));
        item.set_instance(std::move(obj));
        return item;
    };
    add(std::move(l));
}

template <class T>
T value::get() const {
    config defaults;
    loader l(defaults);
    return l.load<T>(*this);
}

} // namespace zanj
