include(CMakePackageConfigHelpers)

install(TARGETS zanj EXPORT zanjTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/zanj DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/include/zanj/version.hpp"
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/zanj)
install(EXPORT zanjTargets NAMESPACE zanj:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/zanj)

configure_package_config_file(cmake/zanjConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/zanjConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/zanj)
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/zanjConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/zanjConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/zanjConfigVersion.cmake"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/zanj)
