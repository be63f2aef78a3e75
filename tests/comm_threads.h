/* comm_threads.h: a seqrt_comm whose "ranks" are threads of the test
 * process (tests of code that takes a seqrt_comm without MPI): a barrier
 * and a shared array; rank 0 adds every rank's buffer in rank order, then
 * every rank copies the total out, so every rank gets the same bits.
 * run_ranks(P, fn, ctx) runs fn(comm, ctx) on P threads at once and
 * checks that every rank made the same sums. Needs cmocka (testutil.h or
 * kernel_test.h) and _POSIX_C_SOURCE 200809L (barriers). */
#ifndef SEQC_COMM_THREADS_H
#define SEQC_COMM_THREADS_H

#include "seqrt.h"

#include <pthread.h>
#include <string.h>

enum { MAXP = 4, ACC_MAX = 1 + 2 * 1024 };

typedef struct shared {
    int               P;
    pthread_barrier_t bar;
    double           *slot[MAXP];
    float            *slotf[MAXP];
    size_t            n[MAXP];
    double            acc[ACC_MAX];
    float             accf[ACC_MAX];
    int               bad;         /* ranks disagreed on n, or n too large */
    int               calls[MAXP]; /* sum calls made by each rank */
} shared;

/* rank 0 adds the ranks' buffers in rank order between two barriers;
 * after the second every rank copies the same total (and nobody writes
 * acc again before all have passed the next call's first barrier).
 * One definition for doubles (slot, acc) and floats (slotf, accf). */
#define COMM_THREADS_SUM(name, type, slots, total)                                  \
    static inline void name(const seqrt_comm *c, type *buf, size_t n)               \
    {                                                                               \
        shared *sh = c->impl;                                                       \
        sh->slots[c->rank] = buf;                                                   \
        sh->n[c->rank] = n;                                                         \
        sh->calls[c->rank]++;                                                       \
        pthread_barrier_wait(&sh->bar);                                             \
        if (c->rank == 0) {                                                         \
            for (int q = 0; q < sh->P; q++)                                         \
                if (sh->n[q] != n || n > ACC_MAX)                                   \
                    sh->bad = 1;                                                    \
            if (!sh->bad)                                                           \
                for (size_t i = 0; i < n; i++) {                                    \
                    type s = sh->slots[0][i];                                       \
                    for (int q = 1; q < sh->P; q++)                                 \
                        s += sh->slots[q][i];                                       \
                    sh->total[i] = s;                                               \
                }                                                                   \
        }                                                                           \
        pthread_barrier_wait(&sh->bar);                                             \
        if (!sh->bad)                                                               \
            memcpy(buf, sh->total, n * sizeof *buf);                                \
    }
COMM_THREADS_SUM(tsum, double, slot, acc)
COMM_THREADS_SUM(tsum_float, float, slotf, accf)

/* sum calls a rank made during fn: read and written by that rank only */
static inline int calls_of(const seqrt_comm *c)
{
    return ((shared *)c->impl)->calls[c->rank];
}

typedef void (*rank_fn)(const seqrt_comm *comm, void *ctx);

typedef struct rank_arg {
    seqrt_comm comm;
    rank_fn    fn;
    void      *ctx;
} rank_arg;

static inline void *rank_main(void *p)
{
    rank_arg *a = p;
    a->fn(&a->comm, a->ctx);
    return NULL;
}

/* fn(comm, ctx) on P threads at once, ranks 0..P-1 */
static inline void run_ranks(int P, rank_fn fn, void *ctx)
{
    static shared sh;
    memset(&sh, 0, sizeof sh);
    sh.P = P;
    assert_int_equal(pthread_barrier_init(&sh.bar, NULL, (unsigned)P), 0);
    pthread_t th[MAXP];
    rank_arg args[MAXP];
    for (int r = 0; r < P; r++) {
        args[r] = (rank_arg){.comm = {.rank = r, .size = P, .local_size = P, .sum = tsum,
                                       .sum_float = tsum_float, .impl = &sh},
                              .fn = fn, .ctx = ctx};
        assert_int_equal(pthread_create(&th[r], NULL, rank_main, &args[r]), 0);
    }
    for (int r = 0; r < P; r++)
        assert_int_equal(pthread_join(th[r], NULL), 0);
    pthread_barrier_destroy(&sh.bar);
    assert_int_equal(sh.bad, 0);
}

#endif /* SEQC_COMM_THREADS_H */
