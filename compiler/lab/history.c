/*
 * history.c: reading a trainer's history CSV (history.h).
 *
 * The parser works on the whole text at once: files are a few hundred
 * bytes per epoch. Fields are split on commas with no quoting, which is
 * all the trainer ever writes; a quoted field is reported, not guessed at.
 */
#include "lab/history.h"
#include "util/fileio.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const metric_names[HIST_METRIC_COUNT] = {
    "loss", "accuracy", "val_loss", "val_accuracy", "seconds",
};
_Static_assert(sizeof metric_names / sizeof metric_names[0] == HIST_METRIC_COUNT,
               "metric_names out of step with history_metric");

const char *history_metric_name(history_metric m)
{
    return (unsigned)m < HIST_METRIC_COUNT ? metric_names[m] : "?";
}

#define MAX_COLUMNS 64

static int fail(char *err, size_t errlen, const char *name, int line,
                const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(err, errlen, "%s:%d: %s", name, line, what);
    else
        snprintf(err, errlen, "%s: %s", name, what);
    return -1;
}

/* Splits line[0..len) on commas into fields (pointers into a copy held in
 * buf, NUL-terminated, surrounding blanks trimmed). Returns the count, or
 * -1 when there are more than max. */
static int split_fields(const char *line, size_t len, char *buf, char **fields,
                        int max)
{
    memcpy(buf, line, len);
    buf[len] = '\0';
    int n = 0;
    char *p = buf;
    for (;;) {
        if (n == max)
            return -1;
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        while (isspace((unsigned char)*p))
            p++;
        char *end = p + strlen(p);
        while (end > p && isspace((unsigned char)end[-1]))
            *--end = '\0';
        fields[n++] = p;
        if (!comma)
            return n;
        p = comma + 1;
    }
}

/* A number as the trainer prints it: %g-style, or nan/inf (any case,
 * optionally signed). An empty field is NaN. Returns 0 on success. */
static int parse_number(const char *s, double *out)
{
    if (*s == '\0') {
        *out = NAN;
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0')
        return -1;
    *out = v; /* ERANGE: strtod gives +-HUGE_VAL or a denormal, both fine */
    return 0;
}

int history_parse(const char *text, const char *name, history *out,
                  char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int col_of[HIST_METRIC_COUNT];
    int epoch_col = -1, ncols = 0;
    for (int m = 0; m < HIST_METRIC_COUNT; m++)
        col_of[m] = -1;

    size_t cap = 0;
    char *buf = NULL;
    size_t bufcap = 0;
    char *fields[MAX_COLUMNS];
    int lineno = 0;
    const char *p = text;

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *line = p;
        p = nl ? nl + 1 : p + len;
        lineno++;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        /* a blank line is only allowed at the very end (a trailing newline
         * is not a line); one in the middle means a broken file */
        size_t k = 0;
        while (k < len && isspace((unsigned char)line[k]))
            k++;
        if (k == len) {
            if (*p == '\0')
                break;
            goto bad_blank;
        }
        if (len + 1 > bufcap) {
            bufcap = len + 1;
            char *nb = realloc(buf, bufcap);
            if (!nb)
                goto oom;
            buf = nb;
        }
        int n = split_fields(line, len, buf, fields, MAX_COLUMNS);
        if (n < 0) {
            fail(err, errlen, name, lineno, "more than %d columns", MAX_COLUMNS);
            goto error;
        }

        if (lineno == 1) { /* the header */
            ncols = n;
            for (int i = 0; i < n; i++) {
                if (strchr(fields[i], '"')) {
                    fail(err, errlen, name, lineno,
                         "quoted column names are not supported");
                    goto error;
                }
                if (strcmp(fields[i], "epoch") == 0)
                    epoch_col = i;
                for (int m = 0; m < HIST_METRIC_COUNT; m++)
                    if (strcmp(fields[i], metric_names[m]) == 0) {
                        if (col_of[m] >= 0) {
                            fail(err, errlen, name, lineno,
                                 "column '%s' appears twice", metric_names[m]);
                            goto error;
                        }
                        col_of[m] = i;
                    }
            }
            if (epoch_col < 0) {
                fail(err, errlen, name, lineno,
                     "no 'epoch' column in the header (is this a history CSV?)");
                goto error;
            }
            for (int m = 0; m < HIST_METRIC_COUNT; m++)
                if (col_of[m] < 0) {
                    fail(err, errlen, name, lineno,
                         "no '%s' column in the header (expected "
                         "epoch,loss,accuracy,val_loss,val_accuracy,seconds)",
                         metric_names[m]);
                    goto error;
                }
            continue;
        }

        if (n != ncols) {
            fail(err, errlen, name, lineno, "%d fields, the header has %d", n,
                 ncols);
            goto error;
        }
        history_row row;
        char *end;
        errno = 0;
        long ep = strtol(fields[epoch_col], &end, 10);
        if (end == fields[epoch_col] || *end != '\0' || errno || ep < 0 ||
            ep > 1000000) {
            fail(err, errlen, name, lineno, "epoch '%s' is not an epoch number",
                 fields[epoch_col]);
            goto error;
        }
        row.epoch = (int)ep;
        if (out->count > 0 && row.epoch != out->rows[out->count - 1].epoch + 1) {
            fail(err, errlen, name, lineno, "epoch %d follows epoch %d",
                 row.epoch, out->rows[out->count - 1].epoch);
            goto error;
        }
        for (int m = 0; m < HIST_METRIC_COUNT; m++)
            if (parse_number(fields[col_of[m]], &row.v[m]) != 0) {
                fail(err, errlen, name, lineno, "%s '%s' is not a number",
                     metric_names[m], fields[col_of[m]]);
                goto error;
            }
        if (out->count == cap) {
            cap = cap ? cap * 2 : 16;
            history_row *nr = realloc(out->rows, cap * sizeof *nr);
            if (!nr)
                goto oom;
            out->rows = nr;
        }
        out->rows[out->count++] = row;
    }
    if (lineno == 0) {
        fail(err, errlen, name, 0, "empty file (no header)");
        goto error;
    }
    free(buf);
    return 0;

bad_blank:
    fail(err, errlen, name, lineno, "blank line inside the file");
    goto error;
oom:
    fail(err, errlen, name, 0, "out of memory");
error:
    free(buf);
    history_free(out);
    return -1;
}

int history_read(const char *path, history *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char *text, why[256];
    size_t len;
    if (file_read_all(path, HISTORY_MAX_BYTES, &text, &len, why, sizeof why) != 0)
        return fail(err, errlen, path, 0, "%s", why);
    if (memchr(text, '\0', len)) {
        free(text);
        return fail(err, errlen, path, 0, "binary data, not a CSV file");
    }
    int rc = history_parse(text, path, out, err, errlen);
    free(text);
    return rc;
}

void history_free(history *h)
{
    free(h->rows);
    h->rows = NULL;
    h->count = 0;
}

double history_get(const history *h, size_t i, history_metric m)
{
    if (i >= h->count || (unsigned)m >= HIST_METRIC_COUNT)
        return NAN;
    return h->rows[i].v[m];
}
