/*
 * parser.y: the grammar of model files (Bison 3.8).
 *
 * It accepts broadly: every statement is a name, positional values, then
 * name=value options, ended by ';' or a newline; a statement followed by
 * '{' opens a block. Whether a name means anything is the check pass's
 * business (compiler/check.c), so the actions here only build AST nodes
 * through the constructors in compiler/parse.c and record locations.
 *
 * Lists are left-recursive with tail pointers: a file of 100,000
 * statements keeps the parser stack a few entries deep.
 *
 * Errors recover at the end of the statement (';' or newline), and
 * yyerrok lets the next statement report its own mistake at once.
 */
%require "3.8"
%define api.pure full
%define api.prefix {sy}
%define api.token.prefix {TOK_}
%define api.value.type union
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%param {parse_state *ps}

%code requires {
#include "front/ast.h"
typedef struct parse_state parse_state;

/* A statement's words while it is being parsed: positional values and
 * key=value options in the order written. */
typedef struct ast_item {
    int              is_option;
    ast_option       opt;  /* for a positional value only opt.value is used */
    struct ast_item *next;
} ast_item;
typedef struct ast_items {
    ast_item *first, *last;
    int       nargs, nopts;
} ast_items;
typedef struct ast_stmt_list {
    ast_stmt *first, *last;
    size_t    count;
} ast_stmt_list;
}

%code provides {
int sylex(SYSTYPE *lval, SYLTYPE *lloc, parse_state *ps);
}

%code {
#include "front/parse.h"
static void syerror(const SYLTYPE *loc, parse_state *ps, const char *msg);
}

%token END 0         "end of file"
%token <ast_value> IDENT  "name"
%token <ast_value> NUMBER "number"
%token <ast_value> SHAPE  "shape"
%token <ast_value> BADNUM "malformed number"
%token NEWLINE "end of line"
%token SEMI    "';'"
%token EQ      "'='"
%token LBRACE  "'{'"
%token RBRACE  "'}'"

%type <ast_value> value
%type <ast_items> words
%type <ast_stmt *> stmt
%type <ast_stmt_list> items body
%type <ast_block *> block

%%

/* file: { blank | block | stray statement } */
start
  : file
  | file stmt                   { ast_file_add_loose(ps, $2); }
  ;

file
  : %empty
  | file sep
  | file block                  { ast_file_add_block(ps, $2); }
  | file stmt sep               { ast_file_add_loose(ps, $2); }
  | file error sep              { yyerrok; }
  ;

sep
  : SEMI
  | NEWLINE
  ;

/* block: NAME words '{' statements '}'   e.g. model mnist_bn { ... } */
block
  : stmt LBRACE body RBRACE     { $$ = ast_block_new(ps, $1, $3, @4); }
  ;

/* the last statement before '}' needs no terminator */
body
  : items
  | items stmt                  { $$ = ast_stmts_append($1, $2); }
  ;

items
  : %empty                      { $$ = (ast_stmt_list){0}; }
  | items sep
  | items stmt sep              { $$ = ast_stmts_append($1, $2); }
  | items error sep             { yyerrok; }
  ;

/* stmt: NAME { value | NAME '=' value } */
stmt
  : IDENT words                 { $$ = ast_stmt_new(ps, &$1, $2); }
  ;

words
  : %empty                      { $$ = (ast_items){0}; }
  | words value                 { $$ = ast_items_add_arg(ps, $1, &$2); }
  | words IDENT EQ value        { $$ = ast_items_add_option(ps, $1, &$2, &$4); }
  ;

value
  : IDENT
  | NUMBER
  | SHAPE
  | BADNUM
  ;

%%

/* Bison's own errors besides syntax errors (memory exhausted) */
static void syerror(const SYLTYPE *loc, parse_state *ps, const char *msg)
{
    parse_syntax_error(ps, loc, msg);
}

/* "unexpected '='", "unexpected end of file: missing '}'", with up to four
 * expected tokens named. The lexer keeps the text of the lookahead. */
static int yyreport_syntax_error(const yypcontext_t *ctx, parse_state *ps)
{
    enum { MAX_EXPECTED = 4 };
    yysymbol_kind_t expected[MAX_EXPECTED + 1];
    int n = yypcontext_expected_tokens(ctx, expected, MAX_EXPECTED + 1);
    if (n < 0)
        return n;
    yysymbol_kind_t tok = yypcontext_token(ctx);
    const SYLTYPE *loc = yypcontext_location(ctx);
    int close_expected = 0;
    for (int i = 0; i < n; i++)
        if (expected[i] == YYSYMBOL_RBRACE)
            close_expected = 1;
    if (tok == YYSYMBOL_YYEOF && close_expected) {
        parse_syntax_error(ps, loc, "missing '}' at end of file");
        if (ps->lx.have_lbrace)
            diag_note(ps->diag, ps->lx.last_lbrace, 1, "the block opened here is not closed");
        return 0;
    }
    if (tok == YYSYMBOL_EQ) {
        parse_syntax_error(ps, loc, "unexpected '=': an option is written NAME=VALUE, "
                                    "as in momentum=0.9");
        return 0;
    }
    if (tok == YYSYMBOL_RBRACE && !close_expected) {
        parse_syntax_error(ps, loc, "unexpected '}': no block is open");
        return 0;
    }
    const char *names[MAX_EXPECTED];
    int nnames = 0;
    if (n <= MAX_EXPECTED)
        for (int i = 0; i < n; i++)
            if (expected[i] != YYSYMBOL_BADNUM) /* nobody is expected to write one */
                names[nnames++] = yysymbol_name(expected[i]);
    parse_report_unexpected(ps, loc, yysymbol_name(tok), tok == YYSYMBOL_YYEOF ||
                            tok == YYSYMBOL_NEWLINE, names, nnames);
    return 0;
}
