/*
 * progress.c: the Keras-style progress line of the training loop (see
 * progress.h). The format follows Keras's Progbar (verbose=1): a 30-wide
 * bar, " - ETA: 3s" while running, " - 1s 2ms/step" at the end, and each
 * metric as " - name: %.4f" (%.4e when its magnitude is 1e-3 or less).
 */
#define _POSIX_C_SOURCE 200809L
#include "loop/progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define BAR_WIDTH 30
#define REDRAW_SECONDS 0.1

double seqrt_clock_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Appends to buf[*len..size) like snprintf, never past the end. */
static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    if (*len + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

static void append_metric(char *buf, size_t size, size_t *len, const char *name,
                          double v)
{
    if (fabs(v) > 1e-3 || !isfinite(v))
        append(buf, size, len, " - %s: %.4f", name, v);
    else
        append(buf, size, len, " - %s: %.4e", name, v);
}

/* Keras's _format_time: s/step, ms/step or us/step. */
static void append_per_step(char *buf, size_t size, size_t *len, double t)
{
    if (t >= 1 || t == 0)
        append(buf, size, len, " %.0fs/step", t);
    else if (t >= 1e-3)
        append(buf, size, len, " %.0fms/step", t * 1e3);
    else
        append(buf, size, len, " %.0fus/step", t * 1e6);
}

size_t seqrt_progress_format(char *buf, size_t size, const seqrt_progress_line *l)
{
    size_t len = 0;
    if (size == 0)
        return 0;
    buf[0] = '\0';

    int digits = 1;
    for (int t = l->target; t >= 10; t /= 10)
        digits++;
    append(buf, size, &len, "%*d/%d [", digits, l->current, l->target);

    int width = l->target > 0 ? (int)((double)BAR_WIDTH * l->current / l->target) : BAR_WIDTH;
    if (width > BAR_WIDTH)
        width = BAR_WIDTH;
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < width - 1 ? '=' : i == width - 1 ? (l->current < l->target ? '>' : '=') : '.';
    bar[BAR_WIDTH] = '\0';
    append(buf, size, &len, "%s]", bar);

    if (l->final) {
        append(buf, size, &len, " - %.0fs", l->elapsed);
        append_per_step(buf, size, &len, l->per_step);
    } else {
        long eta = (long)l->eta;
        if (eta > 3600)
            append(buf, size, &len, " - ETA: %ld:%02ld:%02ld", eta / 3600, (eta % 3600) / 60, eta % 60);
        else if (eta > 60)
            append(buf, size, &len, " - ETA: %ld:%02ld", eta / 60, eta % 60);
        else
            append(buf, size, &len, " - ETA: %lds", eta);
    }
    append_metric(buf, size, &len, "loss", l->loss);
    for (int i = 0; i < l->metric_count; i++)
        append_metric(buf, size, &len, l->names[i], l->values[i]);
    if (l->final && l->has_train_eval)
        append_metric(buf, size, &len, "train_eval_loss", l->train_eval_loss);
    if (l->final && l->has_val) {
        append_metric(buf, size, &len, "val_loss", l->val_loss);
        for (int i = 0; i < l->metric_count; i++) {
            char name[128];
            snprintf(name, sizeof name, "val_%s", l->names[i]);
            append_metric(buf, size, &len, name, l->val_values[i]);
        }
    }
    return len;
}

/* Replace the line on screen: '\r', the new text, spaces over the rest of
 * a longer previous line. */
static void redraw(seqrt_progress *p, const char *line, size_t len)
{
    fputc('\r', stdout);
    fputs(line, stdout);
    for (size_t i = len; i < p->drawn; i++)
        fputc(' ', stdout);
    p->drawn = len;
}

void seqrt_progress_begin(seqrt_progress *p, int live, int quiet, int epoch,
                          int epochs, int steps, const char *const *names,
                          int metric_count)
{
    p->live = live;
    p->quiet = quiet;
    p->target = steps;
    p->names = names;
    p->metric_count = metric_count;
    p->start = seqrt_clock_seconds();
    p->last_draw = p->start - REDRAW_SECONDS; /* draw the first step */
    p->drawn = 0;
    p->has_train_eval = 0;
    p->train_eval_loss = 0;
    if (!quiet) {
        printf("Epoch %d/%d\n", epoch, epochs);
        fflush(stdout);
    }
}

int seqrt_progress_due(const seqrt_progress *p, int current)
{
    if (p->quiet || !p->live)
        return 0;
    return seqrt_clock_seconds() - p->last_draw >= REDRAW_SECONDS || current >= p->target;
}

void seqrt_progress_step(seqrt_progress *p, int current, double loss,
                         const double *values)
{
    if (p->quiet || !p->live)
        return;
    double now = seqrt_clock_seconds();
    if (now - p->last_draw < REDRAW_SECONDS && current < p->target)
        return;
    p->last_draw = now;
    double elapsed = now - p->start;
    seqrt_progress_line l = {
        .current = current, .target = p->target, .final = 0,
        .eta = current > 0 ? elapsed / current * (p->target - current) : 0,
        .loss = loss, .metric_count = p->metric_count, .names = p->names, .values = values,
    };
    char line[2048];
    size_t len = seqrt_progress_format(line, sizeof line, &l);
    redraw(p, line, len);
    fflush(stdout);
}

void seqrt_progress_end(seqrt_progress *p, double train_seconds, double loss,
                        const double *values, int has_val, double val_loss,
                        const double *val_values)
{
    if (p->quiet)
        return;
    seqrt_progress_line l = {
        .current = p->target, .target = p->target, .final = 1,
        .elapsed = seqrt_clock_seconds() - p->start,
        .per_step = p->target > 0 ? train_seconds / p->target : 0,
        .loss = loss, .metric_count = p->metric_count, .names = p->names, .values = values,
        .has_train_eval = p->has_train_eval, .train_eval_loss = p->train_eval_loss,
        .has_val = has_val, .val_loss = val_loss, .val_values = val_values,
    };
    char line[2048];
    size_t len = seqrt_progress_format(line, sizeof line, &l);
    if (p->live)
        redraw(p, line, len);
    else
        fputs(line, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    p->drawn = 0;
}

void seqrt_progress_train_eval(seqrt_progress *p, double loss)
{
    p->has_train_eval = 1;
    p->train_eval_loss = loss;
}

void seqrt_progress_abort(seqrt_progress *p)
{
    if (p->drawn > 0) {
        fputc('\n', stdout);
        fflush(stdout);
        p->drawn = 0;
    }
}
