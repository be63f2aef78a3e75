/* fe_testutil.h: helpers for the front end's cmocka tests: diagnostics
 * captured in a temporary file and read back as a string. */
#ifndef SEQC_FE_TESTUTIL_H
#define SEQC_FE_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "front/diag.h"

typedef struct captured {
    FILE *fp;
    char  text[8192];
} captured;

static inline void capture_start(captured *c, diag *d, const char *path, const char *src)
{
    c->fp = tmpfile();
    if (!c->fp) {
        perror("tmpfile");
        exit(1);
    }
    diag_init(d, path, src, src ? strlen(src) : 0, c->fp);
}

/* everything written so far, NUL-terminated */
static inline const char *capture_text(captured *c)
{
    fflush(c->fp);
    long end = ftell(c->fp);
    rewind(c->fp);
    size_t n = fread(c->text, 1, sizeof c->text - 1, c->fp);
    c->text[n] = '\0';
    fseek(c->fp, end, SEEK_SET);
    return c->text;
}

static inline void capture_end(captured *c) { fclose(c->fp); }

#endif
