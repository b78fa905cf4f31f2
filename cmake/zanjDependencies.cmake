# Every dependency is a Debian package found through its own CMake config, except libdeflate,
# which (before 1.15) ships only a pkg-config file. zanjConfig.cmake.in repeats what consumers need.
find_package(nlohmann_json 3.10 CONFIG REQUIRED)
find_package(xtensor 0.24 CONFIG REQUIRED)
find_package(zstd CONFIG REQUIRED)
find_package(simdjson 3.0 CONFIG REQUIRED)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(libdeflate REQUIRED IMPORTED_TARGET libdeflate>=1.10)
