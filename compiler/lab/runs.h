/*
 * runs.h: the training runs of `seqc compare`: many trainers as separate
 * processes, at most J at a time, each one's stdout and stderr captured
 * into its own log file; and the one line a trainer prints about its test
 * set, read back from that log.
 *
 * A run's numbers do not depend on J: each trainer is its own process with
 * its own seed, and the kernels give the same bits whatever the thread
 * count (runtime/src/loop/train.c), so runs in parallel write the same
 * histories as runs one after the other.
 */
#ifndef SEQC_RUNS_H
#define SEQC_RUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct run_job {
    char      **argv;     /* argv[0] a path to the trainer; NULL-terminated */
    const char *log_path; /* stdout and stderr go here (replaced) */
    const char *label;    /* "mnist_bn seed 3", for messages */
    int         status;   /* after runs_execute: the exit status, -1 killed
                             or not started, -2 not run (an earlier failure) */
    bool        diverged; /* it stopped because training diverged (below) */
} run_job;

/* Runs jobs[0..n) with at most `parallel` at a time, in order of start.
 * Progress ("runs 3/10 done, ETA 12 s") goes to `progress` (NULL: none),
 * rewritten in place when tty is true, one line per finished run
 * otherwise. A run that diverged (exit status 1 and the trainer's message
 * that the loss or the weights became NaN or infinite) is a result, not a
 * failure: it is marked and the others go on. After any other failure no
 * new run starts; the ones running finish. Returns 0 when every run exited
 * 0 or diverged, else -1 after printing to stderr which run failed, its
 * exit status, its log's path and its last lines (the whole log when it
 * is short: mpiexec's messages, such as its refusal to run as root, are
 * blocks of 15 lines or so, their reason in the first). */
int runs_execute(run_job *jobs, size_t n, int parallel, FILE *progress, bool tty);

/* The MPI launcher for `seqc compare --ranks P`: env_mpiexec ($MPIEXEC)
 * when it is set and not empty, and nothing else then (its first word the
 * program: "mpiexec --oversubscribe" is two words); else configured (the
 * mpiexec CMake found, "" when none) when it is an executable file; else
 * mpiexec in the directories of path ($PATH; a name without '/' is
 * looked up there). Writes the command to out. Returns 0; 1 when
 * $MPIEXEC names no program; 2 when there is no $MPIEXEC and no mpiexec
 * was found. */
int runs_find_mpiexec(const char *env_mpiexec, const char *configured, const char *path,
                      char *out, size_t size);

/* Whether a trainer's output says training diverged: "loss became nan",
 * "the weights became non-finite", "the optimizer state became
 * non-finite" (runtime/src/loop/train.c). */
bool runs_log_diverged(const char *text);

#define RUNS_TEST_MAX 32
typedef struct run_test {
    size_t n;                       /* 0: the run printed no test line */
    char   names[RUNS_TEST_MAX][64]; /* "test_loss", "test_accuracy", ... */
    double values[RUNS_TEST_MAX];
} run_test;

/* Finds the line "test_loss: 0.12 - test_accuracy: 0.95 - ..." (names
 * starting with test_, ": " then a number, " - " between pairs) in text,
 * the last one when there are several. Returns 0 and fills *out (out->n 0
 * when there is no such line), or -1 with a message in err when the line
 * is there but broken. */
int runs_parse_test_line(const char *text, run_test *out, char *err, size_t errlen);

/* The value of the test metric called name, NaN when the run has none. */
double runs_test_value(const run_test *t, const char *name);

#endif
