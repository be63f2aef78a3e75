/* testutil.h: helpers shared by the cmocka tests. */
#ifndef SEQC_TESTUTIL_H
#define SEQC_TESTUTIL_H

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

/* cmocka 1.1.x lacks assert_float_equal: |a - b| <= tol, with a message
 * that shows both values. */
#define assert_close(a, b, tol) \
    seqc_assert_close_((double)(a), (double)(b), (double)(tol), #a, #b, __FILE__, __LINE__)

static inline void seqc_assert_close_(double a, double b, double tol, const char *sa,
                                      const char *sb, const char *file, int line)
{
    if (!(fabs(a - b) <= tol)) {
        print_error("%s = %.9g, %s = %.9g, |diff| = %.3g > %.3g\n", sa, a, sb, b,
                    fabs(a - b), tol);
        _fail(file, line);
    }
}

#endif
