/*
 * diag.c: printing diagnostics with the source line and a caret.
 *
 * Columns are 1-based byte offsets. When the caret line is drawn, a tab
 * before the column is copied as a tab and a multi-byte UTF-8 character
 * counts as one cell, so the caret lines up in a terminal.
 */
#include "front/diag.h"
#include "util/sbuf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_init(diag *d, const char *path, const char *text, size_t len, FILE *out)
{
    d->path = path;
    d->text = text;
    d->len = len;
    d->out = out ? out : stderr;
    d->errors = 0;
    d->warnings = 0;
    d->cache_line = 1;
    d->cache_off = 0;
    d->muted = 0;
}

/* Finds line number `line` (1-based) in the text: start and length
 * without the line terminator. Returns 0 when the line does not exist. */
static int find_line(diag *d, int line, const char **start, size_t *len)
{
    if (!d->text || line < 1)
        return 0;
    int l = 1;
    const char *p = d->text, *end = d->text + d->len;
    if (line >= d->cache_line && d->cache_off <= d->len) {
        l = d->cache_line;
        p = d->text + d->cache_off;
    }
    for (; l < line; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return 0;
        p = nl + 1;
    }
    d->cache_line = line;
    d->cache_off = (size_t)(p - d->text);
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    *start = p;
    *len = n;
    return 1;
}

/* One diagnostic is built in memory and written with one fwrite: stderr
 * is unbuffered, and a byte at a time would cost a system call each. */

/* A UTF-8 character's first byte at or after i (at most end) */
static size_t char_start(const char *line, size_t i, size_t end)
{
    while (i < end && ((unsigned char)line[i] & 0xC0) == 0x80)
        i++;
    return i;
}

/* The part of a long line that is shown: DIAG_QUOTE_WIDTH bytes around
 * the caret, cut at character boundaries, so a 10 MB one-line file gives
 * bounded output. [*from, *to) of line[0..len). */
static void quote_window(const char *line, size_t len, size_t col, size_t *from, size_t *to)
{
    *from = 0;
    *to = len;
    if (len <= DIAG_QUOTE_WIDTH)
        return;
    size_t start = col > DIAG_QUOTE_WIDTH / 2 ? col - DIAG_QUOTE_WIDTH / 2 : 0;
    if (start + DIAG_QUOTE_WIDTH > len)
        start = len - DIAG_QUOTE_WIDTH;
    size_t end = start + DIAG_QUOTE_WIDTH;
    *from = char_start(line, start, len);
    *to = end < len ? char_start(line, end, len) : len;
}

/* "    4 | dense 12x\n      |       ^~~\n"; the gutter widens past 99999.
 * A line longer than DIAG_QUOTE_WIDTH is cut around the caret, "..."
 * marking each cut end. */
static void quote_source(diag *d, sbuf *b, src_loc loc, int span)
{
    const char *line;
    size_t len;
    if (!find_line(d, loc.line, &line, &len))
        return;
    char num[16];
    int w = snprintf(num, sizeof num, "%d", loc.line);
    if (w < 5)
        w = 5;
    size_t col = loc.col > 0 ? (size_t)loc.col - 1 : 0;
    if (col > len)
        col = len;
    size_t from, to;
    quote_window(line, len, col, &from, &to);
    if (col < from)
        col = from;
    if (col > to)
        col = to;
    const char *pre = from > 0 ? "..." : "", *post = to < len ? "..." : "";
    sb_printf(b, "%*s | %s%.*s%s\n%*s | %s", w, num, pre, (int)(to - from), line + from, post,
              w, "", from > 0 ? "   " : "");
    for (size_t i = from; i < col; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == '\t')
            sb_putc(b, '\t');
        else if ((c & 0xC0) != 0x80) /* not a UTF-8 continuation byte */
            sb_putc(b, ' ');
    }
    sb_putc(b, '^');
    /* tildes under the rest of the token, never past what is shown */
    for (size_t i = col + 1; i < col + (size_t)(span > 1 ? span : 1) && i < to; i++)
        if (((unsigned char)line[i] & 0xC0) != 0x80)
            sb_putc(b, '~');
    sb_putc(b, '\n');
}

static void emit(diag *d, sbuf *b)
{
    if (b->n)
        fwrite(b->p, 1, b->n, d->out);
    free(b->p);
}

/* kind: "error", "warning", "note"; quote: show the source line */
static void report(diag *d, const char *kind, src_loc loc, int span, int quote,
                   const char *fmt, va_list ap)
{
    int is_error = kind[0] == 'e';
    if (kind[0] != 'n') { /* a note follows its error or warning's fate */
        d->muted = is_error ? d->errors >= DIAG_MAX_SHOWN : d->muted;
        if (is_error && d->errors == DIAG_MAX_SHOWN)
            fprintf(d->out, "%s: error: too many errors (more than %d); the rest are not "
                            "shown\n", d->path, DIAG_MAX_SHOWN);
    }
    if (d->muted)
        return;
    sbuf b = {0};
    sb_printf(&b, "%s:%d:%d: %s: ", d->path, loc.line, loc.col, kind);
    sb_vprintf(&b, fmt, ap);
    sb_putc(&b, '\n');
    if (quote)
        quote_source(d, &b, loc, span);
    emit(d, &b);
}

void diag_error(diag *d, src_loc loc, int span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(d, "error", loc, span, 1, fmt, ap);
    va_end(ap);
    d->errors++;
}

void diag_warning(diag *d, src_loc loc, int span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(d, "warning", loc, span, 1, fmt, ap);
    va_end(ap);
    d->warnings++;
}

void diag_note(diag *d, src_loc loc, int span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(d, "note", loc, span, 1, fmt, ap);
    va_end(ap);
}

void diag_file_error(diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(d->out, "%s: error: ", d->path);
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
    va_end(ap);
    d->errors++;
}

void diag_error_noquote(diag *d, src_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(d, "error", loc, 0, 0, fmt, ap);
    va_end(ap);
    d->errors++;
}
