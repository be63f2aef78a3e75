/*
 * stats.c: mean, sd, Student-t intervals and paired differences (stats.h).
 *
 * The mean and the sum of squared deviations use two passes over the data
 * (the mean first, then the deviations from it), which is exact enough for
 * a handful of values between 0 and a few hundred.
 */
#include "lab/stats.h"

#include <gsl/gsl_cdf.h>
#include <math.h>

double stats_t_quantile(double p, double df)
{
    if (!(df >= 1) || !(p > 0 && p < 1))
        return NAN;
    return gsl_cdf_tdist_Pinv(p, df);
}

void stats_describe(const double *x, size_t n, stats_summary *out)
{
    size_t k = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) {
            sum += x[i];
            k++;
        }
    out->n = k;
    out->mean = k ? sum / (double)k : NAN;
    out->sd = out->lo = out->hi = NAN;
    out->has_ci = false;
    if (k < 2)
        return;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            ss += (x[i] - out->mean) * (x[i] - out->mean);
    out->sd = sqrt(ss / (double)(k - 1));
    double half = stats_t_quantile(0.975, (double)(k - 1)) * out->sd / sqrt((double)k);
    out->lo = out->mean - half;
    out->hi = out->mean + half;
    out->has_ci = true;
}

void stats_pair(const double *a, const double *b, size_t n, bool higher_better,
                stats_paired *out)
{
    /* a[i] - b[i] where both are finite, NaN elsewhere (skipped below) */
    double d[n ? n : 1];
    out->wins_a = out->wins_b = 0;
    for (size_t i = 0; i < n; i++) {
        d[i] = isfinite(a[i]) && isfinite(b[i]) ? a[i] - b[i] : NAN;
        if (!isfinite(d[i]) || d[i] == 0)
            continue;
        if ((d[i] > 0) == higher_better)
            out->wins_a++;
        else
            out->wins_b++;
    }
    stats_describe(d, n, &out->diff);
}

int stats_sign(const stats_summary *s)
{
    if (!s->has_ci)
        return 0;
    return s->lo > 0 ? 1 : s->hi < 0 ? -1 : 0;
}
