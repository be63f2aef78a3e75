/* test_report.c: report.md contents and curves.svg made from two
 * histories. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "lab/report.h"

static const char csv_a[] =
    "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
    "1,0.40,0.88,0.30,0.905,1.00\n"
    "2,0.20,0.94,0.20,0.952,1.10\n"
    "3,0.15,0.96,0.19,0.961,1.20\n";
static const char csv_b[] =
    "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
    "1,0.50,0.85,0.40,0.890,0.50\n"
    "2,0.30,0.91,0.25,0.930,0.50\n"
    "3,0.22,0.93,0.22,0.955,0.50\n";

static const char summary_a[] =
    "Layer (type)     Output Shape   Param #\n"
    "dense (dense)    (None, 128)    100480\n"
    "Total params: 100,480\n";
static const char summary_b[] =
    "Layer (type)     Output Shape   Param #\n"
    "dense (dense)    (None, 128)    100480\n"
    "batchnorm        (None, 128)    512\n"
    "Total params: 100,992\n";

typedef struct fixture {
    history a, b;
    report_info r;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256];
    if (!f || history_parse(csv_a, "a.csv", &f->a, err, sizeof err) ||
        history_parse(csv_b, "b.csv", &f->b, err, sizeof err))
        return -1;
    f->r.title = "m with and without batchnorm";
    f->r.data_dir = "data/mnist-digits";
    f->r.dataset = "mnist-digits";
    f->r.epochs = 3;
    f->r.seed = 7;
    f->r.v[0] = (report_variant){"m", "m", "m.csv", summary_a, &f->a};
    f->r.v[1] = (report_variant){"m without batchnorm", "m-no-batchnorm",
                                 "m-no-batchnorm.csv", summary_b, &f->b};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    history_free(&f->a);
    history_free(&f->b);
    free(f);
    return 0;
}

static char *render_md(const report_info *r)
{
    static char buf[1 << 16];
    memset(buf, 0, sizeof buf);
    FILE *out = fmemopen(buf, sizeof buf - 1, "w");
    assert_int_equal(report_write_md(out, r), 0);
    fclose(out);
    return buf;
}

/* Lines of the per-epoch table: they start "| N |". */
static int table_rows(const char *md)
{
    int rows = 0;
    for (const char *line = md; line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        int epoch, used = 0;
        if (sscanf(line, "| %d |%n", &epoch, &used) == 1 && used > 0)
            rows++;
    }
    return rows;
}

static void test_md_table(void **state)
{
    fixture *f = *state;
    const char *md = render_md(&f->r);
    assert_int_equal(table_rows(md), 3);
    assert_non_null(strstr(md, "# m with and without batchnorm\n"));
    assert_non_null(strstr(md, "| data | `data/mnist-digits` |"));
    assert_non_null(strstr(md, "| epochs | 3 |"));
    assert_non_null(strstr(md, "| seed | 7 |"));
    /* the last row, better values in bold, seconds never bold */
    assert_non_null(strstr(md, "| 3 | **0.1500** | 0.2200 | **0.9600** | 0.9300 | "
                               "**0.1900** | 0.2200 | **0.9610** | 0.9550 | "
                               "1.20 | 0.50 |"));
    /* both summaries, side by side on one line */
    /* left column padded to the widest left line (39) plus 4; A's
     * third line sits beside B's third, B's last has no partner */
    char both[128];
    snprintf(both, sizeof both, "\n%-43s%s\n", "Total params: 100,480",
             "batchnorm        (None, 128)    512");
    assert_non_null(strstr(md, both));
    snprintf(both, sizeof both, "\n%-43s%s\n", "", "Total params: 100,992");
    assert_non_null(strstr(md, both));

    /* one more epoch for A only: 4 rows, B's cells are "-" */
    history_row extra = f->a.rows[2];
    extra.epoch = 4;
    history four = {4, malloc(4 * sizeof(history_row))};
    memcpy(four.rows, f->a.rows, 3 * sizeof(history_row));
    four.rows[3] = extra;
    report_info r = f->r;
    r.v[0].hist = &four;
    md = render_md(&r);
    assert_int_equal(table_rows(md), 4);
    assert_non_null(strstr(md, "| 4 | 0.1500 | - |"));
    history_free(&four);
}

static void test_md_verdict(void **state)
{
    fixture *f = *state;
    const char *md = render_md(&f->r);
    assert_non_null(strstr(md,
        "- **val_accuracy** (higher is better): m final 0.9610, best 0.9610 at "
        "epoch 3; m without batchnorm final 0.9550, best 0.9550 at epoch 3. "
        "**m** ends higher by 0.0060 (0.60 percentage points).\n"));
    assert_non_null(strstr(md,
        "- **val_loss** (lower is better): m final 0.1900, best 0.1900 at epoch 3; "
        "m without batchnorm final 0.2200, best 0.2200 at epoch 3. **m** ends "
        "lower by 0.0300.\n"));
    /* best 0.961: the milestones are 0.90 and 0.95 */
    assert_non_null(strstr(md,
        "- **val_accuracy >= 0.90** first reached: m at epoch 1; m without "
        "batchnorm at epoch 2. m got there 1 epoch sooner.\n"));
    assert_non_null(strstr(md,
        "- **val_accuracy >= 0.95** first reached: m at epoch 2; m without "
        "batchnorm at epoch 3. m got there 1 epoch sooner.\n"));
    assert_null(strstr(md, ">= 0.97"));
    assert_non_null(strstr(md, "- **seconds**: m 3.30 s in all (1.10 s per epoch); "
                               "m without batchnorm 1.50 s in all (0.50 s per epoch).\n"));
}

static void test_best_and_reach(void **state)
{
    fixture *f = *state;
    assert_int_equal(report_best_epoch(&f->a, HIST_VAL_LOSS, 0), 3);
    assert_int_equal(report_best_epoch(&f->a, HIST_SECONDS, 0), 1);
    assert_int_equal(report_best_epoch(&f->b, HIST_SECONDS, 0), 1); /* first of a tie */
    assert_int_equal(report_first_reach(&f->b, HIST_VAL_ACCURACY, 0.93), 2);
    assert_int_equal(report_first_reach(&f->b, HIST_VAL_ACCURACY, 0.99), 0);
    f->a.rows[0].v[HIST_VAL_ACCURACY] = NAN;
    assert_int_equal(report_first_reach(&f->a, HIST_VAL_ACCURACY, 0.5), 2);
    assert_int_equal(report_best_epoch(&f->a, HIST_VAL_ACCURACY, 1), 3);
    history empty = {0, NULL};
    assert_int_equal(report_best_epoch(&empty, HIST_LOSS, 0), 0);
}

static void test_slug(void **state)
{
    (void)state;
    char buf[64];
    report_slug("mnist_bn without batchnorm", buf, sizeof buf);
    assert_string_equal(buf, "mnist_bn-without-batchnorm");
    report_slug("a/b  c!", buf, sizeof buf);
    assert_string_equal(buf, "a-b-c");
    report_slug("???", buf, sizeof buf);
    assert_string_equal(buf, "_");
    report_slug("abcdefgh", buf, 4);
    assert_string_equal(buf, "abc");
}

static void test_svg(void **state)
{
    fixture *f = *state;
    char path[] = "/tmp/seqc-curves-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *out = fdopen(fd, "w");
    assert_int_equal(report_write_svg(out, &f->r), 0);
    fclose(out);
    char cmd[512];
    if (XMLLINT[0] == '\0')
        fail_msg("xmllint not found at configure time: apt-get install libxml2-utils");
    snprintf(cmd, sizeof cmd, "'%s' --noout '%s'", XMLLINT, path);
    assert_int_equal(system(cmd), 0);

    FILE *in = fopen(path, "rb");
    static char svg[1 << 17];
    size_t n = fread(svg, 1, sizeof svg - 1, in);
    fclose(in);
    svg[n] = '\0';
    remove(path);
    const char *ids[] = {
        "m-loss-train", "m-loss-val", "m-accuracy-train", "m-accuracy-val",
        "m-no-batchnorm-loss-train", "m-no-batchnorm-loss-val",
        "m-no-batchnorm-accuracy-train", "m-no-batchnorm-accuracy-val",
    };
    size_t curves = 0;
    for (const char *p = strstr(svg, "<path class=\"curve"); p;
         p = strstr(p + 1, "<path class=\"curve"))
        curves++;
    assert_int_equal(curves, 8);
    for (size_t i = 0; i < 8; i++) {
        char want[128];
        snprintf(want, sizeof want, "id=\"%s\"", ids[i]);
        assert_non_null(strstr(svg, want));
    }
    assert_non_null(strstr(svg, ">m with and without batchnorm on mnist-digits</text>"));
    assert_non_null(strstr(svg, ">m without batchnorm (validation)</text>"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_md_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_md_verdict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_best_and_reach, setup, teardown),
        cmocka_unit_test(test_slug),
        cmocka_unit_test_setup_teardown(test_svg, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
