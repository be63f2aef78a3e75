/*
 * parallel.c: the runtime's worker pool (see parallel.h).
 *
 * Why our own threads: at batch 32 a training step is a chain of short
 * kernels (the largest, y = x W of the first layer, takes about 30 us on
 * one core). OpenBLAS's threads are woken and joined per sgemm call and
 * at these sizes its 2-thread sgemm was slower than 1 thread here; worse,
 * its idle threads spin in sched_yield and slowed the next, single-thread
 * kernel: the Adam step took 520 us instead of 220 us with OpenBLAS on 2
 * threads. So OpenBLAS runs on one thread (seqrt_set_threads) and the
 * runtime splits its own kernels over this pool.
 *
 * Handing out a job costs about a cache-line transfer (measured: 0.1 us
 * for an empty job, a worker starting 0.75 us after the call): a worker
 * spins on the generation counter for a while (SPIN_ROUNDS pauses, about
 * 0.6 ms here: longer than any gap between the kernels of a step) and
 * only then sleeps on a condition variable, so after training it does
 * not keep a core busy.
 *
 * Parts are claimed, not assigned: every thread, the caller included,
 * takes the next unclaimed part until none is left, and the caller then
 * waits for the parts still running. When another process holds the
 * other core (a worker not scheduled), the caller simply runs every part
 * itself instead of spinning for a time slice; which thread runs a part
 * never changes its result.
 */
#define _POSIX_C_SOURCE 200809L
#include "loop/parallel.h"

#include "kernels/gemm.h"
#include "seqrt.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

enum {
    MAX_THREADS = 64,
    SPIN_ROUNDS = 1 << 15
};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static struct pool {
    int             parts;    /* threads taking part in a job, >= 1 */
    int             workers;  /* workers started (they are never stopped) */
    pthread_t       tid[MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    /* Each on its own cache line: the idle threads poll gen, parts are
     * claimed on next and counted on done, and none of these may share a
     * line with the other or with anything else that is written. */
    _Alignas(64) atomic_uint gen;  /* bumped (under mu) to start a job */
    /* the job's part count (high 32 bits) and its next unclaimed part (low
     * 32 bits) in one word, so a claim sees the count of the very job it
     * claimed from: a worker that wakes late, after its job ended and the
     * thread count changed, cannot run a part nobody handed out */
    _Alignas(64) _Atomic uint64_t next;
    _Alignas(64) atomic_int  done; /* parts of the job finished */
    _Alignas(64) seqrt_part_fn fn; /* the job: written before next is reset */
    void           *arg;
    char            pad[64 - sizeof(seqrt_part_fn) - sizeof(void *)];
} pool = {.parts = 1, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* Claims and runs parts of the current job until none is left. */
static void run_parts(void)
{
    for (;;) {
        uint64_t claim = atomic_fetch_add_explicit(&pool.next, 1, memory_order_acq_rel);
        int k = (int)(uint32_t)claim, parts = (int)(claim >> 32);
        if (k >= parts)
            return;
        pool.fn(pool.arg, k, parts);
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
    }
}

static void *worker_main(void *p)
{
    const int part = (int)(intptr_t)p;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&pool.gen, memory_order_acquire)) == seen) {
            if (++spins < SPIN_ROUNDS) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&pool.mu);
            while ((g = atomic_load_explicit(&pool.gen, memory_order_acquire)) == seen)
                pthread_cond_wait(&pool.cv, &pool.mu);
            pthread_mutex_unlock(&pool.mu);
            break;
        }
        seen = g;
        (void)part; /* which worker it is never matters: parts are claimed */
        run_parts();
    }
    return NULL;
}

/* Starts workers up to parts - 1. Returns the parts actually available. */
static int pool_resize(int parts)
{
    if (parts > MAX_THREADS)
        parts = MAX_THREADS;
    while (pool.workers < parts - 1) {
        int part = pool.workers + 1;
        if (pthread_create(&pool.tid[pool.workers], NULL, worker_main,
                           (void *)(intptr_t)part) != 0) {
            fprintf(stderr, "warning: could not start a worker thread; using %d\n",
                    pool.workers + 1);
            parts = pool.workers + 1;
            break;
        }
        pool.workers++;
    }
    return parts;
}

/* The kernels' runner (kernels/parts.h): the job's parts shared out. */
static void pool_run(seqrt_part_fn fn, void *arg, int parts)
{
    pool.fn = fn;
    pool.arg = arg;
    /* done first, then next with release: a worker whose claim reads this
     * reset also sees fn and arg, even one that woke for an earlier job */
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.next, (uint64_t)(uint32_t)parts << 32, memory_order_release);
    pthread_mutex_lock(&pool.mu);
    atomic_fetch_add_explicit(&pool.gen, 1, memory_order_release);
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    run_parts();
    while (atomic_load_explicit(&pool.done, memory_order_acquire) < parts)
        cpu_relax();
}

/* OpenBLAS's own call; declared here rather than through cblas.h, whose
 * name and location differ between BLAS builds. */
void openblas_set_num_threads(int num_threads);

/* n threads, never more than n busy at once: with libseqrt's own GEMM
 * kernels (gemm.h) this pool gets the n and OpenBLAS one (see the top of
 * this file); without them OpenBLAS gets the n, as before, and the pool
 * stays at the calling thread alone. */
void seqrt_set_threads(int n)
{
    if (n <= 0)
        return;
    if (seqrt_gemm_kernels()) {
        pool.parts = pool_resize(n);
        openblas_set_num_threads(1);
    } else {
        pool.parts = 1;
        openblas_set_num_threads(n);
    }
    seqrt_parallel_install(pool.parts, pool.parts > 1 ? pool_run : NULL);
}
