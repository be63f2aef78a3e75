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
 */
#ifndef SEQRT_METRICS_H
#define SEQRT_METRICS_H

#include "seqrt.h"

typedef struct seqrt_metrics {
    const seqrt_model *m;
    double  sum[SEQRT_MAX_METRICS];    /* per entry of m->metrics */
    double  weight[SEQRT_MAX_METRICS]; /* what each sum is divided by */
    size_t  rows;       /* samples added since reset */
    /* AUC: scores and 0/1 targets of every output column added */
    float  *auc_score;
    float  *auc_target;
    size_t  auc_len, auc_cap;
    void   *auc_scratch; /* for the sort, sized at init */
    /* (the implementation may add fields; callers use only the functions) */
} seqrt_metrics;

/* Room for max_rows samples (the largest set evaluated: AUC only). */
int    seqrt_metrics_init(seqrt_metrics *a, const seqrt_model *m, size_t max_rows,
                          seqrt_error *err);
void   seqrt_metrics_free(seqrt_metrics *a);
void   seqrt_metrics_reset(seqrt_metrics *a);
/* n rows of output [n, outputs] with their targets: labels [n] for a
 * class loss (t NULL) or rows t [n, outputs] (labels NULL). */
void   seqrt_metrics_add(seqrt_metrics *a, int n, const float *output,
                         const int32_t *labels, const float *t);
/* metric i of m->metrics over what was added since reset */
double seqrt_metrics_value(seqrt_metrics *a, int i);

#endif
