/* test_util.c: the compiler's shared helpers in util/: the bounded
 * whole-file reader, the output path checks, path stems, running a child. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/proc.h"

SEQC_SCRATCH_GROUP("test_util")

static void write_bytes(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_read_all_limits(void **state)
{
    (void)state;
    char p[4300], *text, why[256];
    size_t len;
    /* exactly the limit is read; one byte more is refused */
    write_bytes(scratch_path(p, sizeof p, "ten"), "0123456789", 10);
    assert_int_equal(file_read_all(p, 10, &text, &len, why, sizeof why), 0);
    assert_int_equal(len, 10);
    assert_string_equal(text, "0123456789"); /* NUL-terminated */
    free(text);
    assert_int_equal(file_read_all(p, 9, &text, &len, why, sizeof why), -1);
    assert_null(text);
    assert_string_equal(why, "larger than 9 bytes, the limit for this file");
    /* an empty file is text of length 0 */
    write_bytes(scratch_path(p, sizeof p, "empty"), "", 0);
    assert_int_equal(file_read_all(p, 10, &text, &len, why, sizeof why), 0);
    assert_int_equal(len, 0);
    assert_string_equal(text, "");
    free(text);
    /* past the first buffer: growth keeps every byte */
    enum { BIG = 100000 };
    char *big = malloc(BIG);
    assert_non_null(big);
    for (size_t i = 0; i < BIG; i++)
        big[i] = (char)('a' + i % 26);
    write_bytes(scratch_path(p, sizeof p, "big"), big, BIG);
    assert_int_equal(file_read_all(p, BIG, &text, &len, why, sizeof why), 0);
    assert_int_equal(len, BIG);
    assert_memory_equal(text, big, BIG);
    free(text);
    free(big);
}

static void test_read_all_not_files(void **state)
{
    (void)state;
    char p[4300], *text, why[256];
    size_t len;
    assert_int_equal(file_read_all(scratch_dir(), 100, &text, &len, why, sizeof why), -1);
    assert_string_equal(why, "is a directory, not a file");
    assert_int_equal(file_read_all(scratch_path(p, sizeof p, "none"), 100, &text, &len, why, sizeof why),
                     -1);
    assert_string_equal(why, "cannot open: No such file or directory");
    /* a stream with no size goes on past the limit: refused at the limit */
    assert_int_equal(file_read_all("/dev/zero", 1 << 20, &text, &len, why, sizeof why), -1);
    assert_string_equal(why, "larger than 1 MiB, the limit for this file");
    assert_null(text);
}

static void test_check_output(void **state)
{
    (void)state;
    char in[4300], sym[4300], hard[4300], other[4300], why[600];
    write_bytes(scratch_path(in, sizeof in, "m.seq"), "model", 5);
    assert_int_equal(symlink(in, scratch_path(sym, sizeof sym, "sym.seq")), 0);
    assert_int_equal(link(in, scratch_path(hard, sizeof hard, "hard.seq")), 0);
    const char *inputs[] = {in};
    /* the input itself, through a symbolic link, through a hard link */
    const char *same[] = {in, sym, hard};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(file_check_output(same[i], inputs, 1, why, sizeof why), -1);
        char want[4400];
        snprintf(want, sizeof want, "it is the input %s", in);
        assert_string_equal(why, want);
    }
    /* a new file, and an existing file that is another one, are fine */
    assert_int_equal(file_check_output(scratch_path(other, sizeof other, "new.c"), inputs, 1, why,
                                       sizeof why), 0);
    write_bytes(other, "x", 1);
    assert_int_equal(file_check_output(other, inputs, 1, why, sizeof why), 0);
    /* a directory, a name ending in '/', a missing directory, a file as a directory */
    assert_int_equal(file_check_output(scratch_dir(), inputs, 1, why, sizeof why), -1);
    assert_string_equal(why, "it is a directory");
    assert_int_equal(file_check_output("sub/", inputs, 1, why, sizeof why), -1);
    assert_string_equal(why, "it names a directory, not a file");
    assert_int_equal(file_check_output("/nonexistent-seqc/x", inputs, 1, why, sizeof why), -1);
    assert_string_equal(why, "the directory /nonexistent-seqc does not exist");
    char under[4400];
    snprintf(under, sizeof under, "%s/x", in);
    assert_int_equal(file_check_output(under, inputs, 1, why, sizeof why), -1);
    char want[4400];
    snprintf(want, sizeof want, "%s is not a directory", in);
    assert_string_equal(why, want);
    /* file_check_target skips the directory check (compare makes it later) */
    assert_int_equal(file_check_target("/nonexistent-seqc/x", inputs, 1, why, sizeof why), 0);
    assert_int_equal(file_check_target(sym, inputs, 1, why, sizeof why), -1);
}

static void test_path_stem(void **state)
{
    (void)state;
    assert_string_equal(path_base("models/mnist_bn.seq"), "mnist_bn.seq");
    assert_string_equal(path_base("mnist_bn.seq"), "mnist_bn.seq");
    assert_string_equal(path_base("dir/"), "");
    assert_int_equal(path_stem_len("models/mnist_bn.seq"), 8);
    assert_int_equal(path_stem_len("a/noext"), 5);
    assert_int_equal(path_stem_len(".seq"), 4); /* the whole name: kept */
    assert_int_equal(path_stem_len("x.seq.c"), 7);
}

static void test_proc(void **state)
{
    (void)state;
    int sig;
    char *ok[] = {"true", NULL}, *bad[] = {"false", NULL};
    pid_t pid = proc_start(ok, -1);
    assert_true(pid > 0);
    assert_int_equal(proc_wait(pid, &sig), 0);
    pid = proc_start(bad, -1);
    assert_true(pid > 0);
    assert_int_equal(proc_wait(pid, &sig), 1);
    /* a program that does not exist is the start's error, with errno */
    char *none[] = {"seqc-no-such-program", NULL};
    errno = 0;
    assert_int_equal(proc_start(none, -1), -1);
    assert_int_equal(errno, ENOENT);
    /* killed: -1 and the signal */
    char *killed[] = {"sh", "-c", "kill -TERM $$", NULL};
    pid = proc_start(killed, -1);
    assert_true(pid > 0);
    assert_int_equal(proc_wait(pid, &sig), -1);
    assert_int_equal(sig, SIGTERM);
    /* stdout and stderr both go to out_fd */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    char *both[] = {"sh", "-c", "echo out; echo err >&2", NULL};
    pid = proc_start(both, fds[1]);
    close(fds[1]);
    assert_true(pid > 0);
    char buf[64] = {0};
    size_t n = 0;
    ssize_t got;
    while (n < sizeof buf - 1 && (got = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)got;
    close(fds[0]);
    assert_int_equal(proc_wait(pid, &sig), 0);
    assert_string_equal(buf, "out\nerr\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_all_limits),
        cmocka_unit_test(test_read_all_not_files),
        cmocka_unit_test(test_check_output),
        cmocka_unit_test(test_path_stem),
        cmocka_unit_test(test_proc),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
