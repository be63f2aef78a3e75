/*
 * csv.c: the CSV loader: one sample per line, the label in the first
 * column, then the values, each an integer 0..255; plain or gzip.
 *
 * The file is read a line at a time, and the samples' bytes grow as rows
 * arrive (reader.h), so memory is one byte per value plus the longest
 * line, whatever the file's size on disk or its count of blank lines.
 *
 * The header rule (documented in seqrt.h and docs/data.md): a UTF-8
 * byte-order mark at the start of the file is skipped; line 1 is a header
 * when at least one of its cells is not a number as C's strtod reads one
 * (so "label,x1" is a header, while "3,0,7", "nan,1,2" or "1.5,2,3" are
 * data, and a data line that is not all integers 0..255 is an error).
 * No other line is ever skipped: every later line is a sample or an
 * error naming file, line and column. Blank lines may only end the file.
 */
#define _POSIX_C_SOURCE 200809L

#include "seqrt.h"

#include "data/reader.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CSV_CHUNK = 1 << 16 }; /* bytes read from the file at a time */

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

/* Reads the next line that is not empty, counting the empty ones before
 * it in r->skipped (a tight loop: a file of millions of blank lines costs
 * no per-line work). Returns 1, 0 at the end of the file (r->skipped then
 * counts the blank lines at the end), -1 on error. */
static int csv_next_line(csv_reader *r, seqrt_error *err)
{
    int any = 0; /* a byte of this line (or its '\n') arrived */
    r->len = 0;
    r->skipped = 0;
    for (;;) {
        if (!any)
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
    if (!any)
        return 0;
    if (r->line)
        r->line[r->len] = '\0';
    return 1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* 1 when the cell [s, end) is a number as strtod reads one ("7", "-1.5",
 * "1e3", "nan", "inf"), blanks around it allowed. The cell lies in the
 * reader's own line buffer, so its end may be NUL-terminated for strtod
 * and restored. */
static int cell_is_number(char *s, char *end)
{
    while (s < end && is_blank(*s))
        s++;
    while (end > s && is_blank(end[-1]))
        end--;
    if (s == end || *s == '\n' || *s == '\v' || *s == '\f' || *s == '\r')
        return 0;
    char saved = *end, *stop;
    *end = '\0';
    (void)strtod(s, &stop);
    *end = saved;
    return stop == end;
}

static int count_fields(const char *s, const char *end)
{
    int n = 1;
    for (; s < end; s++)
        n += *s == ',';
    return n;
}

/* Line 1 is a header when any of its cells is not a number. */
static int csv_is_header(char *p, char *eol)
{
    while (p <= eol) {
        char *c = memchr(p, ',', (size_t)(eol - p));
        if (!c)
            c = eol;
        if (!cell_is_number(p, c))
            return 1;
        p = c + 1;
    }
    return 0;
}

/* One whole field [s, end): optional blanks, an optional '-', digits,
 * optional blanks. Returns 0 and the value (capped in magnitude, enough to
 * tell that it is out of range), or -1 when the field is not an integer. */
static int csv_int(const char *s, const char *end, long *value)
{
    while (s < end && is_blank(*s))
        s++;
    while (end > s && is_blank(end[-1]))
        end--;
    int neg = s < end && *s == '-';
    s += neg;
    if (s == end)
        return -1;
    long v = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v < 100000)
            v = v * 10 + (*s - '0');
    }
    *value = neg ? -v : v;
    return 0;
}

/* The message for field k (0 = the label) starting at f, which is not an
 * integer 0..255: not a number, a number but not an integer, or out of
 * range. */
static int csv_bad_field(const char *path, size_t line, char *p, char *eol, char *f,
                         int k, seqrt_error *err)
{
    char *fe = memchr(f, ',', (size_t)(eol - f));
    if (!fe)
        fe = eol;
    int col = (int)(f - p) + 1;
    int width = (int)(fe - f) > 24 ? 24 : (int)(fe - f);
    const char *name = k == 0 ? "the label" : "a value";
    long lv;
    if (csv_int(f, fe, &lv) == 0)
        return seqrt_fail(err, "%s:%zu:%d: field %d: %s '%.*s' is out of range 0..255",
                          path, line, col, k + 1, name, width, f);
    if (cell_is_number(f, fe))
        return seqrt_fail(err, "%s:%zu:%d: field %d: '%.*s' is not an integer (%s "
                          "must be an integer 0..255)", path, line, col, k + 1, width,
                          f, name);
    return seqrt_fail(err, "%s:%zu:%d: field %d: '%.*s' is not a number (%s must be "
                      "an integer 0..255)", path, line, col, k + 1, width, f, name);
}

/* Parses one data row [p, eol) of `fields` fields into *label and row[].
 * The fast path reads each field in one scan; anything unusual is handed
 * to csv_bad_field for the diagnosis. Returns 0 or -1 with the message. */
static int csv_row(const char *path, size_t line, char *p, char *eol, int fields,
                   size_t first_data, uint8_t *label, uint8_t *row, seqrt_error *err)
{
    char *f = p;
    for (int k = 0; k < fields; k++) {
        if (f > eol) /* the previous field ended the line */
            return seqrt_fail(err, "%s:%zu: %d fields, expected %d like line %zu",
                              path, line, k, fields, first_data);
        char *s = f;
        unsigned v = 0;
        int digits = 0;
        while (s < eol && is_blank(*s))
            s++;
        for (; s < eol && (unsigned)(*s - '0') < 10; s++, digits++)
            if (v < 1000)
                v = v * 10 + (unsigned)(*s - '0');
        while (s < eol && is_blank(*s))
            s++;
        if (digits == 0 || (s < eol && *s != ',') || v > 255)
            return csv_bad_field(path, line, p, eol, f, k, err);
        if (k == 0)
            *label = (uint8_t)v;
        else
            row[k - 1] = (uint8_t)v;
        f = s + 1; /* past the comma, or past eol when the line ended */
    }
    if (f <= eol) /* more fields than the first row */
        return seqrt_fail(err, "%s:%zu: %d fields, expected %d like line %zu", path,
                          line, fields + count_fields(f, eol), fields, first_data);
    return 0;
}

/* The samples as they arrive: pixels and labels grow by rows. */
typedef struct csv_rows {
    void  *pixels, *labels;
    size_t pixels_cap, labels_cap;
} csv_rows;

/* Room for one more row after `count` rows of `size` values. */
static int csv_room(data_budget *b, csv_rows *r, size_t count, size_t size,
                    seqrt_error *err)
{
    if (count >= UINT32_MAX)
        return seqrt_fail(err, "%s: more than %lu samples", b->path,
                          (unsigned long)UINT32_MAX);
    if (count + 1 > SIZE_MAX / size)
        return data_over_limit(b, err);
    if (data_grow(b, &r->pixels, &r->pixels_cap, (count + 1) * size, SIZE_MAX, err) < 0)
        return -1;
    return data_grow(b, &r->labels, &r->labels_cap, count + 1, SIZE_MAX, err);
}

/* Gives a buffer of `cap` bytes back down to the `used` it holds. */
static void *shrink(void *buf, size_t used)
{
    void *small = realloc(buf, used ? used : 1);
    return small ? small : buf;
}

static int csv_read(csv_reader *r, seqrt_dataset *out, seqrt_error *err)
{
    const char *path = r->path;
    csv_rows rows = {0};
    int fields = 0;        /* per row, fixed by the first data row */
    size_t first_data = 0; /* line number of the first data row */
    int header_fields = 0;
    size_t line = 0, blank = 0; /* blank: the first blank line, if any */
    size_t count = 0;
    int rc;

    while ((rc = csv_next_line(r, err)) > 0) {
        char *p = r->line, *eol = r->line + r->len;
        if (r->skipped && !blank)
            blank = line + 1;
        line += r->skipped + 1;
        if (eol > p && eol[-1] == '\r')
            eol--;
        if (line == 1 && eol - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
            p += 3; /* a UTF-8 byte-order mark, as spreadsheets write */
        if (eol == p) { /* blank line: allowed only at the end of the file */
            if (!blank)
                blank = line;
            continue;
        }
        if (blank) {
            seqrt_fail(err, "%s:%zu: empty line between samples", path, blank);
            goto fail;
        }
        if (line == 1 && csv_is_header(p, eol)) {
            header_fields = count_fields(p, eol);
            continue;
        }
        if (!fields) { /* the first data row sets the shape */
            int n = count_fields(p, eol);
            if (n < 2) {
                seqrt_fail(err, "%s:%zu: only one field: expected the label then "
                           "the values", path, line);
                goto fail;
            }
            if (header_fields && header_fields != n) {
                seqrt_fail(err, "%s:%zu: %d fields, but the header on line 1 has %d",
                           path, line, n, header_fields);
                goto fail;
            }
            fields = n;
            first_data = line;
            out->sample_size = (size_t)(n - 1);
        }
        if (csv_room(r->b, &rows, count, out->sample_size, err) < 0)
            goto fail;
        if (csv_row(path, line, p, eol, fields, first_data, (uint8_t *)rows.labels + count,
                    (uint8_t *)rows.pixels + count * out->sample_size, err) < 0)
            goto fail;
        count++;
    }
    if (rc < 0)
        goto fail;
    line += r->skipped;
    if (count == 0) {
        seqrt_fail(err, line == 0 ? "%s: empty file: no samples"
                   : header_fields ? "%s: no samples, only a header line"
                                   : "%s: no samples, only blank lines", path);
        goto fail;
    }
    if (out->sample_size > INT_MAX) {
        seqrt_fail(err, "%s: %zu values per row is too many", path, out->sample_size);
        goto fail;
    }
    out->pixels = shrink(rows.pixels, count * out->sample_size);
    rows.pixels = NULL;
    if (data_bytes_to_targets(r->b, rows.labels, count, &out->targets, err) < 0) {
        rows.labels = NULL;
        goto fail;
    }
    out->y_width = 1;
    out->count = count;
    out->xtype = SEQRT_X_U8;
    out->ndims = 1;
    out->dims[0] = (int64_t)out->sample_size;
    out->scale = 1.0f / 255.0f;
    out->first_line = first_data;
    snprintf(out->source, sizeof out->source, "%s", path);
    snprintf(out->labels_source, sizeof out->labels_source, "%s", path);
    return 0;
fail:
    free(out->pixels);
    out->pixels = NULL;
    free(rows.pixels);
    free(rows.labels);
    return -1;
}

/* The loader behind every entry point; closes r->src. */
static int csv_load(csv_reader *r, const seqrt_load_opts *opts, seqrt_dataset *out,
                    seqrt_error *err)
{
    data_budget b;
    int rc = -1;
    data_budget_init(&b, r->path, opts);
    r->b = &b;
    r->chunk = malloc(CSV_CHUNK);
    if (!r->chunk)
        seqrt_fail(err, "%s: out of memory", r->path);
    else
        rc = csv_read(r, out, err);
    data_src_close(&r->src);
    free(r->line);
    free(r->chunk);
    if (rc < 0)
        seqrt_dataset_free(out);
    return rc;
}

int seqrt_load_csv(const char *path, const seqrt_csv_opts *csv,
                   const seqrt_load_opts *opts, seqrt_dataset *out, seqrt_error *err)
{
    (void)csv;
    csv_reader r = {.path = path};
    memset(out, 0, sizeof *out);
    if (data_src_open(&r.src, path, err) < 0)
        return -1;
    return csv_load(&r, opts, out, err);
}

int seqrt_load_csv_mem(const void *text, size_t len, const seqrt_csv_opts *csv,
                       const seqrt_load_opts *opts, seqrt_dataset *out, seqrt_error *err)
{
    (void)csv;
    csv_reader r = {.path = "<csv>"};
    memset(out, 0, sizeof *out);
    data_src_mem(&r.src, r.path, text, len);
    return csv_load(&r, opts, out, err);
}

