/*
 * progress.h: private to libseqrt. The Keras-style progress line the
 * trainer prints for each epoch:
 *   Epoch 3/10
 *   250/250 [==============================] - 1s 2ms/step - loss: 0.0849 - ...
 * then each of the model's metrics (" - accuracy: 0.9738"), and at the end
 * of the epoch val_loss and val_<metric> when there is a validation set.
 * On a terminal the bar is redrawn in place with '\r' a few times a
 * second; otherwise one plain line is printed at the end of the epoch.
 */
#ifndef SEQRT_PROGRESS_H
#define SEQRT_PROGRESS_H

#include <stddef.h>

/* Seconds on a monotonic clock. */
double seqrt_clock_seconds(void);

/* What one progress line shows. */
typedef struct seqrt_progress_line {
    int    current, target; /* steps done, steps in the epoch */
    int    final;           /* 1: end of epoch (" - 1s 2ms/step"),
                               0: live (" - ETA: 3s") */
    double elapsed;         /* final: seconds for the epoch */
    double per_step;        /* final: training seconds per step */
    double eta;             /* live: seconds left */
    double loss;
    int                metric_count;
    const char *const *names;   /* [metric_count]: "accuracy", "mae", ... */
    const double      *values;  /* [metric_count] */
    int    has_train_eval;  /* final: append train_eval_loss (--eval-train),
                               before the val_ values */
    double train_eval_loss;
    int    has_val;         /* final: append val_loss and val_<name> */
    double val_loss;
    const double      *val_values; /* [metric_count] */
} seqrt_progress_line;

/* Format the line (no '\r', no '\n') into buf, truncated to size. Returns
 * the length written. */
size_t seqrt_progress_format(char *buf, size_t size, const seqrt_progress_line *l);

typedef struct seqrt_progress {
    int    live;        /* redraw in place ('\r'): standard output is a tty */
    int    quiet;       /* print nothing */
    int    target;      /* steps in this epoch */
    int                metric_count;
    const char *const *names; /* the metrics' names, kept by the caller */
    double start;       /* clock at the epoch's start */
    double last_draw;   /* clock at the last live redraw */
    size_t drawn;       /* length of the line on screen, 0 = none */
    int    has_train_eval;  /* the final line shows train_eval_loss */
    double train_eval_loss;
} seqrt_progress;

/* Print "Epoch E/N" and start the clock. names[metric_count] stay the
 * caller's and must live until the epoch's end. */
void seqrt_progress_begin(seqrt_progress *p, int live, int quiet, int epoch,
                          int epochs, int steps, const char *const *names,
                          int metric_count);
/* Would seqrt_progress_step(p, current, ...) redraw now? Lets the caller
 * compute the running metrics only for the lines it shows. */
int  seqrt_progress_due(const seqrt_progress *p, int current);
/* After each step: redraws the live bar at most every 0.1 s; values are
 * the running metrics (read only when due). */
void seqrt_progress_step(seqrt_progress *p, int current, double loss,
                         const double *values);
/* The epoch's final line and a newline; val_loss and val_values only
 * when has_val. */
void seqrt_progress_end(seqrt_progress *p, double train_seconds, double loss,
                        const double *values, int has_val, double val_loss,
                        const double *val_values);
/* The training set's loss in inference mode (--eval-train), for the
 * epoch's final line; call before seqrt_progress_end. */
void seqrt_progress_train_eval(seqrt_progress *p, double loss);
/* Ends a live line that is on screen so an error message starts clean. */
void seqrt_progress_abort(seqrt_progress *p);

#endif
