/*
 * history.c: the --history CSV (see history.h). Metrics are written with
 * %.9g, which round-trips a float32 exactly, so two runs can be compared
 * row by row as text; seconds with %.6f.
 */
#define _POSIX_C_SOURCE 200809L
#include "loop/history.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upper bound of one formatted value: %.9g is at most 16 characters
 * ("-1.23456789e-308"), %.6f of a time in seconds far less than 32; one
 * more for the comma. */
#define FIELD_MAX 33
/* Upper bound of one row: the epoch, loss, train_eval_loss and val_loss,
 * two values per metric, lr, seconds, the newline. */
#define ROW_MAX (12 + (3 + 2 * SEQRT_MAX_METRICS) * FIELD_MAX + FIELD_MAX + 2)
/* Longest line read back from an existing history (header or row). */
#define LINE_MAX_READ 4096

seqrt_history_columns seqrt_history_columns_of(const seqrt_model *m, int has_val)
{
    seqrt_history_columns c;
    memset(&c, 0, sizeof c);
    c.count = m->metric_count < SEQRT_MAX_METRICS ? m->metric_count : SEQRT_MAX_METRICS;
    if (c.count < 0)
        c.count = 0;
    for (int i = 0; i < c.count; i++)
        c.names[i] = m->metrics[i].name;
    c.has_val = has_val;
    c.has_lr = m->has_schedule;
    return c;
}

/* Appends like snprintf, counting what would have been written. */
static void put(char *buf, size_t size, size_t *len, const char *a, const char *b)
{
    int n = snprintf(*len < size ? buf + *len : NULL, *len < size ? size - *len : 0, "%s%s",
                     a, b);
    if (n > 0)
        *len += (size_t)n;
}

size_t seqrt_history_header(char *buf, size_t size, const seqrt_history_columns *c)
{
    size_t len = 0;
    if (size > 0)
        buf[0] = '\0';
    put(buf, size, &len, "epoch,loss", "");
    for (int i = 0; i < c->count; i++)
        put(buf, size, &len, ",", c->names[i]);
    if (c->has_train_eval)
        put(buf, size, &len, ",train_eval_loss", "");
    if (c->has_val) {
        put(buf, size, &len, ",val_loss", "");
        for (int i = 0; i < c->count; i++)
            put(buf, size, &len, ",val_", c->names[i]);
    }
    if (c->has_lr)
        put(buf, size, &len, ",lr", "");
    put(buf, size, &len, ",seconds", "");
    return len;
}

static int reserve(seqrt_history *h, size_t more, seqrt_error *err)
{
    if (h->len + more + 1 <= h->cap)
        return 0;
    size_t cap = h->len + more + 1;
    char *t = realloc(h->text, cap);
    if (!t)
        return seqrt_fail(err, "%s: out of memory", h->path);
    h->text = t;
    h->cap = cap;
    return 0;
}

static void add(seqrt_history *h, const char *s, size_t n)
{
    memcpy(h->text + h->len, s, n);
    h->len += n;
    h->text[h->len] = '\0';
}

/* Keep rows 1..keep_epochs of an existing history file whose header is
 * `header` (the first header_len bytes of h->text). */
static int keep_rows(seqrt_history *h, FILE *f, const char *header, unsigned keep_epochs,
                     seqrt_error *err)
{
    char line[LINE_MAX_READ];
    unsigned lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] != '\n' && !feof(f))
            return seqrt_fail(err, "%s:%u: line too long for a history row", h->path, lineno);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (lineno == 1) {
            if (strncmp(line, "epoch,loss", 10) != 0)
                return seqrt_fail(err, "%s: not a trainer history (first line is not "
                                  "'%s')", h->path, header);
            if (strcmp(line, header) != 0)
                return seqrt_fail(err, "%s: its columns are '%s', this run writes '%s' "
                                  "(other metrics, a validation set or --eval-train "
                                  "in one run and not the other); give another --history", h->path, line,
                                  header);
            continue;
        }
        if (n == 0)
            continue;
        char *end;
        errno = 0;
        unsigned long epoch = strtoul(line, &end, 10);
        if (errno || end == line || *end != ',' || epoch == 0)
            return seqrt_fail(err, "%s:%u: not a history row (expected an epoch number first)",
                              h->path, lineno);
        if (epoch > keep_epochs)
            continue; /* from a run that went further than the checkpoint */
        if (reserve(h, n + 1, err))
            return -1;
        add(h, line, n);
        add(h, "\n", 1);
    }
    return ferror(f) ? seqrt_fail(err, "%s: read error", h->path) : 0;
}

int seqrt_history_open(seqrt_history *h, const char *path, const seqrt_history_columns *cols,
                       unsigned keep_epochs, unsigned new_rows, seqrt_error *err)
{
    h->path = path;
    h->cols = *cols;
    h->text = NULL;
    h->len = h->cap = 0;
    size_t header_len = seqrt_history_header(NULL, 0, cols);
    if (reserve(h, header_len + 1 + (size_t)new_rows * ROW_MAX, err))
        return -1;
    seqrt_history_header(h->text, header_len + 1, cols);
    h->len = header_len;
    add(h, "\n", 1);
    if (keep_epochs == 0)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : seqrt_fail(err, "%s: cannot read: %s", path, strerror(errno));
    char *header = malloc(header_len + 1);
    int rc = -1;
    if (!header) {
        seqrt_fail(err, "%s: out of memory", path);
    } else {
        memcpy(header, h->text, header_len);
        header[header_len] = '\0';
        rc = keep_rows(h, f, header, keep_epochs, err);
        free(header);
    }
    fclose(f);
    /* kept rows may have used some of the room meant for new ones */
    if (rc == 0)
        rc = reserve(h, (size_t)new_rows * ROW_MAX, err);
    if (rc)
        seqrt_history_close(h);
    return rc;
}

/* One ",%.9g" per value into row[*len..). */
static void put_value(char *row, size_t *len, double v)
{
    int n = snprintf(row + *len, ROW_MAX - *len, ",%.9g", v);
    if (n > 0)
        *len += (size_t)n < ROW_MAX - *len ? (size_t)n : ROW_MAX - *len - 1;
}

int seqrt_history_append(seqrt_history *h, const seqrt_history_row *r, seqrt_error *err)
{
    char row[ROW_MAX];
    size_t len = (size_t)snprintf(row, sizeof row, "%u", r->epoch);
    put_value(row, &len, r->loss);
    for (int i = 0; i < h->cols.count; i++)
        put_value(row, &len, r->metrics[i]);
    if (h->cols.has_train_eval)
        put_value(row, &len, r->train_eval_loss);
    if (h->cols.has_val) {
        put_value(row, &len, r->val_loss);
        for (int i = 0; i < h->cols.count; i++)
            put_value(row, &len, r->val_metrics[i]);
    }
    if (h->cols.has_lr)
        put_value(row, &len, (double)r->lr);
    int n = snprintf(row + len, sizeof row - len, ",%.6f\n", r->seconds);
    if (n < 0 || (size_t)n >= sizeof row - len)
        return seqrt_fail(err, "%s: history row too long", h->path);
    len += (size_t)n;
    if (reserve(h, len, err))
        return -1;
    add(h, row, len);

    seqrt_outfile out;
    if (seqrt_outfile_open(&out, h->path, err))
        return -1;
    seqrt_outfile_write(&out, h->text, h->len);
    return seqrt_outfile_commit(&out, 0, err);
}

void seqrt_history_close(seqrt_history *h)
{
    free(h->text);
    h->text = NULL;
    h->len = h->cap = 0;
}
