# Every dependency is a Debian package found through its own CMake config, except libdeflate,
# which ships only a pkg-config file.
include(GNUInstallDirs)
find_package(nlohmann_json 3.10 CONFIG REQUIRED)
find_package(xtensor 0.24 CONFIG REQUIRED)
find_package(zstd CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(libdeflate REQUIRED IMPORTED_TARGET libdeflate>=1.10)
