/*
 * metrics.h: private to libseqrt. The metrics a model's `metrics` line
 * asks for (seqrt_model.metrics), accumulated over the batches of an
 * epoch (training) or of a whole evaluation, from the model's output
 * (probabilities or values: seqrt_step.output) and the batch's targets.
 *
 * All sums are in double; every metric is the sample-weighted mean over
 * what was added, as Keras's stateful metrics give at the end of an epoch.
 * AUC keeps every (score, target) pair it is given in a buffer sized once
 * by seqrt_metrics_init, and is computed exactly (ties counted half) at
 * seqrt_metrics_value: no allocation after init.
 *
 * Targets: rows t as given; or, from class numbers, the one-hot row of the
 * class (outputs > 1) or the class number itself (outputs == 1: 0 or 1).
 *
 *   accuracy         arg-max of the output row (first maximum) == the class,
 *                    or == the target row's arg-max (first maximum)
 *   binary_accuracy  per row the fraction of columns with
 *                    (output > 0.5) == (target > 0.5); mean over rows
 *   top-k            the class (or the target row's arg-max) is in the top
 *                    k when fewer than k outputs are strictly greater than
 *                    its output, so a tie at the k-th place counts as in
 *                    (TensorFlow's in_top_k); a NaN output there is out,
 *                    so k >= outputs is always in unless that output is NaN
 *   mae, mse         mean over rows and columns
 *   rmse             sqrt of mse over everything added (not a mean of
 *                    per-batch values)
 *   auc              ROC AUC, exact, as sklearn's roc_auc_score: a target
 *                    > 0.5 is positive; with several output columns every
 *                    (output, target) entry is one pair of one pool (a
 *                    micro-average, as Keras's AUC with multi_label=False,
 *                    and sklearn's roc_auc_score(t.ravel(), p.ravel())).
 *
 * seqrt_metrics_value is NaN when nothing was added, and for AUC when only
 * one class is present, when a score was NaN, or when more pairs were
 * added than init made room for.
 */
#ifndef SEQRT_METRICS_H
#define SEQRT_METRICS_H

#include "seqrt.h"

/* one entry of an output column for AUC */
typedef struct seqrt_auc_pair {
    float score;
    int   positive; /* target > 0.5 */
} seqrt_auc_pair;

typedef struct seqrt_metrics {
    const seqrt_model *m;
    double  sum[SEQRT_MAX_METRICS];    /* per entry of m->metrics */
    double  weight[SEQRT_MAX_METRICS]; /* what each sum is divided by */
    size_t  rows;       /* samples added since reset */
    /* AUC (only when m->metrics asks for it; else NULL, 0): */
    seqrt_auc_pair *auc;         /* [auc_cap] pairs added since reset */
    seqrt_auc_pair *auc_scratch; /* [auc_cap] for the merge sort */
    size_t  auc_len, auc_cap;
    int     auc_invalid;         /* a NaN score, or more than auc_cap pairs */
} seqrt_metrics;

/* Room for max_rows samples (the largest set evaluated: AUC only; its
 * buffers are max_rows * outputs pairs, twice, allocated only when
 * m->metrics has an AUC). -1 with err set when memory is short or
 * m->metric_count is outside [0, SEQRT_MAX_METRICS]. free() after a failed
 * init is harmless. */
int    seqrt_metrics_init(seqrt_metrics *a, const seqrt_model *m, size_t max_rows,
                          seqrt_error *err);
void   seqrt_metrics_free(seqrt_metrics *a);
void   seqrt_metrics_reset(seqrt_metrics *a);
/* n rows of output [n, outputs] with their targets: labels [n] for a
 * class loss (t NULL) or rows t [n, outputs] (labels NULL); both NULL
 * (prediction): nothing is added. */
void   seqrt_metrics_add(seqrt_metrics *a, int n, const float *output,
                         const int32_t *labels, const float *t);
/* metric i of m->metrics over what was added since reset */
double seqrt_metrics_value(seqrt_metrics *a, int i);

#endif
