/*
 * history.h: a trainer's history CSV, read back for `seqc compare`.
 *
 * The generated trainer writes one row per epoch under the header
 *   epoch,loss,accuracy,val_loss,val_accuracy,seconds
 * (Keras' CSVLogger columns plus the epoch's wall time). Columns are found
 * by name, so their order does not matter and extra columns are ignored.
 * A value may be nan or inf (a diverging run); an empty field reads as NaN
 * (a metric the run did not compute). Anything else that is not a number,
 * a missing column, a short row or epochs out of order is an error that
 * names the file, the line and what is wrong.
 */
#ifndef SEQC_HISTORY_H
#define SEQC_HISTORY_H

#include <stddef.h>
#include <stdio.h>

/* The metrics of one row, in the order of history_metric_names. */
typedef enum history_metric {
    HIST_LOSS,
    HIST_ACCURACY,
    HIST_VAL_LOSS,
    HIST_VAL_ACCURACY,
    HIST_SECONDS,
    HIST_METRIC_COUNT
} history_metric;

/* "loss", "accuracy", "val_loss", "val_accuracy", "seconds" */
const char *history_metric_name(history_metric m);

typedef struct history_row {
    int    epoch;                    /* 1-based, as the trainer prints it */
    double v[HIST_METRIC_COUNT];     /* indexed by history_metric */
} history_row;

typedef struct history {
    size_t       count;  /* rows, one per epoch */
    history_row *rows;   /* malloc'd; history_free releases it */
} history;

/* Parses CSV text; `name` is the file name used in messages. Returns 0 and
 * fills *out (which the caller frees with history_free), or -1 after
 * writing "NAME:LINE: what is wrong" into err[0..errlen). */
int history_parse(const char *text, const char *name, history *out,
                  char *err, size_t errlen);
/* The largest history file read: a row is under 100 bytes and compare
 * trains at most 1,000,000 epochs. */
#define HISTORY_MAX_BYTES ((size_t)128 * 1024 * 1024)

/* Reads and parses the file at path (at most HISTORY_MAX_BYTES); same
 * contract as history_parse. */
int history_read(const char *path, history *out, char *err, size_t errlen);
void history_free(history *h);

/* The value of metric m at row i, NaN when i is out of range. */
double history_get(const history *h, size_t i, history_metric m);

#endif
