#include <zanj/detail/parallel.hpp>

#include <zanj/error.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
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

background_worker::~background_worker() {
    if (!thread_.joinable()) return;
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !busy_; });
        stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

void background_worker::run(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        if (busy_) throw usage_error("background_worker: a job was given before the previous one was waited for");
        job_ = std::move(job);
        busy_ = true;
        failure_ = nullptr;
    }
    if (!thread_.joinable()) {
        thread_ = std::thread([this] { loop(); });
    } else {
        changed_.notify_all();
    }
}

void background_worker::wait() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !busy_; });
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
}

bool background_worker::busy() {
    std::lock_guard lock(mutex_);
    return busy_;
}

void background_worker::loop() {
    std::unique_lock lock(mutex_);
    while (true) {
        changed_.wait(lock, [&] { return stopping_ || (busy_ && job_); });
        if (stopping_) return;
        std::function<void()> job = std::move(job_);
        job_ = nullptr;
        lock.unlock();
        std::exception_ptr failure;
        try {
            job();
        } catch (...) {
            failure = std::current_exception();
        }
        lock.lock();
        failure_ = failure;
        busy_ = false;
        changed_.notify_all();
    }
}

} // namespace zanj::detail
