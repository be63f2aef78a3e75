/*
 * parallel.h: the runtime's own worker threads (private to the runtime).
 *
 * seqrt_set_threads(n) sizes the pool: the calling thread plus n - 1
 * persistent workers. seqrt_parallel(fn, arg) runs fn(arg, part, parts)
 * for every part in [0, parts), the caller and the workers claiming parts
 * until none is left, and returns when all are done. A kernel splits its work by `part` into
 * fixed ranges, so which thread computes an element never changes the
 * order of any sum: results are the same bit for bit for every thread
 * count.
 */
#ifndef SEQRT_PARALLEL_H
#define SEQRT_PARALLEL_H

#include <stddef.h>

typedef void (*seqrt_part_fn)(void *arg, int part, int parts);

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

/* A buffer of at least n floats for a kernel's per-part results, kept by
 * the pool and grown only when a larger one is asked for. The trainer asks
 * for the largest size before training (train.c, alloc_batch), so the
 * step reuses it and never allocates. Aborts when out of
 * memory (a few KB at the sizes the runtime asks for). */
float *seqrt_parallel_scratch(size_t n);

#endif /* SEQRT_PARALLEL_H */
