/* test_report.c: the statistics of a comparison (lab/summary.c), its
 * verdicts, report.md and summary.json (golden files), curves.svg's bands,
 * and the trainer's test line (lab/runs.c), all from fixed histories.
 *
 * The golden files are tests/compare/golden/report.md and summary.json;
 * UPDATE_GOLDEN=1 rewrites them from the build (scripts/regen-goldens.sh).
 *
 * Expected intervals: Python's statistics module with R's qt(0.975, 2) =
 * 4.30265272974946 (NIST/SEMATECH e-Handbook table 1.3.6.7.2: 4.303):
 *   d = [0.010, 0.009, 0.009]: mean 0.009333..., interval
 *       [0.007899115756750178, 0.010767550909916487]
 *   d = [-0.02, 0.02, -0.04]: mean -0.01333..., interval
 *       [-0.08922499400526851, 0.06255832733860184]
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "lab/report.h"
#include "lab/runs.h"
#include "lab/summary.h"

/* arm A ("m") and arm B ("m without batchnorm"), seeds 1, 2, 3: A's final
 * val_accuracy is 0.010, 0.009, 0.009 above B's; val_loss differs both
 * ways */
static const char *const csv[2][3] = {
    {"epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
     "1,0.40,0.88,0.30,0.940,1.0\n2,0.20,0.94,0.14,0.960,1.0\n",
     "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
     "1,0.41,0.87,0.31,0.951,1.0\n2,0.21,0.93,0.15,0.962,1.0\n",
     "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
     "1,0.39,0.89,0.29,0.930,1.0\n2,0.19,0.95,0.13,0.958,1.0\n"},
    {"epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
     "1,0.50,0.85,0.40,0.900,0.5\n2,0.30,0.91,0.16,0.950,0.5\n",
     "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
     "1,0.51,0.84,0.41,0.920,0.5\n2,0.31,0.90,0.13,0.953,0.5\n",
     "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
     "1,0.49,0.86,0.39,0.910,0.5\n2,0.29,0.92,0.17,0.949,0.5\n"},
};
/* B's seed 3 printed no test line */
static const char *const logs[2][3] = {
    {"test_loss: 0.15 - test_accuracy: 0.955\n", "test_loss: 0.16 - test_accuracy: 0.957\n",
     "test_loss: 0.14 - test_accuracy: 0.953\n"},
    {"test_loss: 0.17 - test_accuracy: 0.945\n", "test_loss: 0.15 - test_accuracy: 0.950\n",
     "Epoch 2/2\n"},
};

static const uint64_t seeds[3] = {1, 2, 3};

typedef struct fixture {
    history   hist[2][3];
    run_test  test[2][3];
    cmp_arm   arms[2];
    cmp_study s;
} fixture;

static const cmp_settings base = {
    .file = "models/m.seq", .model = "m", .without = "", .optimizer = "adam", .lr = 0.001,
    .batch = 32, .epochs = 2, .loss = "sparse_categorical_crossentropy",
    .data = "--data data/mnist-digits", .val_split = "0.1",
    .val_split_from = "compare's default", .shuffle = true,
    .dropout_layers = 0, .dense = "128 glorot_uniform, 10 glorot_uniform"};

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256];
    if (!f)
        return -1;
    for (int a = 0; a < 2; a++) {
        for (int i = 0; i < 3; i++)
            if (history_parse(csv[a][i], "h.csv", &f->hist[a][i], err, sizeof err) != 0 ||
                runs_parse_test_line(logs[a][i], &f->test[a][i], err, sizeof err) != 0)
                return -1;
        f->arms[a].set = base;
        f->arms[a].variant = a;
        f->arms[a].lr_index = -1;
        f->arms[a].hist = f->hist[a];
        f->arms[a].test = f->test[a];
    }
    f->arms[0].name = "m";
    f->arms[0].slug = "m";
    f->arms[0].summary = "Total params: 101,770\n";
    f->arms[1].name = "m without batchnorm";
    f->arms[1].slug = "m-no-batchnorm";
    f->arms[1].set.without = "batchnorm";
    f->arms[1].summary = "Total params: 101,258\n";
    cmp_study *s = &f->s;
    s->title = "m with and without batchnorm";
    s->command = "seqc compare models/m.seq --without batchnorm --data data/mnist-digits "
                 "--seeds 1,2,3 --target val_accuracy=0.95";
    s->version = "0.0.0-test";
    s->dataset = "mnist-digits";
    s->nseeds = 3;
    s->seeds = seeds;
    s->narms = 2;
    s->arms = f->arms;
    s->has_target = true;
    strcpy(s->target_metric, "val_accuracy");
    s->target_value = 0.95;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cmp_free(&f->s);
    for (int a = 0; a < 2; a++)
        for (int i = 0; i < 3; i++)
            history_free(&f->hist[a][i]);
    free(f);
    return 0;
}

static const cmp_pair *find_pair(const cmp_study *s, const char *key)
{
    for (size_t k = 0; k < s->npairs; k++)
        if (strcmp(s->metrics[s->pairs[k].metric].key, key) == 0)
            return &s->pairs[k];
    fail_msg("no pair for %s", key);
    return NULL;
}

static char *verdict_text(const cmp_study *s, const cmp_pair *p, bool md)
{
    static char buf[1024];
    memset(buf, 0, sizeof buf);
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    cmp_write_verdict(f, s, p, md);
    fclose(f);
    return buf;
}

static void test_statistics(void **state)
{
    fixture *f = *state;
    assert_int_equal(cmp_analyze(&f->s), 0);
    const cmp_study *s = &f->s;
    /* metrics: the final columns, the best of each val_ column, the test
     * values, the target, time */
    const char *keys[] = {"loss", "accuracy", "val_loss", "val_accuracy", "best_val_loss",
                          "best_val_accuracy", "test_loss", "test_accuracy",
                          "epochs_to_target", "seconds"};
    assert_int_equal(s->nmetrics, sizeof keys / sizeof keys[0]);
    for (size_t m = 0; m < s->nmetrics; m++)
        assert_string_equal(s->metrics[m].key, keys[m]);
    int va = cmp_metric_index(s, "val_accuracy");
    assert_close(cmp_stats(s, 0, (size_t)va)->mean, 0.96, 1e-12);
    /* B's test metrics count the two runs that printed a test line */
    assert_int_equal(cmp_stats(s, 1, (size_t)cmp_metric_index(s, "test_accuracy"))->n, 2);
    /* epochs to val_accuracy >= 0.95: A 2, 1, 2; B 2, 2, never */
    int r = cmp_metric_index(s, "epochs_to_target");
    assert_close(cmp_value(s, 0, (size_t)r, 1), 1, 0);
    assert_true(isnan(cmp_value(s, 1, (size_t)r, 2)));
    assert_int_equal(cmp_stats(s, 1, (size_t)r)->n, 2);
    /* paired, a minus b */
    const cmp_pair *p = find_pair(s, "val_accuracy");
    assert_int_equal(p->p.diff.n, 3);
    assert_close(p->p.diff.mean, 0.009333333333333332, 1e-12);
    assert_close(p->p.diff.lo, 0.007899115756750178, 1e-9);
    assert_close(p->p.diff.hi, 0.010767550909916487, 1e-9);
    assert_int_equal(p->p.wins_a, 3);
    p = find_pair(s, "val_loss");
    assert_close(p->p.diff.lo, -0.08922499400526851, 1e-9);
    assert_close(p->p.diff.hi, 0.06255832733860184, 1e-9);
    assert_int_equal(p->p.wins_a, 2); /* lower is better: seeds 1 and 3 */
    assert_int_equal(p->p.wins_b, 1);
    assert_int_equal(find_pair(s, "test_accuracy")->p.diff.n, 2);
    /* training metrics and time are described, not paired */
    for (size_t k = 0; k < s->npairs; k++) {
        assert_string_not_equal(s->metrics[s->pairs[k].metric].key, "loss");
        assert_string_not_equal(s->metrics[s->pairs[k].metric].key, "seconds");
    }
}

static void test_verdicts(void **state)
{
    fixture *f = *state;
    assert_int_equal(cmp_analyze(&f->s), 0);
    cmp_study *s = &f->s;
    assert_string_equal(verdict_text(s, find_pair(s, "val_accuracy"), true),
                        "**m** better by 0.93 points [0.79, 1.08], 3 of 3 seeds");
    assert_string_equal(verdict_text(s, find_pair(s, "val_loss"), false),
                        "no difference detected: [-0.08922, 0.06256] (m minus m without "
                        "batchnorm)");
    /* different losses: not comparable, and nothing computed */
    cmp_free(s);
    f->arms[1].set.loss = "mse";
    assert_int_equal(cmp_analyze(s), 0);
    const cmp_pair *p = find_pair(s, "val_loss");
    assert_false(p->comparable);
    assert_string_equal(verdict_text(s, p, true),
                        "not comparable: m trains with sparse_categorical_crossentropy, m "
                        "without batchnorm with mse");
    assert_true(find_pair(s, "val_accuracy")->comparable);
    /* one seed: no interval, no winner */
    cmp_free(s);
    s->nseeds = 1;
    assert_int_equal(cmp_analyze(s), 0);
    assert_string_equal(verdict_text(s, find_pair(s, "val_accuracy"), true),
                        "one seed only, no interval: m minus m without batchnorm = 1.00 "
                        "points");
}

static char *render(int (*write)(FILE *, const cmp_study *), const cmp_study *s)
{
    static char buf[1 << 17];
    memset(buf, 0, sizeof buf);
    FILE *out = fmemopen(buf, sizeof buf - 1, "w");
    assert_int_equal(write(out, s), 0);
    fclose(out);
    return buf;
}

/* Compares text with tests/compare/golden/NAME, or rewrites it with
 * UPDATE_GOLDEN=1. */
static void check_golden(const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/compare/golden/%s", SEQC_SOURCE_DIR, name);
    const char *up = getenv("UPDATE_GOLDEN");
    if (up && strcmp(up, "1") == 0) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
        return;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s missing: run scripts/regen-goldens.sh", path);
    static char want[1 << 17];
    size_t n = fread(want, 1, sizeof want - 1, f);
    fclose(f);
    want[n] = '\0';
    if (strcmp(want, text) != 0) {
        size_t i = 0;
        while (want[i] && want[i] == text[i])
            i++;
        print_error("%s differs at byte %zu:\n got: %.80s\nwant: %.80s\n", name, i, text + i,
                    want + i);
        fail();
    }
}

static void test_golden_md(void **state)
{
    fixture *f = *state;
    assert_int_equal(cmp_analyze(&f->s), 0);
    const char *md = render(report_write_md, &f->s);
    check_golden("report.md", md);
    /* the honest parts, checked apart from the golden text */
    assert_non_null(strstr(md, "| layers dropped | - | batchnorm | **differs** |"));
    assert_non_null(strstr(md, "| batch | 32 | 32 |  |"));
    assert_non_null(strstr(md, "Same start: for each seed"));
    assert_non_null(strstr(md, "compare's default"));
    assert_non_null(strstr(md, "seqc 0.0.0-test"));
    assert_non_null(strstr(md, f->s.command));
}

static void test_golden_json(void **state)
{
    fixture *f = *state;
    assert_int_equal(cmp_analyze(&f->s), 0);
    check_golden("summary.json", render(cmp_write_json, &f->s));
}

/* Bold appears only for a difference the interval supports: B given
 * A's own runs, one seed along (B's seed 1 is A's seed 2, ...), every
 * paired difference averages to 0 and no winner may be bolded. */
static void test_no_unsupported_bold(void **state)
{
    fixture *f = *state;
    history rot[3] = {f->hist[0][1], f->hist[0][2], f->hist[0][0]};
    run_test trot[3] = {f->test[0][1], f->test[0][2], f->test[0][0]};
    f->arms[1].hist = rot;
    f->arms[1].test = trot;
    assert_int_equal(cmp_analyze(&f->s), 0);
    for (size_t k = 0; k < f->s.npairs; k++)
        assert_int_equal(stats_sign(&f->s.pairs[k].p.diff), 0);
    const char *md = render(report_write_md, &f->s);
    size_t bold = 0, differs = 0;
    for (const char *p = strstr(md, "**"); p; p = strstr(p + 2, "**"))
        bold++;
    for (const char *p = strstr(md, "**differs**"); p; p = strstr(p + 1, "**differs**"))
        differs++;
    assert_int_equal(differs, 1); /* layers dropped */
    assert_int_equal(bold, differs * 2);
    assert_null(strstr(md, "better by"));
    assert_non_null(strstr(md, "no difference detected"));
    /* and with the real B, A's val_accuracy win is bolded */
    f->arms[1].hist = f->hist[1];
    f->arms[1].test = f->test[1];
    cmp_free(&f->s);
    assert_int_equal(cmp_analyze(&f->s), 0);
    md = render(report_write_md, &f->s);
    assert_non_null(strstr(md, "**m** better by 0.93 points [0.79, 1.08], 3 of 3 seeds"));
}

/* Batch sizes differ: the report must not claim the same batch order;
 * dense layers differ: nor the same weights. */
static void test_same_start(void **state)
{
    fixture *f = *state;
    int w, o;
    report_same_start(&f->s, &w, &o);
    assert_true(w && o);
    f->arms[1].set.batch = 64;
    report_same_start(&f->s, &w, &o);
    assert_true(w && !o);
    f->arms[1].set.dense = "64 glorot_uniform, 10 glorot_uniform";
    report_same_start(&f->s, &w, &o);
    assert_false(w);
    assert_int_equal(cmp_analyze(&f->s), 0);
    const char *md = render(report_write_md, &f->s);
    assert_null(strstr(md, "Same start"));
    assert_non_null(strstr(md, "Same mini-batch order: no, the batch sizes differ"));
    assert_non_null(strstr(md, "| batch | 32 | 64 | **differs** |"));
}

/* --ranks: the settings table gets the row, the report says the batch is
 * split over the ranks; without it, neither */
static void test_ranks(void **state)
{
    fixture *f = *state;
    assert_int_equal(cmp_analyze(&f->s), 0);
    const char *md = render(report_write_md, &f->s);
    assert_null(strstr(md, "MPI ranks"));
    assert_non_null(strstr(md, "every run is a separate process, bit-reproducible"));
    assert_non_null(strstr(render(cmp_write_json, &f->s), "\"ranks\": 1}"));
    assert_null(strstr(md, "batchnorm statistics"));
    f->arms[0].set.ranks = f->arms[1].set.ranks = 3;
    f->arms[0].set.batchnorm = "2 synchronized";
    f->arms[1].set.batchnorm = "2 per rank (sync=false)";
    md = render(report_write_md, &f->s);
    assert_non_null(strstr(md, "| batchnorm statistics | 2 synchronized | 2 per rank "
                               "(sync=false) | **differs** |"));
    assert_non_null(strstr(md, "| MPI ranks per run | 3 | 3 |  |"));
    assert_non_null(strstr(md, "separate MPI job of 3 processes"));
    assert_non_null(strstr(md, "the batch above is the global batch of every step, split "
                               "over the 3 ranks (11 or 10 rows each)"));
    assert_non_null(strstr(render(cmp_write_json, &f->s), "\"ranks\": 3}"));
    f->arms[0].set.ranks = f->arms[1].set.ranks = 2;
    md = render(report_write_md, &f->s);
    assert_non_null(strstr(md, "over the 2 ranks (16 rows each)"));
}

/* curves.svg: 2 arms x (loss, accuracy) x (train, val) curves, each with
 * a band, and one paired-difference curve with its band */
static void test_svg_bands(void **state)
{
    fixture *f = *state;
    assert_int_equal(cmp_analyze(&f->s), 0);
    const char *svg = render(report_write_svg, &f->s);
    size_t curves = 0, bands = 0;
    for (const char *p = strstr(svg, "<path class=\"curve"); p;
         p = strstr(p + 1, "<path class=\"curve"))
        curves++;
    for (const char *p = strstr(svg, "<path class=\"band"); p;
         p = strstr(p + 1, "<path class=\"band"))
        bands++;
    assert_int_equal(curves, 2 * 2 * 2 + 1);
    assert_int_equal(bands, 2 * 2 * 2 + 1);
    assert_non_null(strstr(svg, "id=\"m-no-batchnorm-accuracy-val-band\""));
    assert_non_null(strstr(svg, "id=\"diff-0-band\""));
    assert_non_null(strstr(svg, "Paired difference in val_accuracy"));
    assert_non_null(strstr(svg, "class=\"zero\""));
}

/* A diverged run is a result: its final, best and test values are
 * missing (n drops), its epochs to the target stand, and the report and
 * summary.json say so. */
static void test_diverged(void **state)
{
    fixture *f = *state;
    const bool d[3] = {false, true, false};
    f->arms[1].diverged = d;
    assert_int_equal(cmp_analyze(&f->s), 0);
    const cmp_study *s = &f->s;
    assert_int_equal(cmp_stats(s, 1, (size_t)cmp_metric_index(s, "val_accuracy"))->n, 2);
    assert_int_equal(cmp_stats(s, 1, (size_t)cmp_metric_index(s, "test_loss"))->n, 1);
    assert_int_equal(cmp_stats(s, 0, (size_t)cmp_metric_index(s, "val_accuracy"))->n, 3);
    assert_close(cmp_value(s, 1, (size_t)cmp_metric_index(s, "epochs_to_target"), 1), 2, 0);
    assert_int_equal(find_pair(s, "val_accuracy")->p.diff.n, 2);
    const char *md = render(report_write_md, s);
    assert_non_null(strstr(md, "- m without batchnorm diverged (a NaN or infinite loss or "
                               "weight) in 1 of 3 seeds"));
    const char *json = render(cmp_write_json, s);
    assert_non_null(strstr(json, "\"diverged\": [2]"));
    assert_non_null(strstr(json, "\"diverged\": []"));
    assert_true(runs_log_diverged("Epoch 3/10\nerror: loss became nan at epoch 3, step 7; "
                                  "stopping (try a smaller --lr)\n"));
    assert_true(runs_log_diverged("error: epoch 2: the weights became non-finite (nan at "
                                  "dense_1)\n"));
    assert_false(runs_log_diverged("error: data/x.csv:3: not a number\n"));
}

/* With an --lr axis and two variants, each variant is paired with the
 * first at the same learning rate: (0, 1) and (2, 3), never across rates. */
static void test_pairs_lr(void **state)
{
    fixture *f = *state;
    cmp_arm arms[4] = {f->arms[0], f->arms[1], f->arms[0], f->arms[1]};
    arms[0].lr_index = arms[1].lr_index = 0;
    arms[2].lr_index = arms[3].lr_index = 1;
    arms[2].name = "m lr=0.1";
    arms[3].name = "m without batchnorm lr=0.1";
    f->s.arms = arms;
    f->s.narms = 4;
    f->s.nlr = 2;
    assert_int_equal(cmp_analyze(&f->s), 0);
    for (size_t k = 0; k < f->s.npairs; k++) {
        const cmp_pair *p = &f->s.pairs[k];
        assert_true((p->a == 0 && p->b == 1) || (p->a == 2 && p->b == 3));
    }
    assert_int_equal(f->s.npairs, 2 * 7); /* 2 pairs x 7 paired metrics */
    cmp_free(&f->s);
    f->s.nlr = 0; /* no axis: 4 arms, every pair */
    assert_int_equal(cmp_analyze(&f->s), 0);
    assert_int_equal(f->s.npairs, 6 * 7);
    f->s.arms = f->arms;
    f->s.narms = 2;
}

/* Directions by name, as the trainer names its metrics (seqrt.h) */
static void test_directions(void **state)
{
    (void)state;
    const char *up[] = {"val_accuracy", "binary_accuracy", "test_auc", "val_top_5",
                        "best_val_accuracy"};
    const char *down[] = {"val_loss", "test_mae", "mse", "val_rmse", "test_loss",
                          "best_val_loss"};
    for (size_t i = 0; i < sizeof up / sizeof up[0]; i++)
        assert_true(cmp_higher_better(up[i]));
    for (size_t i = 0; i < sizeof down / sizeof down[0]; i++)
        assert_false(cmp_higher_better(down[i]));
}

static void test_test_line(void **state)
{
    (void)state;
    run_test t;
    char err[256];
    assert_int_equal(runs_parse_test_line("Epoch 1/1\ntest_loss: 0.123456789 - "
                                          "test_accuracy: 0.95 - test_auc: 0.5\r\n",
                                          &t, err, sizeof err), 0);
    assert_int_equal(t.n, 3);
    assert_string_equal(t.names[2], "test_auc");
    assert_close(runs_test_value(&t, "test_loss"), 0.123456789, 1e-15);
    assert_close(runs_test_value(&t, "test_accuracy"), 0.95, 1e-15);
    assert_true(isnan(runs_test_value(&t, "test_mae")));
    /* no line: no test metrics, not an error */
    assert_int_equal(runs_parse_test_line("Epoch 1/1\nval_loss: 0.1\n", &t, err, sizeof err),
                     0);
    assert_int_equal(t.n, 0);
    /* the last line wins */
    assert_int_equal(runs_parse_test_line("test_loss: 1\ntest_loss: 2\n", &t, err, sizeof err),
                     0);
    assert_close(runs_test_value(&t, "test_loss"), 2, 0);
    /* broken */
    assert_int_equal(runs_parse_test_line("test_loss: x - test_accuracy: 0.9\n", &t, err,
                                          sizeof err), -1);
    assert_string_equal(err, "a broken test line: 'test_loss: x - test_accuracy: 0.9'");
    assert_int_equal(runs_parse_test_line("test_loss: 0.1, test_accuracy: 0.9\n", &t, err,
                                          sizeof err), -1);
    assert_int_equal(t.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_statistics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_golden_md, setup, teardown),
        cmocka_unit_test_setup_teardown(test_golden_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_unsupported_bold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_svg_bands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ranks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diverged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pairs_lr, setup, teardown),
        cmocka_unit_test(test_directions),
        cmocka_unit_test(test_test_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
