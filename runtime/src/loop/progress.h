/*
 * progress.h: private to libseqrt. The Keras-style progress line the
 * trainer prints for each epoch:
 *   Epoch 3/10
 *   250/250 [==============================] - 1s 2ms/step - loss: 0.0849 - ...
 * On a terminal the bar is redrawn in place with '\r' a few times a second;
 * otherwise one plain line is printed at the end of the epoch.
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
    double loss, accuracy;
    int    has_val;         /* final: append val_loss and val_accuracy */
    double val_loss, val_accuracy;
} seqrt_progress_line;

/* Format the line (no '\r', no '\n') into buf, truncated to size. Returns
 * the length written. */
size_t seqrt_progress_format(char *buf, size_t size, const seqrt_progress_line *l);

typedef struct seqrt_progress {
    int    live;        /* redraw in place ('\r'): standard output is a tty */
    int    quiet;       /* print nothing */
    int    target;      /* steps in this epoch */
    double start;       /* clock at the epoch's start */
    double last_draw;   /* clock at the last live redraw */
    size_t drawn;       /* length of the line on screen, 0 = none */
} seqrt_progress;

/* Print "Epoch E/N" and start the clock. */
void seqrt_progress_begin(seqrt_progress *p, int live, int quiet, int epoch,
                          int epochs, int steps);
/* After each step: redraws the live bar at most every 0.1 s. */
void seqrt_progress_step(seqrt_progress *p, int current, double loss,
                         double accuracy);
/* The epoch's final line, with validation metrics, and a newline. */
void seqrt_progress_end(seqrt_progress *p, double train_seconds, double loss,
                        double accuracy, double val_loss, double val_accuracy);
/* Ends a live line that is on screen so an error message starts clean. */
void seqrt_progress_abort(seqrt_progress *p);

#endif
