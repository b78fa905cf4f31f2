#pragma once
/// \file
/// The little parallelism zanj needs: run independent tasks on a few threads, the calling one
/// included, and rethrow the first failure.

#include <cstddef>
#include <functional>

namespace zanj::detail {

/// The number of threads a setting asks for: itself, or the machine's cores when 0.
unsigned resolve_threads(unsigned requested) noexcept;

/// Runs `task(i)` for every i in [0, count) on up to `threads` threads. Once a task throws, no
/// new task starts, and the first exception is rethrown after all threads have stopped.
void parallel_for(std::size_t count, unsigned threads, const std::function<void(std::size_t)>& task);

} // namespace zanj::detail
