# Install rules: headers, the library, the zanj tool (when built), a CMake package
# (zanjConfig.cmake, its version file and the exported targets) and a pkg-config file. All paths
# are relative to the prefix, so `cmake --install build --prefix DIR` works for any DIR.
include(CMakePackageConfigHelpers)

set(ZANJ_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/zanj" CACHE STRING
    "Where zanjConfig.cmake is installed, relative to the prefix")
set(ZANJ_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig" CACHE STRING
    "Where zanj.pc is installed, relative to the prefix")

install(TARGETS zanj EXPORT zanjTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT zanj_development
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT zanj_runtime
                NAMELINK_COMPONENT zanj_development
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT zanj_runtime)
install(DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}/include/zanj" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT zanj_development FILES_MATCHING PATTERN "*.hpp")
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/include/zanj/version.hpp"
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/zanj COMPONENT zanj_development)

# The command-line tool: tools/CMakeLists.txt defines the target zanj_tool (output name `zanj`).
if(TARGET zanj_tool)
  install(TARGETS zanj_tool RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT zanj_runtime)
endif()

# CMake package. A static libzanj needs zstd, libdeflate, simdjson and threads at the consumer's link step,
# so the config file looks for them only then.
if(ZANJ_LIBRARY_TYPE STREQUAL "STATIC_LIBRARY")
  set(ZANJ_STATIC ON)
else()
  set(ZANJ_STATIC OFF)
endif()
install(EXPORT zanjTargets NAMESPACE zanj:: DESTINATION ${ZANJ_INSTALL_CMAKEDIR}
        COMPONENT zanj_development)
configure_package_config_file(cmake/zanjConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/zanjConfig.cmake"
  INSTALL_DESTINATION ${ZANJ_INSTALL_CMAKEDIR})
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/zanjConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/zanjConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/zanjConfigVersion.cmake"
        DESTINATION ${ZANJ_INSTALL_CMAKEDIR} COMPONENT zanj_development)

# pkg-config. The prefix is found from the .pc file's own place (${pcfiledir}), so the file stays
# right wherever the tree is installed. zstd and libdeflate are private to a shared libzanj
# (listed for `pkg-config --static`); a static libzanj needs them on every link, so then they
# are plain requirements and `pkg-config --libs zanj` alone links.
if(IS_ABSOLUTE "${ZANJ_INSTALL_PKGCONFIGDIR}")
  set(ZANJ_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH ZANJ_PC_UP "/zanj-prefix/${ZANJ_INSTALL_PKGCONFIGDIR}" "/zanj-prefix")
  string(REGEX REPLACE "/$" "" ZANJ_PC_UP "${ZANJ_PC_UP}")
  set(ZANJ_PC_PREFIX "\${pcfiledir}/${ZANJ_PC_UP}")
endif()
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(ZANJ_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(ZANJ_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
set(ZANJ_PC_REQUIRES "nlohmann_json >= 3.10, xtensor >= 0.24")
set(ZANJ_PC_PRIVATE_REQUIRES "libzstd, libdeflate >= 1.10, simdjson >= 3.0")
set(ZANJ_PC_LIBS "-L\${libdir} -lzanj")
set(ZANJ_PC_LIBS_PRIVATE "${CMAKE_THREAD_LIBS_INIT}") # empty where threads live in libc
if(ZANJ_STATIC)
  string(APPEND ZANJ_PC_REQUIRES ", ${ZANJ_PC_PRIVATE_REQUIRES}")
  set(ZANJ_PC_PRIVATE_REQUIRES "")
  string(STRIP "${ZANJ_PC_LIBS} ${ZANJ_PC_LIBS_PRIVATE}" ZANJ_PC_LIBS)
  set(ZANJ_PC_LIBS_PRIVATE "")
endif()
configure_file(cmake/zanj.pc.in "${CMAKE_CURRENT_BINARY_DIR}/zanj.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/zanj.pc" DESTINATION ${ZANJ_INSTALL_PKGCONFIGDIR}
        COMPONENT zanj_development)
