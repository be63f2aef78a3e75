# big_model.cmake: writes a model of 100,000 layers (input, then 33,333
# times dense/batchnorm/relu, then dense 10/softmax) and checks that seqc
# accepts it and counts it right. Invoked as
#   cmake -DSEQC=... -DOUT=dir -P big_model.cmake
set(file ${OUT}/big_model.seq)
string(REPEAT "  dense 16; batchnorm; relu\n" 33333 body)
file(WRITE ${file} "model big {\n  input 16\n${body}  dense 10; softmax\n}\n")
execute_process(COMMAND ${SEQC} check ${file} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out STREQUAL "" OR NOT err STREQUAL "")
  message(FATAL_ERROR "seqc check on 100,000 layers: exit ${rc}\n${out}\n${err}")
endif()
execute_process(COMMAND ${SEQC} summary ${file} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
# 33,333 x (16*16+16 + 4*16) + (16*10+10) = 33,333 x 336 + 170
if(NOT rc EQUAL 0 OR NOT out MATCHES "Total params: 11,200,058\n"
   OR NOT out MATCHES "Non-trainable params: 1,066,656\n"
   OR NOT out MATCHES " re_lu_33332 \\(ReLU\\) ")
  message(FATAL_ERROR "seqc summary on 100,000 layers: exit ${rc}\n${err}")
endif()
