#pragma once
/// \file
/// `zanj::value`: the untyped object tree. It is JSON's data model (null, bool, integers,
/// floats, strings, lists, dicts with their order kept) plus what Python's zanj loader rebuilds
/// beyond JSON: arrays (`ndarray`) and sets. Untyped reads return one; typed reads and writes go
/// through one.

#include <zanj/detail/key_index.hpp>
#include <zanj/error.hpp>
#include <zanj/ndarray.hpp>

#include <any>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace zanj {

class value;

/// The key that marks a typed item (Python's `_FORMAT_KEY`).
inline constexpr std::string_view format_key = "__muutils_format__";
/// The key of an external item's member name (Python's `_REF_KEY`).
inline constexpr std::string_view ref_key = "$ref";
/// The format key of a ref item: a later occurrence of an object that pointers share
/// (zanj/types/pointer.hpp), `{"__muutils_format__": "zanj::object_ref", "same_as": "/a/0"}`.
inline constexpr std::string_view object_ref_format = "zanj::object_ref";
/// The key of a ref item holding the JSON Pointer of the object's first occurrence.
inline constexpr std::string_view same_as_key = "same_as";

namespace detail {
/// The object held in `instance` (as a T, or a `std::shared_ptr<const T>`, of a type
/// registered with `zanj::register_polymorphic`) as its registered base `to`, or nullptr.
const void* polymorphic_instance(const std::any& instance, std::type_index to) noexcept;

/// An ndarray held by pointer. An ndarray is 64 bytes, twice a string, a list or a dict: held
/// inline it would make every node of a tree that large, and trees of many small values (an
/// archive's JSON) that much larger to build, walk and free. Copies share the array's storage,
/// as copies of an ndarray do.
class boxed_array {
public:
    explicit boxed_array(ndarray a) : p_(std::make_unique<ndarray>(std::move(a))) {}
    boxed_array(const boxed_array& other) : p_(other.p_ ? std::make_unique<ndarray>(*other.p_) : nullptr) {}
    boxed_array(boxed_array&&) noexcept = default;
    boxed_array& operator=(const boxed_array& other) {
        if (this != &other) p_ = other.p_ ? std::make_unique<ndarray>(*other.p_) : nullptr;
        return *this;
    }
    boxed_array& operator=(boxed_array&&) noexcept = default;
    ~boxed_array() = default;

    ndarray& get() noexcept { return *p_; }
    const ndarray& get() const noexcept { return *p_; }
    friend bool operator==(const boxed_array& a, const boxed_array& b) {
        return a.p_ && b.p_ ? *a.p_ == *b.p_ : a.p_ == b.p_;
    }

private:
    std::unique_ptr<ndarray> p_; // null only when moved from
};
} // namespace detail

/// A JSON object: string keys in insertion order, as Python's dicts keep them. Lookup is by
/// scan for small dicts and through a hash index for large ones; lookups never modify the dict,
/// so several threads may read it at once.
class value_dict {
public:
    /// A key and its value.
    using item_type = std::pair<std::string, value>;
    /// Iterates the items in insertion order.
    using iterator = std::vector<item_type>::iterator;
    /// Iterates the items in insertion order.
    using const_iterator = std::vector<item_type>::const_iterator;

    value_dict() = default;
    /// A dict of these items, in this order.
    value_dict(std::initializer_list<item_type> items);
    /// A dict of these items, in this order. A key that repeats keeps its first place and its
    /// last value, as Python's `dict` does.
    explicit value_dict(std::vector<item_type>&& items);
    /// Copies the items.
    value_dict(const value_dict& other);
    /// Moves the items.
    value_dict(value_dict&&) noexcept = default;
    /// Copies the items.
    value_dict& operator=(const value_dict& other);
    /// Moves the items.
    value_dict& operator=(value_dict&&) noexcept = default;
    ~value_dict();

    // Defined after `value`: instantiating std::pair<std::string, value> before `value` is
    // complete fixes its traits wrongly under Clang (deleted copy assignment).
    /// Number of items.
    std::size_t size() const noexcept;
    /// Whether there are no items.
    bool empty() const noexcept;
    /// The first item.
    iterator begin() noexcept;
    /// Past the last item.
    iterator end() noexcept;
    /// The first item.
    const_iterator begin() const noexcept;
    /// Past the last item.
    const_iterator end() const noexcept;

    /// The value under `key`, or nullptr.
    value* find(std::string_view key) noexcept;
    /// The value under `key`, or nullptr.
    const value* find(std::string_view key) const noexcept;
    /// Whether `key` is present.
    bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
    /// The value under `key`, inserted as null at the end when absent.
    value& operator[](std::string_view key);
    /// Sets `key` to `v`, keeping the key's place when it exists.
    value& insert_or_assign(std::string_view key, value v);
    /// Removes `key`; false when it was absent.
    bool erase(std::string_view key);
    /// Room for `n` items without reallocating.
    void reserve(std::size_t n);

    /// The position of `key` in iteration order, or -1.
    std::ptrdiff_t index_of(std::string_view key) const noexcept;

    /// Same keys with equal values, in any order (as Python compares dicts).
    friend bool operator==(const value_dict& a, const value_dict& b);

private:
    void reindex();
    void drop_repeated_keys();

    std::vector<item_type> items_;
    // For dicts large enough that hashing beats a scan; empty for small dicts.
    detail::key_index index_;
};

/// A Python set or frozenset (`{"__muutils_format__": "set", "data": [...]}` on disk).
struct value_set {
    /// The elements, in the file's order.
    std::vector<value> items;
    /// True for a Python frozenset.
    bool frozen = false;

    /// Same frozenness and the same elements, in any order.
    friend bool operator==(const value_set& a, const value_set& b);
};

/// A node of the untyped tree.
class value {
public:
    /// What a value holds; `unsigned_integer` only for integers above INT64_MAX.
    enum class kind { null, boolean, integer, unsigned_integer, floating, string, list, dict, set, array };
    /// A JSON list.
    using list_type = std::vector<value>;
    /// A JSON object, in insertion order.
    using dict_type = value_dict;

    value() noexcept = default;
    /// Null.
    value(std::nullptr_t) noexcept {}
    /// A bool.
    value(bool b) noexcept : data_(b) {}
    /// An integer of any width: int64, or uint64 above INT64_MAX.
    template <class I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) value(I i)
    noexcept {
        if constexpr (std::is_signed_v<I>) {
            data_ = static_cast<std::int64_t>(i);
        } else if (static_cast<std::uint64_t>(i) <= static_cast<std::uint64_t>(INT64_MAX)) {
            data_ = static_cast<std::int64_t>(i);
        } else {
            data_ = static_cast<std::uint64_t>(i);
        }
    }
    /// A float.
    value(double d) noexcept : data_(d) {}
    /// A float, widened to double.
    value(float f) noexcept : data_(static_cast<double>(f)) {}
    /// A string (UTF-8).
    value(std::string s) noexcept : data_(std::move(s)) {}
    /// A string, copied.
    value(std::string_view s) : data_(std::string(s)) {}
    /// A string, copied.
    value(const char* s) : data_(std::string(s)) {}
    /// A list.
    value(list_type l) noexcept : data_(std::move(l)) {}
    /// A dict.
    value(dict_type d) noexcept : data_(std::move(d)) {}
    /// A set.
    value(value_set s) noexcept : data_(std::move(s)) {}
    /// An array, sharing its storage.
    value(ndarray a) : data_(detail::boxed_array(std::move(a))) {}

    /// An empty list / dict.
    static value list() { return value(list_type{}); }
    /// An empty dict.
    static value dict() { return value(dict_type{}); }

    /// What this value holds.
    kind type() const noexcept { return static_cast<kind>(data_.index()); }
    /// "null", "bool", "int", "float", "str", "list", "dict", "set", "ndarray": for messages.
    std::string_view type_name() const noexcept;

    /// Holds null.
    bool is_null() const noexcept { return type() == kind::null; }
    /// Holds a bool.
    bool is_bool() const noexcept { return type() == kind::boolean; }
    /// Signed or unsigned integer.
    bool is_integer() const noexcept { return type() == kind::integer || type() == kind::unsigned_integer; }
    /// Holds a float.
    bool is_float() const noexcept { return type() == kind::floating; }
    /// Integer or float.
    bool is_number() const noexcept { return is_integer() || is_float(); }
    /// Holds a string.
    bool is_string() const noexcept { return type() == kind::string; }
    /// Holds a list.
    bool is_list() const noexcept { return type() == kind::list; }
    /// Holds a dict.
    bool is_dict() const noexcept { return type() == kind::dict; }
    /// Holds a set.
    bool is_set() const noexcept { return type() == kind::set; }
    /// Holds an ndarray.
    bool is_array() const noexcept { return type() == kind::array; }

    // Checked accessors: each throws type_error naming the kind found.
    /// The bool held; type_error naming the kind found otherwise (as every `as_` accessor).
    bool as_bool() const;
    /// The integer held, as int64.
    std::int64_t as_int() const;
    /// The integer held, as uint64.
    std::uint64_t as_uint() const;
    /// Any number as double (integers converted).
    double as_double() const;
    /// The string held.
    const std::string& as_string() const;
    /// The list held.
    const list_type& as_list() const;
    /// The list held, writable.
    list_type& as_list();
    /// The dict held.
    const dict_type& as_dict() const;
    /// The dict held, writable.
    dict_type& as_dict();
    /// The set held.
    const value_set& as_set() const;
    /// The set held, writable.
    value_set& as_set();
    /// The array held.
    const ndarray& as_array() const;
    /// The array held, writable.
    ndarray& as_array();

    /// Dict member; throws type_error when this is not a dict or the key is missing.
    const value& operator[](std::string_view key) const;
    /// Dict member, inserted when missing (a null value becomes an empty dict first).
    value& operator[](std::string_view key);
    /// List element; throws type_error when out of range or not a list.
    const value& operator[](std::size_t index) const;
    /// List element, writable; throws as the const overload.
    value& operator[](std::size_t index);
    /// Disambiguates `v[0]` between the key and index overloads.
    const value& operator[](int index) const { return (*this)[static_cast<std::size_t>(index)]; }
    /// The same, writable.
    value& operator[](int index) { return (*this)[static_cast<std::size_t>(index)]; }
    /// Dict member by C string, as the std::string_view overload.
    const value& operator[](const char* key) const { return (*this)[std::string_view(key)]; }
    /// The same, writable.
    value& operator[](const char* key) { return (*this)[std::string_view(key)]; }

    /// Dict member or nullptr (also nullptr when this is not a dict).
    const value* find(std::string_view key) const noexcept;
    /// One step of Python's walk along an `externals_info` path: the dict member under `step`
    /// (an integer step names the key str(i), as Python's dict keys do) or the list item at the
    /// integer `step`; nullptr when there is none.
    const value* step_into(const value& step) const;
    /// Whether this is a dict holding `key`.
    bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
    /// Items of a list, set or dict; characters of nothing else (0).
    std::size_t size() const noexcept;

    /// The `__muutils_format__` string of a typed item, or empty.
    std::string_view format() const noexcept;

    /// This value loaded as T through T's handler (declared here, defined in zanj/loader.hpp).
    template <class T>
    T get() const;

    /// An object rebuilt by a registered loader in an untyped read, or nullptr.
    template <class T>
    const T* instance() const noexcept {
        if (!instance_) return nullptr;
        if (const T* direct = std::any_cast<T>(instance_.get())) return direct;
        // Types std::any cannot hold (move-only ones) are attached through a shared_ptr.
        const auto* shared = std::any_cast<std::shared_ptr<const T>>(instance_.get());
        return shared ? shared->get() : nullptr;
    }
    /// The attached object as a T or as its registered base T (`zanj::register_polymorphic`):
    /// `tree["model"].instance_as<Model>()` reaches a `Linear` registered as derived from
    /// `Model`. Null when nothing is attached or the object is not a T. Shares the tree's object.
    template <class T>
    std::shared_ptr<const T> instance_as() const noexcept {
        if (!instance_) return nullptr;
        const void* object = instance<T>();
        if (!object) object = detail::polymorphic_instance(*instance_, typeid(T));
        return object ? std::shared_ptr<const T>(instance_, static_cast<const T*>(object)) : nullptr;
    }
    /// The attached object itself, shared (null when none): what `set_instance` received.
    const std::shared_ptr<const std::any>& shared_instance() const noexcept { return instance_; }
    /// Whether a registered loader attached an object.
    bool has_instance() const noexcept { return instance_ != nullptr; }
    /// Attaches the object a registered loader rebuilt.
    void set_instance(std::shared_ptr<const std::any> obj) noexcept { instance_ = std::move(obj); }

    /// Compact JSON text (arrays are shown as a short `array(dtype, shape)` note); for messages
    /// and debugging, not the archive writer.
    std::string dump() const;

    /// Deep equality: dicts regardless of order, arrays by dtype, shape and bytes.
    friend bool operator==(const value& a, const value& b);

private:
    std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double, std::string, list_type, dict_type,
                 value_set, detail::boxed_array>
        data_;
    std::shared_ptr<const std::any> instance_;
};

inline std::size_t value_dict::size() const noexcept { return items_.size(); }
inline bool value_dict::empty() const noexcept { return items_.empty(); }
inline void value_dict::reserve(std::size_t n) { items_.reserve(n); }
inline value_dict::iterator value_dict::begin() noexcept { return items_.begin(); }
inline value_dict::iterator value_dict::end() noexcept { return items_.end(); }
inline value_dict::const_iterator value_dict::begin() const noexcept { return items_.begin(); }
inline value_dict::const_iterator value_dict::end() const noexcept { return items_.end(); }

} // namespace zanj
