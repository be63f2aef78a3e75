/*
 * fileio.h: writing output files so that a failure never leaves a
 * half-written file in place of the old one.
 */
#ifndef SEQC_FILEIO_H
#define SEQC_FILEIO_H

#include <stdio.h>

/* Calls writer(f, ctx) (0 on success) and puts the result at path with
 * seqrt_write_file: a regular file is replaced atomically, a symlink
 * written through, a device written in place, a directory refused. On any
 * failure the previous file stays, "WHO: error: cannot write PATH: REASON"
 * goes to stderr and 1 is returned; 0 on success. */
int file_write_atomic(const char *path, const char *who,
                      int (*writer)(FILE *f, const void *ctx), const void *ctx);

#endif
