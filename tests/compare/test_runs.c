/* test_runs.c: compare's runner (lab/runs.c) with small shell scripts in
 * place of trainers: every run's output in its own log, at most J at a
 * time, a diverged run counted as a result, any other failure stopping
 * the runs not yet started. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "lab/runs.h"
#include "util/fileio.h"

SEQC_SCRATCH_GROUP("compare_runs")

static char *read_text(const char *path)
{
    char *text, why[256];
    size_t len;
    if (file_read_all(path, 1 << 20, &text, &len, why, sizeof why) != 0)
        fail_msg("%s: %s", path, why);
    return text;
}

typedef struct jobs {
    char    *argv[8][4];
    char     logs[8][4300];
    char     scripts[8][20000];
    run_job  j[8];
} jobs;

/* job k runs `sh -c SCRIPT`; its log is DIR/runK.log */
static void make_jobs(jobs *js, size_t n, const char *const *scripts)
{
    memset(js, 0, sizeof *js);
    for (size_t k = 0; k < n; k++) {
        char name[32];
        snprintf(name, sizeof name, "run%zu.log", k);
        scratch_path(js->logs[k], sizeof js->logs[k], name);
        snprintf(js->scripts[k], sizeof js->scripts[k], "%.19000s", scripts[k]);
        js->argv[k][0] = "/bin/sh";
        js->argv[k][1] = "-c";
        js->argv[k][2] = js->scripts[k];
        js->argv[k][3] = NULL;
        js->j[k] = (run_job){js->argv[k], js->logs[k], "job", 0, false};
    }
}

/* Three runs, two at a time: each log holds its own run's stdout and
 * stderr; the most runs alive at once (counted through files) is 2. */
static void test_parallel_logs(void **state)
{
    (void)state;
    char dir[4300];
    snprintf(dir, sizeof dir, "%s", scratch_dir());
    static char s[3][19000];
    for (int k = 0; k < 3; k++)
        snprintf(s[k], sizeof s[k],
                 "echo out%d; echo err%d >&2; touch '%s/alive%d'; sleep 0.3; "
                 "ls '%s' | grep -c alive > '%s/seen%d'; rm '%s/alive%d'",
                 k, k, dir, k, dir, dir, k, dir, k);
    const char *scripts[3] = {s[0], s[1], s[2]};
    static jobs js;
    make_jobs(&js, 3, scripts);
    assert_int_equal(runs_execute(js.j, 3, 2, NULL, false), 0);
    int most = 0;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(js.j[k].status, 0);
        char want[32], path[4300], name[16];
        char *log = read_text(js.logs[k]);
        snprintf(want, sizeof want, "out%d\nerr%d\n", k, k);
        assert_string_equal(log, want);
        free(log);
        snprintf(name, sizeof name, "seen%d", k);
        char *seen = read_text(scratch_path(path, sizeof path, name));
        if (atoi(seen) > most)
            most = atoi(seen);
        free(seen);
    }
    assert_int_equal(most, 2);
}

/* A run that diverged is a result: the others still run. A run that
 * failed otherwise stops the ones not started (one at a time here). */
static void test_diverged_and_failed(void **state)
{
    (void)state;
    const char *scripts[3] = {
        "echo 'error: loss became nan at epoch 2, step 5; stopping' >&2; exit 1",
        "exit 0",
        "exit 0",
    };
    static jobs js;
    make_jobs(&js, 3, scripts);
    assert_int_equal(runs_execute(js.j, 3, 1, NULL, false), 0);
    assert_true(js.j[0].diverged);
    assert_int_equal(js.j[0].status, 1);
    assert_int_equal(js.j[1].status, 0);
    assert_int_equal(js.j[2].status, 0);

    const char *bad[3] = {"exit 0", "echo 'error: no such data' >&2; exit 1", "exit 0"};
    make_jobs(&js, 3, bad);
    assert_int_equal(runs_execute(js.j, 3, 1, NULL, false), -1);
    assert_false(js.j[1].diverged);
    assert_int_equal(js.j[1].status, 1);
    assert_int_equal(js.j[2].status, -2); /* never started */
}

/* The progress lines: one per finished run when not on a terminal. */
static void test_progress(void **state)
{
    (void)state;
    const char *scripts[2] = {"exit 0", "exit 0"};
    static jobs js;
    make_jobs(&js, 2, scripts);
    char buf[512] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    assert_int_equal(runs_execute(js.j, 2, 2, f, false), 0);
    fclose(f);
    assert_non_null(strstr(buf, "runs 0/2 done\n"));
    assert_non_null(strstr(buf, "runs 1/2 done, ETA "));
    assert_non_null(strstr(buf, "runs 2/2 done in "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_logs),
        cmocka_unit_test(test_diverged_and_failed),
        cmocka_unit_test(test_progress),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
