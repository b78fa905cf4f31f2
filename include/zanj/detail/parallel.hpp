#pragma once
/// \file
/// The little parallelism zanj needs: run independent tasks on a few threads, the calling one
/// included, and rethrow the first failure.

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace zanj::detail {

/// The number of threads a setting asks for: itself, or the machine's cores when 0.
unsigned resolve_threads(unsigned requested) noexcept;

/// Runs `task(i)` for every i in [0, count) on up to `threads` threads. Once a task throws, no
/// new task starts, and the first exception is rethrown after all threads have stopped.
void parallel_for(std::size_t count, unsigned threads, const std::function<void(std::size_t)>& task);

/// One thread that runs jobs beside the caller, one at a time: a member is compressed while the
/// caller serializes the next. The thread starts with the first job and ends with the worker.
class background_worker {
public:
    background_worker() = default;
    /// Waits for the job running, if any (its failure is dropped), and ends the thread.
    ~background_worker();
    background_worker(const background_worker&) = delete;
    background_worker& operator=(const background_worker&) = delete;

    /// Runs `job` on the thread. The job given before must have been waited for.
    void run(std::function<void()> job);
    /// Waits for the job given last to finish, and rethrows what it threw.
    void wait();
    /// Whether a job given has not finished yet.
    bool busy();

private:
    void loop();

    std::mutex mutex_;
    std::condition_variable changed_;
    std::function<void()> job_;
    bool busy_ = false; // a job given and not finished
    bool stopping_ = false;
    std::exception_ptr failure_;
    std::thread thread_;
};

} // namespace zanj::detail
