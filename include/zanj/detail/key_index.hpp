#pragma once
/// \file
/// `key_index`: finds string keys held in a sequence elsewhere (a dict's items, a zip's entries)
/// by hash. An open-addressing table of hashes and positions, at most half full: one allocation
/// for all the keys, and positions rather than views of the keys, so the items may move.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace zanj::detail {

class key_index {
public:
    static std::uint32_t hash(std::string_view key) noexcept {
        return static_cast<std::uint32_t>(std::hash<std::string_view>{}(key));
    }

    key_index() = default;
    key_index(const key_index& other) { *this = other; }
    key_index(key_index&&) noexcept = default;
    key_index& operator=(const key_index& other) {
        if (this == &other) return *this;
        slots_.reset();
        if (other.slots_) {
            slots_ = std::make_unique_for_overwrite<slot[]>(other.capacity() + 1);
            std::copy_n(other.slots_.get(), other.capacity() + 1, slots_.get());
        }
        return *this;
    }
    key_index& operator=(key_index&&) noexcept = default;

    bool empty() const noexcept { return !slots_; }
    /// Whether `keys` keys fit without the table getting more than half full.
    bool has_room_for(std::size_t keys) const noexcept { return 2 * keys <= capacity(); }
    /// An empty table with room for `keys` keys.
    void reset(std::size_t keys) {
        std::uint32_t log2 = 6;
        while ((std::size_t{1} << log2) < 2 * keys) ++log2;
        slots_ = std::make_unique<slot[]>((std::size_t{1} << log2) + 1);
        slots_[0].position_plus_one = log2;
    }
    void clear() noexcept { slots_.reset(); }

    /// Adds the key at `position`, whose hash is `h`; the caller knows it is not there yet.
    void add(std::size_t position, std::uint32_t h) noexcept {
        slot* table = slots_.get() + 1;
        const std::size_t mask = capacity() - 1;
        std::size_t at = h & mask;
        while (table[at].position_plus_one != 0) at = (at + 1) & mask;
        table[at] = {h, static_cast<std::uint32_t>(position + 1)};
    }

    /// Adds the key at `position` (hash `h`) as the `count`-th key, first doubling the table,
    /// with the keys at positions below `position` (`key_at` gives them), when it would be more
    /// than half full.
    template <class KeyAt>
    void add_growing(std::size_t position, std::uint32_t h, std::size_t count, const KeyAt& key_at) {
        if (!has_room_for(count)) {
            reset(2 * count);
            for (std::size_t i = 0; i < position; ++i) add(i, hash(key_at(i)));
        }
        add(position, h);
    }

    /// The position of `key` (hash `h`), or -1; `key_at(position)` gives the key held there.
    template <class KeyAt>
    std::ptrdiff_t find(std::string_view key, std::uint32_t h, const KeyAt& key_at) const noexcept {
        if (!slots_) return -1;
        const slot* table = slots_.get() + 1;
        const std::size_t mask = capacity() - 1;
        for (std::size_t at = h & mask;; at = (at + 1) & mask) {
            const slot& s = table[at];
            if (s.position_plus_one == 0) return -1;
            if (s.hash == h && key_at(s.position_plus_one - 1) == key)
                return static_cast<std::ptrdiff_t>(s.position_plus_one - 1);
        }
    }

private:
    struct slot {
        std::uint32_t hash = 0;
        std::uint32_t position_plus_one = 0; // 0: free
    };
    std::size_t capacity() const noexcept { return slots_ ? std::size_t{1} << slots_[0].position_plus_one : 0; }
    // One pointer, so that a dict holding it stays small: the first slot holds log2 of the
    // table's size, the table follows.
    std::unique_ptr<slot[]> slots_;
};

} // namespace zanj::detail
