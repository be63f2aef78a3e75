/*
 * test_build.c: which MPI C compiler `seqc build --mpi` runs
 * (build_find_mpicc), against programs made in a temporary directory:
 * $MPICC when set (and nothing else then, even when it names no program),
 * else the one CMake found, else mpicc on PATH, else none.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, for seqc_tmpdir_make */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "back/build.h"
#include "testutil.h"

static char dir[512], bin[600], other[600], mpicc[700], configured[700], plain[700];

/* an empty file at path, executable or not */
static void make_file(const char *path, int mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, (mode_t)mode), 0);
}

static int setup(void **state)
{
    (void)state;
    if (seqc_tmpdir_make(dir, sizeof dir, "mpicc") != 0)
        return -1;
    snprintf(bin, sizeof bin, "%s/bin", dir);
    snprintf(other, sizeof other, "%s/other", dir);
    if (mkdir(bin, 0755) != 0 || mkdir(other, 0755) != 0)
        return -1;
    snprintf(mpicc, sizeof mpicc, "%s/mpicc", bin);
    snprintf(configured, sizeof configured, "%s/mpicc.openmpi", other);
    snprintf(plain, sizeof plain, "%s/mpicc", other); /* not executable */
    make_file(mpicc, 0755);
    make_file(configured, 0755);
    make_file(plain, 0644);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return seqc_tmpdir_remove(dir);
}

static void test_mpicc_env_first(void **state)
{
    (void)state;
    char out[4096], path[1400];
    snprintf(path, sizeof path, "/nonexistent:%s", bin);
    /* $MPICC, as given: a path, a name on PATH, several words */
    assert_int_equal(build_find_mpicc(configured, mpicc, path, out, sizeof out), 0);
    assert_string_equal(out, configured);
    assert_int_equal(build_find_mpicc("mpicc", configured, path, out, sizeof out), 0);
    assert_string_equal(out, "mpicc");
    assert_int_equal(build_find_mpicc(" mpicc -g", configured, path, out, sizeof out), 0);
    assert_string_equal(out, " mpicc -g");
    /* a $MPICC that names no program is an error, not a fallback */
    assert_int_equal(build_find_mpicc("/nonexistent/mpicc", configured, path, out, sizeof out),
                     1);
    assert_int_equal(build_find_mpicc("mpicc.openmpi", configured, path, out, sizeof out), 1);
    assert_int_equal(build_find_mpicc(plain, configured, path, out, sizeof out), 1);
}

static void test_mpicc_configured_then_path(void **state)
{
    (void)state;
    char out[4096], path[1400];
    snprintf(path, sizeof path, "%s:%s", other, bin); /* other's mpicc cannot run */
    /* an empty $MPICC counts as unset */
    assert_int_equal(build_find_mpicc("", configured, path, out, sizeof out), 0);
    assert_string_equal(out, configured);
    assert_int_equal(build_find_mpicc(NULL, configured, path, out, sizeof out), 0);
    assert_string_equal(out, configured);
    /* CMake found none, or it is gone: mpicc on PATH (the runnable one) */
    assert_int_equal(build_find_mpicc(NULL, "", path, out, sizeof out), 0);
    assert_string_equal(out, "mpicc");
    assert_int_equal(build_find_mpicc(NULL, "/nonexistent/mpicc", path, out, sizeof out), 0);
    assert_string_equal(out, "mpicc");
    /* none at all */
    assert_int_equal(build_find_mpicc(NULL, "", other, out, sizeof out), 2);
    assert_int_equal(build_find_mpicc(NULL, plain, "/nonexistent", out, sizeof out), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mpicc_env_first),
        cmocka_unit_test(test_mpicc_configured_then_path),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
