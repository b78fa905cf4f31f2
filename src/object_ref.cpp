#include <zanj/detail/object_ref.hpp>

namespace zanj::detail {

std::string json_pointer(const object_path& path) {
    std::string out;
    for (const auto& segment : path.segments()) {
        out += '/';
        if (const auto* key = std::get_if<std::string>(&segment)) {
            for (char c : *key) {
                if (c == '~')
                    out += "~0";
                else if (c == '/')
                    out += "~1";
                else
                    out += c;
            }
        } else {
            out += std::to_string(std::get<std::size_t>(segment));
        }
    }
    return out;
}

std::optional<std::vector<std::string>> parse_json_pointer(std::string_view pointer) {
    std::vector<std::string> steps;
    if (pointer.empty()) return steps;
    if (pointer.front() != '/') return std::nullopt;
    pointer.remove_prefix(1);
    std::string step;
    for (std::size_t i = 0; i <= pointer.size(); ++i) {
        if (i == pointer.size() || pointer[i] == '/') {
            steps.push_back(std::move(step));
            step.clear();
        } else if (pointer[i] == '~') {
            if (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')) return std::nullopt;
            step += pointer[i + 1] == '0' ? '~' : '/';
            ++i;
        } else {
            step += pointer[i];
        }
    }
    return steps;
}

} // namespace zanj::detail
