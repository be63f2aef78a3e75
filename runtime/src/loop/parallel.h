/*
 * parallel.h: the runtime's own worker threads (private to the runtime).
 *
 * seqrt_set_threads(n) (seqrt.h) sizes the pool: the calling thread plus
 * n - 1 persistent workers, and installs it as the runner of the kernels'
 * parts (kernels/parts.h): a seqrt_parallel call then runs
 * fn(arg, part, parts) for every part, the caller and the workers claiming
 * parts until none is left, and returns when all are done. The kernels
 * only cut their work into parts; this pool, the training loop's, runs
 * them. The split interface (seqrt_parallel, seqrt_parallel_parts,
 * seqrt_parallel_range, seqrt_parallel_scratch) is kernels/parts.h's,
 * included here for the loop's and the data loader's own splits.
 */
#ifndef SEQRT_PARALLEL_H
#define SEQRT_PARALLEL_H

#include "kernels/parts.h"

#endif /* SEQRT_PARALLEL_H */
