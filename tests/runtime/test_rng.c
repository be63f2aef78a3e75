/* test_rng.c: the runtime's generator (xoshiro256** seeded by splitmix64)
 * and the initializers built on it: reference values, reproducibility,
 * ranges, moments, the shuffle, and Keras's initializer limits. */
#include "kernel_test.h"

#include "seqrt.h"

#include <string.h>

static void rng_reference_values(void **state)
{
    /* splitmix64 from 0 gives 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, ...
     * (the published sequence); the xoshiro256** outputs after it were
     * computed with an independent port of the reference C code. */
    seqrt_rng rng;
    seqrt_rng_seed(&rng, 0);
    assert_true(rng.s[0] == 0xe220a8397b1dcdafULL);
    assert_true(rng.s[1] == 0x6e789e6aa1b965f4ULL);
    assert_true(rng.s[2] == 0x06c45d188009454fULL);
    assert_true(rng.s[3] == 0xf88bb8a8724c81ecULL);
    assert_true(seqrt_rng_next(&rng) == 0x99ec5f36cb75f2b4ULL);
    assert_true(seqrt_rng_next(&rng) == 0xbf6e1f784956452aULL);
    assert_true(seqrt_rng_next(&rng) == 0x1a5f849d4933e6e0ULL);
    seqrt_rng_seed(&rng, 42);
    assert_true(seqrt_rng_next(&rng) == 0x15780b2e0c2ec716ULL);
    assert_true(seqrt_rng_next(&rng) == 0x6104d9866d113a7eULL);
}

static void rng_same_seed_same_stream(void **state)
{
    seqrt_rng a, b;
    seqrt_rng_seed(&a, 12345);
    seqrt_rng_seed(&b, 12345);
    for (int i = 0; i < 1000; i++) {
        assert_true(seqrt_rng_next(&a) == seqrt_rng_next(&b));
        assert_true(seqrt_rng_normal(&a) == seqrt_rng_normal(&b));
        assert_int_equal(seqrt_rng_below(&a, 10 + i), seqrt_rng_below(&b, 10 + i));
    }
    /* the state is plain data: a copy continues the same stream */
    seqrt_rng c = a;
    assert_true(seqrt_rng_next(&a) == seqrt_rng_next(&c));
}

static void rng_different_seeds_differ(void **state)
{
    seqrt_rng a, b;
    seqrt_rng_seed(&a, 1);
    seqrt_rng_seed(&b, 2);
    int same = 0;
    for (int i = 0; i < 100; i++)
        same += seqrt_rng_next(&a) == seqrt_rng_next(&b);
    assert_int_equal(same, 0);
}

static void rng_uniform_range(void **state)
{
    enum { N = 200000 };
    seqrt_rng rng;
    seqrt_rng_seed(&rng, 7);
    double sum = 0.0, sumsq = 0.0;
    float lo = 1.0f, hi = 0.0f;
    int odd = 0;
    for (int i = 0; i < N; i++) {
        float u = seqrt_rng_uniform(&rng);
        assert_true(u >= 0.0f && u < 1.0f);
        /* 24 bits: every value is a multiple of 2^-24 */
        float k = u * 16777216.0f;
        assert_true(k == floorf(k));
        odd += fmodf(k, 2.0f) == 1.0f; /* and the 24th bit is used */
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        sum += u;
        sumsq += (double)u * u;
    }
    double mean = sum / N, var = sumsq / N - mean * mean;
    assert_close(mean, 0.5, 0.005);          /* sd of the mean ~6.5e-4 */
    assert_close(var, 1.0 / 12.0, 0.002);
    assert_true(lo < 1e-4f && hi > 1.0f - 1e-4f);
    assert_in_range(odd, N / 2 - 2000, N / 2 + 2000);
}

static void rng_normal_moments(void **state)
{
    enum { N = 200000 };
    seqrt_rng rng;
    seqrt_rng_seed(&rng, 8);
    double sum = 0.0, sumsq = 0.0;
    int tails = 0;
    for (int i = 0; i < N; i++) {
        float z = seqrt_rng_normal(&rng);
        assert_true(isfinite(z));
        sum += z;
        sumsq += (double)z * z;
        tails += fabsf(z) > 2.0f;
    }
    double mean = sum / N, var = sumsq / N - mean * mean;
    assert_close(mean, 0.0, 0.01);
    assert_close(var, 1.0, 0.02);
    /* P(|z| > 2) = 0.0455: 9100 expected, sd ~93 */
    assert_in_range(tails, 8600, 9600);
}

static void rng_below_unbiased(void **state)
{
    enum { K = 7, N = 70000 };
    seqrt_rng rng;
    seqrt_rng_seed(&rng, 9);
    int count[K] = {0};
    for (int i = 0; i < N; i++) {
        uint32_t r = seqrt_rng_below(&rng, K);
        assert_true(r < K);
        count[r]++;
    }
    /* chi-square with 6 degrees of freedom: 22.5 is p = 0.001 */
    double chi2 = 0.0;
    for (int k = 0; k < K; k++)
        chi2 += (count[k] - N / K) * (double)(count[k] - N / K) / (N / K);
    assert_true(chi2 < 22.5);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(seqrt_rng_below(&rng, 1), 0);
        /* a bound just above 2^31, where a plain modulo is most biased */
        assert_true(seqrt_rng_below(&rng, 0x80000001u) < 0x80000001u);
    }
}

static void rng_shuffle_is_permutation(void **state)
{
    enum { N = 1000 };
    static uint32_t order[N], again[N];
    static int seen[N];
    for (uint32_t i = 0; i < N; i++)
        order[i] = again[i] = i;
    seqrt_rng a, b;
    seqrt_rng_seed(&a, 10);
    seqrt_rng_seed(&b, 10);
    seqrt_rng_shuffle(&a, order, N);
    seqrt_rng_shuffle(&b, again, N);
    int fixed = 0;
    for (uint32_t i = 0; i < N; i++) {
        assert_true(order[i] < N);
        seen[order[i]]++;
        fixed += order[i] == i;
        assert_int_equal(order[i], again[i]); /* same seed, same order */
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    assert_true(fixed < 10); /* about 1 fixed point expected */
    /* empty and one-element arrays are left alone */
    uint32_t one = 5;
    seqrt_rng_shuffle(&a, NULL, 0);
    seqrt_rng_shuffle(&a, &one, 1);
    assert_int_equal(one, 5);
}

static void rng_shuffle_uniform_orders(void **state)
{
    /* all 6 orders of 3 elements come up equally often */
    enum { T = 6000 };
    seqrt_rng rng;
    seqrt_rng_seed(&rng, 11);
    int count[6] = {0};
    for (int t = 0; t < T; t++) {
        uint32_t o[3] = {0, 1, 2};
        seqrt_rng_shuffle(&rng, o, 3);
        count[o[0] * 2 + (o[1] > o[2])]++;
    }
    /* chi-square, 5 degrees of freedom: 20.5 is p = 0.001 */
    double chi2 = 0.0;
    for (int k = 0; k < 6; k++)
        chi2 += (count[k] - 1000.0) * (count[k] - 1000.0) / 1000.0;
    assert_true(chi2 < 20.5);
}

/* ---------------------------------------------------------- initializers */

enum { INIT_N = 100000 };
static float w[INIT_N];

static void sample_stats(const float *x, size_t n, double *mean, double *var,
                         double *absmax)
{
    double s = 0.0, ss = 0.0, m = 0.0;
    for (size_t i = 0; i < n; i++) {
        s += x[i];
        ss += (double)x[i] * x[i];
        if (fabs(x[i]) > m)
            m = fabs(x[i]);
    }
    *mean = s / n;
    *var = ss / n - *mean * *mean;
    *absmax = m;
}

static void init_zeros_ones(void **state)
{
    seqrt_rng rng;
    seqrt_rng_seed(&rng, 1);
    float z[9];
    seqrt_init(z, 9, SEQRT_INIT_ZEROS, 3, 3, &rng);
    for (int i = 0; i < 9; i++)
        assert_close(z[i], 0.0, 0.0);
    seqrt_init(z, 9, SEQRT_INIT_ONES, 3, 3, &rng);
    for (int i = 0; i < 9; i++)
        assert_close(z[i], 1.0, 0.0);
}

/* uniform in [-limit, limit]: variance limit^2/3, reaches the limits */
static void check_uniform(seqrt_init_kind kind, int fan_in, int fan_out, double limit)
{
    seqrt_rng rng;
    seqrt_rng_seed(&rng, 100 + (uint64_t)kind);
    seqrt_init(w, INIT_N, kind, fan_in, fan_out, &rng);
    double mean, var, absmax;
    sample_stats(w, INIT_N, &mean, &var, &absmax);
    assert_true(absmax <= limit);
    assert_true(absmax > 0.999 * limit);
    assert_close(mean, 0.0, 0.02 * limit);
    assert_close(var, limit * limit / 3.0, 0.02 * limit * limit / 3.0);
}

static void init_glorot_uniform(void **state)
{
    /* Keras: sqrt(6 / (fan_in + fan_out)) = sqrt(6/400) */
    check_uniform(SEQRT_INIT_GLOROT_UNIFORM, 300, 100, sqrt(6.0 / 400.0));
    check_uniform(SEQRT_INIT_GLOROT_UNIFORM, 784, 128, sqrt(6.0 / 912.0));
}

static void init_he_uniform(void **state)
{
    /* Keras: sqrt(6 / fan_in), fan_out plays no part */
    check_uniform(SEQRT_INIT_HE_UNIFORM, 50, 1000, sqrt(6.0 / 50.0));
}

/* truncated normal: inside 2 stddev of the untruncated normal, and the
 * variance after truncation is the target (what the 0.8796 factor is for) */
static void check_truncated(seqrt_init_kind kind, int fan_in, int fan_out, double target_var)
{
    seqrt_rng rng;
    seqrt_rng_seed(&rng, 200 + (uint64_t)kind);
    seqrt_init(w, INIT_N, kind, fan_in, fan_out, &rng);
    double stddev = sqrt(target_var) / 0.87962566103423978;
    double mean, var, absmax;
    sample_stats(w, INIT_N, &mean, &var, &absmax);
    assert_true(absmax <= 2.0 * stddev * (1 + 1e-6));
    assert_true(absmax > 1.98 * stddev);
    assert_close(mean, 0.0, 0.02 * stddev);
    assert_close(var, target_var, 0.02 * target_var);
}

static void init_glorot_normal(void **state)
{
    /* variance 2 / (fan_in + fan_out) */
    check_truncated(SEQRT_INIT_GLOROT_NORMAL, 300, 100, 2.0 / 400.0);
}

static void init_he_normal(void **state)
{
    /* variance 2 / fan_in */
    check_truncated(SEQRT_INIT_HE_NORMAL, 50, 1000, 2.0 / 50.0);
}

static void init_same_seed_same_numbers(void **state)
{
    for (int kind = SEQRT_INIT_GLOROT_UNIFORM; kind < SEQRT_INIT_COUNT_; kind++) {
        float a[257], b[257], c[257];
        seqrt_rng ra, rb, rc;
        seqrt_rng_seed(&ra, 77);
        seqrt_rng_seed(&rb, 77);
        seqrt_rng_seed(&rc, 78);
        seqrt_init(a, 257, (seqrt_init_kind)kind, 16, 16, &ra);
        seqrt_init(b, 257, (seqrt_init_kind)kind, 16, 16, &rb);
        seqrt_init(c, 257, (seqrt_init_kind)kind, 16, 16, &rc);
        assert_memory_equal(a, b, sizeof a);
        assert_memory_not_equal(a, c, sizeof a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rng_reference_values),
        cmocka_unit_test(rng_same_seed_same_stream),
        cmocka_unit_test(rng_different_seeds_differ),
        cmocka_unit_test(rng_uniform_range),
        cmocka_unit_test(rng_normal_moments),
        cmocka_unit_test(rng_below_unbiased),
        cmocka_unit_test(rng_shuffle_is_permutation),
        cmocka_unit_test(rng_shuffle_uniform_orders),
        cmocka_unit_test(init_zeros_ones),
        cmocka_unit_test(init_glorot_uniform),
        cmocka_unit_test(init_he_uniform),
        cmocka_unit_test(init_glorot_normal),
        cmocka_unit_test(init_he_normal),
        cmocka_unit_test(init_same_seed_same_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
