/*
 * parse.c: the parser's driver, the AST constructors the grammar's actions
 * call, number conversion for the lexer, and syntax error messages.
 *
 * Constructors only allocate and link; every judgement about what a
 * statement means is left to check.c.
 */
#include "front/parse.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void lexer_init(lexer *lx, const char *text, size_t len)
{
    memset(lx, 0, sizeof *lx);
    lx->text = (const unsigned char *)text;
    lx->lim = lx->text + len;
    lx->cur = lx->tok = lx->marker = lx->ctxmarker = lx->text;
    lx->line_start = lx->prev_line_start = lx->text;
    lx->line = 1;
}

void parse_state_init(parse_state *ps, arena *a, diag *d, const char *path,
                      const char *text, size_t len)
{
    ps->arena = a;
    ps->diag = d;
    lexer_init(&ps->lx, text, len);
    ps->file = arena_alloc(a, sizeof *ps->file);
    ps->file->path = path;
}

ast_file *parse_text(arena *a, diag *d, const char *path, const char *text, size_t len)
{
    parse_state ps;
    parse_state_init(&ps, a, d, path, text, len);
    int rc = syparse(&ps);
    /* rc 1 means recovery gave up (e.g. at the end of the file) after the
     * error was reported; 2 would be Bison's memory exhaustion. */
    if (rc == 2)
        SEQC_BUG("parser stack exhausted");
    if (rc != 0 && d->errors == 0)
        SEQC_BUG("the parser failed without reporting an error");
    return ps.file;
}

/* ------------------------------------------------------------ constructors */

static ast_items items_append(parse_state *ps, ast_items it, ast_item *item)
{
    (void)ps;
    if (it.last)
        it.last->next = item;
    else
        it.first = item;
    it.last = item;
    return it;
}

ast_items ast_items_add_arg(parse_state *ps, ast_items it, const ast_value *v)
{
    ast_item *item = arena_alloc(ps->arena, sizeof *item);
    item->opt.value = *v;
    it.nargs++;
    return items_append(ps, it, item);
}

ast_items ast_items_add_option(parse_state *ps, ast_items it, const ast_value *key,
                               const ast_value *v)
{
    ast_item *item = arena_alloc(ps->arena, sizeof *item);
    item->is_option = 1;
    item->opt.key = key->text;
    item->opt.key_loc = key->loc;
    item->opt.value = *v;
    it.nopts++;
    return items_append(ps, it, item);
}

ast_stmt *ast_stmt_new(parse_state *ps, const ast_value *keyword, ast_items it)
{
    ast_stmt *s = arena_alloc(ps->arena, sizeof *s);
    s->keyword = keyword->text;
    s->loc = keyword->loc;
    s->nargs = it.nargs;
    s->nopts = it.nopts;
    s->args = arena_array(ps->arena, (size_t)it.nargs, sizeof *s->args);
    s->opts = arena_array(ps->arena, (size_t)it.nopts, sizeof *s->opts);
    int na = 0, no = 0;
    for (ast_item *item = it.first; item; item = item->next) {
        if (item->is_option)
            s->opts[no++] = item->opt;
        else
            s->args[na++] = item->opt.value;
    }
    return s;
}

ast_stmt_list ast_stmts_append(ast_stmt_list l, ast_stmt *s)
{
    if (l.last)
        l.last->next = s;
    else
        l.first = s;
    l.last = s;
    l.count++;
    return l;
}

ast_block *ast_block_new(parse_state *ps, ast_stmt *head, ast_stmt_list body,
                         SYLTYPE close_loc)
{
    ast_block *b = arena_alloc(ps->arena, sizeof *b);
    b->keyword = head->keyword;
    b->loc = head->loc;
    b->head = head;
    if (strcmp(head->keyword, "model") == 0)
        b->kind = AST_BLOCK_MODEL;
    else if (strcmp(head->keyword, "train") == 0)
        b->kind = AST_BLOCK_TRAIN;
    else
        b->kind = AST_BLOCK_OTHER;
    if (head->nargs >= 1 && head->args[0].kind == AST_IDENT) {
        b->name = head->args[0].text;
        b->name_loc = head->args[0].loc;
    }
    b->first = body.first;
    b->last = body.last;
    b->count = body.count;
    b->end_loc = parse_loc(&close_loc);
    return b;
}

void ast_file_add_block(parse_state *ps, ast_block *b)
{
    ast_file *f = ps->file;
    if (f->last)
        f->last->next = b;
    else
        f->first = b;
    f->last = b;
}

void ast_file_add_loose(parse_state *ps, ast_stmt *s)
{
    ast_file *f = ps->file;
    if (f->loose_last)
        f->loose_last->next = s;
    else
        f->loose_first = s;
    f->loose_last = s;
}

/* ---------------------------------------------------------- syntax errors */

src_loc parse_loc(const SYLTYPE *loc)
{
    return (src_loc){loc->first_line, loc->first_column};
}

static int loc_span(const SYLTYPE *loc)
{
    return loc->first_line == loc->last_line ? loc->last_column - loc->first_column : 1;
}

void parse_syntax_error(parse_state *ps, const SYLTYPE *loc, const char *msg)
{
    diag_error(ps->diag, parse_loc(loc), loc_span(loc), "%s", msg);
}

void parse_report_unexpected(parse_state *ps, const SYLTYPE *loc, const char *tokname,
                             int no_text, const char *const *expected, int nexpected)
{
    char what[128];
    const lexer *lx = &ps->lx;
    int len = (int)(lx->cur - lx->tok);
    if (no_text || len <= 0)
        snprintf(what, sizeof what, "%s", tokname);
    else if (tokname[0] == '\'')          /* punctuation: its alias is its text */
        snprintf(what, sizeof what, "%s", tokname);
    else
        snprintf(what, sizeof what, "%s '%.*s'", tokname, len > 40 ? 40 : len,
                 (const char *)lx->tok);
    char exp[256] = "";
    size_t used = 0;
    for (int i = 0; i < nexpected; i++) {
        const char *sep = i == 0 ? ", expected " : i == nexpected - 1 ? " or " : ", ";
        int w = snprintf(exp + used, sizeof exp - used, "%s%s", sep, expected[i]);
        if (w < 0 || (size_t)w >= sizeof exp - used)
            break;
        used += (size_t)w;
    }
    diag_error(ps->diag, parse_loc(loc), loc_span(loc), "unexpected %s%s", what, exp);
}

/* ------------------------------------------------------- lexer's helpers */

void lexer_error_char(parse_state *ps, const SYLTYPE *loc)
{
    const lexer *lx = &ps->lx;
    unsigned char c = lx->tok[0];
    if (c >= 0x80)  /* a whole UTF-8 character: the file was validated */
        diag_error(ps->diag, parse_loc(loc), 1, "unexpected character '%.*s'",
                   (int)(lx->cur - lx->tok), (const char *)lx->tok);
    else if (c >= 0x20 && c < 0x7f)
        diag_error(ps->diag, parse_loc(loc), 1, "unexpected character '%c'", c);
    else
        diag_error(ps->diag, parse_loc(loc), 1, "unexpected character (byte 0x%02x)", c);
}

/* Decimal digits s[0..n) to their magnitude in *out; returns 0 when it is
 * over max (*out = max). */
static int parse_magnitude(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10) {
            *out = max;
            return 0;
        }
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

/* Decimal digits s[0..n) to *out; returns 0 on overflow (*out = INT64_MAX). */
static int parse_int64(const char *s, size_t n, int64_t *out)
{
    uint64_t v;
    int ok = parse_magnitude(s, n, (uint64_t)INT64_MAX, &v);
    *out = (int64_t)v;
    return ok;
}

/* "128", "-3", "0.001", "1e-7": v->text/len/loc are set by the lexer. A
 * whole number that does not fit is marked overflow and saturates, so its
 * sign tells the check pass whether it is too large or too small
 * (INT64_MIN itself fits). */
void lexer_number(parse_state *ps, ast_value *v)
{
    const char *s = v->text;
    int is_float = strpbrk(s, ".eE") != NULL;
    errno = 0;
    double f = strtod(s, NULL);
    if (errno == ERANGE && (f > 1.0 || f < -1.0))
        v->overflow = 1;
    v->f = f;
    if (is_float) {
        v->kind = AST_FLOAT;
        return;
    }
    v->kind = AST_INT;
    int neg = s[0] == '-';
    uint64_t mag;
    if (!parse_magnitude(s + neg, strlen(s + neg), (uint64_t)INT64_MAX + neg, &mag))
        v->overflow = 1;
    /* -mag computed in unsigned arithmetic: -(2^63) is INT64_MIN, not UB */
    v->i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    (void)ps;
}

void lexer_ratio(parse_state *ps, ast_value *v)
{
    char *slash;
    double num = strtod(v->text, &slash);
    double den = strtod(slash + 1, NULL);
    if (den == 0.0) {
        v->kind = AST_BAD;
        diag_error(ps->diag, v->loc, v->len, "'%s' divides by zero", v->text);
        return;
    }
    v->kind = AST_FLOAT;
    v->f = num / den;
    /* 1e400/1 is inf; the check pass reports a value out of range */
    if (!(v->f <= 1e308 && v->f >= -1e308))
        v->overflow = 1;
}

/* "28x28": every dimension is kept in ndims even past AST_MAX_DIMS, so the
 * check pass can say how many were written; only the first AST_MAX_DIMS
 * values are stored. */
void lexer_shape(parse_state *ps, ast_value *v)
{
    (void)ps;
    v->kind = AST_SHAPE;
    const char *p = v->text;
    for (;;) {
        size_t n = strspn(p, "0123456789");
        int64_t d;
        if (!parse_int64(p, n, &d))
            v->overflow = 1;
        if (v->ndims < AST_MAX_DIMS)
            v->dims[v->ndims] = d;
        v->ndims++;
        p += n;
        if (*p != 'x' && *p != 'X')
            break;
        p++;
    }
}

/* A digit run glued to letters or dots: "28x", "28x28x", "12abc", "1.2.3". */
void lexer_bad_number(parse_state *ps, ast_value *v)
{
    v->kind = AST_BAD;
    const char *s = v->text;
    size_t n = strspn(s, "0123456789xX");
    int shape_like = n == (size_t)v->len && strpbrk(s, "xX") != NULL;
    if (shape_like)
        diag_error(ps->diag, v->loc, v->len,
                   "malformed shape '%s': write dimensions as numbers joined by 'x', as in 28x28",
                   s);
    else
        diag_error(ps->diag, v->loc, v->len, "malformed number '%s'", s);
}
