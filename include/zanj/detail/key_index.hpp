#pragma once
/// \file
/// `key_index`: finds string keys held in a sequence elsewhere (a dict's items, a zip's entries)
/// by hash. An open-addressing table of hashes and positions, at most half full: one allocation
/// for all the keys, and positions rather than views of the keys, so the items may move.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace zanj::detail {

class key_index {
public:
    static std::uint32_t hash(std::string_view key) noexcept {
        return static_cast<std::uint32_t>(std::hash<std::string_view>{}(key));
    }

    bool empty() const noexcept { return slots_.empty(); }
    /// Whether `keys` keys fit without the table getting more than half full.
    bool has_room_for(std::size_t keys) const noexcept { return 2 * keys <= slots_.size(); }
    /// An empty table with room for `keys` keys.
    void reset(std::size_t keys) {
        std::size_t size = 64;
        while (size < 2 * keys) size *= 2;
        slots_.assign(size, {});
    }
    void clear() noexcept { slots_.clear(); }

    /// Adds the key at `position`, whose hash is `h`; the caller knows it is not there yet.
    void add(std::size_t position, std::uint32_t h) noexcept {
        const std::size_t mask = slots_.size() - 1;
        std::size_t at = h & mask;
        while (slots_[at].position_plus_one != 0) at = (at + 1) & mask;
        slots_[at] = {h, static_cast<std::uint32_t>(position + 1)};
    }

    /// The position of `key` (hash `h`), or -1; `key_at(position)` gives the key held there.
    template <class KeyAt>
    std::ptrdiff_t find(std::string_view key, std::uint32_t h, const KeyAt& key_at) const noexcept {
        if (slots_.empty()) return -1;
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t at = h & mask;; at = (at + 1) & mask) {
            const slot& s = slots_[at];
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
    std::vector<slot> slots_;
};

} // namespace zanj::detail
