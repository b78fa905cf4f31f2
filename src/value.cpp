#include <zanj/value.hpp>

#include <zanj/detail/json_io.hpp>

#include <algorithm>

namespace zanj {

// ---- value_dict -----------------------------------------------------------------------------

namespace {
// Below this many keys a scan beats hashing.
constexpr std::size_t index_threshold = 24;
} // namespace

value_dict::value_dict(std::initializer_list<item_type> items) {
    for (const auto& [k, v] : items) insert_or_assign(k, v);
}
value_dict::value_dict(std::vector<item_type>&& items) : items_(std::move(items)) { drop_repeated_keys(); }
value_dict::value_dict(const value_dict& other) : items_(other.items_), index_(other.index_) {}
value_dict& value_dict::operator=(const value_dict& other) {
    if (this != &other) {
        items_ = other.items_;
        index_ = other.index_;
    }
    return *this;
}
value_dict::~value_dict() = default;

// The index is kept up to date by every change, so that lookups never write and several
// threads may read one dict at once.
void value_dict::reindex() {
    index_.clear();
    if (items_.size() < index_threshold) return;
    index_.reset(items_.size());
    for (std::size_t i = 0; i < items_.size(); ++i) index_.add(i, detail::key_index::hash(items_[i].first));
}

// Python keeps the first place of a repeated key and its last value.
void value_dict::drop_repeated_keys() {
    if (items_.size() < index_threshold) {
        for (std::size_t i = 1; i < items_.size(); ++i) {
            auto first = std::find_if(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(i),
                                      [&](const item_type& item) { return item.first == items_[i].first; });
            if (first == items_.begin() + static_cast<std::ptrdiff_t>(i)) continue;
            first->second = std::move(items_[i].second);
            items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(i--));
        }
        return;
    }
    index_.reset(items_.size());
    auto key_at = [this](std::size_t i) -> std::string_view { return items_[i].first; };
    std::size_t kept = 0;
    for (std::size_t i = 0; i < items_.size(); ++i) {
        const std::uint32_t h = detail::key_index::hash(items_[i].first);
        if (auto first = index_.find(items_[i].first, h, key_at); first >= 0) {
            items_[static_cast<std::size_t>(first)].second = std::move(items_[i].second);
            continue;
        }
        if (kept != i) items_[kept] = std::move(items_[i]);
        index_.add(kept++, h);
    }
    items_.resize(kept);
    if (kept < index_threshold) index_.clear();
}

std::ptrdiff_t value_dict::index_of(std::string_view key) const noexcept {
    if (index_.empty()) {
        for (std::size_t i = 0; i < items_.size(); ++i)
            if (items_[i].first == key) return static_cast<std::ptrdiff_t>(i);
        return -1;
    }
    return index_.find(key, detail::key_index::hash(key),
                       [this](std::size_t i) -> std::string_view { return items_[i].first; });
}

value* value_dict::find(std::string_view key) noexcept {
    auto i = index_of(key);
    return i < 0 ? nullptr : &items_[static_cast<std::size_t>(i)].second;
}
const value* value_dict::find(std::string_view key) const noexcept {
    auto i = index_of(key);
    return i < 0 ? nullptr : &items_[static_cast<std::size_t>(i)].second;
}

value& value_dict::operator[](std::string_view key) {
    if (value* v = find(key)) return *v;
    return insert_or_assign(key, value{});
}

value& value_dict::insert_or_assign(std::string_view key, value v) {
    if (value* existing = find(key)) {
        *existing = std::move(v);
        return *existing;
    }
    items_.emplace_back(std::string(key), std::move(v));
    if (items_.size() >= index_threshold) {
        if (!index_.has_room_for(items_.size()))
            reindex();
        else
            index_.add(items_.size() - 1, detail::key_index::hash(key));
    }
    return items_.back().second;
}

bool value_dict::erase(std::string_view key) {
    auto i = index_of(key);
    if (i < 0) return false;
    items_.erase(items_.begin() + i);
    reindex();
    return true;
}

bool operator==(const value_dict& a, const value_dict& b) {
    // Python's dict equality ignores order.
    if (a.size() != b.size()) return false;
    for (const auto& [k, v] : a) {
        const value* other = b.find(k);
        if (!other || !(*other == v)) return false;
    }
    return true;
}

bool operator==(const value_set& a, const value_set& b) {
    if (a.frozen != b.frozen || a.items.size() != b.items.size()) return false;
    // Sets are small in practice; order does not matter.
    for (const auto& x : a.items) {
        bool found = false;
        for (const auto& y : b.items)
            if (x == y) {
                found = true;
                break;
            }
        if (!found) return false;
    }
    return true;
}

// ---- value ----------------------------------------------------------------------------------

std::string_view value::type_name() const noexcept {
    switch (type()) {
    case kind::null: return "null";
    case kind::boolean: return "bool";
    case kind::integer:
    case kind::unsigned_integer: return "int";
    case kind::floating: return "float";
    case kind::string: return "str";
    case kind::list: return "list";
    case kind::dict: return "dict";
    case kind::set: return "set";
    case kind::array: return "ndarray";
    }
    return "?";
}

namespace {
[[noreturn]] void wrong_kind(const value& v, std::string_view wanted) {
    throw type_error("expected " + std::string(wanted) + ", found " + std::string(v.type_name()));
}
} // namespace

bool value::as_bool() const {
    if (auto* b = std::get_if<bool>(&data_)) return *b;
    wrong_kind(*this, "bool");
}

std::int64_t value::as_int() const {
    if (auto* i = std::get_if<std::int64_t>(&data_)) return *i;
    if (std::holds_alternative<std::uint64_t>(data_)) throw type_error("integer " + dump() + " does not fit in int64");
    wrong_kind(*this, "int");
}

std::uint64_t value::as_uint() const {
    if (auto* u = std::get_if<std::uint64_t>(&data_)) return *u;
    if (auto* i = std::get_if<std::int64_t>(&data_)) {
        if (*i < 0) throw type_error("negative integer " + dump() + " where an unsigned one is expected");
        return static_cast<std::uint64_t>(*i);
    }
    wrong_kind(*this, "int");
}

double value::as_double() const {
    if (auto* d = std::get_if<double>(&data_)) return *d;
    if (auto* i = std::get_if<std::int64_t>(&data_)) return static_cast<double>(*i);
    if (auto* u = std::get_if<std::uint64_t>(&data_)) return static_cast<double>(*u);
    wrong_kind(*this, "float");
}

#define ZANJ_VALUE_ACCESSOR(NAME, TYPE, WANTED)                                                                        \
    const TYPE& value::NAME() const {                                                                                  \
        if (auto* p = std::get_if<TYPE>(&data_)) return *p;                                                            \
        wrong_kind(*this, WANTED);                                                                                     \
    }                                                                                                                  \
    TYPE& value::NAME() {                                                                                              \
        if (auto* p = std::get_if<TYPE>(&data_)) return *p;                                                            \
        wrong_kind(*this, WANTED);                                                                                     \
    }
ZANJ_VALUE_ACCESSOR(as_list, value::list_type, "list")
ZANJ_VALUE_ACCESSOR(as_dict, value::dict_type, "dict")
ZANJ_VALUE_ACCESSOR(as_set, value_set, "set")
#undef ZANJ_VALUE_ACCESSOR

const ndarray& value::as_array() const {
    if (auto* p = std::get_if<detail::boxed_array>(&data_)) return p->get();
    wrong_kind(*this, "ndarray");
}
ndarray& value::as_array() {
    if (auto* p = std::get_if<detail::boxed_array>(&data_)) return p->get();
    wrong_kind(*this, "ndarray");
}

const std::string& value::as_string() const {
    if (auto* s = std::get_if<std::string>(&data_)) return *s;
    wrong_kind(*this, "str");
}

const value& value::operator[](std::string_view key) const {
    const value* v = as_dict().find(key);
    if (!v) throw type_error("missing key '" + std::string(key) + "'");
    return *v;
}

value& value::operator[](std::string_view key) {
    if (is_null()) data_ = dict_type{};
    return as_dict()[key];
}

const value& value::operator[](std::size_t index) const {
    const auto& l = as_list();
    if (index >= l.size())
        throw type_error("index " + std::to_string(index) + " out of range for a list of " + std::to_string(l.size()));
    return l[index];
}

value& value::operator[](std::size_t index) {
    auto& l = as_list();
    if (index >= l.size())
        throw type_error("index " + std::to_string(index) + " out of range for a list of " + std::to_string(l.size()));
    return l[index];
}

const value* value::find(std::string_view key) const noexcept {
    auto* d = std::get_if<dict_type>(&data_);
    return d ? d->find(key) : nullptr;
}

std::size_t value::size() const noexcept {
    if (auto* l = std::get_if<list_type>(&data_)) return l->size();
    if (auto* d = std::get_if<dict_type>(&data_)) return d->size();
    if (auto* s = std::get_if<value_set>(&data_)) return s->items.size();
    return 0;
}

std::string_view value::format() const noexcept {
    const value* f = find(format_key);
    if (!f) return {};
    auto* s = std::get_if<std::string>(&f->data_);
    return s ? std::string_view(*s) : std::string_view{};
}

std::string value::dump() const { return detail::write_json(*this, {.indent = -1, .describe_arrays = true}); }

bool operator==(const value& a, const value& b) {
    // Integers compare by value whichever alternative holds them, as in Python.
    if (a.is_integer() && b.is_integer()) {
        if (a.type() == b.type()) return a.data_ == b.data_;
        return false; // one is negative-or-small int64, the other is > INT64_MAX
    }
    return a.data_ == b.data_;
}

const value* value::step_into(const value& step) const {
    if (is_dict()) return find(step.is_string() ? step.as_string() : step.dump());
    if (is_list() && step.type() == kind::integer && step.as_int() >= 0 &&
        static_cast<std::size_t>(step.as_int()) < size())
        return &as_list()[static_cast<std::size_t>(step.as_int())];
    return nullptr;
}

} // namespace zanj
