/*
 * cquote.h: the one way user-controlled text (the model file's path, the
 * model's name, anything from the model file) enters generated C.
 *
 * C11 translates trigraphs before anything else (`??/` is a backslash), a
 * backslash before a newline joins lines, and a comment ends at the first
 * `*` `/`: so a string literal or a comment that merely escapes quotes
 * lets a crafted path close it and inject code. Both functions keep a
 * small set of harmless bytes and rewrite everything else.
 */
#ifndef SEQC_CQUOTE_H
#define SEQC_CQUOTE_H

#include "util/arena.h"

/* s as a C string literal, quotes included: letters, digits, space and
 * punctuation other than '"', '\\' and '?' are kept; every other byte
 * becomes a three-digit octal escape, so the literal holds s byte for
 * byte (non-UTF-8 too) and contains no trigraph. */
char *cq_string(arena *a, const char *s);

/* s made safe to write between "/" "* " and " *" "/": bytes outside the
 * same safe set (newlines, '\\', '?', non-ASCII) become '_', and a '/' next
 * to a '*' becomes '_', so the text never ends the comment, never opens a
 * nested one, never holds a trigraph or a line splice. For reading only:
 * the exact text goes into a string (cq_string). */
char *cq_comment(arena *a, const char *s);

#endif
