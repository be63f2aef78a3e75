/*
 * test_loop_history.c: the --history CSV (runtime/src/loop/history.c): exact
 * text, rewritten whole after each row, rows kept on resume.
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
    seqrt_history_row r = {.epoch = epoch, .loss = loss, .accuracy = 0.5,
                           .val_loss = 0.25f, .val_accuracy = 0.9732, .seconds = 1.5};
    return r;
}

static void append(seqrt_history *h, seqrt_history_row r)
{
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_history_append(h, &r, &err), 0);
}

static void test_rows_are_written_after_each_epoch(void **state)
{
    (void)state;
    seqrt_history h;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_history_open(&h, path, 0, 2, &err), 0);
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
    assert_int_equal(seqrt_history_open(&h, path, 0, 3, &err), 0);
    append(&h, row(1, 1));
    append(&h, row(2, 2));
    append(&h, row(3, 3));
    seqrt_history_close(&h);

    /* resume from a checkpoint of epoch 1: row 1 stays, rows 2-3 go */
    assert_int_equal(seqrt_history_open(&h, path, 1, 2, &err), 0);
    append(&h, row(2, 20));
    seqrt_history_close(&h);
    assert_string_equal(slurp(path), "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
                                     "1,1,0.5,0.25,0.9732,1.500000\n"
                                     "2,20,0.5,0.25,0.9732,1.500000\n");

    /* a fresh run replaces the file */
    assert_int_equal(seqrt_history_open(&h, path, 0, 1, &err), 0);
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
    assert_int_equal(seqrt_history_open(&h, path, 2, 1, &err), 0);
    append(&h, row(3, 3));
    seqrt_history_close(&h);
    assert_string_equal(slurp(path), "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
                                     "3,3,0.5,0.25,0.9732,1.500000\n");

    FILE *f = fopen(path, "w");
    fputs("name,score\nx,1\n", f);
    fclose(f);
    assert_int_equal(seqrt_history_open(&h, path, 2, 1, &err), -1);
    assert_non_null(strstr(err.msg, "not a trainer history"));

    f = fopen(path, "w");
    fputs("epoch,loss,accuracy,val_loss,val_accuracy,seconds\nabc,1\n", f);
    fclose(f);
    assert_int_equal(seqrt_history_open(&h, path, 2, 1, &err), -1);
    assert_non_null(strstr(err.msg, ":2: not a history row"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_are_written_after_each_epoch),
        cmocka_unit_test(test_resume_keeps_earlier_rows_only),
        cmocka_unit_test(test_resume_with_missing_or_foreign_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
