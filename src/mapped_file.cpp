#include <zanj/detail/mapped_file.hpp>

#include <zanj/detail/file_io.hpp>
#include <zanj/error.hpp>

#include <cerrno>
#include <cstring>
#include <limits>
#include <string>
#include <sys/mman.h>

namespace zanj::detail {

mapped_file::mapped_file(const file_handle& file, std::uint64_t size) {
    if (size == 0) return; // mmap refuses empty lengths; there is nothing to view anyway
    if (size > std::numeric_limits<std::size_t>::max())
        throw io_error("cannot map " + file.path().string() + ": it is larger than the address space");
    size_ = static_cast<std::size_t>(size);
    // MAP_PRIVATE with PROT_WRITE: views are writable, and writes stay in this process's pages.
    void* base = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, file.fd(), 0);
    if (base == MAP_FAILED)
        throw io_error("cannot map " + file.path().string() + " into memory: " + std::strerror(errno));
    base_ = static_cast<std::byte*>(base);
}

mapped_file::~mapped_file() {
    if (base_) ::munmap(base_, size_);
}

} // namespace zanj::detail
