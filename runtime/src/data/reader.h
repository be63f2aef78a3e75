/*
 * reader.h: what the data loaders share (private to runtime/src/data/):
 * reading plain or gzip files through zlib, and buffers that grow only as
 * real bytes arrive, within the limit on data in memory.
 *
 * The rule these serve: memory follows the bytes a file really holds,
 * never what a header claims. A loader reads, then grows its buffer
 * (about doubling, so the copies stay linear) and reads again; a 3 MB
 * file whose header announces 3 GB costs a few MB before it is reported
 * as truncated. data/ uses libc, zlib and libzip only: no other part of
 * seqrt.
 */
#ifndef SEQRT_DATA_READER_H
#define SEQRT_DATA_READER_H

#include "seqrt.h"

#include <stddef.h>
#include <zip.h>
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
/* Replaces bytes[0..count) (malloc'd; freed here in every case) by
 * count float targets in *out, within the budget. */
int data_bytes_to_targets(data_budget *b, uint8_t *bytes, size_t count, float **out,
                          seqrt_error *err);
/* The message for a file that holds more than the limit allows. */
int data_over_limit(const data_budget *b, seqrt_error *err);

/* Where a loader's bytes come from: a file (through zlib's gz* API), a
 * buffer in memory (inflated here when it starts with the gzip magic) or
 * a member of a zip archive (libzip), read the same way, so the fuzz
 * targets reach the same code as files. */
typedef struct data_src {
    const char          *path;    /* the file's name, for messages */
    gzFile               f;       /* a file; NULL when reading memory */
    zip_file_t          *zf;      /* a zip member (closed by the caller) */
    size_t               size_hint; /* bytes it surely holds, 0: unknown */
    const unsigned char *mem;     /* memory: the bytes */
    size_t               mem_len, mem_pos;
    int                  gzip;    /* memory: the bytes are gzip */
    int                  z_ready; /* memory: z holds an inflate state */
    int                  done;    /* memory: no more bytes will come */
    int                  cut;     /* memory: a gzip stream ended early */
    z_stream             z;
} data_src;

/* Opens path for reading, plain or gzip (zlib tells them apart). */
int  data_src_open(data_src *s, const char *path, seqrt_error *err);
/* Reads len bytes of memory, plain or gzip; name is for messages. */
void data_src_mem(data_src *s, const char *name, const void *bytes, size_t len);
/* Reads a zip member as it inflates (libzip checks its CRC at the end). */
void data_src_zip(data_src *s, const char *name, zip_file_t *zf);
/* Reads up to len bytes into buf; *got is how many arrived. Returns -1
 * (message written) when the gzip stream is corrupt or the read fails; a
 * short read at a clean end of file is not an error here. As zlib does,
 * concatenated gzip members are read as one, and bytes after the last
 * member that do not start another one are ignored. */
int  data_src_read(data_src *s, void *buf, size_t len, size_t *got, seqrt_error *err);
/* After a short read: 1 when a gzip stream was cut off in the middle
 * (a plain file simply ended). */
int  data_src_cut_short(data_src *s);
/* 1 and the total size in *size when the bytes are plain and their size
 * is known without reading them (a regular file, memory); else 0. */
int  data_src_plain_size(data_src *s, size_t *size);
void data_src_close(data_src *s);

/* The CSV loader behind seqrt_load_csv(_mem) (mem NULL: read path), which
 * also gives the header's names joined by ',' in *names (malloc'd; the
 * column numbers with no_header) so that a test file's columns can be
 * compared with the training file's. names may be NULL. */
int data_csv_load(const char *path, const void *mem, size_t mem_len,
                  const seqrt_csv_opts *csv, const seqrt_load_opts *opts,
                  seqrt_dataset *out, char **names, seqrt_error *err);

/* ------------------------------------------------------ element types */

/* The numeric element types of IDX files and .npy arrays. */
typedef enum data_dtype {
    DATA_U8, DATA_I8, DATA_U16, DATA_I16, DATA_U32, DATA_I32, DATA_U64, DATA_I64,
    DATA_F32, DATA_F64
} data_dtype;

/* Bytes per element, and the NumPy name ("uint8", "float64"...). */
size_t      data_dtype_size(data_dtype t);
const char *data_dtype_name(data_dtype t);

/* What data_read_values produced: `got` elements (fewer than asked when
 * the bytes ended: the caller reports the truncation), as bytes (u8, for
 * DATA_U8 with keep_u8) or as float32 (f32). */
typedef struct data_values {
    size_t   got;
    uint8_t *u8;
    float   *f32;
    size_t   cap; /* bytes of the buffer, for data_release */
} data_values;

/* Reads count elements of type t (big-endian when big) from s, growing
 * the result as bytes arrive within the budget. Returns 0 (v->got may
 * be short of count: a truncated source, not reported here), or -1 with
 * the message (v freed). */
int data_read_values(data_src *s, data_budget *b, data_dtype t, int big, size_t count,
                     int keep_u8, data_values *v, seqrt_error *err);

/* Gives out the inputs a loader read: bytes (u8 != NULL) become
 * SEQRT_X_U8, multiplied by 1/255 when a batch is made (the one place
 * that rule is written: IDX ubyte and NumPy uint8 only); otherwise the
 * floats become SEQRT_X_F32, used as stored. */
void data_set_inputs(seqrt_dataset *out, uint8_t *u8, float *f32);

#endif /* SEQRT_DATA_READER_H */
