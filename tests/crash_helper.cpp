// The child process of the crash-safety tests (test_crash.cpp), which kill it or make its writes
// fail (fault_inject.cpp) while it saves:
//
//   zanj_crash_helper save <file> <generation>
//
// builds generation <generation>'s payload (crash_payload.hpp), writes "go\n" to stdout, saves
// it to <file> and writes "saved\n". Exits 0 when saved, 3 after a zanj::error (its message on
// stdout after "error: "), 2 on bad arguments, 4 on any other exception.

#include "crash_payload.hpp"

#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) {
    if (argc != 4 || std::string(argv[1]) != "save") {
        std::fprintf(stderr, "usage: zanj_crash_helper save <file> <generation>\n");
        return 2;
    }
    try {
        const zanj_test::crash_payload payload = zanj_test::make_crash_payload(std::stoll(argv[3]));
        zanj::ZANJ z(zanj_test::crash_config());
        std::fputs("go\n", stdout);
        std::fflush(stdout);
        z.save(payload, argv[2]);
        std::fputs("saved\n", stdout);
        return 0;
    } catch (const zanj::error& e) {
        std::printf("error: %s\n", e.what());
        return 3;
    } catch (const std::exception& e) {
        std::printf("unexpected exception: %s\n", e.what());
        return 4;
    }
}
