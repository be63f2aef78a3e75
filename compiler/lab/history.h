/*
 * history.h: a trainer's history CSV, read back for `seqc compare`.
 *
 * The generated trainer writes one row per epoch under the header
 *   epoch,loss,<m1>,...,val_loss,val_<m1>,...,seconds
 * where m1... are the model's metrics in order (accuracy, auc, mae...):
 * Keras' CSVLogger columns plus the epoch's wall time. Columns are kept by
 * name, whatever they are, in the order of the header; only `epoch` and
 * `loss` must be there. A value may be nan or inf (a diverging run); an
 * empty field reads as NaN (a metric the run did not compute). Anything
 * else that is not a number, a short row, a column named twice or epochs
 * out of order is an error that names the file, the line and what is
 * wrong.
 */
#ifndef SEQC_HISTORY_H
#define SEQC_HISTORY_H

#include <stddef.h>
#include <stdio.h>

#define HISTORY_MAX_COLUMNS 64
#define HISTORY_NAME_MAX    64 /* a column name's bytes, NUL included */

typedef struct history {
    size_t  ncols;   /* metric columns: every column but epoch */
    char    names[HISTORY_MAX_COLUMNS][HISTORY_NAME_MAX];
    size_t  count;   /* rows, one per epoch */
    int    *epochs;  /* epochs[count], 1-based as the trainer prints them */
    double *v;       /* v[count * ncols]: row i, column c at v[i * ncols + c] */
} history; /* epochs and v are malloc'd; history_free releases them */

/* Parses CSV text; `name` is the file name used in messages. Returns 0 and
 * fills *out (which the caller frees with history_free), or -1 after
 * writing "NAME:LINE: what is wrong" into err[0..errlen). */
int history_parse(const char *text, const char *name, history *out,
                  char *err, size_t errlen);
/* The largest history file read: a row of the usual metrics is under 128
 * bytes and compare trains at most 1,000,000 epochs. */
#define HISTORY_MAX_BYTES ((size_t)128 * 1024 * 1024)

/* Reads and parses the file at path (at most HISTORY_MAX_BYTES); same
 * contract as history_parse. */
int history_read(const char *path, history *out, char *err, size_t errlen);
void history_free(history *h);

/* The index of the column called name, -1 when there is none. */
int history_col(const history *h, const char *name);
/* The value at row i of column col, NaN when either is out of range. */
double history_at(const history *h, size_t i, int col);
/* The value at row i of the column called name, NaN when there is none. */
double history_get(const history *h, size_t i, const char *name);

#endif
