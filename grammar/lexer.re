/*
 * lexer.re: the tokens of model files (re2c).
 *
 * Input is unsigned bytes ending in a NUL sentinel; frontend.c has already
 * rejected files with other NUL bytes or invalid UTF-8. Every token gets
 * its line and 1-based byte column (token start - line start + 1). A
 * character that starts no token is reported here and returned as
 * SYerror, which sends the parser straight into error recovery.
 *
 * Keywords are plain names: the grammar accepts any name as a statement
 * and check.c decides what it means (and what the user probably meant).
 */
#include "front/parse.h"

#include <string.h>

static void set_loc(const lexer *lx, SYLTYPE *lloc)
{
    lloc->first_line = lloc->last_line = lx->line;
    lloc->first_column = (int)(lx->tok - lx->line_start) + 1;
    lloc->last_column = (int)(lx->cur - lx->line_start) + 1;
}

static void set_value(parse_state *ps, SYLTYPE *lloc, ast_value *v, ast_value_kind kind)
{
    const lexer *lx = &ps->lx;
    memset(v, 0, sizeof *v);
    v->kind = kind;
    v->loc = (src_loc){lloc->first_line, lloc->first_column};
    v->len = (int)(lx->cur - lx->tok);
    v->text = arena_strndup(ps->arena, (const char *)lx->tok, (size_t)v->len);
}

static void newline(lexer *lx)
{
    lx->line++;
    lx->prev_line_start = lx->line_start;
    lx->line_start = lx->cur;
}

/*!re2c
    re2c:api:style = free-form;
    re2c:define:YYCTYPE = "unsigned char";
    re2c:define:YYCURSOR = "lx->cur";
    re2c:define:YYMARKER = "lx->marker";
    re2c:yyfill:enable = 0;

    digit  = [0-9];
    alpha  = [a-zA-Z_];
    name   = alpha (alpha | digit)*;
    int    = "-"? digit+;
    exp    = [eE] [+-]? digit+;
    float  = "-"? (digit+ "." digit* exp? | "." digit+ exp? | digit+ exp);
    shape  = digit+ ([xX] digit+)+;
    decimal = digit+ ("." digit*)?;
    ratio  = "-"? decimal "/" decimal;
    badnum = "-"? (digit | "." digit) (alpha | digit | ".")*;
    space  = [ \t\r\v\f]+;
    comment = "#" [^\n\x00]*;
    utf8   = [\xc0-\xff] [\x80-\xbf]*;
*/

int sylex(SYSTYPE *lval, SYLTYPE *lloc, parse_state *ps)
{
    lexer *lx = &ps->lx;
    for (;;) {
        lx->tok = lx->cur;
        /*!re2c
        space | comment   { continue; }
        "\n"              { set_loc(lx, lloc); lloc->last_column = lloc->first_column + 1;
                            newline(lx); return TOK_NEWLINE; }
        ";"               { set_loc(lx, lloc); return TOK_SEMI; }
        "="               { set_loc(lx, lloc); return TOK_EQ; }
        "{"               { set_loc(lx, lloc);
                            lx->last_lbrace = (src_loc){lloc->first_line, lloc->first_column};
                            lx->have_lbrace = 1;
                            return TOK_LBRACE; }
        "}"               { set_loc(lx, lloc); return TOK_RBRACE; }
        name              { set_loc(lx, lloc); set_value(ps, lloc, &lval->TOK_IDENT, AST_IDENT);
                            return TOK_IDENT; }
        int | float       { set_loc(lx, lloc); set_value(ps, lloc, &lval->TOK_NUMBER, AST_INT);
                            lexer_number(ps, &lval->TOK_NUMBER);
                            return TOK_NUMBER; }
        ratio             { set_loc(lx, lloc); set_value(ps, lloc, &lval->TOK_NUMBER, AST_FLOAT);
                            lexer_ratio(ps, &lval->TOK_NUMBER);
                            return lval->TOK_NUMBER.kind == AST_BAD ? TOK_BADNUM : TOK_NUMBER; }
        shape             { set_loc(lx, lloc); set_value(ps, lloc, &lval->TOK_SHAPE, AST_SHAPE);
                            lexer_shape(ps, &lval->TOK_SHAPE);
                            return TOK_SHAPE; }
        badnum            { set_loc(lx, lloc); set_value(ps, lloc, &lval->TOK_BADNUM, AST_BAD);
                            lexer_bad_number(ps, &lval->TOK_BADNUM);
                            return TOK_BADNUM; }
        "\x00"            {
            if (lx->cur - 1 == lx->lim) {
                lx->cur--; /* stay on the sentinel if called again */
                lx->tok = lx->cur;
                /* the end of the file is reported at the end of its last
                 * line, not on a line that does not exist */
                if (lx->cur > lx->text && lx->cur[-1] == '\n') {
                    lloc->first_line = lloc->last_line = lx->line - 1;
                    lloc->first_column = (int)(lx->cur - 1 - lx->prev_line_start) + 1;
                } else {
                    lloc->first_line = lloc->last_line = lx->line;
                    lloc->first_column = (int)(lx->cur - lx->line_start) + 1;
                }
                lloc->last_column = lloc->first_column + 1;
                return TOK_END;
            }
            set_loc(lx, lloc);
            lexer_error_char(ps, lloc);
            return TOK_SYerror;
        }
        utf8              { set_loc(lx, lloc); lexer_error_char(ps, lloc); return TOK_SYerror; }
        *                 { set_loc(lx, lloc); lexer_error_char(ps, lloc); return TOK_SYerror; }
        */
    }
}
