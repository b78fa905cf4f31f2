#include <zanj/object_path.hpp>

#include <span>

namespace zanj {

namespace {
void append(std::string& out, const path_segment& s) {
    if (auto* key = std::get_if<std::string>(&s))
        out += *key;
    else
        out += std::to_string(std::get<std::size_t>(s));
}
std::vector<std::string_view> pattern_steps(std::string_view pattern) {
    std::vector<std::string_view> steps;
    while (!pattern.empty()) {
        std::size_t slash = pattern.find('/');
        if (slash != 0) steps.push_back(pattern.substr(0, slash));
        if (slash == std::string_view::npos) break;
        pattern.remove_prefix(slash + 1);
    }
    return steps;
}

bool step_matches(std::string_view step, const path_segment& s) {
    if (step == "*") return true;
    if (auto* key = std::get_if<std::string>(&s)) return step == *key;
    return step == std::to_string(std::get<std::size_t>(s));
}

bool matches_from(std::span<const std::string_view> steps, std::span<const path_segment> segments) {
    if (steps.empty()) return segments.empty();
    if (steps.front() == "**") {
        for (std::size_t skip = 0; skip <= segments.size(); ++skip)
            if (matches_from(steps.subspan(1), segments.subspan(skip))) return true;
        return false;
    }
    return !segments.empty() && step_matches(steps.front(), segments.front()) &&
           matches_from(steps.subspan(1), segments.subspan(1));
}
} // namespace

bool object_path::matches(std::string_view pattern) const {
    const std::vector<std::string_view> steps = pattern_steps(pattern);
    return matches_from(steps, segments_);
}

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

std::vector<std::string_view> path_steps(std::string_view path) {
    std::vector<std::string_view> steps;
    while (!path.empty()) {
        const std::size_t slash = path.find('/');
        if (std::string_view step = path.substr(0, slash); !step.empty()) steps.push_back(step);
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return steps;
}

} // namespace zanj
