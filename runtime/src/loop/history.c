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

/* Upper bound of one formatted row: epoch, four %.9g and one %.6f. */
#define ROW_MAX 192

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

/* Keep rows 1..keep_epochs of an existing history file. */
static int keep_rows(seqrt_history *h, FILE *f, unsigned keep_epochs, seqrt_error *err)
{
    char line[1024];
    unsigned lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] != '\n' && !feof(f))
            return seqrt_fail(err, "%s:%u: line too long for a history row", h->path, lineno);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (lineno == 1) {
            if (strcmp(line, SEQRT_HISTORY_HEADER) != 0)
                return seqrt_fail(err, "%s: not a trainer history (first line is not '%s')",
                                  h->path, SEQRT_HISTORY_HEADER);
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

int seqrt_history_open(seqrt_history *h, const char *path, unsigned keep_epochs,
                       unsigned new_rows, seqrt_error *err)
{
    h->path = path;
    h->text = NULL;
    h->len = h->cap = 0;
    if (reserve(h, sizeof SEQRT_HISTORY_HEADER + (size_t)new_rows * ROW_MAX, err))
        return -1;
    add(h, SEQRT_HISTORY_HEADER "\n", sizeof SEQRT_HISTORY_HEADER);
    if (keep_epochs == 0)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : seqrt_fail(err, "%s: cannot read: %s", path, strerror(errno));
    int rc = keep_rows(h, f, keep_epochs, err);
    fclose(f);
    /* kept rows may have used some of the room meant for new ones */
    if (rc == 0)
        rc = reserve(h, (size_t)new_rows * ROW_MAX, err);
    if (rc)
        seqrt_history_close(h);
    return rc;
}

int seqrt_history_append(seqrt_history *h, const seqrt_history_row *r, seqrt_error *err)
{
    char row[ROW_MAX];
    int n = snprintf(row, sizeof row, "%u,%.9g,%.9g,%.9g,%.9g,%.6f\n", r->epoch, r->loss,
                     r->accuracy, r->val_loss, r->val_accuracy, r->seconds);
    if (n < 0 || (size_t)n >= sizeof row)
        return seqrt_fail(err, "%s: history row too long", h->path);
    if (reserve(h, (size_t)n, err))
        return -1;
    add(h, row, (size_t)n);

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
