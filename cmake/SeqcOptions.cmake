# SeqcOptions.cmake: the build's switches, in one place.
#
#   SEQC_WERROR=ON            warnings are errors (scripts/test.sh, hence CI)
#   SEQC_SANITIZE=LIST        build everything with -fsanitize=LIST:
#                             "address,undefined" or "thread" (empty: none)
#
# Sets SEQC_WARNINGS (the flags for code we write), SEQC_OPTIMIZE (the
# kernels' optimization), SEQC_SANITIZE_FLAGS (also handed to `seqc build`
# so a trainer links against a sanitized libseqrt), SEQC_LIBFUZZER (ON when
# the fuzz targets link with libFuzzer: clang, and address in SEQC_SANITIZE)
# and SEQC_FUZZ_COVERAGE_FLAGS (libFuzzer's coverage instrumentation, for
# the code the fuzz targets reach: the compiler, the loaders).

option(SEQC_WERROR "Treat warnings as errors" OFF)
set(SEQC_SANITIZE "" CACHE STRING
    "Sanitizers for every target: address,undefined | thread | empty for none")
set_property(CACHE SEQC_SANITIZE PROPERTY STRINGS "" "address,undefined" "thread")

# Warnings for everything we write; generated parser/lexer get the same.
set(SEQC_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
                  -Wmissing-prototypes -Wno-unused-parameter)
if(SEQC_WERROR)
  list(APPEND SEQC_WARNINGS -Werror)
endif()

# -O3 for the kernels in the optimized builds (runtime/CMakeLists.txt); a
# Debug build keeps -O0 so a debugger sees every variable.
set(SEQC_OPTIMIZE $<$<CONFIG:Release,RelWithDebInfo>:-O3>)

set(SEQC_SANITIZE_FLAGS "")
set(SEQC_LIBFUZZER OFF)
set(SEQC_FUZZ_COVERAGE_FLAGS "")
if(SEQC_SANITIZE)
  string(REPLACE "," ";" _seqc_san_list "${SEQC_SANITIZE}")
  foreach(s ${_seqc_san_list})
    if(NOT s MATCHES "^(address|undefined|thread)$")
      message(FATAL_ERROR "SEQC_SANITIZE: unknown sanitizer '${s}' "
                          "(use address,undefined or thread)")
    endif()
  endforeach()
  if("thread" IN_LIST _seqc_san_list AND "address" IN_LIST _seqc_san_list)
    message(FATAL_ERROR "SEQC_SANITIZE: thread and address cannot be combined; "
                        "configure two build directories")
  endif()
  # Every report stops the program (a test cannot pass over one); frame
  # pointers give whole stacks in the reports.
  set(SEQC_SANITIZE_FLAGS -fsanitize=${SEQC_SANITIZE} -fno-omit-frame-pointer)
  if("undefined" IN_LIST _seqc_san_list)
    list(APPEND SEQC_SANITIZE_FLAGS -fno-sanitize-recover=all)
  endif()
  add_compile_options(${SEQC_SANITIZE_FLAGS})
  add_link_options(${SEQC_SANITIZE_FLAGS})
  # -O1, as the sanitizers' manuals advise: instrumented -O3 GEMM kernels
  # take clang minutes to compile and hide little the -O1 build shows.
  set(SEQC_OPTIMIZE -O1)

  # libFuzzer comes with clang: when it links, every library is built with
  # coverage instrumentation (fuzzer-no-link) and tests/fuzz links its
  # targets with -fsanitize=fuzzer; otherwise they get a plain driver.
  if("address" IN_LIST _seqc_san_list AND CMAKE_C_COMPILER_ID MATCHES "Clang")
    include(CheckCSourceCompiles)
    set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer,address")
    set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=fuzzer,address")
    check_c_source_compiles(
      "#include <stddef.h>
       #include <stdint.h>
       int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return (int)(n && d[0]); }"
      SEQC_HAVE_LIBFUZZER)
    unset(CMAKE_REQUIRED_FLAGS)
    unset(CMAKE_REQUIRED_LINK_OPTIONS)
    if(SEQC_HAVE_LIBFUZZER)
      set(SEQC_LIBFUZZER ON)
      set(SEQC_FUZZ_COVERAGE_FLAGS -fsanitize=fuzzer-no-link)
    endif()
  endif()
endif()
