/*
 * test_loop_outfile.c: the one output writer (runtime/src/data/outfile.c)
 * on every kind of target: a regular file replaced atomically (old file
 * kept on failure, permissions kept, no temporary left), a symlink written
 * through, character devices (made with mknod in the test's directory,
 * never the system's) and a FIFO written in place, a directory and a
 * missing parent refused, a file size limit reported as an error, stale
 * temporaries of dead writers removed and those of live ones kept.
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* mknod */
#include "testutil.h"

#include "seqrt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

SEQC_SCRATCH_GROUP("loop_outfile")

static const char *at(const char *name)
{
    static char buf[4][4400];
    static int next;
    return scratch_path(buf[next++ % 4], sizeof buf[0], name);
}

static int write_text(FILE *f, const void *ctx)
{
    return fputs(ctx, f) < 0 ? -1 : 0;
}

static int write_then_fail(FILE *f, const void *ctx)
{
    fputs(ctx, f);
    errno = 0;
    return -1;
}

static int put(const char *path, const char *text, seqrt_error *err)
{
    return seqrt_write_file(path, write_text, text, err);
}

static char *slurp(const char *path)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part)) {
        print_error("expected to find \"%s\" in \"%s\"\n", part, text);
        fail();
    }
}

/* Entries of the test directory other than the ones named. */
static int count_entries(void)
{
    DIR *d = opendir(scratch_dir());
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void make_device(const char *name, unsigned major_no, unsigned minor_no)
{
    if (mknod(at(name), S_IFCHR | 0666, makedev(major_no, minor_no)) != 0) {
        if (errno == EPERM)
            skip(); /* not root: devices cannot be made */
        fail_msg("mknod %s: %s", name, strerror(errno));
    }
}

static void test_regular_file_replaced_atomically(void **state)
{
    (void)state;
    seqrt_error err = {{0}};
    const char *p = at("plain.txt");
    assert_int_equal(put(p, "one\n", &err), 0);
    assert_int_equal(chmod(p, 0640), 0);
    assert_int_equal(put(p, "two\n", &err), 0);
    assert_string_equal(slurp(p), "two\n");
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640); /* the replacement keeps the mode */
    /* a writer that fails costs nothing: the old file stays, no temporary */
    assert_int_equal(seqrt_write_file(p, write_then_fail, "partial", &err), -1);
    assert_contains(err.msg, "cannot write");
    assert_string_equal(slurp(p), "two\n");
    assert_int_equal(count_entries(), 1);
    unlink(p);
}

static void test_symlink_is_written_through(void **state)
{
    (void)state;
    seqrt_error err = {{0}};
    assert_int_equal(mkdir(at("real"), 0755), 0);
    assert_int_equal(symlink("real/target.txt", at("link.txt")), 0); /* dangling at first */
    assert_int_equal(put(at("link.txt"), "first\n", &err), 0);
    assert_int_equal(put(at("link.txt"), "second\n", &err), 0);
    struct stat st;
    assert_int_equal(lstat(at("link.txt"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_string_equal(slurp(at("real/target.txt")), "second\n");
    /* a chain of links, the last one absolute */
    assert_int_equal(symlink(at("real/target.txt"), at("abs.txt")), 0);
    assert_int_equal(symlink("abs.txt", at("chain.txt")), 0);
    assert_int_equal(put(at("chain.txt"), "third\n", &err), 0);
    assert_int_equal(lstat(at("chain.txt"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_string_equal(slurp(at("real/target.txt")), "third\n");
    /* a loop is an error with its reason */
    assert_int_equal(symlink("loop2", at("loop1")), 0);
    assert_int_equal(symlink("loop1", at("loop2")), 0);
    assert_int_equal(put(at("loop1"), "x", &err), -1);
    assert_contains(err.msg, "Too many levels of symbolic links");
    assert_int_equal(seqc_tmpdir_remove(scratch_dir()), 0);
    assert_int_equal(mkdir(scratch_dir(), 0755), 0);
}

static void test_null_device_stays_a_device(void **state)
{
    (void)state;
    make_device("null", 1, 3);
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_outfile_check(at("null"), &err), 0);
    assert_int_equal(put(at("null"), "discarded\n", &err), 0);
    struct stat st;
    assert_int_equal(lstat(at("null"), &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(count_entries(), 1); /* no temporary beside it */
    unlink(at("null"));
}

static void test_full_device_reports_no_space(void **state)
{
    (void)state;
    make_device("full", 1, 7);
    seqrt_error err = {{0}};
    assert_int_equal(put(at("full"), "does not fit\n", &err), -1);
    assert_contains(err.msg, "cannot write ");
    assert_contains(err.msg, "/full: No space left on device");
    struct stat st;
    assert_int_equal(lstat(at("full"), &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    unlink(at("full"));
}

static void test_fifo_is_written_in_place(void **state)
{
    (void)state;
    assert_int_equal(mkfifo(at("fifo"), 0644), 0);
    seqrt_error err = {{0}};
    /* nobody reads: an error, not a writer blocked forever */
    assert_int_equal(put(at("fifo"), "lost\n", &err), -1);
    assert_contains(err.msg, "/fifo: it is a FIFO that no process reads");
    int fd = open(at("fifo"), O_RDONLY | O_NONBLOCK); /* a reader, so open does not block */
    assert_true(fd >= 0);
    assert_int_equal(put(at("fifo"), "through the pipe\n", &err), 0);
    char buf[64] = {0};
    assert_int_equal(read(fd, buf, sizeof buf - 1), 17);
    assert_string_equal(buf, "through the pipe\n");
    close(fd);
    struct stat st;
    assert_int_equal(lstat(at("fifo"), &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    unlink(at("fifo"));
}

static void test_directory_and_missing_parent_refused(void **state)
{
    (void)state;
    seqrt_error err = {{0}};
    assert_int_equal(mkdir(at("adir"), 0755), 0);
    assert_int_equal(seqrt_outfile_check(at("adir"), &err), -1);
    assert_contains(err.msg, "adir: it is a directory");
    assert_int_equal(put(at("adir"), "x", &err), -1);
    assert_contains(err.msg, "adir: it is a directory");
    assert_int_equal(put(at("nodir/sub/x.txt"), "x", &err), -1);
    char want[9000];
    snprintf(want, sizeof want, "cannot write %s/nodir/sub/x.txt: directory %s/nodir/sub "
             "does not exist", scratch_dir(), scratch_dir());
    assert_string_equal(err.msg, want);
    assert_int_equal(put("", "x", &err), -1);
    assert_int_equal(count_entries(), 1);
    rmdir(at("adir"));
}

/* ulimit -f: without SIGXFSZ ignored the process would be killed. */
static void test_file_size_limit_is_an_error(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {1024, 1024};
        setrlimit(RLIMIT_FSIZE, &rl);
        char big[8192];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        seqrt_error err = {{0}};
        int rc = put(at("big.txt"), big, &err);
        _exit(rc == -1 && strstr(err.msg, "File too large") ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(count_entries(), 0); /* the temporary is gone */
}

static void touch(const char *name)
{
    FILE *f = fopen(at(name), "w");
    assert_non_null(f);
    fclose(f);
}

static void test_stale_temporaries_removed(void **state)
{
    (void)state;
    /* a PID that is surely dead: a child that has exited and been reaped */
    pid_t dead = fork();
    assert_true(dead >= 0);
    if (dead == 0)
        _exit(0);
    assert_int_equal(waitpid(dead, NULL, 0), dead);
    char stale[64], mine[64], other[64];
    snprintf(stale, sizeof stale, "out.txt.seqc-tmp.%ld", (long)dead);
    snprintf(mine, sizeof mine, "out.txt.seqc-tmp.%ld", (long)getpid());
    snprintf(other, sizeof other, "other.txt.seqc-tmp.%ld", (long)dead);
    touch(stale);
    touch(mine);  /* left by an earlier process with this PID */
    touch(other); /* another target's: not ours to judge */
    touch("out.txt.seqc-tmp.1"); /* PID 1 is alive */
    touch("out.txt.seqc-tmp.12x");
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_outfile_check(at("out.txt"), &err), 0);
    assert_int_equal(access(at(stale), F_OK), -1);
    assert_int_equal(access(at(mine), F_OK), -1);
    assert_int_equal(access(at(other), F_OK), 0);
    assert_int_equal(access(at("out.txt.seqc-tmp.1"), F_OK), 0);
    assert_int_equal(access(at("out.txt.seqc-tmp.12x"), F_OK), 0);
    touch(stale);
    assert_int_equal(put(at("out.txt"), "x", &err), 0); /* writing cleans up too */
    assert_int_equal(access(at(stale), F_OK), -1);
    assert_int_equal(seqc_tmpdir_remove(scratch_dir()), 0);
    assert_int_equal(mkdir(scratch_dir(), 0755), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regular_file_replaced_atomically),
        cmocka_unit_test(test_symlink_is_written_through),
        cmocka_unit_test(test_null_device_stays_a_device),
        cmocka_unit_test(test_full_device_reports_no_space),
        cmocka_unit_test(test_fifo_is_written_in_place),
        cmocka_unit_test(test_directory_and_missing_parent_refused),
        cmocka_unit_test(test_file_size_limit_is_an_error),
        cmocka_unit_test(test_stale_temporaries_removed),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
