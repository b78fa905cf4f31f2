#include <zanj/detail/parallel.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace zanj::detail {

unsigned resolve_threads(unsigned requested) noexcept {
    if (requested != 0) return requested;
    // hardware_concurrency reads sysfs each time, and this is asked once per member.
    static const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    return cores;
}

void parallel_for(std::size_t count, unsigned threads, const std::function<void(std::size_t)>& task) {
    const std::size_t workers = std::min<std::size_t>(resolve_threads(threads), count);
    if (workers <= 1) {
        for (std::size_t i = 0; i < count; ++i) task(i);
        return;
    }
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr first_error;
    std::mutex error_mutex;
    auto work = [&] {
        for (std::size_t i; !failed.load(std::memory_order_relaxed) && (i = next.fetch_add(1)) < count;) {
            try {
                task(i);
            } catch (...) {
                std::lock_guard lock(error_mutex);
                if (!first_error) first_error = std::current_exception();
                failed = true;
            }
        }
    };
    std::vector<std::jthread> helpers;
    helpers.reserve(workers - 1);
    for (std::size_t t = 1; t < workers; ++t) helpers.emplace_back(work);
    work();
    helpers.clear(); // joins
    if (first_error) std::rethrow_exception(first_error);
}

} // namespace zanj::detail
