/* test_runs.c: compare's runner (lab/runs.c) with small shell scripts in
 * place of trainers: every run's output in its own log, at most J at a
 * time, a diverged run counted as a result, any other failure stopping
 * the runs not yet started. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* The launcher of --ranks: $MPIEXEC alone when set (its first word the
 * program), else the configured one when it is a program, else mpiexec
 * in PATH's directories; 1 for an $MPIEXEC naming no program, 2 for
 * nothing found. Programs are made in the scratch folder. */
static void test_find_mpiexec(void **state)
{
    (void)state;
    char dir[4300], prog[4400], other[4400], plain[4400], out[4500];
    snprintf(dir, sizeof dir, "%s", scratch_dir());
    snprintf(prog, sizeof prog, "%s/mpiexec", dir);
    snprintf(other, sizeof other, "%s/mpirun", dir);
    snprintf(plain, sizeof plain, "%s/not-a-program", dir);
    const char *made[] = {prog, other, plain};
    for (int k = 0; k < 3; k++) {
        FILE *f = fopen(made[k], "w");
        assert_non_null(f);
        fputs("#!/bin/sh\n", f);
        fclose(f);
        assert_int_equal(chmod(made[k], k < 2 ? 0755 : 0644), 0);
    }
    char path[9000];
    snprintf(path, sizeof path, "/nonexistent:%s", dir);
    /* $MPIEXEC: a path, or a name looked up in PATH, with its own options */
    assert_int_equal(runs_find_mpiexec(other, prog, path, out, sizeof out), 0);
    assert_string_equal(out, other);
    assert_int_equal(runs_find_mpiexec("  mpirun --oversubscribe", NULL, path, out, sizeof out), 0);
    assert_string_equal(out, "  mpirun --oversubscribe");
    /* set, but not a program: an error, never a fallback */
    assert_int_equal(runs_find_mpiexec("/nonexistent/mpiexec", prog, path, out, sizeof out), 1);
    assert_int_equal(runs_find_mpiexec(plain, prog, path, out, sizeof out), 1);
    assert_int_equal(runs_find_mpiexec("mpirun", prog, "/nonexistent", out, sizeof out), 1);
    /* unset or empty: the configured one, else mpiexec on PATH */
    assert_int_equal(runs_find_mpiexec(NULL, other, "/nonexistent", out, sizeof out), 0);
    assert_string_equal(out, other);
    assert_int_equal(runs_find_mpiexec(" ", plain, path, out, sizeof out), 0);
    assert_string_equal(out, "mpiexec");
    assert_int_equal(runs_find_mpiexec(NULL, "", path, out, sizeof out), 0);
    assert_string_equal(out, "mpiexec");
    assert_int_equal(runs_find_mpiexec(NULL, "/nonexistent/mpiexec", "/nonexistent", out,
                                       sizeof out), 2);
    assert_int_equal(runs_find_mpiexec("", "", dir, out, sizeof out), 0);
    assert_int_equal(runs_find_mpiexec("", "", "/nonexistent", out, sizeof out), 2);
}

/* A failed run's log goes to stderr whole when it is short (mpiexec's
 * 16-line refusal to run as root, its reason in its first lines), else
 * its last 8 lines. */
static void test_failed_log_shown(void **state)
{
    (void)state;
    static char s[2][19000];
    snprintf(s[0], sizeof s[0], "echo 'mpiexec has detected an attempt to run as root.'; "
             "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do echo line$i; done; exit 1");
    snprintf(s[1], sizeof s[1], "echo 'first of 40'; for i in $(seq 2 40); do echo line$i; "
             "done; exit 1");
    for (int k = 0; k < 2; k++) {
        const char *scripts[1] = {s[k]};
        static jobs js;
        make_jobs(&js, 1, scripts);
        char path[4300];
        scratch_path(path, sizeof path, "stderr.txt");
        fflush(stderr);
        int fd = dup(2); /* stderr, back after the run */
        assert_true(freopen(path, "w", stderr) != NULL);
        int rc = runs_execute(js.j, 1, 1, NULL, false);
        fflush(stderr);
        dup2(fd, 2);
        close(fd);
        assert_int_equal(rc, -1);
        char *err = read_text(path);
        if (k == 0) {
            assert_non_null(strstr(err, "attempt to run as root"));
            assert_non_null(strstr(err, "line14\n---\n"));
        } else {
            assert_null(strstr(err, "first of 40"));
            assert_null(strstr(err, "line32\n"));
            assert_non_null(strstr(err, "the end of"));
            assert_non_null(strstr(err, "\nline33\n"));
            assert_non_null(strstr(err, "line40\n---\n"));
        }
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_mpiexec),
        cmocka_unit_test(test_failed_log_shown),
        cmocka_unit_test(test_parallel_logs),
        cmocka_unit_test(test_diverged_and_failed),
        cmocka_unit_test(test_progress),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
