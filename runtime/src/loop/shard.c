/*
 * shard.c: the training loop's view of several processes (shard.h). The
 * sums are seqrt_comm's (libseqrt_mpi implements them with MPI); nothing
 * here knows MPI.
 */
#include "loop/shard.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int seqrt_comm_ranks(const seqrt_comm *c)
{
    return c && c->size > 1 ? c->size : 1;
}

int seqrt_comm_rank(const seqrt_comm *c)
{
    return c && c->size > 1 ? c->rank : 0;
}

void seqrt_shard_rows(int rows, int rank, int ranks, int *lo, int *n)
{
    int base = rows / ranks, extra = rows % ranks;
    *n = base + (rank < extra ? 1 : 0);
    *lo = rank * base + (rank < extra ? rank : extra);
}

int seqrt_comm_failures(const seqrt_comm *c, int failed)
{
    if (seqrt_comm_ranks(c) == 1)
        return failed ? 1 : 0;
    double v[2] = {failed ? 1.0 : 0.0, c->rank == 0 && failed ? 1.0 : 0.0};
    c->sum(c, v, 2);
    int count = (int)v[0], rank0 = v[1] > 0;
    if (count > 0 && !rank0) {
        if (failed && c->show_stderr)
            c->show_stderr(c);
        if (c->rank == 0) {
            fprintf(stderr, "error: %d of the %d ranks failed (their messages are above, "
                            "marked with their rank); every rank stops\n", count, c->size);
            fflush(stderr);
        }
    }
    return count;
}

int seqrt_comm_mean(const seqrt_comm *c, float *v, size_t n)
{
    int ranks = seqrt_comm_ranks(c);
    if (ranks == 1 || n == 0)
        return 0;
    double *d = malloc(n * sizeof *d);
    if (!d)
        return -1;
    for (size_t i = 0; i < n; i++)
        d[i] = (double)v[i];
    c->sum(c, d, n);
    /* P equal floats sum exactly in double (24 + log2 P bits), and the
     * division gives the float back exactly */
    for (size_t i = 0; i < n; i++)
        v[i] = (float)(d[i] / (double)ranks);
    free(d);
    return 0;
}

/* FNV-1a over the bytes */
static uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int seqrt_comm_same(const seqrt_comm *c, const float *v, size_t n)
{
    int ranks = seqrt_comm_ranks(c);
    if (ranks == 1)
        return 1;
    /* the hash in four 16-bit pieces, their sums and sums of squares over
     * the ranks: equal pieces everywhere iff ranks * sum(x^2) == sum(x)^2
     * (exact in double: at most 2^32 * ranks^2 per piece) */
    uint64_t h = hash_bytes(v, n * sizeof *v);
    double s[8];
    for (int k = 0; k < 4; k++) {
        double x = (double)((h >> (16 * k)) & 0xffff);
        s[k] = x;
        s[4 + k] = x * x;
    }
    c->sum(c, s, 8);
    for (int k = 0; k < 4; k++)
        if ((double)ranks * s[4 + k] != s[k] * s[k])
            return 0;
    return 1;
}
