#pragma once
/// \file
/// Object paths: where an item sits in the tree (`/layers/3/w`), and from them the names of
/// external members (`layers/3/w.npy`).

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace zanj {

/// One step of an object path: a dict key or a list index.
using path_segment = std::variant<std::string, std::size_t>;

/// A path from the root of the tree.
class object_path {
public:
    object_path() = default;

    void push(std::string_view key) { segments_.emplace_back(std::string(key)); }
    void push(std::size_t index) { segments_.emplace_back(index); }
    void pop() { segments_.pop_back(); }

    const std::vector<path_segment>& segments() const noexcept { return segments_; }
    bool empty() const noexcept { return segments_.empty(); }
    std::size_t size() const noexcept { return segments_.size(); }

    /// "/layers/3/w", or "/" for the root: for messages.
    std::string str() const;
    /// "layers/3/w": Python's "/".join(str(p) for p in path), the stem of an external's member name.
    std::string joined() const;

    /// Whether the path matches `pattern`: steps separated by '/', where `*` matches any one
    /// step and `**` any number of steps (none included). "/layers/*/w", "/**/bias", "/**".
    bool matches(std::string_view pattern) const;

    friend bool operator==(const object_path&, const object_path&) = default;

private:
    std::vector<path_segment> segments_;
};

/// The steps of a path as written, "/a/0/b" or "a/0/b" into {"a", "0", "b"}; "/" and "" are
/// the root (no steps). Empty steps ("a//b") are skipped.
std::vector<std::string_view> path_steps(std::string_view path);

} // namespace zanj
