/*
 * frontend.c: a model file to a checked model, in the order a reader
 * expects:
 *
 *   read the file (at most FRONTEND_MAX_FILE_BYTES) -> is it text? -> parse
 *     (parser.y) -> check (check.c)
 *     -> shapes and the model as a whole (shapes.c)
 *
 * and the --without KIND variant of a model, which goes through shapes.c
 * like the file would.
 */
#include "front/frontend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/check.h"
#include "front/diag.h"
#include "front/parse.h"
#include "util/fileio.h"
#include "front/shapes.h"

/* One error for a file that is not UTF-8 text: a NUL byte or a byte
 * sequence that is not UTF-8. Returns 0 when it reported. */
static int check_text(diag *d, const unsigned char *s, size_t len)
{
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        src_loc loc = {line, (int)(i - line_start) + 1};
        if (c == '\0') {
            diag_error_noquote(d, loc, "not a text file: NUL byte");
            return 0;
        }
        if (c < 0x80) {
            if (c == '\n') {
                line++;
                line_start = i + 1;
            }
            i++;
            continue;
        }
        /* the length of the sequence and the smallest code point it may
         * encode, so overlong forms and surrogates are refused */
        size_t n;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4, cp = c & 0x07, min = 0x10000;
        } else {
            diag_error_noquote(d, loc, "not a text file: byte 0x%02x is not UTF-8", c);
            return 0;
        }
        for (size_t k = 1; k < n; k++) {
            if (i + k >= len || (s[i + k] & 0xC0) != 0x80) {
                diag_error_noquote(d, loc, "not a text file: byte 0x%02x is not UTF-8", c);
                return 0;
            }
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            diag_error_noquote(d, loc, "not a text file: byte 0x%02x is not UTF-8", c);
            return 0;
        }
        i += n;
    }
    return 1;
}

static int drop_and_check(model *m, const layer_kind *kinds, int nkinds);

static int load_text(arena *a, diag *d, const char *text, size_t len, const frontend_opts *o,
                     model *out)
{
    memset(out, 0, sizeof *out);
    out->path = d->path;
    /* the lexer needs a NUL sentinel right after the text */
    char *copy = arena_strndup(a, text, len);
    d->text = copy;
    d->len = len;
    d->cache_line = 1;
    d->cache_off = 0;
    if (len == 0) {
        diag_file_error(d, "the file is empty; a model file starts with "
                           "'model NAME { input SHAPE ... }'");
        return 1;
    }
    if (!check_text(d, (const unsigned char *)copy, len))
        return 1;
    int errors = d->errors;
    ast_file *f = parse_text(a, d, d->path, copy, len);
    int ok = check_file(a, d, f, out) == 0 && d->errors == errors;
    out->diag = d;
    out->goal = o->goal;
    /* after any error (a statement lost to a syntax error, say) the
     * whole-model rules would only repeat it in other words */
    if (ok)
        drop_and_check(out, o->without, o->nwithout);
    return d->errors != errors;
}

int frontend_load_text(arena *a, diag *d, const char *text, size_t len, model *out)
{
    const frontend_opts train = {MODEL_TO_TRAIN, NULL, 0};
    return load_text(a, d, text, len, &train, out);
}

int frontend_load(arena *a, const char *path, model *out)
{
    const frontend_opts train = {MODEL_TO_TRAIN, NULL, 0};
    return frontend_load_with(a, path, &train, out);
}

int frontend_load_with(arena *a, const char *path, const frontend_opts *o, model *out)
{
    diag d;
    diag_init(&d, path, NULL, 0, stderr);
    memset(out, 0, sizeof *out);
    char *buf, why[256];
    size_t len;
    if (file_read_all(path, FRONTEND_MAX_FILE_BYTES, &buf, &len, why, sizeof why) != 0) {
        diag_file_error(&d, "%s", why);
        return 1;
    }
    /* in the arena: the model keeps it to check an edited model again */
    diag *kept = arena_alloc(a, sizeof *kept);
    *kept = d;
    int rc = load_text(a, kept, buf, len, o, out);
    free(buf);
    return rc;
}

/* Drops the layers of the given kinds (never the input) and runs the
 * whole-model rules on what is left, once: on a file as written (nkinds
 * 0) or on its variant. Returns 0, or 1 after reporting. */
static int drop_and_check(model *m, const layer_kind *kinds, int nkinds)
{
    /* where the first dropped layer of each kind was, for a note */
    src_loc dropped[LAYER_KIND_COUNT] = {{0, 0}};
    size_t kept = 0;
    for (size_t i = 0; i < m->nlayers; i++) {
        layer_kind k = m->layers[i].kind;
        bool drop = false;
        for (int j = 0; j < nkinds; j++)
            drop |= kinds[j] != LAYER_INPUT && k == kinds[j];
        if (!drop)
            m->layers[kept++] = m->layers[i];
        else if (dropped[k].line == 0)
            dropped[k] = m->layers[i].loc;
    }
    m->nlayers = kept;
    if (shapes_check(m->diag, m, m->goal) == 0)
        return 0;
    /* say why the model differs from the file */
    for (int k = 0; k < LAYER_KIND_COUNT; k++)
        if (dropped[k].line > 0)
            diag_note(m->diag, dropped[k], (int)strlen(layer_kind_name((layer_kind)k)),
                      "checked without this '%s' and every other one (--without %s)",
                      layer_kind_name((layer_kind)k), layer_kind_name((layer_kind)k));
    return 1;
}

int model_replace(model *m, layer_kind from, layer_kind to)
{
    if (!m->shaped)
        SEQC_BUG("an edit of a model that did not pass the check");
    const char *fname = layer_kind_name(from), *tname = layer_kind_name(to);
    src_loc first = {0, 0};
    for (size_t i = 0; i < m->nlayers; i++) {
        layer *l = &m->layers[i];
        if (l->kind != from)
            continue;
        char why[512];
        layer with;
        if (!check_replace_layer(l, to, &with, why, sizeof why)) {
            diag_error(m->diag, l->loc, (int)strlen(fname),
                       "'%s' cannot stand in for this '%s' (--replace %s=%s): %s", tname, fname,
                       fname, tname, why);
            m->shaped = false;
            return 1;
        }
        if (first.line == 0)
            first = l->loc;
        *l = with;
    }
    if (first.line == 0 || shapes_check(m->diag, m, m->goal) == 0)
        return 0;
    diag_note(m->diag, first, (int)strlen(fname),
              "checked with '%s' in place of this '%s' and every other one (--replace %s=%s)",
              tname, fname, fname, tname);
    return 1;
}

int model_without(model *m, const layer_kind *kinds, int nkinds)
{
    if (!m->shaped)
        SEQC_BUG("an edit of a model that did not pass the check");
    return nkinds > 0 ? drop_and_check(m, kinds, nkinds) : 0;
}
