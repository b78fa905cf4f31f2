#include <zanj/detail/decode_ahead.hpp>

#include <algorithm>
#include <system_error>
#include <utility>

namespace zanj::detail {

decode_ahead::decode_ahead(std::vector<std::uint64_t> sizes, std::function<ndarray(std::size_t)> decode,
                           unsigned workers, std::uint64_t budget)
    : sizes_(std::move(sizes)), decode_(std::move(decode)), budget_(budget), items_(sizes_.size()) {
    workers_.reserve(workers);
    try {
        for (unsigned t = 0; t < workers; ++t) workers_.emplace_back([this] { work(); });
    } catch (const std::system_error&) {
        // Fewer workers, or none: the read decodes what no worker takes.
    }
}

decode_ahead::~decode_ahead() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    for (std::thread& t : workers_) t.join();
}

std::ptrdiff_t decode_ahead::claim_locked() {
    // Items only ever leave the open state, so the scan never goes back; items behind the
    // read's position that it skipped stay the read's.
    scan_ = std::max(scan_, position_);
    while (scan_ < items_.size() && items_[scan_].now != state::open) ++scan_;
    if (scan_ == items_.size()) return -1;
    // In order, and within the budget: the read needs the nearest item first.
    if (held_ > 0 && held_ + sizes_[scan_] > budget_) return -1;
    items_[scan_].now = state::busy;
    held_ += sizes_[scan_];
    return static_cast<std::ptrdiff_t>(scan_);
}

void decode_ahead::decode_claimed(std::size_t i, std::unique_lock<std::mutex>& lock) {
    lock.unlock();
    std::optional<ndarray> result;
    std::exception_ptr failure;
    try {
        result.emplace(decode_(i));
    } catch (...) {
        failure = std::current_exception();
    }
    lock.lock();
    items_[i].result = std::move(result);
    items_[i].failure = std::move(failure);
    items_[i].now = state::done;
    changed_.notify_all();
}

void decode_ahead::work() {
    std::unique_lock lock(mutex_);
    while (true) {
        std::ptrdiff_t i = -1;
        changed_.wait(lock, [&] { return stopping_ || (i = claim_locked()) >= 0; });
        if (stopping_) return;
        decode_claimed(static_cast<std::size_t>(i), lock);
    }
}

std::optional<ndarray> decode_ahead::take(std::size_t i) {
    std::unique_lock lock(mutex_);
    if (i >= items_.size()) return std::nullopt;
    position_ = i;
    item& it = items_[i];
    if (it.now == state::open || it.now == state::callers) {
        it.now = state::callers;
        return std::nullopt;
    }
    while (it.now == state::busy) {
        if (const std::ptrdiff_t j = claim_locked(); j >= 0)
            decode_claimed(static_cast<std::size_t>(j), lock);
        else
            changed_.wait(lock, [&] { return it.now != state::busy; });
    }
    it.now = state::callers; // asked for again, it is the caller's
    held_ -= sizes_[i];
    changed_.notify_all(); // room in the budget
    std::optional<ndarray> result = std::exchange(it.result, std::nullopt);
    if (it.failure) std::rethrow_exception(std::exchange(it.failure, nullptr));
    return result;
}

} // namespace zanj::detail
