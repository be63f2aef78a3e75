/*
 * csv.c: the CSV loader, plain or gzip: a header row of column names
 * (unless no_header), then one sample per line, every cell a number as
 * C's strtod reads it. The target columns are chosen by name (default:
 * the last column); every other column is an input.
 *
 * The file is read a line at a time and the values grow as rows arrive
 * (reader.h), so memory is four bytes per value plus the longest line,
 * whatever the file's size on disk or its count of blank lines.
 *
 * No line is ever skipped: line 1 is the header (or, with no_header, the
 * first sample), every later line a sample or an error naming the file,
 * the line and the column. RFC 4180 quoting ("a,b", "" for a quote, line
 * breaks inside quotes), CRLF line ends and a UTF-8 byte-order mark are
 * handled. Blank lines may only end the file.
 */
#define _POSIX_C_SOURCE 200809L

#include "seqrt.h"

#include "data/reader.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    CSV_CHUNK = 1 << 16,  /* bytes read from the file at a time */
    CSV_MAX_COLUMNS = 1 << 24,
    CSV_LIST_COLUMNS = 8  /* columns an unknown --target's message lists */
};

/* Lines of a (possibly gzipped) text file, each in a buffer of its own
 * that grows within the budget. */
typedef struct csv_reader {
    data_src     src;
    const char  *path;
    data_budget *b;
    char        *chunk; /* CSV_CHUNK bytes read, [pos, end) not yet used */
    size_t       pos, end;
    int          eof;
    char        *line;  /* the current line, NUL-terminated, without '\n' */
    size_t       len, cap;
    size_t       skipped; /* empty lines passed over before it */
} csv_reader;

/* Appends the next line to r->line (from r->len on). Unless raw, empty
 * lines before it are passed over and counted in r->skipped (a tight
 * loop: a file of millions of blank lines costs no per-line work).
 * Returns 1, 0 at the end of the file, -1 on error. */
static int csv_next_line(csv_reader *r, int raw, seqrt_error *err)
{
    int any = 0; /* a byte of this line (or its '\n') arrived */
    if (!raw) {
        r->len = 0;
        r->skipped = 0;
    }
    for (;;) {
        if (!any && !raw)
            while (r->pos < r->end && r->chunk[r->pos] == '\n')
                r->pos++, r->skipped++;
        if (r->pos == r->end) {
            if (r->eof)
                break;
            size_t n;
            if (data_src_read(&r->src, r->chunk, CSV_CHUNK, &n, err) < 0)
                return -1;
            r->pos = 0;
            r->end = n;
            r->eof = n < CSV_CHUNK;
            continue;
        }
        const char *from = r->chunk + r->pos;
        const char *nl = memchr(from, '\n', r->end - r->pos);
        size_t take = (size_t)((nl ? nl : r->chunk + r->end) - from);
        void *line = r->line;
        if (data_grow(r->b, &line, &r->cap, r->len + take + 1, SIZE_MAX, err) < 0)
            return -1;
        r->line = line;
        memcpy(r->line + r->len, from, take);
        r->len += take;
        r->pos += take;
        any = 1;
        if (nl) {
            r->pos++;
            break;
        }
    }
    if (r->eof && r->pos == r->end && data_src_cut_short(&r->src))
        return seqrt_fail(err, "%s: truncated gzip file: the stream ends early", r->path);
    if (r->line)
        r->line[r->len] = '\0';
    return any;
}

/* 1 when [p, end) holds an odd number of '"': a quoted cell goes on. */
static int open_quote(const char *p, const char *end)
{
    int open = 0;
    for (; p < end; p++)
        open ^= *p == '"';
    return open;
}

/* ------------------------------------------------------------ cells */

/* One cell of a line: [s, e) its text without quotes (a quoted cell is
 * unescaped into the scratch buffer), next the first byte after it. */
typedef struct csv_cell {
    const char *s, *e;
    char       *next;
    int         last;  /* no ',' after it */
    int         quoted;
} csv_cell;

typedef struct csv_file {
    csv_reader   r;
    const char  *path;
    size_t       line;     /* of the current row */
    int          columns;  /* per row */
    char       **names;    /* columns' names (no_header: their numbers) */
    int         *role;     /* per column: input k >= 0, or target -1 - k */
    int          inputs, targets;
    char        *scratch;  /* an unquoted copy of a quoted cell */
    size_t       scratch_cap;
} csv_file;

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The cell at p of the line ending at eol. */
static int csv_cell_at(csv_file *f, char *p, char *eol, int column, csv_cell *c,
                       seqrt_error *err)
{
    char *q = p;
    while (q < eol && is_blank(*q))
        q++;
    c->quoted = q < eol && *q == '"';
    if (!c->quoted) {
        char *comma = memchr(p, ',', (size_t)(eol - p));
        c->s = p;
        c->e = comma ? comma : eol;
        c->last = !comma;
        c->next = comma ? comma + 1 : eol;
        return 0;
    }
    /* "..." with "" for a quote, into scratch */
    size_t need = (size_t)(eol - q) + 1;
    if (need > f->scratch_cap) {
        void *s = f->scratch;
        if (data_grow(f->r.b, &s, &f->scratch_cap, need, SIZE_MAX, err) < 0)
            return -1;
        f->scratch = s;
    }
    size_t n = 0;
    for (q++;; q++) {
        if (q >= eol)
            return seqrt_fail(err, "%s:%zu: column %d: a quoted cell is not closed", f->path,
                              f->line, column + 1);
        if (*q == '"') {
            if (q + 1 < eol && q[1] == '"') {
                f->scratch[n++] = '"';
                q++;
                continue;
            }
            break;
        }
        f->scratch[n++] = *q;
    }
    f->scratch[n] = '\0';
    for (q++; q < eol && is_blank(*q); q++)
        ;
    if (q < eol && *q != ',')
        return seqrt_fail(err, "%s:%zu: column %d: text after the closing quote of a "
                          "quoted cell", f->path, f->line, column + 1);
    c->s = f->scratch;
    c->e = f->scratch + n;
    c->last = q >= eol;
    c->next = q < eol ? q + 1 : eol;
    return 0;
}

/* "column 3 'age'" (or "column 3" without a header) */
static const char *column_name(const csv_file *f, int column, char *buf, size_t len,
                               int named)
{
    if (named)
        snprintf(buf, len, "column %d '%.40s'", column + 1, f->names[column]);
    else
        snprintf(buf, len, "column %d", column + 1);
    return buf;
}

/* The number in cell c (its text NUL-terminated in place or in scratch). */
static int csv_number(csv_file *f, csv_cell *c, int column, int named, double *v,
                      seqrt_error *err)
{
    char col[80];
    const char *s = c->s, *e = c->e;
    while (s < e && is_blank(*s))
        s++;
    while (e > s && is_blank(e[-1]))
        e--;
    if (s == e)
        return seqrt_fail(err, "%s:%zu: %s is empty: every cell must be a number", f->path,
                          f->line, column_name(f, column, col, sizeof col, named));
    char *stop;
    char saved = *(char *)e;
    *(char *)e = '\0'; /* the cell lies in the line or the scratch buffer */
    errno = 0;
    *v = strtod(s, &stop);
    *(char *)e = saved;
    if (stop != e) {
        int width = (int)(e - s) > 24 ? 24 : (int)(e - s);
        return seqrt_fail(err, "%s:%zu: %s: '%.*s' is not a number", f->path, f->line,
                          column_name(f, column, col, sizeof col, named), width, s);
    }
    return 0;
}

/* Splits line [p, eol) into cells, the names of the header. */
static int csv_header(csv_file *f, char *p, char *eol, int named, seqrt_error *err)
{
    int n = 0, cap = 0;
    for (;;) {
        csv_cell c;
        if (n == CSV_MAX_COLUMNS)
            return seqrt_fail(err, "%s:%zu: more than %d columns", f->path, f->line,
                              CSV_MAX_COLUMNS);
        if (csv_cell_at(f, p, eol, n, &c, err) < 0)
            return -1;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(f->names, (size_t)cap * sizeof *grown);
            if (!grown)
                return seqrt_fail(err, "%s: out of memory", f->path);
            f->names = grown;
        }
        char buf[32];
        const char *s = c.s, *e = c.e;
        if (!named) {
            snprintf(buf, sizeof buf, "%d", n);
            s = buf;
            e = buf + strlen(buf);
        } else if (!c.quoted) {
            while (s < e && is_blank(*s))
                s++;
            while (e > s && is_blank(e[-1]))
                e--;
        }
        f->names[n] = malloc((size_t)(e - s) + 1);
        if (!f->names[n])
            return seqrt_fail(err, "%s: out of memory", f->path);
        memcpy(f->names[n], s, (size_t)(e - s));
        f->names[n][e - s] = '\0';
        n++;
        f->columns = n;
        if (c.last)
            break;
        p = c.next;
    }
    return 0;
}

/* The columns joined by ", " (at most CSV_LIST_COLUMNS, then a count). */
static void list_columns(const csv_file *f, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < f->columns && i < CSV_LIST_COLUMNS && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s'%.30s'", i ? ", " : "", f->names[i]);
    if (f->columns > CSV_LIST_COLUMNS && at < len)
        snprintf(buf + at, len - at, " and %d more", f->columns - CSV_LIST_COLUMNS);
}

/* Which columns are targets: csv->target's names (no_header: numbers),
 * else the last column; none with no_target. */
static int csv_roles(csv_file *f, const seqrt_csv_opts *csv, int named, seqrt_error *err)
{
    f->role = malloc((size_t)f->columns * sizeof *f->role);
    if (!f->role)
        return seqrt_fail(err, "%s: out of memory", f->path);
    for (int i = 0; i < f->columns; i++)
        f->role[i] = 0;
    f->targets = 0;
    if (csv->no_target) {
        if (csv->target)
            return seqrt_fail(err, "%s: internal: no_target with target columns", f->path);
    } else if (!csv->target) {
        f->role[f->columns - 1] = -1;
        f->targets = 1;
    } else {
        const char *p = csv->target;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            int found = -1;
            for (int i = 0; i < f->columns && found < 0; i++)
                if (strlen(f->names[i]) == n && strncmp(f->names[i], p, n) == 0)
                    found = i;
            if (found < 0) {
                char cols[400];
                list_columns(f, cols, sizeof cols);
                if (!named)
                    return seqrt_fail(err, "%s: --target '%.*s': without a header, targets "
                                      "are column numbers from 0 to %d", f->path, (int)n, p,
                                      f->columns - 1);
                return seqrt_fail(err, "%s: --target '%.*s': no such column; the header "
                                  "has %s", f->path, (int)n, p, cols);
            }
            if (f->role[found] < 0)
                return seqrt_fail(err, "%s: --target names column '%.*s' twice", f->path,
                                  (int)n, p);
            f->role[found] = -1 - f->targets++;
            if (!comma)
                break;
            p = comma + 1;
        }
    }
    f->inputs = 0;
    for (int i = 0; i < f->columns; i++)
        if (f->role[i] >= 0)
            f->role[i] = f->inputs++;
    if (f->inputs == 0)
        return seqrt_fail(err, "%s: every column is a target: no input columns are left",
                          f->path);
    return 0;
}

/* The samples as they arrive: inputs and targets grow by rows. */
typedef struct csv_rows {
    void  *x, *t;
    size_t x_cap, t_cap;
} csv_rows;

static int csv_room(csv_file *f, csv_rows *r, size_t count, seqrt_error *err)
{
    data_budget *b = f->r.b;
    size_t xrow = (size_t)f->inputs * sizeof(float), trow = (size_t)f->targets * sizeof(float);
    if (count >= UINT32_MAX)
        return seqrt_fail(err, "%s: more than %lu samples", f->path, (unsigned long)UINT32_MAX);
    if (count + 1 > SIZE_MAX / xrow)
        return data_over_limit(b, err);
    if (data_grow(b, &r->x, &r->x_cap, (count + 1) * xrow, SIZE_MAX, err) < 0)
        return -1;
    return trow ? data_grow(b, &r->t, &r->t_cap, (count + 1) * trow, SIZE_MAX, err) : 0;
}

/* One data row [p, eol) into x[inputs] and t[targets]. */
static int csv_row(csv_file *f, char *p, char *eol, int named, float *x, float *t,
                   size_t header_line, seqrt_error *err)
{
    int k = 0;
    for (;; k++) {
        csv_cell c;
        if (k == f->columns) {
            int more = 1;
            for (char *q = p; q < eol; q++) /* an estimate; quotes aside */
                more += *q == ',';
            return seqrt_fail(err, "%s:%zu: %d cells, expected %d like %s %zu", f->path,
                              f->line, f->columns + more, f->columns,
                              named ? "the header on line" : "line", header_line);
        }
        if (csv_cell_at(f, p, eol, k, &c, err) < 0)
            return -1;
        double v = 0;
        if (csv_number(f, &c, k, named, &v, err) < 0)
            return -1;
        int role = f->role[k];
        if (role >= 0)
            x[role] = (float)v;
        else
            t[-1 - role] = (float)v;
        if (c.last)
            break;
        p = c.next;
    }
    if (k + 1 < f->columns)
        return seqrt_fail(err, "%s:%zu: %d cells, expected %d like %s %zu", f->path, f->line,
                          k + 1, f->columns, named ? "the header on line" : "line",
                          header_line);
    return 0;
}

/* The next logical line: a physical line, and the ones after it while a
 * quoted cell is open. Returns 1, 0 at the end, -1 on error. */
static int csv_logical_line(csv_file *f, size_t *blank, seqrt_error *err)
{
    csv_reader *r = &f->r;
    int rc = csv_next_line(r, 0, err);
    if (rc <= 0)
        return rc;
    if (r->skipped && !*blank)
        *blank = f->line + 1;
    f->line += r->skipped + 1;
    while (memchr(r->line, '"', r->len) && open_quote(r->line, r->line + r->len)) {
        void *line = r->line;
        if (data_grow(r->b, &line, &r->cap, r->len + 2, SIZE_MAX, err) < 0)
            return -1;
        r->line = line;
        r->line[r->len++] = '\n';
        size_t before = r->len;
        rc = csv_next_line(r, 1, err);
        if (rc < 0)
            return -1;
        if (rc == 0 && r->len == before) {
            r->len--;
            r->line[r->len] = '\0';
            break; /* the cell's parser reports the open quote */
        }
        f->line++; /* a line break inside quotes: messages count it */
    }
    return 1;
}

static int csv_read(csv_file *f, const seqrt_csv_opts *csv, seqrt_dataset *out,
                    seqrt_error *err)
{
    const int named = !csv->no_header;
    csv_rows rows = {0};
    size_t blank = 0, count = 0, first_data = 0, header_line = 0;
    int rc;

    while ((rc = csv_logical_line(f, &blank, err)) > 0) {
        char *p = f->r.line, *eol = f->r.line + f->r.len;
        if (eol > p && eol[-1] == '\r')
            *--eol = '\0';
        if (f->line == 1 && eol - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
            p += 3; /* a UTF-8 byte-order mark, as spreadsheets write */
        if (eol == p) { /* blank line: allowed only at the end of the file */
            if (!blank)
                blank = f->line;
            continue;
        }
        if (blank) {
            seqrt_fail(err, "%s:%zu: empty line between %s", f->path, blank,
                       count ? "samples" : "the header and the samples");
            goto fail;
        }
        if (!f->columns) { /* the first line fixes the columns */
            if (csv_header(f, p, eol, named, err) < 0 || csv_roles(f, csv, named, err) < 0)
                goto fail;
            header_line = f->line;
            if (named)
                continue;
        }
        if (!first_data)
            first_data = f->line;
        if (csv_room(f, &rows, count, err) < 0)
            goto fail;
        if (csv_row(f, p, eol, named, (float *)rows.x + count * (size_t)f->inputs,
                    rows.t ? (float *)rows.t + count * (size_t)f->targets : NULL,
                    header_line, err) < 0)
            goto fail;
        count++;
    }
    if (rc < 0)
        goto fail;
    if (count == 0) {
        seqrt_fail(err, f->line == 0 ? "%s: empty file: no samples"
                   : f->columns && named ? "%s: no samples, only a header line"
                                         : "%s: no samples, only blank lines", f->path);
        goto fail;
    }
    out->values = rows.x;
    out->targets = rows.t;
    out->count = count;
    out->xtype = SEQRT_X_F32;
    out->scale = 1.0f;
    out->ndims = 1;
    out->sample_size = (size_t)f->inputs;
    out->dims[0] = (int64_t)f->inputs;
    out->y_width = f->targets;
    out->first_line = first_data;
    snprintf(out->source, sizeof out->source, "%s", f->path);
    if (f->targets)
        snprintf(out->labels_source, sizeof out->labels_source, "%s", f->path);
    return 0;
fail:
    free(rows.x);
    free(rows.t);
    return -1;
}

/* The header's names joined by ','. */
static char *join_names(const csv_file *f)
{
    size_t n = 1;
    for (int i = 0; i < f->columns; i++)
        n += strlen(f->names[i]) + 1;
    char *s = malloc(n), *at = s;
    if (!s)
        return NULL;
    for (int i = 0; i < f->columns; i++) {
        size_t k = strlen(f->names[i]);
        if (i)
            *at++ = ',';
        memcpy(at, f->names[i], k);
        at += k;
    }
    *at = '\0';
    return s;
}

int data_csv_load(const char *path, const void *mem, size_t mem_len,
                  const seqrt_csv_opts *csv, const seqrt_load_opts *opts,
                  seqrt_dataset *out, char **names, seqrt_error *err)
{
    static const seqrt_csv_opts defaults = {0};
    csv_file f;
    data_budget b;
    int rc = -1;
    memset(&f, 0, sizeof f);
    memset(out, 0, sizeof *out);
    if (names)
        *names = NULL;
    if (!csv)
        csv = &defaults;
    if (mem) {
        path = "<csv>";
        data_src_mem(&f.r.src, path, mem, mem_len);
    } else if (data_src_open(&f.r.src, path, err) < 0) {
        return -1;
    }
    f.path = f.r.path = path;
    data_budget_init(&b, path, opts);
    f.r.b = &b;
    f.r.chunk = malloc(CSV_CHUNK);
    if (!f.r.chunk)
        seqrt_fail(err, "%s: out of memory", path);
    else
        rc = csv_read(&f, csv, out, err);
    if (rc == 0 && names && !(*names = join_names(&f)))
        rc = seqrt_fail(err, "%s: out of memory", path);
    data_src_close(&f.r.src);
    free(f.r.line);
    free(f.r.chunk);
    free(f.scratch);
    for (int i = 0; i < f.columns; i++)
        free(f.names[i]);
    free(f.names);
    free(f.role);
    if (rc < 0)
        seqrt_dataset_free(out);
    return rc;
}

int seqrt_load_csv(const char *path, const seqrt_csv_opts *csv, const seqrt_load_opts *opts,
                   seqrt_dataset *out, seqrt_error *err)
{
    return data_csv_load(path, NULL, 0, csv, opts, out, NULL, err);
}

int seqrt_load_csv_mem(const void *text, size_t len, const seqrt_csv_opts *csv,
                       const seqrt_load_opts *opts, seqrt_dataset *out, seqrt_error *err)
{
    return data_csv_load(NULL, text ? text : "", len, csv, opts, out, NULL, err);
}
