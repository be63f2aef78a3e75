# seqc needs no BLAS: the compiler links the data loaders alone
# (libseqrt_data.a: libc and zlib), not the whole runtime, so `seqc check`
# starts on a machine without OpenBLAS or gfortran. Fails when the seqc
# binary depends on either, directly (readelf -d) or through another
# library (ldd).
#   cmake -DSEQC=build/seqc -P tests/runtime/seqc_deps.cmake
if(NOT SEQC OR NOT EXISTS "${SEQC}")
  message(FATAL_ERROR "no seqc binary given (-DSEQC=...)")
endif()
set(forbidden "blas|lapack|gfortran|quadmath")

execute_process(COMMAND readelf -d "${SEQC}" OUTPUT_VARIABLE dyn RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf -d ${SEQC} failed")
endif()
string(REGEX MATCHALL "Shared library: \\[[^]]*\\]" needed "${dyn}")
# a check that saw no libraries at all would pass for the wrong reason
if(NOT needed MATCHES "libc\\.so")
  message(FATAL_ERROR "readelf -d ${SEQC} lists no libc: cannot check its libraries")
endif()
if(needed MATCHES "${forbidden}")
  message(FATAL_ERROR "${SEQC} links a BLAS or Fortran library: ${needed}")
endif()

find_program(LDD ldd)
if(LDD)
  execute_process(COMMAND ${LDD} "${SEQC}" OUTPUT_VARIABLE all RESULT_VARIABLE rc)
  if(rc EQUAL 0 AND all MATCHES "${forbidden}")
    message(FATAL_ERROR "${SEQC} loads a BLAS or Fortran library:\n${all}")
  endif()
endif()
message(STATUS "${SEQC} needs: ${needed}")
