#pragma once
/// \file
/// The one exception hierarchy of zanj. Every error names what went wrong and, where it
/// applies, the object path (`/layers/3/w`) and the zip member (`layers/3/w.npy`) involved.

#include <stdexcept>
#include <string>

namespace zanj {

/// Root of every exception zanj throws.
class error : public std::runtime_error {
public:
    /// `what` is the reason; a non-empty `object_path` and `member` are appended to `what()` and kept for the accessors.
    error(const std::string& what, std::string object_path = {}, std::string member = {});

    /// The reason alone, without the location suffix that `what()` carries.
    const std::string& reason() const noexcept { return reason_; }
    /// The object path (`/layers/3/w`) where the error arose, or empty.
    const std::string& object_path() const noexcept { return object_path_; }
    /// The zip member (`layers/3/w.npy`) involved, or empty.
    const std::string& member() const noexcept { return member_; }

private:
    std::string reason_;
    std::string object_path_;
    std::string member_;
};

/// The file system refused: a file that cannot be opened, read, written, synced or renamed.
class io_error : public error {
public:
    /// The constructor of error.
    using error::error;
};

/// The bytes are wrong: not a zip, a truncated or corrupt archive, a bad NPY header, bad JSON,
/// a `$ref` pointing nowhere, a CRC mismatch.
class format_error : public error {
public:
    /// The constructor of error.
    using error::error;
};

/// The input exceeds one of the configured `read_limits` (too large once decompressed, too
/// compressed, too many members, too deeply nested...): it may be valid, but is refused unless
/// the caller raises that limit. The message names the limit and the member.
class limit_error : public format_error {
public:
    /// The constructor of error.
    using format_error::format_error;
};

/// The data is well formed but does not fit what was asked for: a JSON value of the wrong type
/// for a C++ field, a shape or dtype mismatch, an unknown format key, a missing field.
class type_error : public error {
public:
    /// The constructor of error.
    using error::error;
};

/// The call itself is wrong: an invalid setting, two externals with the same name, a duplicate
/// loader registration.
class usage_error : public error {
public:
    /// The constructor of error.
    using error::error;
};

namespace detail {
/// Throws a copy of `e`, of the same class, located at `object_path` and `member` (each kept
/// from `e` when `e` already names one).
[[noreturn]] void rethrow_at(const error& e, const std::string& object_path, const std::string& member);
} // namespace detail

} // namespace zanj
