/*
 * sbuf.h: a growable string, for text built in memory before it is
 * written at once (a diagnostic, a block of generated C). Running out of
 * memory prints "seqc: out of memory" and exits 1, like the arena.
 */
#ifndef SEQC_SBUF_H
#define SEQC_SBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct sbuf {
    char  *p;   /* NUL-terminated once anything was added; NULL before */
    size_t n;   /* length, without the NUL */
    size_t cap;
} sbuf;

void sb_putc(sbuf *b, char c);
void sb_vprintf(sbuf *b, const char *fmt, va_list ap);
void sb_printf(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void sb_free(sbuf *b);

#endif
