/*
 * report.h: what `seqc compare` writes once both variants have trained:
 * report.md (summaries, a per-epoch table, verdict lines) and curves.svg
 * (loss and accuracy by epoch, the tutorial's two panels), both made from
 * two history CSVs (history.h) and the two models' summaries.
 */
#ifndef SEQC_REPORT_H
#define SEQC_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include "lab/history.h"

#define REPORT_VARIANTS 2

typedef struct report_variant {
    const char    *name;    /* "mnist_bn", "mnist_bn without batchnorm" */
    const char    *slug;    /* file-safe: "mnist_bn", "mnist_bn-no-batchnorm" */
    const char    *csv;     /* its history file, relative to the report */
    const char    *summary; /* the model's summary table (may be NULL) */
    const history *hist;
} report_variant;

typedef struct report_info {
    const char    *title;    /* e.g. "mnist_bn with and without batchnorm" */
    const char    *data_dir; /* as given on the command line */
    const char    *dataset;  /* short name for the picture: "mnist-digits" */
    int            epochs;
    uint64_t       seed;
    long           limit;    /* --limit: samples used of each set, 0 = all */
    const char    *command;  /* the command line that made it (may be NULL) */
    const char    *note;     /* a caveat printed under the header (may be NULL) */
    report_variant v[REPORT_VARIANTS];
} report_info;

/* Both return 0, or -1 when writing failed. */
int report_write_md(FILE *out, const report_info *r);
int report_write_svg(FILE *out, const report_info *r);

/* The two parts of report.md that `seqc compare` also prints: the verdict
 * lines (one per metric, the validation-accuracy milestones, the time)
 * and the per-epoch table (A and B columns side by side per metric). */
void report_write_verdict(FILE *out, const report_info *r);
void report_write_table(FILE *out, const report_info *r);

/* Copies name into buf as a file-safe slug: letters, digits, '_', '-' and
 * '.' kept, every other run of bytes becomes one '-'. Never empty. */
void report_slug(const char *name, char *buf, size_t len);

/* 1-based epoch with the best value of m (the largest when higher_better,
 * else the smallest; the first one on a tie), 0 when no value is finite. */
int report_best_epoch(const history *h, history_metric m, int higher_better);
/* 1-based epoch at which m first reached >= threshold, 0 when never. */
int report_first_reach(const history *h, history_metric m, double threshold);

#endif
