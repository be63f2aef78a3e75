/*
 * history.h: private to libseqrt. The --history CSV, Keras CSVLogger's
 * columns for the model's `metrics` line m1..mk (seqrt_model.metrics, in
 * that order):
 *   epoch,loss,m1,...,mk[,train_eval_loss],val_loss,val_m1,...,val_mk[,lr],seconds
 * without the val_ columns when the run has no validation set, with
 * train_eval_loss (the training set's loss in inference mode, after the
 * epoch) only with --eval-train, and without lr (the epoch's learning
 * rate, as Keras's CSVLogger records it when a rate callback runs) when
 * the model has no `schedule` line. The whole
 * file is rewritten after every epoch through seqrt_outfile (atomically,
 * or in place for a device), so it is always complete.
 */
#ifndef SEQRT_HISTORY_H
#define SEQRT_HISTORY_H

#include "seqrt.h"

typedef struct seqrt_history_row {
    unsigned epoch;    /* 1-based */
    double   loss;     /* training: sample-weighted means over the epoch */
    double   metrics[SEQRT_MAX_METRICS];
    double   train_eval_loss; /* --eval-train: the training set, inference mode */
    double   val_loss; /* over the validation set (when the history has it) */
    double   val_metrics[SEQRT_MAX_METRICS];
    float    lr;       /* the rate the epoch trained with */
    double   seconds;  /* the epoch's training time, validation excluded */
} seqrt_history_row;

/* Which columns a history has. */
typedef struct seqrt_history_columns {
    const char *names[SEQRT_MAX_METRICS]; /* the metrics' column names */
    int         count;                    /* 0..SEQRT_MAX_METRICS */
    int         has_val;                  /* val_loss and val_<name> columns */
    int         has_lr;                   /* the lr column (a schedule) */
    int         has_train_eval;           /* a train_eval_loss column */
} seqrt_history_columns;

/* The columns of a run of model m: its metrics' names, the val_
 * columns when has_val, lr when m has a schedule. */
seqrt_history_columns seqrt_history_columns_of(const seqrt_model *m, int has_val);

/* The header line (no newline) into buf; returns its length, which is
 * >= size when buf was too small (as snprintf). */
size_t seqrt_history_header(char *buf, size_t size, const seqrt_history_columns *c);

typedef struct seqrt_history {
    const char           *path;
    seqrt_history_columns cols;
    char                 *text; /* the file's contents so far: header and rows */
    size_t                len, cap;
} seqrt_history;

/*
 * Start a history at path with columns *cols, sized for new_rows more
 * rows (the buffer is allocated here, once). keep_epochs == 0: a fresh
 * history (an existing file is replaced at the first epoch).
 * keep_epochs > 0 (resuming): the rows of epochs 1..keep_epochs of an
 * existing file are kept, later rows (of an abandoned run) dropped; its
 * header must be this run's (else an error naming both); a missing file
 * starts fresh. Returns 0, or -1 with err set.
 */
int  seqrt_history_open(seqrt_history *h, const char *path, const seqrt_history_columns *cols,
                        unsigned keep_epochs, unsigned new_rows, seqrt_error *err);
/* Add one row (the columns of h) and rewrite the file; an error names
 * the reason. */
int  seqrt_history_append(seqrt_history *h, const seqrt_history_row *row,
                          seqrt_error *err);
void seqrt_history_close(seqrt_history *h);

#endif
