// Must NOT compile: a ZANJ_SCHEMA whose upgrade hook has the wrong signature. The CTest test
// compile_fail.bad_schema passes only when the compiler stops on zanj's static_assert, which
// shows the signatures to write, and names the type (Class = user::BadHook).

#include <zanj/zanj.hpp>

namespace user {
struct BadHook {
    int x = 0;
};
ZANJ_DATACLASS(BadHook, x);
// The hook must take (zanj::value&, std::uint32_t[, zanj::loader&]).
ZANJ_SCHEMA(BadHook, zanj::schema_version(2, [](int version) { return version; }));
} // namespace user

int main() {
    zanj::ZANJ z;
    z.save(user::BadHook{}, "written");
    return 0;
}
