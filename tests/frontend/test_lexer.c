/* test_lexer.c: the re2c lexer (grammar/lexer.re): token kinds, values,
 * line:column locations, malformed numbers and the catch-all rule. */
#include "testutil.h"
#include "fe_testutil.h"

#include "front/parse.h"

typedef struct tok {
    int       kind;
    SYLTYPE   loc;
    ast_value v;
} tok;

enum { MAX_TOKS = 64 };

typedef struct lexed {
    arena    a;
    diag     d;
    captured cap;
    int      n;
    tok      t[MAX_TOKS];
} lexed;

/* Lexes src up to and including TOK_END. */
static void lex(lexed *L, const char *src)
{
    arena_init(&L->a);
    capture_start(&L->cap, &L->d, "t.seq", src);
    parse_state ps;
    parse_state_init(&ps, &L->a, &L->d, "t.seq", src, strlen(src));
    L->n = 0;
    for (;;) {
        SYSTYPE val;
        memset(&val, 0, sizeof val);
        tok *t = &L->t[L->n++];
        t->kind = sylex(&val, &t->loc, &ps);
        memset(&t->v, 0, sizeof t->v);
        if (t->kind == TOK_IDENT)
            t->v = val.TOK_IDENT;
        else if (t->kind == TOK_NUMBER)
            t->v = val.TOK_NUMBER;
        else if (t->kind == TOK_SHAPE)
            t->v = val.TOK_SHAPE;
        else if (t->kind == TOK_BADNUM)
            t->v = val.TOK_BADNUM;
        if (t->kind == TOK_END || L->n == MAX_TOKS)
            break;
    }
}

static void done(lexed *L)
{
    capture_end(&L->cap);
    arena_free(&L->a);
}

static void assert_tok(const tok *t, int kind, int line, int col, int end_col)
{
    assert_int_equal(t->kind, kind);
    assert_int_equal(t->loc.first_line, line);
    assert_int_equal(t->loc.first_column, col);
    assert_int_equal(t->loc.last_column, end_col);
}

static void test_statement_tokens(void **state)
{
    (void)state;
    lexed L;
    lex(&L, "model m {\n  dense 128 bias=false; relu\n}\n");
    assert_int_equal(L.n, 15);
    assert_tok(&L.t[0], TOK_IDENT, 1, 1, 6);
    assert_string_equal(L.t[0].v.text, "model");
    assert_tok(&L.t[1], TOK_IDENT, 1, 7, 8);
    assert_tok(&L.t[2], TOK_LBRACE, 1, 9, 10);
    assert_tok(&L.t[3], TOK_NEWLINE, 1, 10, 11);
    assert_tok(&L.t[4], TOK_IDENT, 2, 3, 8);
    assert_tok(&L.t[5], TOK_NUMBER, 2, 9, 12);
    assert_int_equal(L.t[5].v.kind, AST_INT);
    assert_int_equal(L.t[5].v.i, 128);
    assert_tok(&L.t[6], TOK_IDENT, 2, 13, 17);
    assert_tok(&L.t[7], TOK_EQ, 2, 17, 18);
    assert_tok(&L.t[8], TOK_IDENT, 2, 18, 23);
    assert_string_equal(L.t[8].v.text, "false");
    assert_tok(&L.t[9], TOK_SEMI, 2, 23, 24);
    assert_tok(&L.t[10], TOK_IDENT, 2, 25, 29);
    assert_tok(&L.t[11], TOK_NEWLINE, 2, 29, 30);
    assert_tok(&L.t[12], TOK_RBRACE, 3, 1, 2);
    assert_tok(&L.t[13], TOK_NEWLINE, 3, 2, 3);
    /* the end of the file is placed at the end of the last line */
    assert_tok(&L.t[14], TOK_END, 3, 2, 3);
    assert_int_equal(L.d.errors, 0);
    done(&L);
}

static void test_numbers(void **state)
{
    (void)state;
    lexed L;
    lex(&L, "0.001 1e-7 -3 .5 12 2.5E+3");
    assert_int_equal(L.n, 7);
    assert_int_equal(L.t[0].v.kind, AST_FLOAT);
    assert_close(L.t[0].v.f, 0.001, 1e-15);
    assert_int_equal(L.t[1].v.kind, AST_FLOAT);
    assert_close(L.t[1].v.f, 1e-7, 1e-20);
    assert_int_equal(L.t[2].v.kind, AST_INT);
    assert_int_equal(L.t[2].v.i, -3);
    assert_close(L.t[2].v.f, -3.0, 0);
    assert_int_equal(L.t[3].v.kind, AST_FLOAT);
    assert_close(L.t[3].v.f, 0.5, 0);
    assert_int_equal(L.t[4].v.i, 12);
    assert_close(L.t[5].v.f, 2500.0, 0);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(L.t[i].kind, TOK_NUMBER);
        assert_int_equal(L.t[i].v.overflow, 0);
    }
    assert_int_equal(L.d.errors, 0);
    done(&L);
}

/* Fractions, for scales: rescale 1/255 */
static void test_fractions(void **state)
{
    (void)state;
    lexed L;
    lex(&L, "1/255 -1/2 2.5/0.5 1/0");
    assert_int_equal(L.n, 5);
    assert_tok(&L.t[0], TOK_NUMBER, 1, 1, 6);
    assert_int_equal(L.t[0].v.kind, AST_FLOAT);
    assert_close(L.t[0].v.f, 1.0 / 255.0, 0);
    assert_string_equal(L.t[0].v.text, "1/255");
    assert_close(L.t[1].v.f, -0.5, 0);
    assert_close(L.t[2].v.f, 5.0, 0);
    assert_int_equal(L.t[3].kind, TOK_BADNUM);
    assert_int_equal(L.t[3].v.kind, AST_BAD);
    assert_int_equal(L.d.errors, 1);
    assert_non_null(strstr(capture_text(&L.cap), "t.seq:1:20: error: '1/0' divides by zero"));
    done(&L);
}

static void test_overflow(void **state)
{
    (void)state;
    lexed L;
    lex(&L, "9223372036854775807 9223372036854775808 1e999 99999999999999999999x2");
    assert_int_equal(L.t[0].v.i, INT64_MAX);
    assert_int_equal(L.t[0].v.overflow, 0);
    assert_int_equal(L.t[1].v.overflow, 1);
    assert_int_equal(L.t[2].v.overflow, 1);
    assert_int_equal(L.t[3].kind, TOK_SHAPE);
    assert_int_equal(L.t[3].v.overflow, 1);
    assert_int_equal(L.d.errors, 0); /* overflow is the check pass's to report */
    done(&L);
}

static void test_shapes(void **state)
{
    (void)state;
    lexed L;
    lex(&L, "28x28 3X32x32 1x2x3x4x5");
    assert_int_equal(L.t[0].kind, TOK_SHAPE);
    assert_int_equal(L.t[0].v.ndims, 2);
    assert_int_equal(L.t[0].v.dims[0], 28);
    assert_int_equal(L.t[0].v.dims[1], 28);
    assert_int_equal(L.t[1].v.ndims, 3);
    assert_int_equal(L.t[1].v.dims[0], 3);
    assert_int_equal(L.t[1].v.dims[2], 32);
    /* more dimensions than stored are still counted */
    assert_int_equal(L.t[2].v.ndims, 5);
    assert_int_equal(L.t[2].v.dims[3], 4);
    done(&L);
}

static void test_malformed_numbers(void **state)
{
    (void)state;
    lexed L;
    lex(&L, "input 28x\ndense 12abc");
    assert_tok(&L.t[1], TOK_BADNUM, 1, 7, 10);
    assert_int_equal(L.t[1].v.kind, AST_BAD);
    assert_string_equal(L.t[1].v.text, "28x");
    assert_tok(&L.t[4], TOK_BADNUM, 2, 7, 12);
    assert_int_equal(L.d.errors, 2);
    assert_string_equal(capture_text(&L.cap),
        "t.seq:1:7: error: malformed shape '28x': write dimensions as numbers joined by 'x', as in 28x28\n"
        "    1 | input 28x\n"
        "      |       ^~~\n"
        "t.seq:2:7: error: malformed number '12abc'\n"
        "    2 | dense 12abc\n"
        "      |       ^~~~~\n");
    done(&L);
}

static void test_comments_and_crlf(void **state)
{
    (void)state;
    lexed L;
    lex(&L, "a # comment; b = c\r\n\tb#c");
    assert_int_equal(L.n, 4);
    assert_tok(&L.t[0], TOK_IDENT, 1, 1, 2);
    assert_int_equal(L.t[1].kind, TOK_NEWLINE);
    assert_tok(&L.t[2], TOK_IDENT, 2, 2, 3);
    assert_tok(&L.t[3], TOK_END, 2, 5, 6);
    done(&L);
}

static void test_bad_characters(void **state)
{
    (void)state;
    lexed L;
    lex(&L, "a @ b\n\xc3\xa9t\xc3\xa9 -");
    assert_int_equal(L.t[0].kind, TOK_IDENT);
    assert_tok(&L.t[1], TOK_SYerror, 1, 3, 4);
    assert_int_equal(L.t[2].kind, TOK_IDENT);
    assert_int_equal(L.t[3].kind, TOK_NEWLINE);
    /* a multi-byte character is one error token */
    assert_tok(&L.t[4], TOK_SYerror, 2, 1, 3);
    assert_tok(&L.t[5], TOK_IDENT, 2, 3, 4);
    assert_tok(&L.t[6], TOK_SYerror, 2, 4, 6);
    assert_int_equal(L.t[7].kind, TOK_SYerror); /* a lone '-' */
    assert_int_equal(L.t[8].kind, TOK_END);
    assert_int_equal(L.d.errors, 4);
    const char *out = capture_text(&L.cap);
    assert_non_null(strstr(out, "t.seq:1:3: error: unexpected character '@'\n"));
    assert_non_null(strstr(out, "t.seq:2:1: error: unexpected character '\xc3\xa9'\n"
                                "    2 | \xc3\xa9t\xc3\xa9 -\n"
                                "      | ^\n"));
    assert_non_null(strstr(out, "t.seq:2:7: error: unexpected character '-'\n"));
    done(&L);
}

static void test_end_is_sticky(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    diag d;
    captured cap;
    capture_start(&cap, &d, "t.seq", "x");
    parse_state ps;
    parse_state_init(&ps, &a, &d, "t.seq", "x", 1);
    SYSTYPE v;
    SYLTYPE loc;
    assert_int_equal(sylex(&v, &loc, &ps), TOK_IDENT);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sylex(&v, &loc, &ps), TOK_END);
        assert_int_equal(loc.first_line, 1);
        assert_int_equal(loc.first_column, 2);
    }
    capture_end(&cap);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statement_tokens),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_fractions),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_malformed_numbers),
        cmocka_unit_test(test_comments_and_crlf),
        cmocka_unit_test(test_bad_characters),
        cmocka_unit_test(test_end_is_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
