#pragma once
/// \file
/// `byte_buffer`: bytes in a std::vector whose resize leaves the bytes it adds uninitialized. For
/// output sized to a bound and then cut to what was written (a compressor's): zeroing the bound
/// first touched every page of it, the whole size of a member that compresses to a thirtieth.

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace zanj::detail {

/// std::allocator, but default-initializing what a container value-initializes.
template <class T>
struct default_init_allocator : std::allocator<T> {
    template <class U>
    struct rebind {
        using other = default_init_allocator<U>;
    };
    default_init_allocator() = default;
    template <class U>
    default_init_allocator(const default_init_allocator<U>&) noexcept {}

    template <class U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        std::construct_at(p, std::forward<Args>(args)...);
    }
};

using byte_buffer = std::vector<std::byte, default_init_allocator<std::byte>>;

} // namespace zanj::detail
