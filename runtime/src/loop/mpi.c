/*
 * mpi.c: libseqrt_mpi, data-parallel training over MPI ranks (issue #16,
 * docs/scale-out.md). A trainer built by `seqc build --mpi` calls
 * seqrt_mpi_main instead of seqrt_main; everything else is libseqrt's:
 * this file only starts MPI and gives the training loop a seqrt_comm
 * (seqrt.h) whose sums are MPI_Allreduce. libseqrt itself, seqc and every
 * ordinary trainer never link MPI.
 *
 * Same bits on every rank: the loop needs each sum to give every rank the
 * same result, or the ranks' weights drift apart. MPI does not promise it
 * (it recommends it); Open MPI's allreduce algorithms give it, since each
 * combines its partial sums symmetrically and float addition commutes.
 * The loop checks it after every epoch (seqrt_comm_same) and stops with
 * an error rather than train on diverged weights.
 *
 * Errors: MPI's default handler (MPI_ERRORS_ARE_FATAL) aborts the job on
 * a failed MPI call, and mpirun ends the job when a rank exits without
 * MPI_Finalize or with a non-zero status before it, so a rank that dies
 * never leaves the others waiting in a sum. Errors the loop finds (a
 * missing file, bad data) are agreed on by all ranks (seqrt_comm_failures)
 * and every rank returns the same status.
 *
 * Output: rank 0's stdout and stderr are the run's. The other ranks' stdout
 * goes to /dev/null, their stderr to a temporary file, shown (each line
 * marked with the rank) only when that rank failed and rank 0 did not:
 * the ranks read the same files and compute the same things, so their
 * messages are rank 0's.
 */
#define _POSIX_C_SOURCE 200809L
#include "seqrt.h"

#include <fcntl.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct mpi_impl {
    MPI_Comm comm;
    int      saved_stderr; /* ranks > 0: the real stderr; -1 on rank 0 */
    FILE    *log;          /* ranks > 0: where stderr goes meanwhile */
} mpi_impl;

/* MPI counts are int: big buffers go in chunks */
enum { CHUNK = 1 << 28 };

static void sum_double(const seqrt_comm *c, double *buf, size_t n)
{
    const mpi_impl *im = c->impl;
    for (size_t done = 0; done < n; done += CHUNK) {
        int k = n - done < CHUNK ? (int)(n - done) : CHUNK;
        MPI_Allreduce(MPI_IN_PLACE, buf + done, k, MPI_DOUBLE, MPI_SUM, im->comm);
    }
}

static void sum_float(const seqrt_comm *c, float *buf, size_t n)
{
    const mpi_impl *im = c->impl;
    for (size_t done = 0; done < n; done += CHUNK) {
        int k = n - done < CHUNK ? (int)(n - done) : CHUNK;
        MPI_Allreduce(MPI_IN_PLACE, buf + done, k, MPI_FLOAT, MPI_SUM, im->comm);
    }
}

/* The captured stderr so far to the real one, each line marked. */
static void show_stderr(const seqrt_comm *c)
{
    mpi_impl *im = c->impl;
    if (!im->log || im->saved_stderr < 0)
        return;
    fflush(stderr);
    long end = ftell(im->log);
    if (end <= 0)
        return;
    FILE *out = fdopen(dup(im->saved_stderr), "w");
    if (!out)
        return;
    rewind(im->log);
    int c0 = '\n', ch;
    while ((ch = getc(im->log)) != EOF) {
        if (c0 == '\n')
            fprintf(out, "rank %d: ", c->rank);
        putc(ch, out);
        c0 = ch;
    }
    fclose(out);
    /* shown once: start again */
    if (ftruncate(fileno(im->log), 0) == 0)
        rewind(im->log);
}

/* Ranks > 0: stdout to /dev/null, stderr to a temporary file. */
static void quiet_rank(mpi_impl *im)
{
    fflush(stdout);
    fflush(stderr);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        close(null);
    }
    im->log = tmpfile();
    if (im->log) {
        im->saved_stderr = dup(STDERR_FILENO);
        dup2(fileno(im->log), STDERR_FILENO);
    }
}

static void restore_stderr(mpi_impl *im)
{
    if (im->saved_stderr < 0)
        return;
    fflush(stderr);
    dup2(im->saved_stderr, STDERR_FILENO);
    close(im->saved_stderr);
    im->saved_stderr = -1;
    if (im->log)
        fclose(im->log);
    im->log = NULL;
}

int seqrt_mpi_main(int argc, char **argv, const seqrt_model *model)
{
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fprintf(stderr, "error: MPI_Init failed\n");
        return 1;
    }
    mpi_impl im = {.comm = MPI_COMM_WORLD, .saved_stderr = -1, .log = NULL};
    seqrt_comm c = {.sum = sum_double, .sum_float = sum_float, .show_stderr = show_stderr,
                    .impl = &im};
    MPI_Comm_rank(MPI_COMM_WORLD, &c.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c.size);
    /* the ranks on this machine share its cores (seqrt_main_comm's threads) */
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c.rank, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &c.local_size);
    MPI_Comm_free(&node);
    if (c.rank > 0)
        quiet_rank(&im);
    int status = seqrt_main_comm(argc, argv, model, &c);
    restore_stderr(&im);
    fflush(stdout);
    MPI_Finalize();
    return status;
}
