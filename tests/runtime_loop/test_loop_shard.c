/* test_loop_shard.c: the training loop's view of several ranks
 * (runtime/src/loop/shard.c), with ranks that are threads
 * (tests/comm_threads.h):
 *  - seqrt_shard_rows: the shards of every batch size over 1..7 ranks
 *    are contiguous, in rank order, cover the batch, and differ in size
 *    by at most one;
 *  - seqrt_comm_mean: the mean over 3 ranks of different values, and of
 *    values equal on every rank, which must come back bit for bit;
 *  - seqrt_comm_same: true when every rank holds the same floats, false
 *    when one rank differs in one bit;
 *  - seqrt_comm_failures: the count of failed ranks, the same on every
 *    rank, and 0 when none failed. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include "comm_threads.h"
#include "loop/shard.h"

#include <string.h>

static void shards_cover_the_batch(void **state)
{
    (void)state;
    for (int ranks = 1; ranks <= 7; ranks++) {
        for (int rows = ranks; rows <= 100; rows++) {
            int next = 0, lo, n, small = rows, big = 0;
            for (int r = 0; r < ranks; r++) {
                seqrt_shard_rows(rows, r, ranks, &lo, &n);
                assert_int_equal(lo, next);
                assert_true(n >= 1);
                next = lo + n;
                small = n < small ? n : small;
                big = n > big ? n : big;
            }
            assert_int_equal(next, rows);
            assert_true(big - small <= 1);
        }
    }
    int lo, n;
    seqrt_shard_rows(32, 2, 3, &lo, &n); /* 11 + 11 + 10 */
    assert_int_equal(lo, 22);
    assert_int_equal(n, 10);
    assert_int_equal(seqrt_comm_ranks(NULL), 1);
    assert_int_equal(seqrt_comm_rank(NULL), 0);
}

enum { VALUES = 1000 };

typedef struct mean_ctx {
    float got[3][VALUES];  /* what each rank holds after the mean */
    float same[3][VALUES]; /* equal on every rank before the mean */
} mean_ctx;

static float value(int i)
{
    return (float)sin(0.37 * i) * 1e3f + 1e-3f * (float)i;
}

static void mean_rank(const seqrt_comm *c, void *p)
{
    mean_ctx *x = p;
    for (int i = 0; i < VALUES; i++) {
        x->got[c->rank][i] = value(i) * (float)(c->rank + 1); /* v, 2v, 3v */
        x->same[c->rank][i] = value(i);
    }
    assert_int_equal(seqrt_comm_mean(c, x->got[c->rank], VALUES), 0);
    assert_int_equal(seqrt_comm_mean(c, x->same[c->rank], VALUES), 0);
}

static void mean_over_ranks(void **state)
{
    (void)state;
    static mean_ctx x;
    run_ranks(3, mean_rank, &x);
    for (int i = 0; i < VALUES; i++) {
        /* (v + 2v + 3v) / 3 = 2v, within the float rounding of 2v and 3v */
        double want = 2.0 * (double)value(i);
        assert_true(fabs((double)x.got[0][i] - want) <= 1e-6 * fabs(want) + 1e-9);
        for (int r = 0; r < 3; r++) {
            assert_memory_equal(&x.got[r][i], &x.got[0][i], sizeof(float));
            float v = value(i);
            assert_memory_equal(&x.same[r][i], &v, sizeof(float)); /* bit for bit */
        }
    }
}

typedef struct same_ctx {
    int flip_rank;  /* -1: none */
    int verdict[3];
} same_ctx;

static void same_rank(const seqrt_comm *c, void *p)
{
    same_ctx *x = p;
    float v[VALUES];
    for (int i = 0; i < VALUES; i++)
        v[i] = value(i);
    if (c->rank == x->flip_rank) {
        uint32_t u;
        memcpy(&u, &v[500], sizeof u);
        u ^= 1; /* one bit of one float */
        memcpy(&v[500], &u, sizeof u);
    }
    x->verdict[c->rank] = seqrt_comm_same(c, v, VALUES);
}

static void same_bits_over_ranks(void **state)
{
    (void)state;
    for (int flip = -1; flip < 3; flip++) {
        same_ctx x = {.flip_rank = flip};
        run_ranks(3, same_rank, &x);
        for (int r = 0; r < 3; r++)
            assert_int_equal(x.verdict[r], flip < 0 ? 1 : 0);
    }
}

typedef struct fail_ctx {
    int failing; /* bit r: rank r fails */
    int count[3];
} fail_ctx;

static void fail_rank(const seqrt_comm *c, void *p)
{
    fail_ctx *x = p;
    x->count[c->rank] = seqrt_comm_failures(c, (x->failing >> c->rank) & 1);
}

static void failures_are_agreed(void **state)
{
    (void)state;
    for (int failing = 0; failing < 8; failing++) {
        if (failing && !(failing & 1)) /* rank 0 fine, others not: prints to stderr */
            fprintf(stderr, "(an expected message follows)\n");
        fail_ctx x = {.failing = failing};
        run_ranks(3, fail_rank, &x);
        int want = (failing & 1) + ((failing >> 1) & 1) + ((failing >> 2) & 1);
        for (int r = 0; r < 3; r++)
            assert_int_equal(x.count[r], want);
    }
    assert_int_equal(seqrt_comm_failures(NULL, 0), 0);
    assert_int_equal(seqrt_comm_failures(NULL, 1), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shards_cover_the_batch),
        cmocka_unit_test(mean_over_ranks),
        cmocka_unit_test(same_bits_over_ranks),
        cmocka_unit_test(failures_are_agreed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
