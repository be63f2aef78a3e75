/*
 * summary.h: what `seqc compare` concludes from its runs: the arms (a
 * variant of a model at one learning rate), their per-seed histories and
 * test lines, statistics per arm and metric, paired differences between
 * arms, the verdict sentences, and OUT/summary.json (docs/compare.md
 * gives its schema).
 *
 * Metrics, in the order they are analysed (names follow the history's
 * columns, so a model with `metrics auc` gets val_auc and test_auc):
 *   final  each history column's value at the arm's last epoch
 *          (loss, accuracy, val_loss, val_accuracy, ...);
 *   best   each val_ column's best value over the epochs (highest, or the
 *          lowest for a loss or error);
 *   test   each test_ value the trainer printed after training;
 *   reach  with a target (val_accuracy=0.95): the first epoch the metric
 *          reached it (NaN for a seed that never did);
 *   time   seconds of training, all epochs.
 * Pairs: with a learning-rate axis and several variants, each variant
 * against the first variant at the same learning rate (BN against no BN at
 * each rate); otherwise every pair of arms when there are at most 4, else
 * each arm against the first.
 */
#ifndef SEQC_LAB_SUMMARY_H
#define SEQC_LAB_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lab/history.h"
#include "lab/runs.h"
#include "lab/stats.h"

/* Every setting of an arm that can make its runs differ, for the report's
 * settings table and summary.json. */
typedef struct cmp_settings {
    const char *file;       /* the model file */
    const char *model;      /* the model's name */
    const char *without;    /* kinds dropped: "batchnorm", "" for none */
    const char *replaced;   /* --replace: "layernorm instead of batchnorm", "" (NULL) for none */
    const char *optimizer;  /* "adam" */
    double      lr;
    long        batch;
    long        epochs;
    const char *loss;       /* "sparse_categorical_crossentropy" */
    const char *data;       /* the data flags as passed: "--data DIR" */
    const char *val_split;  /* "0.1" */
    const char *val_split_from; /* "--validation-split", "the model file" or
                                   "compare's default" */
    bool        shuffle;
    int         dropout_layers;
    const char *dense;      /* the dense layers in order, "784x128 bias glorot_uniform, ...":
                               equal strings draw equal initial weights */
    const char *batchnorm;  /* what the batchnorm layers normalize with under MPI:
                               "2 synchronized", "2 per rank (sync=false)", "-" */
    long        ranks;      /* MPI processes per run (--ranks; 0 or 1: one process):
                               the batch is then the global batch, split over them */
} cmp_settings;

typedef struct cmp_arm {
    const char  *name;     /* "mnist_bn", "mnist_bn without batchnorm lr=0.01" */
    const char  *slug;     /* file-safe: "mnist_bn-no-batchnorm-lr0.01" */
    int          variant;  /* which model variant (0-based) */
    int          lr_index; /* which --lr value, -1 without --lr */
    cmp_settings set;
    const char  *summary;  /* the model's summary table (may be NULL) */
    history     *hist;     /* [nseeds], one history per seed */
    run_test    *test;     /* [nseeds], the test line of each run */
    const bool  *diverged; /* [nseeds]: the run stopped on a NaN or infinite loss
                              or weight (NULL: none did); its values are missing,
                              but for the epochs to the target it reached before */
} cmp_arm;

typedef enum cmp_kind { CMP_FINAL, CMP_BEST, CMP_TEST, CMP_REACH, CMP_TIME } cmp_kind;

typedef struct cmp_metric {
    cmp_kind kind;
    char     key[96];     /* "val_accuracy", "best_val_accuracy", "test_loss",
                             "epochs_to_target", "seconds" */
    char     source[64];  /* the history column or test name it reads */
    bool     higher_better;
    bool     is_loss;     /* a loss value: arms with different losses are not comparable */
    bool     points;      /* a fraction in [0, 1]: differences shown in points (x100) */
    bool     paired;      /* compared between arms (validation, test, reach) */
} cmp_metric;

typedef struct cmp_pair {
    size_t       a, b;    /* arms; differences are a minus b */
    size_t       metric;
    bool         comparable;
    stats_paired p;
} cmp_pair;

typedef struct cmp_study {
    const char     *title;
    const char     *command;   /* the exact command line */
    const char     *version;   /* seqc's */
    const char     *dataset;   /* short name of the data, for the picture */
    size_t          nseeds;
    const uint64_t *seeds;
    size_t          narms;
    cmp_arm        *arms;
    int             nlr;       /* values of --lr, 0 without */
    bool            has_target;
    char            target_metric[64];
    double          target_value;
    long            limit;
    /* filled by cmp_analyze, freed by cmp_free */
    size_t          nmetrics;
    cmp_metric     *metrics;
    double         *values;    /* [arm][metric][seed] */
    stats_summary  *stats;     /* [arm][metric] */
    size_t          npairs;
    cmp_pair       *pairs;
} cmp_study;

/* Direction of a metric by its name, prefixes val_/test_/best_ ignored:
 * losses and errors (loss, mae, mse, ...) are better lower, the rest
 * (accuracy, auc, ...) higher. */
bool cmp_higher_better(const char *name);

/* Fills the metrics, values, stats and pairs. 0, or -1 out of memory. */
int  cmp_analyze(cmp_study *s);
void cmp_free(cmp_study *s);

/* The value for arm a, metric m, seed i. */
double cmp_value(const cmp_study *s, size_t a, size_t m, size_t i);
const stats_summary *cmp_stats(const cmp_study *s, size_t a, size_t m);
/* The index of the metric with this key, -1 when there is none. */
int cmp_metric_index(const cmp_study *s, const char *key);

/* A number as the report shows a value or difference of metric m:
 * points (x100, 1 decimal) for fractions, "%.4g" otherwise. */
void cmp_format(char *buf, size_t len, const cmp_metric *m, double v, bool diff);

/* The verdict on one pair, worded from its interval: "**A** better by 0.6
 * points [0.2, 1.0], 9 of 10 seeds", "no difference detected: [-0.4,
 * 0.3] points (A - B)", "not comparable: ...". markdown: the winner in
 * bold. */
void cmp_write_verdict(FILE *out, const cmp_study *s, const cmp_pair *p, bool markdown);

/* OUT/summary.json. 0, or -1 when writing failed. */
int cmp_write_json(FILE *out, const cmp_study *s);

#endif
