# golden.cmake: runs `seqc ARGS` and compares its standard output with a
# golden file, showing a unified diff on mismatch.
#   cmake -DSEQC=... -DARGS="ir models/mnist_bn.seq" -DGOLDEN=... -DACTUAL=... -P golden.cmake
# To accept a deliberate change: UPDATE_GOLDEN=1 ctest -R backend_golden
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${SEQC} ${args} OUTPUT_VARIABLE out ERROR_VARIABLE err
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "seqc ${ARGS} exited with ${rc}:\n${err}")
endif()
if("$ENV{UPDATE_GOLDEN}")
  file(WRITE ${GOLDEN} "${out}")
  message(STATUS "updated ${GOLDEN}")
  return()
endif()
file(READ ${GOLDEN} want)
if(NOT out STREQUAL want)
  file(WRITE ${ACTUAL} "${out}")
  execute_process(COMMAND diff -u ${GOLDEN} ${ACTUAL})
  message(FATAL_ERROR "seqc ${ARGS} differs from ${GOLDEN} (got ${ACTUAL}). "
                      "If the change is intended: UPDATE_GOLDEN=1 ctest -R backend_golden")
endif()
