/*
 * codegen.h: the C code generator. From an IR that has been through every
 * pass (passes.c) to one readable C file that includes seqrt.h and hands
 * init, forward_train, forward_infer, backward and update to seqrt_main.
 */
#ifndef SEQC_CODEGEN_H
#define SEQC_CODEGEN_H

#include <stdbool.h>
#include <stdio.h>
#include "ir/ir.h"

typedef struct codegen_opts {
    /* #line directives: each layer's calls map to its line in the model
     * file (compiler messages, debuggers), the rest back to c_path */
    bool        line_directives;
    const char *c_path; /* the file the C goes to; NULL: "trainer.c" */
} codegen_opts;

/* Writes the trainer's C to out (opts may be NULL: the defaults).
 * Returns 0, or -1 when writing failed (ferror(out)). The file compiles
 * with -std=c11 -Wall -Wextra -Wpedantic -Werror (and -trigraphs);
 * defining SEQRT_NO_MAIN leaves main() out so a test can #include it and
 * call the generated functions. */
int codegen_c(FILE *out, const ir_model *ir, const codegen_opts *opts);

#endif
