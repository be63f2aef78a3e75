/*
 * fileio.h: the compiler's file access in one place: writing output files
 * so that a failure never leaves a half-written file in place of the old
 * one, checking an output path before any work is done, and reading a
 * whole input file with a limit on its size.
 */
#ifndef SEQC_FILEIO_H
#define SEQC_FILEIO_H

#include <stddef.h>
#include <stdio.h>

/* Calls writer(f, ctx) (0 on success) and puts the result at path with
 * seqrt_write_file: a regular file is replaced atomically, a symlink
 * written through, a device written in place, a directory refused. On any
 * failure the previous file stays, "WHO: error: cannot write PATH: REASON"
 * goes to stderr and 1 is returned; 0 on success. */
int file_write_atomic(const char *path, const char *who,
                      int (*writer)(FILE *f, const void *ctx), const void *ctx);

/* Reads the whole file at path into *text (malloc'd, NUL-terminated;
 * *len bytes without the NUL). Anything that can be opened and read is
 * read (a FIFO, /dev/stdin), but never more than max_bytes: a larger file,
 * or a stream that goes on past the limit (/dev/urandom), is refused
 * without reading the rest, so memory stays bounded. A directory is
 * refused. Returns 0, or -1 with *text NULL and why[0..whylen) set to a
 * reason without the path ("cannot open: No such file or directory",
 * "larger than 64 MiB, the limit for this file"). */
int file_read_all(const char *path, size_t max_bytes, char **text, size_t *len, char *why,
                  size_t whylen);

/* Whether a new file may be written at path, checked before any work is
 * done: its directory exists, is a directory and is writable, path is not
 * an existing directory, and path is not one of the inputs (the same file:
 * same device and inode, so a symbolic or hard link to an input counts).
 * Returns 0, or -1 with why[0..whylen) set to the reason ("it is the input
 * model.seq"). inputs that do not exist are skipped. */
int file_check_output(const char *path, const char *const *inputs, size_t ninputs, char *why,
                      size_t whylen);
/* The same without the directory check, for an output whose directory
 * is made later: only an existing path is checked. */
int file_check_target(const char *path, const char *const *inputs, size_t ninputs, char *why,
                      size_t whylen);

/* "models/mnist.seq" -> "mnist.seq": the part after the last '/'. */
const char *path_base(const char *path);
/* The length of path_base(path) without a trailing ".seq" (kept when it
 * is the whole name): "models/mnist.seq" -> 5, for "mnist". */
size_t path_stem_len(const char *path);

#endif
