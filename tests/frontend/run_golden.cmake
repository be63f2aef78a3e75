# run_golden.cmake: runs one seqc command and compares its output with
# golden files. Invoked by CTest as
#   cmake -DSEQC=... -DWORKDIR=... -DARGS="check|bad/x.seq" -DEXIT=1
#         [-DSTDOUT=file] [-DSTDERR=file] -P run_golden.cmake
# ARGS separates arguments with '|'; ENV, when given, is VAR=VALUE
# settings ('|'-separated) for seqc's environment. A missing STDOUT/STDERR means that
# stream must be empty, unless STDOUT_REGEX is given instead (for output
# that changes with the build, like --help). On a mismatch the difference
# is printed. With UPDATE_GOLDEN=1 in the environment the given golden
# files are rewritten with the output instead (scripts/regen-goldens.sh).
string(REPLACE "|" ";" argv "${ARGS}")
set(env_cmd "")
if(DEFINED ENV)
  string(REPLACE "|" ";" env_list "${ENV}")
  set(env_cmd ${CMAKE_COMMAND} -E env ${env_list})
endif()
execute_process(COMMAND ${env_cmd} ${SEQC} ${argv}
                WORKING_DIRECTORY ${WORKDIR}
                RESULT_VARIABLE rc
                OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
set(failed FALSE)
string(MD5 tag "${ARGS}") # tests run in parallel: one scratch name per command

function(compare stream actual expected_file)
  if("$ENV{UPDATE_GOLDEN}" AND expected_file)
    file(WRITE ${expected_file} "${actual}")
    return()
  endif()
  if(expected_file)
    file(READ ${expected_file} expected)
  else()
    set(expected "")
  endif()
  if(NOT actual STREQUAL expected AND expected_file AND "$ENV{UPDATE_GOLDEN}")
    file(WRITE ${expected_file} "${actual}")
    message(STATUS "updated ${expected_file}")
  elseif(NOT actual STREQUAL expected)
    set(tmp ${CMAKE_CURRENT_BINARY_DIR}/golden-${tag}-${stream}-actual.txt)
    file(WRITE ${tmp} "${actual}")
    if(NOT expected_file)
      set(expected_file ${CMAKE_CURRENT_BINARY_DIR}/golden-${tag}-${stream}-empty.txt)
      file(WRITE ${expected_file} "")
    endif()
    message("${stream} differs from ${expected_file} (--- expected, +++ actual):")
    execute_process(COMMAND diff -u ${expected_file} ${tmp})
    set(failed TRUE PARENT_SCOPE)
  endif()
endfunction()

if(DEFINED STDOUT_REGEX)
  if(NOT out MATCHES "${STDOUT_REGEX}")
    message("stdout does not match ${STDOUT_REGEX}:\n${out}")
    set(failed TRUE)
  endif()
else()
  compare(stdout "${out}" "${STDOUT}")
endif()
compare(stderr "${err}" "${STDERR}")
if(NOT rc STREQUAL EXIT)
  message("exit status ${rc}, expected ${EXIT}")
  set(failed TRUE)
endif()
if(failed)
  message(FATAL_ERROR "seqc ${ARGS}: output differs from the golden files")
endif()
