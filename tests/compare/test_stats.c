/* test_stats.c: the statistics of seqc compare (lab/stats.h) against
 * independent values.
 *
 * t quantiles: R's qt(0.975, df) printed with 15 digits (qt(0.975, 1) =
 * 12.7062047361747, qt(0.975, 2) = 4.30265272974946, qt(0.975, 4) =
 * 2.77644510519779, qt(0.975, 9) = 2.26215716279820, qt(0.975, 29) =
 * 2.04522964213270); the NIST/SEMATECH e-Handbook of Statistical Methods,
 * table 1.3.6.7.2 (critical values of the t distribution) gives the same
 * to three decimals: 12.706, 4.303, 2.776, 2.262, 2.045.
 *
 * Means, sds and intervals: Python's statistics module (mean, stdev, the
 * sample sd), with the t quantile above:
 *   from statistics import mean, stdev; from math import sqrt
 *   x = [0.951, 0.957, 0.949, 0.960, 0.955]; m = mean(x); s = stdev(x)
 *   h = 2.77644510519779 * s / sqrt(5); print(m, s, m - h, m + h)
 */
#include "testutil.h"

#include <math.h>

#include "lab/stats.h"

static void test_t_quantiles(void **state)
{
    (void)state;
    assert_close(stats_t_quantile(0.975, 1), 12.7062047361747, 1e-9);
    assert_close(stats_t_quantile(0.975, 2), 4.30265272974946, 1e-9);
    assert_close(stats_t_quantile(0.975, 4), 2.77644510519779, 1e-9);
    assert_close(stats_t_quantile(0.975, 9), 2.26215716279820, 1e-9);
    assert_close(stats_t_quantile(0.975, 29), 2.04522964213270, 1e-9);
    assert_close(stats_t_quantile(0.025, 4), -2.77644510519779, 1e-9);
    assert_true(isnan(stats_t_quantile(0.975, 0)));
    assert_true(isnan(stats_t_quantile(1.0, 4)));
}

static void test_describe_five(void **state)
{
    (void)state;
    const double x[] = {0.951, 0.957, 0.949, 0.960, 0.955};
    stats_summary s;
    stats_describe(x, 5, &s);
    assert_int_equal(s.n, 5);
    assert_true(s.has_ci);
    assert_close(s.mean, 0.9543999999999999, 1e-12);
    assert_close(s.sd, 0.004449719092257402, 1e-12);
    assert_close(s.lo, 0.948874944001024, 1e-10);
    assert_close(s.hi, 0.9599250559989758, 1e-10);
    assert_int_equal(stats_sign(&s), 1);
}

static void test_describe_two(void **state)
{
    (void)state;
    const double x[] = {1.0, 2.0};
    stats_summary s;
    stats_describe(x, 2, &s);
    assert_close(s.mean, 1.5, 1e-12);
    assert_close(s.sd, 0.7071067811865476, 1e-12);
    assert_close(s.lo, -4.85310236808735, 1e-9);
    assert_close(s.hi, 7.85310236808735, 1e-9);
    assert_int_equal(stats_sign(&s), 0); /* contains 0 */
}

/* n = 1: a mean, no sd, no interval; n = 0: nothing */
static void test_describe_one_and_none(void **state)
{
    (void)state;
    const double one[] = {0.93};
    stats_summary s;
    stats_describe(one, 1, &s);
    assert_int_equal(s.n, 1);
    assert_close(s.mean, 0.93, 1e-15);
    assert_false(s.has_ci);
    assert_true(isnan(s.sd) && isnan(s.lo) && isnan(s.hi));
    assert_int_equal(stats_sign(&s), 0);
    const double none[] = {NAN, INFINITY};
    stats_describe(none, 2, &s);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.mean));
    assert_false(s.has_ci);
}

/* non-finite values are left out: the five above with two NaNs mixed in */
static void test_describe_skips_nan(void **state)
{
    (void)state;
    const double x[] = {NAN, 0.951, 0.957, 0.949, NAN, 0.960, 0.955};
    stats_summary s;
    stats_describe(x, 7, &s);
    assert_int_equal(s.n, 5);
    assert_close(s.mean, 0.9543999999999999, 1e-12);
    assert_close(s.lo, 0.948874944001024, 1e-10);
}

/* a = [0.9612, 0.9570, 0.9555, 0.9601, 0.9589],
 * b = [0.9560, 0.9571, 0.9530, 0.9570, 0.9541]: d = a - b has mean
 * 0.0031, stdev 0.0021154195801306383, interval
 * [0.0004733596662565031, 0.005726640333743569] (Python, as above);
 * a is higher in 4 seeds, b in 1 */
static void test_pair(void **state)
{
    (void)state;
    const double a[] = {0.9612, 0.9570, 0.9555, 0.9601, 0.9589};
    const double b[] = {0.9560, 0.9571, 0.9530, 0.9570, 0.9541};
    stats_paired p;
    stats_pair(a, b, 5, true, &p);
    assert_int_equal(p.diff.n, 5);
    assert_close(p.diff.mean, 0.0031, 1e-12);
    assert_close(p.diff.sd, 0.0021154195801306383, 1e-12);
    assert_close(p.diff.lo, 0.0004733596662565031, 1e-10);
    assert_close(p.diff.hi, 0.005726640333743569, 1e-10);
    assert_int_equal(p.wins_a, 4);
    assert_int_equal(p.wins_b, 1);
    assert_int_equal(stats_sign(&p.diff), 1);
    /* as a loss (lower is better) the wins swap, the difference does not */
    stats_pair(a, b, 5, false, &p);
    assert_int_equal(p.wins_a, 1);
    assert_int_equal(p.wins_b, 4);
    assert_close(p.diff.mean, 0.0031, 1e-12);
    /* b - a: the interval flips sign */
    stats_pair(b, a, 5, true, &p);
    assert_close(p.diff.lo, -0.005726640333743569, 1e-10);
    assert_int_equal(stats_sign(&p.diff), -1);
}

/* a seed missing on either side drops that pair; ties favour neither */
static void test_pair_missing_and_ties(void **state)
{
    (void)state;
    const double a[] = {3, NAN, 5, 4};
    const double b[] = {3, 2, INFINITY, 6};
    stats_paired p;
    stats_pair(a, b, 4, false, &p);
    assert_int_equal(p.diff.n, 2); /* seeds 0 and 3 */
    assert_close(p.diff.mean, -1.0, 1e-15);
    assert_int_equal(p.wins_a, 1);
    assert_int_equal(p.wins_b, 0);
    stats_pair(a, b, 1, false, &p); /* one pair: no interval */
    assert_int_equal(p.diff.n, 1);
    assert_false(p.diff.has_ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t_quantiles),
        cmocka_unit_test(test_describe_five),
        cmocka_unit_test(test_describe_two),
        cmocka_unit_test(test_describe_one_and_none),
        cmocka_unit_test(test_describe_skips_nan),
        cmocka_unit_test(test_pair),
        cmocka_unit_test(test_pair_missing_and_ties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
