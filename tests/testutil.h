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
#include <stdlib.h>

/* A scratch directory under the build tree: dir receives
 * SEQC_BINARY_DIR/<stem>_XXXXXX made by mkdtemp. Returns 0 or -1 (for a
 * cmocka setup function). Needs SEQC_BINARY_DIR, which seqc_cmocka_test
 * defines, and POSIX 2008 (mkdtemp): define _POSIX_C_SOURCE 200809L before
 * any include to have it. */
#if defined(SEQC_BINARY_DIR) && defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 200809L
static inline int seqc_tmpdir_make(char *dir, size_t size, const char *stem)
{
    int n = snprintf(dir, size, "%s/%s_XXXXXX", SEQC_BINARY_DIR, stem);
    if (n < 0 || (size_t)n >= size)
        return -1;
    return mkdtemp(dir) ? 0 : -1;
}
#endif

/* Removes a scratch directory and everything in it; 0 or -1. */
static inline int seqc_tmpdir_remove(const char *dir)
{
    char cmd[4400];
    int n = snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (n < 0 || (size_t)n >= sizeof cmd)
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

/* One scratch directory for a whole cmocka group, where its files go:
 *   SEQC_SCRATCH_GROUP("stem")  at file scope, then
 *   cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
 *   scratch_dir()               the directory,
 *   scratch_path(buf, n, name)  "DIR/name" written into buf, returned.
 * Needs seqc_tmpdir_make (see above); a test may use either helper or both. */
#define SEQC_SCRATCH_GROUP(stem)                                                 \
    static char scratch_dir_[4200];                                              \
    __attribute__((unused)) static const char *scratch_dir(void)                 \
    {                                                                            \
        return scratch_dir_;                                                     \
    }                                                                            \
    __attribute__((unused)) static const char *scratch_path(char *buf, size_t n, \
                                                            const char *name)    \
    {                                                                            \
        snprintf(buf, n, "%s/%s", scratch_dir_, name);                           \
        return buf;                                                              \
    }                                                                            \
    static int scratch_setup(void **state)                                       \
    {                                                                            \
        (void)state;                                                             \
        return seqc_tmpdir_make(scratch_dir_, sizeof scratch_dir_, stem);        \
    }                                                                            \
    static int scratch_teardown(void **state)                                    \
    {                                                                            \
        (void)state;                                                             \
        return seqc_tmpdir_remove(scratch_dir_);                                 \
    }

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
