/*
 * diag.h: diagnostics about the user's model file.
 *
 *   mnist.seq:4:3: error: unknown layer 'batchnrom'; did you mean 'batchnorm'?
 *       4 |   batchnrom
 *         |   ^~~~~~~~~
 *
 * One diag per compilation: it knows the file's path and text (to quote
 * the source line) and counts errors and warnings. Internal bugs do not go
 * through here: they call SEQC_BUG (util/bug.h), which aborts.
 */
#ifndef SEQC_DIAG_H
#define SEQC_DIAG_H

#include <stdio.h>
#include "front/ast.h"
#include "util/bug.h"

typedef struct diag {
    const char *path;   /* as the user wrote it */
    const char *text;   /* the whole file; may be NULL (no source excerpt) */
    size_t      len;
    FILE       *out;    /* stderr, or a test's stream */
    int         errors;
    int         warnings;
    /* where the last quoted line starts: diagnostics mostly come in line
     * order, so finding the next line scans on from here, not from the top */
    int         cache_line;
    size_t      cache_off;
    int         muted;  /* past DIAG_MAX_SHOWN errors: counted, not shown */
} diag;

/* Errors shown per file; the rest are counted and summed up in one line,
 * as C compilers do (gcc -fmax-errors): past a few dozen, more errors only
 * bury the first, which is the one to fix. */
#define DIAG_MAX_SHOWN 20
/* The most bytes of a source line quoted under a diagnostic: a longer line
 * is cut around the caret, so a huge one-line file cannot flood stderr. */
#define DIAG_QUOTE_WIDTH 200

void diag_init(diag *d, const char *path, const char *text, size_t len, FILE *out);

/* Errors and warnings point at loc and underline span bytes of it
 * (span <= 1 gives a lone caret). Notes add context to the diagnostic just
 * printed (e.g. "first given here"). */
void diag_error(diag *d, src_loc loc, int span, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
void diag_warning(diag *d, src_loc loc, int span, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
void diag_note(diag *d, src_loc loc, int span, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* An error about the file as a whole (cannot read it, empty): "FILE: error: ..." */
void diag_file_error(diag *d, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* An error with a location but no source excerpt (binary files). */
void diag_error_noquote(diag *d, src_loc loc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
