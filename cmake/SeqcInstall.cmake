# SeqcInstall.cmake: what `cmake --install` adds besides the binaries, so
# libseqrt is consumed like any C library:
#   pkg-config:  cc t.c $(pkg-config --cflags --libs seqrt)
#   CMake:       find_package(seqrt) ... target_link_libraries(t seqrt::seqrt)
# Both are relocatable: `cmake --install build --prefix DIR` works for any DIR.
include(CMakePackageConfigHelpers)

set(SEQRT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/seqrt)

# seqrt.pc: its prefix is found from the .pc file's own directory
file(RELATIVE_PATH SEQRT_PC_RELATIVE_PREFIX
     "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" SEQRT_PC_RELATIVE_PREFIX "${SEQRT_PC_RELATIVE_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/seqrt.pc.in ${PROJECT_BINARY_DIR}/seqrt.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/seqrt.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# seqrtConfig.cmake, its version file and the exported target seqrt::seqrt
install(EXPORT seqrtTargets NAMESPACE seqrt:: DESTINATION ${SEQRT_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/seqrtConfig.cmake.in
  ${PROJECT_BINARY_DIR}/seqrtConfig.cmake INSTALL_DESTINATION ${SEQRT_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/seqrtConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/seqrtConfig.cmake
              ${PROJECT_BINARY_DIR}/seqrtConfigVersion.cmake
        DESTINATION ${SEQRT_CMAKE_DIR})

# the documentation, where `seqc --help` says it is
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md" PATTERN "*.svg")
