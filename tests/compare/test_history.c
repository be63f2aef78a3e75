/* test_history.c: reading history CSVs, good ones and broken ones. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/history.h"

static const char good[] =
    "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
    "1,0.5123,0.8511,0.3012,0.9120,1.25\n"
    "2,0.2500,0.9300,0.2400,0.9390,1.5\n"
    "3,0.1800,0.9500,0.2100,0.9455,1.75\n";

static void test_good(void **state)
{
    (void)state;
    history h;
    char err[256] = "";
    assert_int_equal(history_parse(good, "h.csv", &h, err, sizeof err), 0);
    assert_int_equal(h.count, 3);
    assert_int_equal(h.epochs[0], 1);
    assert_int_equal(h.epochs[2], 3);
    /* every column but epoch, in the header's order */
    assert_int_equal(h.ncols, 5);
    assert_string_equal(h.names[0], "loss");
    assert_string_equal(h.names[4], "seconds");
    assert_int_equal(history_col(&h, "val_loss"), 2);
    assert_int_equal(history_col(&h, "auc"), -1);
    assert_close(history_get(&h, 0, "loss"), 0.5123, 1e-12);
    assert_close(history_get(&h, 1, "accuracy"), 0.93, 1e-12);
    assert_close(history_get(&h, 2, "val_loss"), 0.21, 1e-12);
    assert_close(history_get(&h, 2, "val_accuracy"), 0.9455, 1e-12);
    assert_close(history_get(&h, 1, "seconds"), 1.5, 1e-12);
    assert_true(isnan(history_get(&h, 3, "loss")));
    assert_true(isnan(history_get(&h, 0, "auc")));
    history_free(&h);
    assert_null(h.v);
    assert_null(h.epochs);
}

/* A trainer's --eval-train history: train_eval_loss between the training
 * metrics and val_loss is one more column; the others keep their names. */
static void test_train_eval_column(void **state)
{
    (void)state;
    const char text[] =
        "epoch,loss,accuracy,train_eval_loss,val_loss,val_accuracy,seconds\n"
        "1,0.5,0.85,0.375,0.3,0.91,1.25\n";
    history h;
    char err[256] = "";
    assert_int_equal(history_parse(text, "e.csv", &h, err, sizeof err), 0);
    assert_int_equal(h.ncols, 6);
    assert_close(history_get(&h, 0, "train_eval_loss"), 0.375, 1e-12);
    assert_close(history_get(&h, 0, "val_loss"), 0.3, 1e-12);
    assert_close(history_get(&h, 0, "val_accuracy"), 0.91, 1e-12);
    history_free(&h);
}

/* Columns are found by name: Keras' CSVLogger order, CRLF line ends, an
 * extra column and 0-based epochs all read. */
/* A trainer's history with a schedule: the lr column sits before
 * seconds (docs/trainer-output.md); it reads like any other column. */
static void test_lr_column(void **state)
{
    (void)state;
    const char text[] = "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n"
                        "1,0.5,0.8,0.4,0.85,0.00999999978,0.5\n"
                        "2,0.3,0.9,0.35,0.88,0.00499999989,0.5\n";
    history h;
    char err[256] = "";
    assert_int_equal(history_parse(text, "s.csv", &h, err, sizeof err), 0);
    assert_int_equal(h.count, 2);
    assert_int_equal(history_col(&h, "lr"), 4);
    assert_close(history_get(&h, 1, "lr"), 0.00499999989, 1e-15);
    assert_close(history_get(&h, 1, "val_accuracy"), 0.88, 1e-12);
    assert_close(history_get(&h, 0, "seconds"), 0.5, 1e-12);
    history_free(&h);
}

static void test_other_order(void **state)
{
    (void)state;
    const char text[] =
        "epoch,accuracy,loss,lr,seconds,val_accuracy,val_loss\r\n"
        "0,0.8,0.6,0.001,2.0,0.85,0.5\r\n"
        "1,0.9,0.4,0.001,2.5,0.91,0.3\r\n";
    history h;
    char err[256] = "";
    assert_int_equal(history_parse(text, "k.csv", &h, err, sizeof err), 0);
    assert_int_equal(h.count, 2);
    assert_int_equal(h.epochs[0], 0);
    assert_close(history_get(&h, 1, "loss"), 0.4, 1e-12);
    assert_close(history_get(&h, 1, "accuracy"), 0.9, 1e-12);
    assert_close(history_get(&h, 1, "val_loss"), 0.3, 1e-12);
    assert_close(history_get(&h, 1, "val_accuracy"), 0.91, 1e-12);
    assert_close(history_get(&h, 1, "seconds"), 2.5, 1e-12);
    assert_close(history_get(&h, 1, "lr"), 0.001, 1e-12);
    history_free(&h);
}

/* A diverging run writes nan and inf; an empty field is NaN too. */
static void test_nan_inf_empty(void **state)
{
    (void)state;
    const char text[] =
        "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
        "1,nan,0.1,inf,,1\n"
        "2,-inf,NaN,Infinity,0.1,1\n";
    history h;
    char err[256] = "";
    assert_int_equal(history_parse(text, "n.csv", &h, err, sizeof err), 0);
    assert_int_equal(h.count, 2);
    assert_true(isnan(history_get(&h, 0, "loss")));
    assert_true(isinf(history_get(&h, 0, "val_loss")) && history_get(&h, 0, "val_loss") > 0);
    assert_true(isnan(history_get(&h, 0, "val_accuracy")));
    assert_true(isinf(history_get(&h, 1, "loss")) && history_get(&h, 1, "loss") < 0);
    assert_true(isnan(history_get(&h, 1, "accuracy")));
    history_free(&h);
}

/* Any metric the model names becomes a column, read by name. */
static void test_any_metrics(void **state)
{
    (void)state;
    const char text[] =
        "epoch,loss,auc,mae,val_loss,val_auc,val_mae,seconds\n"
        "1,0.7,0.81,0.4,0.6,0.79,0.45,0.5\n";
    history h;
    char err[256] = "";
    assert_int_equal(history_parse(text, "m.csv", &h, err, sizeof err), 0);
    assert_int_equal(h.ncols, 7);
    assert_close(history_get(&h, 0, "val_auc"), 0.79, 1e-12);
    assert_close(history_get(&h, 0, "val_mae"), 0.45, 1e-12);
    assert_true(isnan(history_get(&h, 0, "accuracy")));
    history_free(&h);
}

/* A header with no rows is a history of zero epochs (--epochs 0). */
static void test_header_only(void **state)
{
    (void)state;
    history h;
    char err[256] = "";
    assert_int_equal(history_parse("epoch,loss,accuracy,val_loss,val_accuracy,seconds\n",
                                   "e.csv", &h, err, sizeof err), 0);
    assert_int_equal(h.count, 0);
    history_free(&h);
}

/* Each malformed text, and the whole message it must give. */
static const struct {
    const char *text;
    const char *message;
} bad[] = {
    {"", "b.csv: empty file (no header)"},
    {"loss,accuracy,val_loss,val_accuracy,seconds\n1,2,3,4,5\n",
     "b.csv:1: no 'epoch' column in the header (is this a history CSV?)"},
    {"epoch,accuracy,val_loss,seconds\n",
     "b.csv:1: no 'loss' column in the header (expected "
     "epoch,loss,...,val_loss,...,seconds)"},
    {"epoch,loss,,val_loss\n", "b.csv:1: column 3 has no name"},
    {"epoch,loss,loss,accuracy,val_loss,val_accuracy,seconds\n",
     "b.csv:1: column 'loss' appears twice"},
    {"epoch,loss,accuracy,val_loss,val_accuracy,seconds\n1,0.5,0.9,0.4\n",
     "b.csv:2: 4 fields, the header has 6"},
    {"epoch,loss,accuracy,val_loss,val_accuracy,seconds\n1,0.5,0.9,0.4,0.9x,1\n",
     "b.csv:2: val_accuracy '0.9x' is not a number"},
    {"epoch,loss,accuracy,val_loss,val_accuracy,seconds\nfirst,0.5,0.9,0.4,0.9,1\n",
     "b.csv:2: epoch 'first' is not an epoch number"},
    {"epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
     "1,0.5,0.9,0.4,0.9,1\n3,0.5,0.9,0.4,0.9,1\n",
     "b.csv:3: epoch 3 follows epoch 1"},
    {"epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
     "1,0.5,0.9,0.4,0.9,1\n\n2,0.5,0.9,0.4,0.9,1\n",
     "b.csv:3: blank line inside the file"},
};

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        history h;
        char err[256] = "";
        int rc = history_parse(bad[i].text, "b.csv", &h, err, sizeof err);
        if (rc != -1 || strcmp(err, bad[i].message) != 0)
            print_error("case %zu: rc %d, message\n  got:  %s\n  want: %s\n", i, rc,
                        err, bad[i].message);
        assert_int_equal(rc, -1);
        assert_string_equal(err, bad[i].message);
        assert_int_equal(h.count, 0);
        assert_null(h.v);
    }
}

static void test_read_file(void **state)
{
    (void)state;
    char path[] = "/tmp/seqc-history-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(good, f);
    fclose(f);
    history h;
    char err[256] = "";
    assert_int_equal(history_read(path, &h, err, sizeof err), 0);
    assert_int_equal(h.count, 3);
    history_free(&h);
    remove(path);

    assert_int_equal(history_read(path, &h, err, sizeof err), -1);
    char want[300];
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    assert_string_equal(err, want);
}

/* a file past HISTORY_MAX_BYTES is refused before it is read (sparse, so
 * the test writes nothing) */
static void test_read_too_large(void **state)
{
    (void)state;
    char path[] = "/tmp/seqc-history-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)HISTORY_MAX_BYTES + 1), 0);
    close(fd);
    history h;
    char err[256] = "";
    assert_int_equal(history_read(path, &h, err, sizeof err), -1);
    remove(path);
    char want[300];
    snprintf(want, sizeof want, "%s: larger than 128 MiB, the limit for this file", path);
    assert_string_equal(err, want);
    assert_null(h.v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_lr_column),
        cmocka_unit_test(test_other_order),
        cmocka_unit_test(test_train_eval_column),
        cmocka_unit_test(test_nan_inf_empty),
        cmocka_unit_test(test_header_only),
        cmocka_unit_test(test_any_metrics),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_read_too_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
