// Must NOT compile: reads a type whose handler can only save. The CTest test
// compile_fail.no_loader passes only when the compiler stops on zanj's static_assert
// ("can be saved but not loaded") and names the type (no_loader_for_type<user::SaveOnly>).

#include <zanj/zanj.hpp>

namespace user {
struct SaveOnly {
    int x = 0;
};
} // namespace user

template <>
struct zanj::handler<user::SaveOnly> {
    static zanj::value serialize(const user::SaveOnly& s, zanj::serializer&) { return zanj::value(s.x); }
};

int main() {
    zanj::ZANJ z;
    z.save(user::SaveOnly{}, "written"); // saving is fine
    user::SaveOnly back = z.read<user::SaveOnly>("written.zanj");
    return back.x;
}
