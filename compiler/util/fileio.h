/*
 * fileio.h: writing output files so that a failure never leaves a
 * half-written file in place of the old one.
 */
#ifndef SEQC_FILEIO_H
#define SEQC_FILEIO_H

#include <stdio.h>

/* Calls writer(f, ctx) on path.tmp.PID, then renames it over path.
 * writer returns 0 on success. On any failure the temporary file is
 * removed, "WHO: error: cannot write PATH: REASON" goes to stderr and 1 is
 * returned; 0 on success. */
int file_write_atomic(const char *path, const char *who,
                      int (*writer)(FILE *f, const void *ctx), const void *ctx);

#endif
