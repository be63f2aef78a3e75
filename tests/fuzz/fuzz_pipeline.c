/*
 * fuzz_pipeline.c: the whole compiler on one model file, in-process,
 * through the functions `seqc emit` runs (cli/cmd_build.c): the front end
 * (frontend_load_text: lexer, parser, check), the summary, lowering to IR,
 * every pass, the IR printer and the C generator, writing to a memory
 * stream. An accepted model goes through it twice: as written and with
 * --without batchnorm. Diagnostics go to /dev/null.
 *
 * What counts as a failure: a sanitizer report, a crash, an abort; an
 * error message is the right answer to a bad file.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "back/codegen.h"
#include "front/diag.h"
#include "front/frontend.h"
#include "front/summary.h"
#include "ir/ir.h"
#include "util/arena.h"

/* lower, run the passes, print the IR, generate the C. check is the
 * gate: a model the front end accepted that the back end refuses is a
 * bug, reported as a crash. */
static void back_end(arena *a, FILE *null, const model *m, const char *without, int variant)
{
    ir_model *ir = ir_lower(a, m, without);
    if (ir)
        ir->no_reuse = variant & 1;
    if (!ir || ir_run_passes(ir, NULL) != 0) {
        fputs("fuzz_pipeline: the back end refused a model that check accepted\n", stderr);
        abort();
    }
    ir_print(null, ir);
    char *c = NULL;
    size_t clen = 0;
    FILE *mem = open_memstream(&c, &clen);
    if (!mem)
        return;
    codegen_opts opts = {(variant & 2) != 0, "fuzz.seq"};
    if (codegen_c(mem, ir, &opts) != 0) {
        fputs("fuzz_pipeline: codegen_c failed on a memory stream\n", stderr);
        abort();
    }
    fclose(mem);
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *null; /* one /dev/null for the whole run */
    if (!null && !(null = fopen("/dev/null", "w")))
        abort();
    /* frontend_load_text reads text[len]: the file ends with a NUL */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    arena a;
    arena_init(&a);
    diag d;
    diag_init(&d, "fuzz.seq", NULL, 0, null);
    model m;
    if (frontend_load_text(&a, &d, text, size, &m) == 0) {
        summary_print(null, &m);
        int variant = size ? data[size - 1] : 0; /* --no-reuse, --line-directives */
        back_end(&a, null, &m, NULL, variant);
        const layer_kind bn = LAYER_BATCHNORM;
        if (model_without(&m, &bn, 1) == 0) {
            summary_print(null, &m);
            back_end(&a, null, &m, "batchnorm", variant);
        }
    }
    arena_free(&a);
    free(text);
    return 0;
}
