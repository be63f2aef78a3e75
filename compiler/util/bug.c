/* bug.c: SEQC_BUG (bug.h). */
#include "util/bug.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

_Noreturn void seqc_bug(const char *file, int line, const char *fmt, ...)
{
    /* what was printed so far comes first, so the report is the last line */
    fflush(stdout);
    fprintf(stderr, "seqc: internal error (a bug in seqc): %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nthis is not a mistake in the model file; please report it\n", stderr);
    abort();
}
