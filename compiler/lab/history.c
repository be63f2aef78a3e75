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
#include <stdbool.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLUMNS HISTORY_MAX_COLUMNS

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

/* What the header said, and where the parse is: shared by the steps */
typedef struct hist_parser {
    const char *name;
    char       *err;
    size_t      errlen;
    int         lineno;
    int         ncols;
    int         epoch_col;
    int         col_of[MAX_COLUMNS]; /* field -> metric column, -1 for epoch */
} hist_parser;

#define PARSE_FAIL(hp, ...) fail((hp)->err, (hp)->errlen, (hp)->name, (hp)->lineno, __VA_ARGS__)

/* The header: an epoch and a loss column, each name once, no quotes; the
 * other columns are metrics, kept in order. */
static int parse_header(hist_parser *hp, char **fields, int n, history *h)
{
    hp->ncols = n;
    for (int i = 0; i < n; i++) {
        if (strchr(fields[i], '"'))
            return PARSE_FAIL(hp, "quoted column names are not supported");
        if (fields[i][0] == '\0')
            return PARSE_FAIL(hp, "column %d has no name", i + 1);
        if (strlen(fields[i]) >= HISTORY_NAME_MAX)
            return PARSE_FAIL(hp, "column name '%.20s...' is longer than %d bytes", fields[i],
                              HISTORY_NAME_MAX - 1);
        for (int j = 0; j < i; j++)
            if (strcmp(fields[i], fields[j]) == 0)
                return PARSE_FAIL(hp, "column '%s' appears twice", fields[i]);
        if (strcmp(fields[i], "epoch") == 0) {
            hp->epoch_col = i;
            hp->col_of[i] = -1;
            continue;
        }
        hp->col_of[i] = (int)h->ncols;
        strcpy(h->names[h->ncols++], fields[i]);
    }
    if (hp->epoch_col < 0)
        return PARSE_FAIL(hp, "no 'epoch' column in the header (is this a history CSV?)");
    if (history_col(h, "loss") < 0)
        return PARSE_FAIL(hp, "no 'loss' column in the header (expected "
                              "epoch,loss,...,val_loss,...,seconds)");
    return 0;
}

/* One data row: as many fields as the header, the epoch after the last
 * row's, every metric a number. Appends it to h. */
static int parse_row(hist_parser *hp, char **fields, int n, history *h, size_t *cap)
{
    if (n != hp->ncols)
        return PARSE_FAIL(hp, "%d fields, the header has %d", n, hp->ncols);
    const char *ep_text = fields[hp->epoch_col];
    char *end;
    errno = 0;
    long ep = strtol(ep_text, &end, 10);
    if (end == ep_text || *end != '\0' || errno || ep < 0 || ep > 1000000)
        return PARSE_FAIL(hp, "epoch '%s' is not an epoch number", ep_text);
    if (h->count > 0 && ep != h->epochs[h->count - 1] + 1)
        return PARSE_FAIL(hp, "epoch %ld follows epoch %d", ep, h->epochs[h->count - 1]);
    if (h->count == *cap) {
        size_t bigger = *cap ? *cap * 2 : 16;
        int *ne = realloc(h->epochs, bigger * sizeof *ne);
        if (ne)
            h->epochs = ne;
        double *nv = ne ? realloc(h->v, bigger * (h->ncols ? h->ncols : 1) * sizeof *nv) : NULL;
        if (!nv)
            return fail(hp->err, hp->errlen, hp->name, 0, "out of memory");
        h->v = nv;
        *cap = bigger;
    }
    double *row = h->v + h->count * h->ncols;
    for (int i = 0; i < n; i++) {
        int c = hp->col_of[i];
        if (c >= 0 && parse_number(fields[i], &row[c]) != 0)
            return PARSE_FAIL(hp, "%s '%s' is not a number", h->names[c], fields[i]);
    }
    h->epochs[h->count++] = (int)ep;
    return 0;
}

/* The next line at *p without its "\n" or "\r\n"; advances *p. */
static const char *next_line(const char **p, size_t *len)
{
    const char *line = *p, *nl = strchr(line, '\n');
    size_t n = nl ? (size_t)(nl - line) : strlen(line);
    *p = nl ? nl + 1 : line + n;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    *len = n;
    return line;
}

static bool is_blank(const char *line, size_t len)
{
    for (size_t k = 0; k < len; k++)
        if (!isspace((unsigned char)line[k]))
            return false;
    return true;
}

/* Splits line into fields in *buf (grown to fit); the field count, or -1
 * after an error. */
static int line_fields(hist_parser *hp, const char *line, size_t len, char **buf,
                       size_t *bufcap, char **fields)
{
    if (len + 1 > *bufcap) {
        char *nb = realloc(*buf, len + 1);
        if (!nb)
            return fail(hp->err, hp->errlen, hp->name, 0, "out of memory");
        *buf = nb;
        *bufcap = len + 1;
    }
    int n = split_fields(line, len, *buf, fields, MAX_COLUMNS);
    if (n < 0)
        return PARSE_FAIL(hp, "more than %d columns", MAX_COLUMNS);
    return n;
}

int history_parse(const char *text, const char *name, history *out,
                  char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    hist_parser hp = {.name = name, .err = err, .errlen = errlen, .epoch_col = -1};
    size_t cap = 0, bufcap = 0;
    char *buf = NULL, *fields[MAX_COLUMNS];
    int rc = 0;
    for (const char *p = text; rc == 0 && *p;) {
        size_t len;
        const char *line = next_line(&p, &len);
        hp.lineno++;
        /* a blank line is only allowed at the very end (a trailing newline
         * is not a line); one in the middle means a broken file */
        if (is_blank(line, len)) {
            if (*p != '\0')
                rc = PARSE_FAIL(&hp, "blank line inside the file");
            break;
        }
        int n = line_fields(&hp, line, len, &buf, &bufcap, fields);
        if (n < 0)
            rc = -1;
        else if (hp.lineno == 1)
            rc = parse_header(&hp, fields, n, out);
        else
            rc = parse_row(&hp, fields, n, out, &cap);
    }
    if (rc == 0 && hp.lineno == 0)
        rc = fail(err, errlen, name, 0, "empty file (no header)");
    free(buf);
    if (rc != 0)
        history_free(out);
    return rc;
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
    free(h->epochs);
    free(h->v);
    h->epochs = NULL;
    h->v = NULL;
    h->count = h->ncols = 0;
}

int history_col(const history *h, const char *name)
{
    for (size_t c = 0; c < h->ncols; c++)
        if (strcmp(h->names[c], name) == 0)
            return (int)c;
    return -1;
}

double history_at(const history *h, size_t i, int col)
{
    if (i >= h->count || col < 0 || (size_t)col >= h->ncols)
        return NAN;
    return h->v[i * h->ncols + (size_t)col];
}

double history_get(const history *h, size_t i, const char *name)
{
    return history_at(h, i, history_col(h, name));
}
