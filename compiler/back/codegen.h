/*
 * codegen.h: the C code generator. From an IR that has been through every
 * pass (passes.c) to one readable C file that includes seqrt.h and hands
 * init, forward_train, forward_infer, backward and update to seqrt_main.
 */
#ifndef SEQC_CODEGEN_H
#define SEQC_CODEGEN_H

#include <stdio.h>
#include "ir/ir.h"

/* Writes the trainer's C to out. Returns 0, or -1 when writing failed
 * (ferror(out)). The file compiles with -std=c11 -Wall -Wextra -Wpedantic
 * -Werror; defining SEQRT_NO_MAIN leaves main() out so a test can
 * #include it and call the generated functions. */
int codegen_c(FILE *out, const ir_model *ir);

#endif
