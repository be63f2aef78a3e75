/*
 * parse.h: from text to an AST (ast.h): the lexer's state, the parser's
 * state, and the constructors the grammar's actions call.
 *
 *   grammar/lexer.re  -> sylex()   tokens with line:col
 *   grammar/parser.y  -> syparse() AST through the ast_* constructors below
 *
 * The state lives in a parse_state passed to both (Bison's %param), so
 * several files can be parsed at once: nothing global, nothing static.
 */
#ifndef SEQC_PARSE_H
#define SEQC_PARSE_H

#include <stddef.h>
#include "util/arena.h"
#include "front/ast.h"
#include "front/diag.h"
#include "parser.h" /* generated: SYSTYPE, SYLTYPE, token kinds, ast_items */

/* re2c's cursor over a NUL-terminated text (the NUL is the sentinel). */
typedef struct lexer {
    const unsigned char *text, *lim;      /* *lim == '\0' */
    const unsigned char *cur, *tok, *marker, *ctxmarker;
    const unsigned char *line_start;      /* of the current line */
    const unsigned char *prev_line_start; /* of the line before it */
    int      line;
    int      have_lbrace;
    src_loc  last_lbrace;                 /* for "block opened here" */
} lexer;

struct parse_state {
    arena    *arena;
    diag     *diag;
    lexer     lx;
    ast_file *file;
};

/* text[len] must be '\0' and the text must not contain other NUL bytes
 * (frontend.c rejects such files as not text). */
void lexer_init(lexer *lx, const char *text, size_t len);
void parse_state_init(parse_state *ps, arena *a, diag *d, const char *path,
                      const char *text, size_t len);

/* Parses the whole text; never NULL. Syntax errors go to d (d->errors). */
ast_file *parse_text(arena *a, diag *d, const char *path, const char *text, size_t len);

/* ---- constructors for the grammar's actions (no checks here) ---- */
ast_items ast_items_add_arg(parse_state *ps, ast_items it, const ast_value *v);
ast_items ast_items_add_option(parse_state *ps, ast_items it, const ast_value *key,
                               const ast_value *v);
ast_stmt *ast_stmt_new(parse_state *ps, const ast_value *keyword, ast_items it);
ast_stmt_list ast_stmts_append(ast_stmt_list l, ast_stmt *s);
ast_block *ast_block_new(parse_state *ps, ast_stmt *head, ast_stmt_list body,
                         SYLTYPE close_loc);
void ast_file_add_block(parse_state *ps, ast_block *b);
void ast_file_add_loose(parse_state *ps, ast_stmt *s);

/* ---- syntax error reporting (used by the parser) ---- */
src_loc parse_loc(const SYLTYPE *loc);
void parse_syntax_error(parse_state *ps, const SYLTYPE *loc, const char *msg);
/* "unexpected TOKEN[, expected A, B or C]"; the lookahead's text is taken
 * from the lexer unless it is the end of a line or of the file. */
void parse_report_unexpected(parse_state *ps, const SYLTYPE *loc, const char *tokname,
                             int no_text, const char *const *expected, int nexpected);

/* Lexer helpers called from lexer.re's rules. */
void lexer_error_char(parse_state *ps, const SYLTYPE *loc);
void lexer_bad_number(parse_state *ps, ast_value *v);
void lexer_number(parse_state *ps, ast_value *v);
/* "1/255": a number written as a fraction, for scales (AST_FLOAT; a zero
 * denominator is reported and gives AST_BAD) */
void lexer_ratio(parse_state *ps, ast_value *v);
void lexer_shape(parse_state *ps, ast_value *v);

#endif
