/* kernel_test.h: what the kernel tests share: a random source of the
 * tests' own (so a bug in the runtime's generator cannot hide a kernel
 * bug), buffer helpers, and the gradient check: central finite
 * differences of a double-precision reference forward, compared element by
 * element with the float kernel's analytic gradient. */
#ifndef SEQC_KERNEL_TEST_H
#define SEQC_KERNEL_TEST_H

#include "testutil.h"

#include <stdlib.h>

/* --------------------------------------------------------- random inputs */

typedef struct trand {
    uint64_t s;
} trand;

/* splitmix64 steps: plenty for test inputs, and unrelated to xoshiro */
static inline double trand_unit(trand *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1p-53;
}

static inline float trand_range(trand *r, double lo, double hi)
{
    return (float)(lo + (hi - lo) * trand_unit(r));
}

static inline float *falloc(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

static inline double *dalloc(size_t n)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

/* a fresh float buffer of n values uniform in [lo, hi) */
static inline float *frand(trand *r, size_t n, double lo, double hi)
{
    float *p = falloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = trand_range(r, lo, hi);
    return p;
}

/* exact widening of a float buffer: the double reference is evaluated at
 * the very point the float kernel saw */
static inline double *widen(const float *x, size_t n)
{
    double *d = dalloc(n);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

/* ------------------------------------------------------- gradient check */

/* shapes (rows, columns) every check runs on: batch 1, a single value,
 * odd sizes and one larger case */
static const int gc_shapes[][2] = {{1, 1}, {1, 7}, {3, 5}, {17, 13}, {4, 1}, {8, 10}};
#define GC_NSHAPES (sizeof gc_shapes / sizeof gc_shapes[0])

/* A scalar function of the double inputs held in ctx. */
typedef double (*gc_fn)(void *ctx);

/* grad[i] = (f(in + h e_i) - f(in - h e_i)) / (2h), perturbing in[] in
 * place (in points into ctx) and restoring it. In double, h = 1e-5 leaves
 * truncation (~h^2) and rounding (~1e-16/h) errors near 1e-10, far below
 * a float kernel's. */
static inline void gc_numeric(gc_fn f, void *ctx, double *in, size_t n,
                              double *grad)
{
    for (size_t i = 0; i < n; i++) {
        double save = in[i];
        double h = 1e-5 * (fabs(save) > 1.0 ? fabs(save) : 1.0);
        in[i] = save + h;
        double fp = f(ctx);
        in[i] = save - h;
        double fm = f(ctx);
        in[i] = save;
        grad[i] = (fp - fm) / (2.0 * h);
    }
}

/* Worst element-wise relative error |a - n| / max(|a|, |n|, floor). The
 * floor, 1e-3 of the tensor's largest numeric gradient, keeps entries
 * that cancel to nearly zero from turning float rounding into a huge
 * ratio; an entry that should be 0 and is not still counts. */
static inline double gc_rel_err(const float *analytic, const double *numeric,
                                size_t n)
{
    double big = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(numeric[i]) > big)
            big = fabs(numeric[i]);
    double floor_ = 1e-3 * big + 1e-12;
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double a = analytic[i], d = fabs(a - numeric[i]);
        double den = fabs(a) > fabs(numeric[i]) ? fabs(a) : fabs(numeric[i]);
        if (den < floor_)
            den = floor_;
        if (d / den > worst)
            worst = d / den;
    }
    return worst;
}

/* Bound on a float kernel's relative gradient error: float rounding is
 * ~1e-7 per operation; sums over a row or a batch and the cancellation in
 * batchnorm's backward lift it to a few 1e-5 at most. A wrong formula is
 * off by far more; 2e-4 also catches a constant wrong by 1e-3. */
#define GC_BOUND 2e-4

/* The line the lead quotes, then the assertion. */
static inline void gc_report(const char *name, double worst)
{
    printf("gradcheck %s worst_rel_err=%.1e\n", name, worst);
    fflush(stdout);
    if (!(worst < GC_BOUND))
        fail_msg("gradcheck %s: worst relative error %.3g >= %.1g", name,
                 worst, GC_BOUND);
}

#endif
