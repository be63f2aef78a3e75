/*
 * history.h: private to libseqrt. The --history CSV, Keras CSVLogger's
 * columns: epoch,loss,accuracy,val_loss,val_accuracy,seconds. The whole file
 * is rewritten after every epoch through seqrt_outfile (atomically, or in
 * place for a device), so it is always complete.
 */
#ifndef SEQRT_HISTORY_H
#define SEQRT_HISTORY_H

#include "seqrt.h"

#define SEQRT_HISTORY_HEADER "epoch,loss,accuracy,val_loss,val_accuracy,seconds"

typedef struct seqrt_history_row {
    unsigned epoch;           /* 1-based */
    double   loss, accuracy;  /* training: sample-weighted means over the epoch */
    double   val_loss, val_accuracy;
    double   seconds;         /* the epoch's training time, validation excluded */
} seqrt_history_row;

typedef struct seqrt_history {
    const char *path;
    char       *text;  /* the file's contents so far: header and rows */
    size_t      len, cap;
} seqrt_history;

/*
 * Start a history at path, sized for new_rows more rows (the buffer is
 * allocated here, once). keep_epochs == 0: a fresh history (an existing
 * file is replaced at the first epoch). keep_epochs > 0 (resuming): the
 * rows of epochs 1..keep_epochs of an existing file are kept, later rows
 * (of an abandoned run) dropped; a missing file starts fresh.
 * Returns 0, or -1 with err set.
 */
int  seqrt_history_open(seqrt_history *h, const char *path, unsigned keep_epochs,
                        unsigned new_rows, seqrt_error *err);
/* Add one row and rewrite the file; an error names the reason. */
int  seqrt_history_append(seqrt_history *h, const seqrt_history_row *row,
                          seqrt_error *err);
void seqrt_history_close(seqrt_history *h);

#endif
