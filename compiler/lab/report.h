/*
 * report.h: what `seqc compare` writes once every run has trained and
 * summary.c has done its statistics: report.md (the command, every
 * setting of every arm with the differing ones marked, what the arms
 * share at the start, the verdicts worded from their intervals, per-arm
 * and paired tables, per-seed values, the models) and curves.svg (each
 * arm's mean curve with a translucent +-sd band, training and validation,
 * and a panel for the paired difference over the epochs).
 */
#ifndef SEQC_REPORT_H
#define SEQC_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "lab/summary.h"

/* Both return 0, or -1 when writing failed. */
int report_write_md(FILE *out, const cmp_study *s);
int report_write_svg(FILE *out, const cmp_study *s);

/* The verdict lines (report.md's "Verdict" section, also printed by
 * seqc compare): for each pair, the headline metrics (on a terminal,
 * markdown 0, without the best-epoch and test-loss lines). */
void report_write_verdict(FILE *out, const cmp_study *s, int markdown);
/* One line per arm for a terminal: the mean and 95 % interval of the
 * first validation metric and of val_loss at the last epoch. */
void report_write_arm_lines(FILE *out, const cmp_study *s);
/* The per-arm table: mean, sd, interval and n per metric. */
void report_write_arms(FILE *out, const cmp_study *s);

/* What the arms share at the start, worded for the report: whether every
 * arm draws the same initial weights (same dense layers) and sees the
 * mini-batches in the same order (same batch size, data, split and
 * shuffle). Fills both flags. */
void report_same_start(const cmp_study *s, int *same_weights, int *same_order);

/* Copies name into buf as a file-safe slug: letters, digits, '_', '-' and
 * '.' kept, every other run of bytes becomes one '-'. Never empty. */
void report_slug(const char *name, char *buf, size_t len);

#endif
