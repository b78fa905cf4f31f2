#pragma once
/// \file
/// Decoding ahead of a read: a whole read asks for its compressed arrays one after the other,
/// and each is decompressed on one core. Worker threads decode the ones it will ask for next
/// while it is busy with the one before, into arrays of their own that the read then takes.

#include <zanj/ndarray.hpp>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace zanj::detail {

class decode_ahead {
public:
    /// Items 0..sizes.size()-1, in the order a read is expected to ask for them; `sizes[i]` is
    /// the memory item i's result takes. `decode(i)` makes it, on any thread, and may throw.
    /// Items being decoded ahead, or decoded and not yet taken, hold at most `budget` bytes; one
    /// is always allowed.
    decode_ahead(std::vector<std::uint64_t> sizes, std::function<ndarray(std::size_t)> decode, unsigned workers,
                 std::uint64_t budget);
    /// Stops the workers, waiting for the items they are decoding.
    ~decode_ahead();
    decode_ahead(const decode_ahead&) = delete;
    decode_ahead& operator=(const decode_ahead&) = delete;

    /// Item i as a worker decoded it (rethrowing what decode threw), or nullopt when no thread
    /// has started it: then it is the caller's to decode, and no worker will. While a worker is
    /// at it, the caller decodes items further on itself, as a worker would, rather than wait.
    /// An item asked for again is the caller's.
    std::optional<ndarray> take(std::size_t i);

private:
    enum class state { open, callers, busy, done };
    struct item {
        state now = state::open;
        std::optional<ndarray> result;
        std::exception_ptr failure;
    };

    // The open item to decode next at or after the read's position, within the budget; -1 when none.
    std::ptrdiff_t claim_locked();
    void decode_claimed(std::size_t i, std::unique_lock<std::mutex>& lock);
    void work();

    std::vector<std::uint64_t> sizes_;
    std::function<ndarray(std::size_t)> decode_;
    std::uint64_t budget_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<item> items_;
    std::size_t position_ = 0; // the item the read asked for last
    // No item before it is open, but those the read skipped. Workers leave the first item to
    // the read, which decodes it into its place while they start on the next.
    std::size_t scan_ = 1;
    std::uint64_t held_ = 0; // the sizes of the items busy or done
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

} // namespace zanj::detail
