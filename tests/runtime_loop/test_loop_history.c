/*
 * test_loop_history.c: the --history CSV (runtime/src/loop/history.c): exact
 * text, the model's metrics as columns (none, one, two; with and without
 * validation), rewritten whole after each row, rows kept on resume only
 * under the same columns.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include "loop/history.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[4096];
static char path[4200];

static int setup(void **state)
{
    (void)state;
    if (seqc_tmpdir_make(dir, sizeof dir, "loop_hist") != 0)
        return -1;
    snprintf(path, sizeof path, "%s/h.csv", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return seqc_tmpdir_remove(dir);
}

static char *slurp(const char *p)
{
    static char buf[8192];
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static seqrt_history_row row(unsigned epoch, double loss)
{
    seqrt_history_row r = {.epoch = epoch, .loss = loss, .metrics = {0.5, 2},
                           .val_loss = 0.25f, .val_metrics = {0.9732, 3}, .seconds = 1.5};
    return r;
}

static void append(seqrt_history *h, seqrt_history_row r)
{
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_history_append(h, &r, &err), 0);
}

/* accuracy, with validation: the columns of the tutorial's model */
static const seqrt_history_columns acc_cols = {.names = {"accuracy"}, .count = 1, .has_val = 1};

static int open_acc(seqrt_history *h, unsigned keep, unsigned rows, seqrt_error *err)
{
    return seqrt_history_open(h, path, &acc_cols, keep, rows, err);
}

static void test_rows_are_written_after_each_epoch(void **state)
{
    (void)state;
    seqrt_history h;
    seqrt_error err = {{0}};
    assert_int_equal(open_acc(&h, 0, 2, &err), 0);
    append(&h, row(1, 0.1f));
    /* complete after the first row already */
    assert_string_equal(slurp(path), "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
                                     "1,0.100000001,0.5,0.25,0.9732,1.500000\n");
    append(&h, row(2, 1.0 / 3.0));
    assert_string_equal(slurp(path), "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
                                     "1,0.100000001,0.5,0.25,0.9732,1.500000\n"
                                     "2,0.333333333,0.5,0.25,0.9732,1.500000\n");
    seqrt_history_close(&h);
    /* renamed, not left behind: h.csv is the directory's only entry */
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            assert_string_equal(e->d_name, "h.csv");
    }
    closedir(d);
}

static void test_resume_keeps_earlier_rows_only(void **state)
{
    (void)state;
    seqrt_history h;
    seqrt_error err = {{0}};
    assert_int_equal(open_acc(&h, 0, 3, &err), 0);
    append(&h, row(1, 1));
    append(&h, row(2, 2));
    append(&h, row(3, 3));
    seqrt_history_close(&h);

    /* resume from a checkpoint of epoch 1: row 1 stays, rows 2-3 go */
    assert_int_equal(open_acc(&h, 1, 2, &err), 0);
    append(&h, row(2, 20));
    seqrt_history_close(&h);
    assert_string_equal(slurp(path), "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
                                     "1,1,0.5,0.25,0.9732,1.500000\n"
                                     "2,20,0.5,0.25,0.9732,1.500000\n");

    /* a fresh run replaces the file */
    assert_int_equal(open_acc(&h, 0, 1, &err), 0);
    append(&h, row(1, 7));
    seqrt_history_close(&h);
    assert_string_equal(slurp(path), "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
                                     "1,7,0.5,0.25,0.9732,1.500000\n");
}

static void test_resume_with_missing_or_foreign_file(void **state)
{
    (void)state;
    seqrt_history h;
    seqrt_error err = {{0}};
    remove(path);
    assert_int_equal(open_acc(&h, 2, 1, &err), 0);
    append(&h, row(3, 3));
    seqrt_history_close(&h);
    assert_string_equal(slurp(path), "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
                                     "3,3,0.5,0.25,0.9732,1.500000\n");

    FILE *f = fopen(path, "w");
    fputs("name,score\nx,1\n", f);
    fclose(f);
    assert_int_equal(open_acc(&h, 2, 1, &err), -1);
    assert_non_null(strstr(err.msg, "not a trainer history"));

    f = fopen(path, "w");
    fputs("epoch,loss,accuracy,val_loss,val_accuracy,seconds\nabc,1\n", f);
    fclose(f);
    assert_int_equal(open_acc(&h, 2, 1, &err), -1);
    assert_non_null(strstr(err.msg, ":2: not a history row"));
}

static void test_columns_follow_the_metrics(void **state)
{
    (void)state;
    static const struct {
        seqrt_history_columns cols;
        const char *text;
    } cases[] = {
        {{.count = 0, .has_val = 1}, "epoch,loss,val_loss,seconds\n1,7,0.25,1.500000\n"},
        {{.names = {"accuracy"}, .count = 1, .has_val = 1},
         "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n1,7,0.5,0.25,0.9732,1.500000\n"},
        {{.names = {"mae", "rmse"}, .count = 2, .has_val = 1},
         "epoch,loss,mae,rmse,val_loss,val_mae,val_rmse,seconds\n"
         "1,7,0.5,2,0.25,0.9732,3,1.500000\n"},
        {{.count = 0, .has_val = 0}, "epoch,loss,seconds\n1,7,1.500000\n"},
        {{.names = {"mae", "rmse"}, .count = 2, .has_val = 0},
         "epoch,loss,mae,rmse,seconds\n1,7,0.5,2,1.500000\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seqrt_history h;
        seqrt_error err = {{0}};
        assert_int_equal(seqrt_history_open(&h, path, &cases[i].cols, 0, 1, &err), 0);
        append(&h, row(1, 7));
        seqrt_history_close(&h);
        assert_string_equal(slurp(path), cases[i].text);
        /* the header alone, as --help prints it */
        char header[128];
        size_t n = seqrt_history_header(header, sizeof header, &cases[i].cols);
        assert_int_equal(n, strcspn(cases[i].text, "\n"));
        assert_memory_equal(header, cases[i].text, n);
    }
}

/* --eval-train: train_eval_loss after the training metrics, before the
 * val_ columns (docs/trainer-output.md), with and without validation. */
static void test_train_eval_column(void **state)
{
    (void)state;
    seqrt_history_columns cols = acc_cols;
    cols.has_train_eval = 1;
    seqrt_history h;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_history_open(&h, path, &cols, 0, 1, &err), 0);
    seqrt_history_row r = row(1, 0.5);
    r.train_eval_loss = 0.375;
    append(&h, r);
    seqrt_history_close(&h);
    assert_string_equal(slurp(path),
                        "epoch,loss,accuracy,train_eval_loss,val_loss,val_accuracy,seconds\n"
                        "1,0.5,0.5,0.375,0.25,0.9732,1.500000\n");
    cols.has_val = 0;
    char header[128];
    seqrt_history_header(header, sizeof header, &cols);
    assert_string_equal(header, "epoch,loss,accuracy,train_eval_loss,seconds");
    /* a run without --eval-train cannot resume into this file's rows */
    assert_int_equal(open_acc(&h, 1, 1, &err), -1);
    assert_non_null(strstr(err.msg, "--eval-train"));
    cols.has_val = 1;
    assert_int_equal(seqrt_history_open(&h, path, &cols, 1, 1, &err), 0);
    seqrt_history_close(&h);
}

/* The longest row (eight metrics of the longest %.9g values, and
 * train_eval_loss) fits. */
static void test_widest_row_fits(void **state)
{
    (void)state;
    seqrt_history_columns cols = {.count = SEQRT_MAX_METRICS, .has_val = 1,
                                  .has_train_eval = 1};
    for (int i = 0; i < SEQRT_MAX_METRICS; i++)
        cols.names[i] = "sparse_top_k_categorical_accuracy";
    seqrt_history_row r = {.epoch = 4000000000u, .loss = -1.23456789e-308,
                           .train_eval_loss = -1.23456789e-308,
                           .val_loss = -1.23456789e-308, .seconds = 1e9};
    for (int i = 0; i < SEQRT_MAX_METRICS; i++)
        r.metrics[i] = r.val_metrics[i] = -1.23456789e-300;
    seqrt_history h;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_history_open(&h, path, &cols, 0, 1, &err), 0);
    assert_int_equal(seqrt_history_append(&h, &r, &err), 0);
    seqrt_history_close(&h);
    const char *text = slurp(path);
    const char *second = strchr(text, '\n') + 1;
    assert_memory_equal(second, "4000000000,-1.23456789e-308,-1.23456789e-300,", 45);
    int commas = 0;
    for (const char *p = second; *p; p++)
        commas += *p == ',';
    assert_int_equal(commas, 4 + 2 * SEQRT_MAX_METRICS);
    assert_non_null(strstr(second, ",1000000000.000000\n"));
}

/* Resuming keeps rows only when the columns are this run's: rows of other
 * columns under a new header would be a file no reader can trust. */
static void test_resume_needs_the_same_columns(void **state)
{
    (void)state;
    seqrt_history h;
    seqrt_error err = {{0}};
    seqrt_history_columns two = {.names = {"mae", "rmse"}, .count = 2, .has_val = 1};
    assert_int_equal(seqrt_history_open(&h, path, &two, 0, 2, &err), 0);
    append(&h, row(1, 1));
    append(&h, row(2, 2));
    seqrt_history_close(&h);

    assert_int_equal(seqrt_history_open(&h, path, &two, 1, 1, &err), 0);
    append(&h, row(2, 5));
    seqrt_history_close(&h);
    assert_string_equal(slurp(path), "epoch,loss,mae,rmse,val_loss,val_mae,val_rmse,seconds\n"
                                     "1,1,0.5,2,0.25,0.9732,3,1.500000\n"
                                     "2,5,0.5,2,0.25,0.9732,3,1.500000\n");

    two.has_val = 0;
    assert_int_equal(seqrt_history_open(&h, path, &two, 1, 1, &err), -1);
    assert_string_equal(strstr(err.msg, "h.csv"),
                        "h.csv: its columns are 'epoch,loss,mae,rmse,val_loss,val_mae,"
                        "val_rmse,seconds', this run writes 'epoch,loss,mae,rmse,seconds' "
                        "(other metrics, a validation set or --eval-train in one run and not the other); "
                        "give another --history");
    assert_int_equal(open_acc(&h, 1, 1, &err), -1);
    assert_non_null(strstr(err.msg, "this run writes 'epoch,loss,accuracy,val_loss,"
                                    "val_accuracy,seconds'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_are_written_after_each_epoch),
        cmocka_unit_test(test_resume_keeps_earlier_rows_only),
        cmocka_unit_test(test_resume_with_missing_or_foreign_file),
        cmocka_unit_test(test_columns_follow_the_metrics),
        cmocka_unit_test(test_widest_row_fits),
        cmocka_unit_test(test_train_eval_column),
        cmocka_unit_test(test_resume_needs_the_same_columns),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
