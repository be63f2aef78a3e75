/*
 * parts.h: how a kernel splits its work over threads (private to the
 * runtime), without knowing who runs the threads.
 *
 * A kernel cuts its work into seqrt_parallel_parts() fixed ranges
 * (seqrt_parallel_range) and calls seqrt_parallel(fn, arg), which runs
 * fn(arg, part, parts) for every part in [0, parts) and returns when all
 * are done. Who runs the parts is the training loop's business:
 * loop/parallel.c installs its worker pool with seqrt_parallel_install
 * (seqrt_set_threads); until then, and in a program that links the kernels
 * alone, there is one part and the calling thread runs it. Which thread
 * computes a part never changes the order of any sum, and no kernel's sums
 * depend on the number of parts either (dense.c): results are the same
 * bit for bit for every thread count.
 */
#ifndef SEQRT_PARTS_H
#define SEQRT_PARTS_H

#include <stddef.h>

typedef void (*seqrt_part_fn)(void *arg, int part, int parts);

/* Runs fn(arg, part, parts) for every part in [0, parts), in any order or
 * at once, and returns when all are done. */
typedef void (*seqrt_parts_runner)(seqrt_part_fn fn, void *arg, int parts);

/* From now on seqrt_parallel splits into `parts` (>= 1) and hands them to
 * `run`; run == NULL: the calling thread runs them in order. Not to be
 * called while a kernel runs. */
void seqrt_parallel_install(int parts, seqrt_parts_runner run);

/* Parts a seqrt_parallel call runs (the thread count, at least 1). */
int  seqrt_parallel_parts(void);
void seqrt_parallel(seqrt_part_fn fn, void *arg);

/* [*lo, *hi) of part `part` when n items are split into `parts` ranges
 * whose bounds are multiples of `align`. Part 0, which the calling thread
 * almost always claims, gets the LAST range: in the flat parameter buffer
 * that is the tail, where the small layers' parameters lie, which only
 * the calling thread touches otherwise (the small products are not
 * split), so they stay in its cache instead of crossing cores each step. */
void seqrt_parallel_range(size_t n, size_t align, int part, int parts,
                          size_t *lo, size_t *hi);

/* For kernels whose samples are independent (each sample's outputs
 * depend on that sample alone, so any split gives the same bits):
 * range(job, n0, n1) over samples [0, batch), split by samples over the
 * parts when the call touches at least SEQRT_SPLIT_MIN_FLOATS floats
 * (below that the hand-off costs more than it saves), else all of it on
 * the calling thread. */
#define SEQRT_SPLIT_MIN_FLOATS ((size_t)1 << 16)
typedef void (*seqrt_samples_fn)(const void *job, int n0, int n1);
void seqrt_parallel_samples(int batch, size_t floats, seqrt_samples_fn range, const void *job);

/* A buffer of at least n floats for a kernel's per-part results, kept
 * here and grown only when a larger one is asked for. The trainer asks
 * for the largest size before training (train.c, alloc_batch), so the
 * step reuses it and never allocates. Aborts when out of memory (a few
 * hundred KB at the sizes the runtime asks for). */
float *seqrt_parallel_scratch(size_t n);

#endif /* SEQRT_PARTS_H */
