/*
 * cquote.c: string literals and comment text for generated C (cquote.h).
 */
#include "back/cquote.h"

#include <stdio.h>
#include <string.h>

/* bytes written as they are: no quote, backslash or '?' (trigraphs) */
static int cq_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr(" _-.,/:+=@%^&*()[]{}<>;~!|#$'", c) != NULL);
}

char *cq_string(arena *a, const char *s)
{
    size_t n = strlen(s);
    char *out = arena_alloc(a, 4 * n + 3), *o = out;
    *o++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (cq_safe(c))
            *o++ = (char)c;
        else /* always three digits: a following digit cannot extend it */
            o += snprintf(o, 5, "\\%03o", c);
    }
    *o++ = '"';
    *o = 0;
    return out;
}

char *cq_comment(arena *a, const char *s)
{
    char *c = arena_strdup(a, s);
    for (unsigned char *p = (unsigned char *)c; *p; p++)
        if (!cq_safe(*p))
            *p = '_';
    for (char *p = c; *p; p++)
        if (*p == '/' && ((p > c && p[-1] == '*') || p[1] == '*'))
            *p = '_';
    return c;
}
