# compile_models.cmake: every model file emits C that compiles with
# -std=c11 -Wall -Wextra -Wpedantic -Werror -trigraphs, with and without its
# batchnorm and dropout layers, and with #line directives and no reuse;
# the first variant also as `seqc build --mpi` compiles it (-DSEQRT_MPI:
# main calls seqrt_mpi_main, which seqrt.h declares).
#   cmake -DSEQC=... -DCC=... -DINCLUDE=... -DWORK=... -DMODELS="dir;dir" -P compile_models.cmake
file(MAKE_DIRECTORY ${WORK})
set(count 0)
foreach(dir ${MODELS})
  file(GLOB files ${dir}/*.seq)
  foreach(f ${files})
    get_filename_component(name ${f} NAME_WE)
    foreach(variant "" "--without;batchnorm" "--without;dropout;--without;batchnorm"
                    "--line-directives;--no-reuse")
      set(c ${WORK}/${name}${count}.c)
      execute_process(COMMAND ${SEQC} emit ${f} ${variant} -o ${c}
                      ERROR_VARIABLE err RESULT_VARIABLE rc)
      if(NOT rc EQUAL 0)
        message(FATAL_ERROR "seqc emit ${f} ${variant} exited with ${rc}:\n${err}")
      endif()
      set(builds plain)
      if(variant STREQUAL "")
        list(APPEND builds -DSEQRT_MPI)
      endif()
      foreach(build ${builds})
        set(define "")
        if(NOT build STREQUAL "plain")
          set(define ${build})
        endif()
        execute_process(COMMAND ${CC} -std=c11 -Wall -Wextra -Wpedantic -Werror -trigraphs
                                -I${INCLUDE} ${define}
                                -c ${c} -o ${c}.o
                        OUTPUT_VARIABLE cout ERROR_VARIABLE cerr RESULT_VARIABLE rc)
        if(NOT rc EQUAL 0)
          message(FATAL_ERROR "${c} (from ${f} ${variant} ${define}) does not compile:\n"
                              "${cout}${cerr}")
        endif()
      endforeach()
      math(EXPR count "${count} + 1")
    endforeach()
  endforeach()
endforeach()
if(count LESS 6)
  message(FATAL_ERROR "only ${count} variants compiled: are the model files missing?")
endif()
message(STATUS "${count} generated files compiled with -Werror")
