#pragma once
/// \file
/// A private, copy-on-write memory mapping of a whole file: the storage behind zero-copy array
/// views. Writing through it changes only the process's own pages, never the file.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace zanj::detail {

class file_handle;

/// Unmaps on destruction; views keep it alive through a shared_ptr.
class mapped_file {
public:
    /// Maps the first `size` bytes of `file` (the whole file, as its size was when opened).
    mapped_file(const file_handle& file, std::uint64_t size);
    ~mapped_file();
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;

    std::span<std::byte> bytes() const noexcept { return {base_, size_}; }

private:
    std::byte* base_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace zanj::detail
