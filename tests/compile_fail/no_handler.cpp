// Must NOT compile: saves a type that zanj has no handler for. The CTest test
// compile_fail.no_handler passes only when the compiler stops on zanj's static_assert
// ("zanj: no handler for this type") and names the type (no_handler_for_type<user::NoHandler>).

#include <zanj/zanj.hpp>

namespace user {
struct NoHandler {
    int x = 0;
};
} // namespace user

int main() {
    zanj::ZANJ z;
    z.save(user::NoHandler{}, "never-written");
}
