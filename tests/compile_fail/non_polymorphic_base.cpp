// Must NOT compile: registers a derived type under a base with no virtual function. The CTest
// test compile_fail.non_polymorphic_base passes only when the compiler stops on zanj's
// static_assert ("every Base must be polymorphic").

#include <zanj/zanj.hpp>

namespace user {
struct Base {
    int x = 0;
};
struct Derived : Base {
    int y = 0;
};
ZANJ_DATACLASS(Derived, x, y);
} // namespace user

int main() {
    zanj::register_polymorphic<user::Derived, user::Base>();
    return 0;
}
