#include <zanj/error.hpp>

namespace zanj {

namespace {
std::string with_location(const std::string& what, const std::string& object_path, const std::string& member) {
    std::string out = "zanj: " + what;
    if (!object_path.empty() || !member.empty()) {
        out += " (";
        if (!object_path.empty()) out += "at " + object_path;
        if (!object_path.empty() && !member.empty()) out += ", ";
        if (!member.empty()) out += "member " + member;
        out += ")";
    }
    return out;
}
} // namespace

error::error(const std::string& what, std::string object_path, std::string member)
    : std::runtime_error(with_location(what, object_path, member)), reason_(what), object_path_(std::move(object_path)),
      member_(std::move(member)) {}

} // namespace zanj

namespace zanj::detail {

void rethrow_at(const error& e, const std::string& object_path, const std::string& member) {
    const std::string& path = e.object_path().empty() ? object_path : e.object_path();
    const std::string& where = e.member().empty() ? member : e.member();
    if (dynamic_cast<const limit_error*>(&e)) throw limit_error(e.reason(), path, where);
    if (dynamic_cast<const format_error*>(&e)) throw format_error(e.reason(), path, where);
    if (dynamic_cast<const io_error*>(&e)) throw io_error(e.reason(), path, where);
    if (dynamic_cast<const usage_error*>(&e)) throw usage_error(e.reason(), path, where);
    if (dynamic_cast<const type_error*>(&e)) throw type_error(e.reason(), path, where);
    throw error(e.reason(), path, where);
}

} // namespace zanj::detail
