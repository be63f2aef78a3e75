# run_bad_all.cmake: every bad/*.seq through one seqc binary (the sanitizer
# build, seqc-asan), compared with its .expected like run_golden.cmake does
# per file; one test instead of one per file keeps the fuzz label quick.
#   cmake -DSEQC=... -DDIR=tests/frontend -P run_bad_all.cmake
file(GLOB files RELATIVE ${DIR} ${DIR}/bad/*.seq)
set(failures "")
foreach(f ${files})
  string(REGEX REPLACE "\\.seq$" "" stem ${f})
  set(exit 1)
  file(STRINGS ${DIR}/${f} first LIMIT_COUNT 1 REGEX "^# expect-exit: [0-9]+")
  if(first MATCHES "expect-exit: ([0-9]+)")
    set(exit ${CMAKE_MATCH_1})
  endif()
  execute_process(COMMAND ${SEQC} check ${f} WORKING_DIRECTORY ${DIR}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  file(READ ${DIR}/${stem}.expected expected)
  if(NOT rc STREQUAL exit OR NOT out STREQUAL "" OR NOT err STREQUAL expected)
    message("${f}: exit ${rc} (expected ${exit})\n${err}")
    list(APPEND failures ${f})
  endif()
endforeach()
list(LENGTH files n)
if(failures)
  message(FATAL_ERROR "differs from the golden files: ${failures}")
endif()
message("${n} bad files: output as expected, no sanitizer reports")
