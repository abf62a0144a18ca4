# Fetches the pinned tree-sitter-python grammar from the npm registry (checked against the
# registry's published sha512 integrity) and compiles its generated parser. Nothing of it is
# committed; the tarball is cached in the build tree.
set(TS_PYTHON_VERSION 0.23.6)
set(TS_PYTHON_SHA512
    c8833dcf4a31288c53edb02d3ce860a1597a8135e59a5221b9eee58854f8a013c5fe585aec76b8750052f3602fea130c459a159c5248f0cea62fe4b05a82c3dc)
set(TS_PYTHON_URL
    "https://registry.npmjs.org/tree-sitter-python/-/tree-sitter-python-${TS_PYTHON_VERSION}.tgz")
set(TS_PYTHON_TARBALL "${CMAKE_BINARY_DIR}/_deps/tree-sitter-python-${TS_PYTHON_VERSION}.tgz")
set(TS_PYTHON_DIR "${CMAKE_BINARY_DIR}/_deps/tree-sitter-python-${TS_PYTHON_VERSION}")

if(NOT EXISTS "${TS_PYTHON_DIR}/package/src/parser.c")
  if(DEFINED ENV{AWAITIFY_GRAMMAR_TARBALL})
    file(COPY_FILE "$ENV{AWAITIFY_GRAMMAR_TARBALL}" "${TS_PYTHON_TARBALL}")
    file(SHA512 "${TS_PYTHON_TARBALL}" _ts_sha)
    if(NOT _ts_sha STREQUAL TS_PYTHON_SHA512)
      message(FATAL_ERROR "AWAITIFY_GRAMMAR_TARBALL does not match tree-sitter-python ${TS_PYTHON_VERSION}")
    endif()
  else()
    message(STATUS "Fetching tree-sitter-python ${TS_PYTHON_VERSION} from the npm registry")
    file(DOWNLOAD "${TS_PYTHON_URL}" "${TS_PYTHON_TARBALL}"
         EXPECTED_HASH SHA512=${TS_PYTHON_SHA512} STATUS _ts_status TLS_VERIFY ON)
    list(GET _ts_status 0 _ts_code)
    if(NOT _ts_code EQUAL 0)
      list(GET _ts_status 1 _ts_message)
      message(FATAL_ERROR "Could not fetch ${TS_PYTHON_URL}: ${_ts_message}")
    endif()
  endif()
  file(ARCHIVE_EXTRACT INPUT "${TS_PYTHON_TARBALL}" DESTINATION "${TS_PYTHON_DIR}"
       PATTERNS package/src/parser.c package/src/scanner.c package/src/tree_sitter package/LICENSE)
endif()

# With the grammar's sources, awaitify's wrapper of its language (src/grammar/python_language.c:
# awaitify_python_language()), which needs the grammar's definition of TSLanguage. Warnings are
# silenced in the grammar's generated code only.
add_library(tree_sitter_python STATIC
            "${TS_PYTHON_DIR}/package/src/parser.c" "${TS_PYTHON_DIR}/package/src/scanner.c"
            "${CMAKE_CURRENT_SOURCE_DIR}/src/grammar/python_language.c")
target_include_directories(tree_sitter_python PRIVATE "${TS_PYTHON_DIR}/package/src")
set_target_properties(tree_sitter_python PROPERTIES C_STANDARD 11 POSITION_INDEPENDENT_CODE ON)
target_compile_options(tree_sitter_python PRIVATE -O2)
# The scanner's stacks come from the allocator tree-sitter's runtime is given (ts_set_allocator:
# src/tree_memory.cpp), as the runtime's own memory does, not from malloc directly: its
# deserialize frees and allocates them again before every external token.
target_compile_definitions(tree_sitter_python PRIVATE TREE_SITTER_REUSE_ALLOCATOR)
set_source_files_properties("${TS_PYTHON_DIR}/package/src/parser.c"
                            "${TS_PYTHON_DIR}/package/src/scanner.c" PROPERTIES COMPILE_OPTIONS -w)
set_source_files_properties("${CMAKE_CURRENT_SOURCE_DIR}/src/grammar/python_language.c"
                            PROPERTIES COMPILE_OPTIONS "-Wall;-Wextra;-Werror")
