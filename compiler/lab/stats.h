/*
 * stats.h: the statistics of `seqc compare`: mean, sample standard
 * deviation and a 95 % Student-t interval for the mean of a few runs
 * (one per seed), and the same for paired differences a - b, seed by seed.
 *
 * The t quantile comes from GSL (gsl_cdf_tdist_Pinv), not a table typed
 * in here. Values that are not finite (a diverged run, a run that never
 * reached a target, a metric a run did not print) are left out: n counts
 * the values used. With n = 1 there is a mean but no sd and no interval
 * (has_ci false, sd, lo and hi NaN); with n = 0 everything is NaN.
 */
#ifndef SEQC_STATS_H
#define SEQC_STATS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct stats_summary {
    size_t n;       /* finite values used */
    double mean;
    double sd;      /* sample sd (n - 1 in the denominator); NaN when n < 2 */
    double lo, hi;  /* 95 % interval for the mean: mean -+ t(0.975, n-1) sd / sqrt(n) */
    bool   has_ci;  /* n >= 2 */
} stats_summary;

/* t such that P(T <= t) = p for Student's t with df degrees of freedom
 * (df >= 1, 0 < p < 1); NaN otherwise. */
double stats_t_quantile(double p, double df);

/* x[0..n), non-finite values skipped. */
void stats_describe(const double *x, size_t n, stats_summary *out);

typedef struct stats_paired {
    stats_summary diff; /* of a[i] - b[i] over the i where both are finite */
    size_t wins_a;      /* pairs where a is better (see higher_better) */
    size_t wins_b;      /* pairs where b is better; ties count for neither */
} stats_paired;

/* Paired differences a[i] - b[i], i in [0, n). higher_better says which
 * side of a difference favours a: a > b when true, a < b when false. */
void stats_pair(const double *a, const double *b, size_t n, bool higher_better,
                stats_paired *out);

/* Where an interval stands against 0: +1 when lo > 0, -1 when hi < 0,
 * 0 when it contains 0 or there is none. */
int stats_sign(const stats_summary *s);

#endif
