#include <zanj/object_path.hpp>

namespace zanj {

namespace {
void append(std::string& out, const path_segment& s) {
    if (auto* key = std::get_if<std::string>(&s)) out += *key;
    else out += std::to_string(std::get<std::size_t>(s));
}
} // namespace

std::string object_path::str() const {
    if (segments_.empty()) return "/";
    std::string out;
    for (const auto& s : segments_) {
        out += '/';
        append(out, s);
    }
    return out;
}

std::string object_path::joined() const {
    std::string out;
    for (std::size_t i = 0; i < segments_.size(); ++i) {
        if (i) out += '/';
        append(out, segments_[i]);
    }
    return out;
}

} // namespace zanj
