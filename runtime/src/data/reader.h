/*
 * reader.h: what the data loaders share (private to runtime/src/data/):
 * reading plain or gzip files through zlib, and buffers that grow only as
 * real bytes arrive, within the limit on data in memory.
 *
 * The rule these serve: memory follows the bytes a file really holds,
 * never what a header claims. A loader reads, then grows its buffer
 * (about doubling, so the copies stay linear) and reads again; a 3 MB
 * file whose header announces 3 GB costs a few MB before it is reported
 * as truncated. data/ uses libc and zlib only: no other part of seqrt.
 */
#ifndef SEQRT_DATA_READER_H
#define SEQRT_DATA_READER_H

#include "seqrt.h"

#include <stddef.h>
#include <zlib.h>

/* The memory one load may use: its buffers plus what earlier loads hold
 * must stay within limit. */
typedef struct data_budget {
    const char *path;   /* the file being read, for the message */
    size_t      limit;  /* bytes of data in memory at most */
    size_t      before; /* bytes held by earlier loads (opts->used_bytes) */
    size_t      held;   /* bytes this load's buffers hold now */
    int         by_flag;/* the limit came from the caller, not the default */
} data_budget;

void data_budget_init(data_budget *b, const char *path, const seqrt_load_opts *opts);

/* Makes *buf (of *cap bytes) hold at least need bytes: about twice its
 * size, but never more than `most` (what the file says it holds; SIZE_MAX
 * when unknown) nor than the limit allows. Returns -1 with a message
 * naming the limit when need itself does not fit, or on out of memory.
 * On failure *buf is left as it was (the caller frees it). */
int data_grow(data_budget *b, void **buf, size_t *cap, size_t need, size_t most,
              seqrt_error *err);
/* 0 when `bytes` more fit in the limit, else -1 with its message: for a
 * plain file, whose size is real bytes, before anything is read. */
int data_fits(const data_budget *b, size_t bytes, seqrt_error *err);
/* Gives back what a freed buffer of cap bytes held. */
void data_release(data_budget *b, size_t cap);
/* The message for a file that holds more than the limit allows. */
int data_over_limit(const data_budget *b, seqrt_error *err);

/* Opens path for reading, plain or gzip (zlib tells them apart). */
gzFile data_gz_open(const char *path, seqrt_error *err);
/* Reads up to len bytes into buf; *got is how many arrived. Returns -1
 * (message written) when the gzip stream is corrupt or the read fails; a
 * short read at a clean end of file is not an error here. */
int data_gz_read(gzFile f, const char *path, void *buf, size_t len, size_t *got,
                 seqrt_error *err);
/* After a short read: 1 when a gzip stream was cut off in the middle
 * (a plain file simply ended). */
int data_gz_cut_short(gzFile f);

#endif /* SEQRT_DATA_READER_H */
