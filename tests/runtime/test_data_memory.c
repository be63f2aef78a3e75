/*
 * test_data_memory.c: the loaders' memory follows the bytes a file really
 * holds, never what its header claims, and stays within the limit
 * (--max-data-bytes, seqrt_load_opts).
 *
 * Each load that could take much memory runs in a child process, so its
 * peak is measured alone: wait4's ru_maxrss (peak resident memory) minus
 * the child's resident memory before the load. The child also runs under
 * an address-space limit (RLIMIT_AS) a little above its size, so an
 * allocation sized by a header's claim fails even when its pages are
 * never touched (the old IDX loader malloc'd 3 GB for a 3 MB file, which
 * ru_maxrss alone would not show). Address sanitizer builds reserve
 * terabytes of address space and keep freed memory, so they check the
 * results only.
 *
 * The files are made at test time, written in small pieces so that this
 * process stays small too.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* wait4 */

#include "testutil.h"

#include "seqrt.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#define MNIST_DIR SEQC_SOURCE_DIR "/data/mnist-digits"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define MIB (1024L * 1024L)
/* Address space the child may add to what it has before the load. */
#define AS_HEADROOM (512L * MIB)

SEQC_SCRATCH_GROUP("data_memory")

/* ----------------------------------------------------- making files */

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Writes a gzip file: `head` bytes, then `n` bytes from fill(), in pieces. */
static void write_gz(const char *path, const void *head, size_t head_len, size_t n,
                     void (*fill)(unsigned char *buf, size_t len, size_t at))
{
    static unsigned char piece[1 << 16];
    gzFile f = gzopen(path, "wb1");
    assert_non_null(f);
    if (head_len)
        assert_int_equal(gzwrite(f, head, (unsigned)head_len), (int)head_len);
    for (size_t at = 0; at < n;) {
        size_t len = n - at < sizeof piece ? n - at : sizeof piece;
        fill(piece, len, at);
        assert_int_equal(gzwrite(f, piece, (unsigned)len), (int)len);
        at += len;
    }
    assert_int_equal(gzclose(f), Z_OK);
}

/* Pixels that do not compress (xorshift), so the gzip file is as large
 * as its real content, as in the report of a 3 MB file. */
static void fill_noise(unsigned char *buf, size_t len, size_t at)
{
    uint64_t x = 0x9E3779B97F4A7C15u ^ at;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
}

static void fill_zero(unsigned char *buf, size_t len, size_t at)
{
    (void)at;
    memset(buf, 0, len);
}

static void fill_newlines(unsigned char *buf, size_t len, size_t at)
{
    (void)at;
    memset(buf, '\n', len);
}

static void idx_header(unsigned char *h, uint32_t magic, uint32_t count, int images)
{
    put_be32(h, magic);
    put_be32(h + 4, count);
    if (images) {
        put_be32(h + 8, 28);
        put_be32(h + 12, 28);
    }
}

/* ----------------------------------------------- loading in a child */

typedef enum load_kind { LOAD_IDX, LOAD_CSV } load_kind;

typedef struct child_report {
    int    rc;
    size_t count;
    size_t first_values[4];
    long   rss_before_kb; /* resident memory before the load */
    char   msg[512];
} child_report;

typedef struct measured {
    child_report r;
    long         peak_kb; /* ru_maxrss of the child */
    long         grew_kb; /* peak_kb - rss_before_kb */
} measured;

/* Field `key` of /proc/self/status in kB, or -1. */
static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            v = atol(line + n + 1);
    fclose(f);
    return v;
}

static void child_load(int fd, load_kind kind, const char *a, const char *b,
                       const seqrt_load_opts *opts)
{
    child_report r;
    memset(&r, 0, sizeof r);
    if (!UNDER_ASAN) {
        long vm_kb = status_kb("VmSize");
        struct rlimit lim = {.rlim_cur = (rlim_t)(vm_kb * 1024L + AS_HEADROOM),
                             .rlim_max = RLIM_INFINITY};
        if (vm_kb < 0 || setrlimit(RLIMIT_AS, &lim) != 0)
            _exit(3);
    }
    r.rss_before_kb = status_kb("VmRSS");
    seqrt_dataset d;
    seqrt_error err = {{0}};
    /* the CSV files here have no header: every line is a sample */
    static const seqrt_csv_opts raw = {.no_header = 1};
    r.rc = kind == LOAD_IDX ? seqrt_load_idx_opts(a, b, opts, &d, &err)
                            : seqrt_load_csv(a, &raw, opts, &d, &err);
    snprintf(r.msg, sizeof r.msg, "%s", err.msg);
    r.count = d.count;
    for (size_t i = 0; i < 4 && i < d.count * d.sample_size; i++)
        r.first_values[i] = d.xtype == SEQRT_X_U8 ? d.pixels[i] : (int)d.values[i];
    seqrt_dataset_free(&d);
    _exit(write(fd, &r, sizeof r) == (ssize_t)sizeof r ? 0 : 4);
}

/* Runs the load in a child; its result and its peak memory. */
static measured load_measured(load_kind kind, const char *a, const char *b,
                              const seqrt_load_opts *opts)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_load(fds[1], kind, a, b, opts);
    }
    close(fds[1]);
    measured m;
    memset(&m, 0, sizeof m);
    ssize_t got = read(fds[0], &m.r, sizeof m.r);
    close(fds[0]);
    int status;
    struct rusage ru;
    assert_int_equal(wait4(pid, &status, 0, &ru), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof m.r) {
        print_error("the loading child failed (status 0x%x)\n", status);
        fail();
    }
    m.peak_kb = ru.ru_maxrss;
    m.grew_kb = m.peak_kb - m.r.rss_before_kb;
    print_message("  %s: rc %d, peak %ld kB, grew %ld kB: %s\n", a, m.r.rc, m.peak_kb,
                  m.grew_kb, m.r.msg);
    return m;
}

static void assert_has(const char *msg, const char *piece)
{
    if (!strstr(msg, piece)) {
        print_error("message \"%s\" lacks \"%s\"\n", msg, piece);
        fail();
    }
}

/* Address sanitizer keeps freed blocks in quarantine and adds shadow
 * memory: there, only the results are checked, not the memory. */
static void assert_grew_below(const measured *m, long kb)
{
    if (!UNDER_ASAN && m->grew_kb >= kb) {
        print_error("the load grew the resident memory by %ld kB, expected < %ld kB\n",
                    m->grew_kb, kb);
        fail();
    }
}

/* ------------------------------------------------------------- IDX */

/* The report's case: a gzip IDX of about 3 MB whose header claims 3.9
 * million images (3.06 GB). It is reported as truncated after reading
 * its real bytes, and the load grows by a few MB, not by the claim. */
static void test_idx_lying_header(void **state)
{
    (void)state;
    char images[4300], labels[4300];
    enum { REAL = 3826, CLAIM = 3900000 };
    unsigned char h[16];
    idx_header(h, 0x803, CLAIM, 1);
    write_gz(scratch_path(images, sizeof images, "lie-images.gz"), h, 16, (size_t)REAL * 784,
             fill_noise);
    idx_header(h, 0x801, CLAIM, 0);
    write_gz(scratch_path(labels, sizeof labels, "lie-labels.gz"), h, 8, REAL, fill_zero);

    measured m = load_measured(LOAD_IDX, images, labels, NULL);
    assert_int_equal(m.r.rc, -1);
    assert_has(m.r.msg, images);
    assert_has(m.r.msg, "truncated: header says 3900000 images of 28x28, the file "
                        "holds 3826");
    assert_grew_below(&m, 32 * 1024);
}

/* A gzip file that really holds 64 MB, loaded with a 16 MB limit: refused
 * with the limit and the flag named, after reading about 16 MB. */
static void test_idx_over_limit(void **state)
{
    (void)state;
    char images[4300], labels[4300];
    enum { COUNT = 64 * 1024 * 1024 / 784 };
    unsigned char h[16];
    idx_header(h, 0x803, COUNT, 1);
    write_gz(scratch_path(images, sizeof images, "big-images.gz"), h, 16, (size_t)COUNT * 784,
             fill_zero);
    idx_header(h, 0x801, COUNT, 0);
    write_gz(scratch_path(labels, sizeof labels, "big-labels.gz"), h, 8, COUNT, fill_zero);

    seqrt_load_opts opts = {.max_bytes = 16 * MIB};
    measured m = load_measured(LOAD_IDX, images, labels, &opts);
    assert_int_equal(m.r.rc, -1);
    assert_has(m.r.msg, images);
    assert_has(m.r.msg, "does not fit in the limit of 16777216 bytes");
    assert_has(m.r.msg, "--max-data-bytes");
    assert_grew_below(&m, 32 * 1024);

    /* with room, the same files load whole */
    opts.max_bytes = 128 * MIB;
    m = load_measured(LOAD_IDX, images, labels, &opts);
    assert_int_equal(m.r.rc, 0);
    assert_int_equal(m.r.count, COUNT);
}

/* The limit counts every byte held: values and labels, and what earlier
 * loads hold (used_bytes). t10k holds 2000 * 784 bytes of pixels and 2000
 * float labels: 1,576,000. */
static void test_limit_boundary(void **state)
{
    (void)state;
    seqrt_dataset d;
    seqrt_error err = {{0}};
    seqrt_load_opts opts = {.max_bytes = 1576000};
    assert_int_equal(seqrt_load_mnist_dir_opts(MNIST_DIR, "t10k", &opts, &d, &err), 0);
    assert_int_equal(seqrt_dataset_bytes(&d), 1576000);
    seqrt_dataset_free(&d);

    opts.max_bytes = 1575999;
    assert_int_equal(seqrt_load_mnist_dir_opts(MNIST_DIR, "t10k", &opts, &d, &err), -1);
    assert_has(err.msg, "t10k-");
    assert_has(err.msg, "limit of 1575999 bytes (as given)");
    assert_null(d.pixels);

    opts = (seqrt_load_opts){.max_bytes = 2000000, .used_bytes = 1000000};
    assert_int_equal(seqrt_load_mnist_dir_opts(MNIST_DIR, "t10k", &opts, &d, &err), -1);
    assert_has(err.msg, "1000000 of them held by the data loaded before");

    /* plain files: images 12 bytes, labels 3; the labels pass the limit */
    char im[4300], lb[4300];
    unsigned char h[16 + 12];
    idx_header(h, 0x803, 3, 1);
    put_be32(h + 8, 2);
    put_be32(h + 12, 2);
    memset(h + 16, 9, 12);
    FILE *fi = fopen(scratch_path(im, sizeof im, "small-images"), "wb");
    assert_non_null(fi);
    assert_int_equal(fwrite(h, 1, sizeof h, fi), sizeof h);
    fclose(fi);
    idx_header(h, 0x801, 3, 0);
    memset(h + 8, 1, 3);
    fi = fopen(scratch_path(lb, sizeof lb, "small-labels"), "wb");
    assert_non_null(fi);
    assert_int_equal(fwrite(h, 1, 8 + 3, fi), 8 + 3);
    fclose(fi);
    opts = (seqrt_load_opts){.max_bytes = 23}; /* labels are held as floats */
    assert_int_equal(seqrt_load_idx_opts(im, lb, &opts, &d, &err), -1);
    assert_has(err.msg, lb);
    assert_has(err.msg, "limit of 23 bytes");
    opts.max_bytes = 11; /* the images alone: refused from the file's size */
    assert_int_equal(seqrt_load_idx_opts(im, lb, &opts, &d, &err), -1);
    assert_has(err.msg, im);
    opts.max_bytes = 24;
    assert_int_equal(seqrt_load_idx_opts(im, lb, &opts, &d, &err), 0);
    assert_int_equal(seqrt_dataset_bytes(&d), 24);
    seqrt_dataset_free(&d);

    /* a CSV's line being read counts too */
    char csv[4300];
    FILE *f = fopen(scratch_path(csv, sizeof csv, "small.csv"), "w");
    assert_non_null(f);
    fputs("a,b,c\n1,2,3\n4,5,6\n", f);
    fclose(f);
    opts = (seqrt_load_opts){.max_bytes = 5};
    assert_int_equal(seqrt_load_csv(csv, NULL, &opts, &d, &err), -1);
    assert_has(err.msg, "limit of 5 bytes");
    opts.max_bytes = 1 << 20;
    assert_int_equal(seqrt_load_csv(csv, NULL, &opts, &d, &err), 0);
    seqrt_dataset_free(&d);
}

/* ------------------------------------------------------------- CSV */

/* The report's other case: a small .csv.gz that inflates to 100 MB of
 * blank lines after one sample. Its memory is one line, not the text
 * (nor a buffer sized by its count of lines). */
static void test_csv_blank_lines(void **state)
{
    (void)state;
    char csv[4300];
    static const char head[] = "8,9,7\n";
    write_gz(scratch_path(csv, sizeof csv, "blank.csv.gz"), head, sizeof head - 1,
             100 * (size_t)MIB, fill_newlines);
    measured m = load_measured(LOAD_CSV, csv, NULL, NULL);
    assert_int_equal(m.r.rc, 0);
    assert_int_equal(m.r.count, 1);
    assert_int_equal(m.r.first_values[0], 8);
    assert_grew_below(&m, 8 * 1024);
}

enum { CSV_ROWS = 4000, CSV_COLS = 784 };

/* Row r: r % 10, then cells "          V" with V = (r + c) % 10: twelve
 * bytes of text per value (the last cell is the target). */
static void fill_csv(unsigned char *buf, size_t len, size_t at)
{
    const size_t row_len = 2 + (size_t)CSV_COLS * 12; /* "L" + ",          V"... + "\n" */
    for (size_t i = 0; i < len; i++) {
        size_t pos = at + i, r = pos / row_len, k = pos % row_len;
        char c;
        if (k == 0)
            c = (char)('0' + r % 10);
        else if (k == row_len - 1)
            c = '\n';
        else {
            size_t col = (k - 1) / 12, j = (k - 1) % 12;
            unsigned v = (unsigned)((r + col) % 10);
            c = j == 0 ? ',' : j < 11 ? ' ' : (char)('0' + v);
        }
        buf[i] = (unsigned char)c;
    }
}

/* Memory proportional to the values (4 bytes each: 12.5 MB), not to the
 * text (37.6 MB). */
static void test_csv_memory_follows_values(void **state)
{
    (void)state;
    char csv[4300];
    const size_t row_len = 2 + (size_t)CSV_COLS * 12;
    write_gz(scratch_path(csv, sizeof csv, "wide.csv.gz"), NULL, 0, CSV_ROWS * row_len,
             fill_csv);
    measured m = load_measured(LOAD_CSV, csv, NULL, NULL);
    assert_int_equal(m.r.rc, 0);
    assert_int_equal(m.r.count, CSV_ROWS);
    assert_int_equal(m.r.first_values[0], 0);
    assert_int_equal(m.r.first_values[3], 2);
    long values_kb = (long)CSV_ROWS * (CSV_COLS + 1) * 4 / 1024;
    assert_grew_below(&m, values_kb * 3 / 2 + 4 * 1024);
}

/* ------------------------------------------------------- sizes */

static void test_parse_bytes(void **state)
{
    (void)state;
    size_t v = 0;
    assert_int_equal(seqrt_parse_bytes("1024", &v), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(seqrt_parse_bytes("512M", &v), 0);
    assert_int_equal(v, 512u << 20);
    assert_int_equal(seqrt_parse_bytes("2g", &v), 0);
    assert_int_equal(v, (size_t)2 << 30);
    assert_int_equal(seqrt_parse_bytes("16KiB", &v), 0);
    assert_int_equal(v, 16384);
    assert_int_equal(seqrt_parse_bytes("3MB", &v), 0);
    assert_int_equal(v, (size_t)3 << 20);
    static const char *const bad[] = {"0", "", "abc", "-5", "1.5G", "5X", "5 M", "5MX",
                                      "99999999999999999999", "99999999999T"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(seqrt_parse_bytes(bad[i], &v), -1);
    assert_true(seqrt_default_max_data_bytes() > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_lying_header),
        cmocka_unit_test(test_idx_over_limit),
        cmocka_unit_test(test_limit_boundary),
        cmocka_unit_test(test_csv_blank_lines),
        cmocka_unit_test(test_csv_memory_follows_values),
        cmocka_unit_test(test_parse_bytes),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
