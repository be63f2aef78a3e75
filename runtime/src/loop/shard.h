/*
 * shard.h: one model trained by several processes together (seqrt_comm,
 * seqrt.h): which rows of a global batch each rank holds, and the
 * collective decisions of the training loop (train.c). Every function
 * takes comm NULL as the one-process case. Collective functions must be
 * called by every rank, in the same order.
 */
#ifndef SEQRT_SHARD_H
#define SEQRT_SHARD_H

#include "seqrt.h"

#include <stddef.h>

/* Ranks in comm (1 for NULL) and this process's rank (0 for NULL). */
int seqrt_comm_ranks(const seqrt_comm *c);
int seqrt_comm_rank(const seqrt_comm *c);

/* Rank `rank` of `ranks` holds rows [*lo, *lo + *n) of a batch of `rows`
 * rows: contiguous shards in rank order, sizes differing by at most one
 * (the first rows % ranks shards one larger). */
void seqrt_shard_rows(int rows, int rank, int ranks, int *lo, int *n);

/* Collective: every rank says whether it failed (failed != 0); returns
 * the number of ranks that failed, the same on every rank. When rank 0
 * did not fail but others did, they show their stderr (show_stderr) and
 * rank 0 says that it stops because of them. */
int seqrt_comm_failures(const seqrt_comm *c, int failed);

/* Collective: v[0..n) becomes the mean over the ranks, summed in double,
 * so values that are the same on every rank stay exactly what they are. */
int seqrt_comm_mean(const seqrt_comm *c, float *v, size_t n);

/* Collective: do all ranks hold the same bits in v[0..n)? */
int seqrt_comm_same(const seqrt_comm *c, const float *v, size_t n);

#endif /* SEQRT_SHARD_H */
