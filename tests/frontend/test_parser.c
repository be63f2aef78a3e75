/* test_parser.c: the Bison grammar (grammar/parser.y) through parse_text:
 * blocks, statements, arguments and options as the AST records them,
 * terminators, syntax errors and recovery that reports several. Also the
 * diagnostics' format (diag.c). */
#include "testutil.h"
#include "fe_testutil.h"

#include "front/parse.h"

typedef struct parsed {
    arena     a;
    diag      d;
    captured  cap;
    ast_file *f;
} parsed;

static void parse(parsed *P, const char *src)
{
    arena_init(&P->a);
    capture_start(&P->cap, &P->d, "p.seq", src);
    P->f = parse_text(&P->a, &P->d, "p.seq", src, strlen(src));
    assert_non_null(P->f);
}

static void done(parsed *P)
{
    capture_end(&P->cap);
    arena_free(&P->a);
}

static int count_blocks(const ast_file *f)
{
    int n = 0;
    for (const ast_block *b = f->first; b; b = b->next)
        n++;
    return n;
}

static const ast_stmt *nth_stmt(const ast_block *b, int n)
{
    const ast_stmt *s = b->first;
    while (s && n-- > 0)
        s = s->next;
    assert_non_null(s);
    return s;
}

static const char mnist[] =
    "# the tutorial's model\n"
    "model mnist_bn {\n"
    "  input 28x28          # one sample\n"
    "  dense 128; batchnorm; relu\n"
    "  dense 64;  batchnorm momentum=0.9 epsilon=1e-5; relu\n"
    "  dense 10;  softmax\n"
    "}\n"
    "\n"
    "train {\n"
    "  optimizer adam lr=0.001\n"
    "  metrics accuracy\n"
    "}\n";

static void test_blocks_and_statements(void **state)
{
    (void)state;
    parsed P;
    parse(&P, mnist);
    assert_int_equal(P.d.errors, 0);
    assert_int_equal(count_blocks(P.f), 2);
    const ast_block *m = P.f->first, *t = m->next;
    assert_int_equal(m->kind, AST_BLOCK_MODEL);
    assert_string_equal(m->name, "mnist_bn");
    assert_int_equal(m->loc.line, 2);
    assert_int_equal(m->name_loc.col, 7);
    assert_int_equal(m->end_loc.line, 7);
    assert_int_equal(m->count, 9);
    const ast_stmt *in = nth_stmt(m, 0);
    assert_string_equal(in->keyword, "input");
    assert_int_equal(in->nargs, 1);
    assert_int_equal(in->args[0].kind, AST_SHAPE);
    assert_int_equal(in->args[0].loc.line, 3);
    assert_int_equal(in->args[0].loc.col, 9);
    const ast_stmt *bn = nth_stmt(m, 5);
    assert_string_equal(bn->keyword, "batchnorm");
    assert_int_equal(bn->loc.line, 5);
    assert_int_equal(bn->loc.col, 14);
    assert_int_equal(bn->nargs, 0);
    assert_int_equal(bn->nopts, 2);
    assert_string_equal(bn->opts[0].key, "momentum");
    assert_int_equal(bn->opts[0].key_loc.col, 24);
    assert_close(bn->opts[0].value.f, 0.9, 0);
    assert_string_equal(bn->opts[1].key, "epsilon");
    assert_close(bn->opts[1].value.f, 1e-5, 1e-20);
    assert_string_equal(nth_stmt(m, 8)->keyword, "softmax");
    assert_int_equal(t->kind, AST_BLOCK_TRAIN);
    assert_null(t->name);
    assert_int_equal(t->count, 2);
    const ast_stmt *opt = nth_stmt(t, 0);
    assert_int_equal(opt->nargs, 1);
    assert_string_equal(opt->args[0].text, "adam");
    assert_int_equal(opt->nopts, 1);
    assert_string_equal(opt->opts[0].key, "lr");
    assert_null(P.f->loose_first);
    done(&P);
}

static void test_terminators(void **state)
{
    (void)state;
    parsed P;
    /* one line; the last statement before '}' needs no ';'; no final newline */
    parse(&P, "model m { input 4; relu ;; dense 2 }train{epochs 3}");
    assert_int_equal(P.d.errors, 0);
    assert_int_equal(count_blocks(P.f), 2);
    assert_int_equal(P.f->first->count, 3);
    assert_string_equal(nth_stmt(P.f->first, 2)->keyword, "dense");
    assert_int_equal(P.f->last->count, 1);
    done(&P);
}

static void test_words_in_any_order(void **state)
{
    (void)state;
    parsed P;
    /* the grammar keeps arguments and options apart whatever the order;
     * the check pass judges the order */
    parse(&P, "model m {\n  metrics accuracy loss=mse top 5 x=28x28\n}\n");
    assert_int_equal(P.d.errors, 0);
    const ast_stmt *s = P.f->first->first;
    assert_int_equal(s->nargs, 3);
    assert_string_equal(s->args[0].text, "accuracy");
    assert_string_equal(s->args[1].text, "top");
    assert_int_equal(s->args[2].i, 5);
    assert_int_equal(s->nopts, 2);
    assert_string_equal(s->opts[1].key, "x");
    assert_int_equal(s->opts[1].value.kind, AST_SHAPE);
    done(&P);
}

static void test_loose_statements(void **state)
{
    (void)state;
    parsed P;
    parse(&P, "dense 10\nmodel m { input 1 }\nrelu");
    assert_int_equal(P.d.errors, 0);
    assert_string_equal(P.f->loose_first->keyword, "dense");
    assert_string_equal(P.f->loose_first->next->keyword, "relu");
    assert_ptr_equal(P.f->loose_last, P.f->loose_first->next);
    assert_int_equal(count_blocks(P.f), 1);
    done(&P);
}

static void test_recovery_reports_several_errors(void **state)
{
    (void)state;
    parsed P;
    parse(&P,
          "model m {\n"
          "  input 28x28\n"
          "  dense 10 = 3\n"     /* '=' without a name */
          "  relu\n"
          "  dense = 4\n"        /* again, on the next statement but one */
          "  batchnorm momentum=\n" /* an option without its value */
          "  softmax\n"
          "}\n");
    assert_int_equal(P.d.errors, 3);
    /* the statements between the errors survive */
    assert_int_equal(P.f->first->count, 3);
    assert_string_equal(nth_stmt(P.f->first, 1)->keyword, "relu");
    assert_string_equal(nth_stmt(P.f->first, 2)->keyword, "softmax");
    const char *out = capture_text(&P.cap);
    assert_non_null(strstr(out, "p.seq:3:12: error: unexpected '=': an option is written "
                                "NAME=VALUE, as in momentum=0.9\n"));
    assert_non_null(strstr(out, "p.seq:5:9: error: unexpected '='"));
    assert_non_null(strstr(out, "p.seq:6:22: error: unexpected end of line, expected name, number "
                                "or shape\n"));
    done(&P);
}

static void test_missing_brace(void **state)
{
    (void)state;
    parsed P;
    parse(&P, "model m {\n  input 4\n  relu\n");
    assert_int_equal(P.d.errors, 1);
    assert_string_equal(capture_text(&P.cap),
                        "p.seq:3:7: error: missing '}' at end of file\n"
                        "    3 |   relu\n"
                        "      |       ^\n"
                        "p.seq:1:9: note: the block opened here is not closed\n"
                        "    1 | model m {\n"
                        "      |         ^\n");
    done(&P);
}

static void test_unexpected_token_names_text(void **state)
{
    (void)state;
    parsed P;
    parse(&P, "model m {\n  input 4\n}\n}\n");
    assert_int_equal(P.d.errors, 1);
    assert_non_null(strstr(capture_text(&P.cap), "p.seq:4:1: error: unexpected '}': no block is open\n"));
    done(&P);
    parse(&P, "model m { input 4 } 12\n");
    assert_int_equal(P.d.errors, 1);
    assert_non_null(strstr(capture_text(&P.cap), "p.seq:1:21: error: unexpected number '12'"));
    done(&P);
}

static void test_diag_format(void **state)
{
    (void)state;
    /* a tab before the column is kept so the caret lines up */
    const char *src = "a\n\tdense 12 x\n";
    diag d;
    captured cap;
    capture_start(&cap, &d, "f.seq", src);
    diag_error(&d, (src_loc){2, 8}, 2, "bad %s", "units");
    diag_warning(&d, (src_loc){1, 1}, 1, "odd");
    diag_note(&d, (src_loc){2, 11}, 5, "past the end");
    assert_int_equal(d.errors, 1);
    assert_int_equal(d.warnings, 1);
    assert_string_equal(capture_text(&cap),
                        "f.seq:2:8: error: bad units\n"
                        "    2 | \tdense 12 x\n"
                        "      | \t      ^~\n"
                        "f.seq:1:1: warning: odd\n"
                        "    1 | a\n"
                        "      | ^\n"
                        "f.seq:2:11: note: past the end\n"
                        "    2 | \tdense 12 x\n"
                        "      | \t         ^\n");
    capture_end(&cap);
}

static void test_deep_file_is_flat(void **state)
{
    (void)state;
    /* 50,000 statements: left recursion keeps Bison's stack (10,000 deep
     * at most) small; right recursion would fail with "memory exhausted" */
    enum { N = 50000 };
    const char *line = "  relu\n";
    size_t len = strlen("model m {\n") + N * strlen(line) + strlen("}\n");
    char *src = malloc(len + 1);
    assert_non_null(src);
    char *p = src;
    p += sprintf(p, "model m {\n");
    for (int i = 0; i < N; i++)
        p += sprintf(p, "%s", line);
    sprintf(p, "}\n");
    parsed P;
    parse(&P, src);
    assert_int_equal(P.d.errors, 0);
    assert_int_equal(P.f->first->count, N);
    assert_int_equal(P.f->first->last->loc.line, N + 1);
    done(&P);
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks_and_statements),
        cmocka_unit_test(test_terminators),
        cmocka_unit_test(test_words_in_any_order),
        cmocka_unit_test(test_loose_statements),
        cmocka_unit_test(test_recovery_reports_several_errors),
        cmocka_unit_test(test_missing_brace),
        cmocka_unit_test(test_unexpected_token_names_text),
        cmocka_unit_test(test_diag_format),
        cmocka_unit_test(test_deep_file_is_flat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
