# Source checks that need no build of ours, run by CTest with the rest of the suite.
#
# header.<name>  every public header compiles on its own (it includes what it uses), with
#                clang++ when present (the second compiler the project supports, so CI sees
#                its warnings too), under -Wall -Wextra -Wpedantic -Werror
# format         the sources match .clang-format (clang-format --dry-run --Werror)

find_program(ZANJ_HEADER_CHECK_CXX NAMES clang++-14 clang++)
if(NOT ZANJ_HEADER_CHECK_CXX)
  set(ZANJ_HEADER_CHECK_CXX "${CMAKE_CXX_COMPILER}")
endif()
file(GLOB_RECURSE zanj_public_headers RELATIVE "${PROJECT_SOURCE_DIR}/include/zanj"
     CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/include/zanj/*.hpp")
list(FILTER zanj_public_headers EXCLUDE REGEX "^detail/")
foreach(header ${zanj_public_headers})
  string(REPLACE "/" "." name "${header}")
  string(REGEX REPLACE "\\.hpp$" "" name "${name}")
  set(source "${CMAKE_CURRENT_BINARY_DIR}/headers/${name}.cpp")
  file(WRITE "${source}.in" "#include <zanj/${header}>\n")
  configure_file("${source}.in" "${source}" COPYONLY) # rewritten only when it changes
  add_test(NAME header.${name}
           COMMAND "${ZANJ_HEADER_CHECK_CXX}" -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror
                   "-I${PROJECT_SOURCE_DIR}/include" "-I${PROJECT_BINARY_DIR}/include" "${source}")
  set_tests_properties(header.${name} PROPERTIES LABELS source)
endforeach()

find_program(ZANJ_CLANG_FORMAT NAMES clang-format-14 clang-format)
if(ZANJ_CLANG_FORMAT)
  add_test(NAME format
           COMMAND bash -c "cd '${PROJECT_SOURCE_DIR}' && find include src tests tools examples bench \
-name '*.hpp' -o -name '*.cpp' | xargs '${ZANJ_CLANG_FORMAT}' --dry-run --Werror")
  set_tests_properties(format PROPERTIES LABELS source)
endif()
