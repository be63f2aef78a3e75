/* error.c: the one way the runtime reports a user-facing error. */
#include "seqrt.h"

#include <stdarg.h>
#include <stdio.h>

int seqrt_fail(seqrt_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}
