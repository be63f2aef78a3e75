/*
 * test_data.c: the data loaders of libseqrt on the committed dataset
 * (data/mnist-digits) and on every kind of broken file, made at test time
 * in a temporary directory; and the mini-batch gather.
 *
 * A failing load must return -1, write one message that names the file
 * and the problem, and leave the dataset empty.
 */
#define _POSIX_C_SOURCE 200809L

#include "testutil.h"

#include "seqrt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MNIST_DIR SEQC_SOURCE_DIR "/data/mnist-digits"

/* ------------------------------------------------------------ fixtures */

/* The temporary directory and every path made in it, removed at the end. */
static char g_dir[64];
static char *g_made[64];
static int g_nmade;

static const char *tmp_path(const char *name)
{
    static char bufs[8][512];
    static int next;
    char *p = bufs[next++ % 8];
    snprintf(p, 512, "%s/%s", g_dir, name);
    for (int i = 0; i < g_nmade; i++)
        if (strcmp(g_made[i], p) == 0)
            return p;
    assert_true(g_nmade < 64);
    g_made[g_nmade++] = strdup(p);
    return p;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/seqrt-data-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = g_nmade - 1; i >= 0; i--) { /* files before their folders */
        if (remove(g_made[i]) != 0)
            rmdir(g_made[i]);
        free(g_made[i]);
    }
    return rmdir(g_dir);
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

static void write_gzip(const char *path, const void *data, size_t n)
{
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, data, (unsigned)n), (int)n);
    assert_int_equal(gzclose(f), Z_OK);
}

/* The targets of d (y_width 1) are the class numbers in want[0..n). */
static void assert_targets(const seqrt_dataset *d, const uint8_t *want, size_t n)
{
    assert_int_equal(d->y_width, 1);
    for (size_t i = 0; i < n; i++)
        assert_int_equal((int)d->targets[i], want[i]);
}

/* An IDX images file: header (magic, count, rows, cols), then `have`
 * pixel bytes (pixel i = i*7 mod 256), whatever the header says. */
static size_t idx_images(unsigned char *buf, uint32_t magic, uint32_t count,
                         uint32_t rows, uint32_t cols, size_t have)
{
    put_be32(buf, magic);
    put_be32(buf + 4, count);
    put_be32(buf + 8, rows);
    put_be32(buf + 12, cols);
    for (size_t i = 0; i < have; i++)
        buf[16 + i] = (unsigned char)(i * 7);
    return 16 + have;
}

/* An IDX labels file: header (magic, count), then `have` labels i mod 10. */
static size_t idx_labels(unsigned char *buf, uint32_t magic, uint32_t count,
                         size_t have)
{
    put_be32(buf, magic);
    put_be32(buf + 4, count);
    for (size_t i = 0; i < have; i++)
        buf[8 + i] = (unsigned char)(i % 10);
    return 8 + have;
}

/* A good pair: 3 images of 2x2 and their 3 labels. */
static void write_good_pair(const char *images, const char *labels)
{
    unsigned char buf[64];
    write_bytes(images, buf, idx_images(buf, 0x803, 3, 2, 2, 12));
    write_bytes(labels, buf, idx_labels(buf, 0x801, 3, 3));
}

static void read_file(const char *path, unsigned char **data, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    *data = malloc((size_t)size + 1);
    assert_non_null(*data);
    assert_int_equal(fread(*data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
}

/* Fills d with junk so a test sees whether a failing load zeroes it. */
static void poison(seqrt_dataset *d)
{
    memset(d, 0xAB, sizeof *d);
}

static void assert_empty(const seqrt_dataset *d)
{
    assert_int_equal(d->count, 0);
    assert_null(d->pixels);
    assert_null(d->targets);
    assert_int_equal(d->sample_size, 0 * 0);
    assert_int_equal(d->sample_size, 0);
    assert_int_equal(d->source[0], '\0');
}

/* The message holds every one of the given pieces. */
static void assert_msg_has(const seqrt_error *err, const char *const *pieces, int n)
{
    for (int i = 0; i < n; i++)
        if (!strstr(err->msg, pieces[i])) {
            print_error("message \"%s\" lacks \"%s\"\n", err->msg, pieces[i]);
            fail();
        }
}
#define ASSERT_MSG(err, ...)                                                   \
    do {                                                                       \
        const char *const pieces_[] = {__VA_ARGS__};                           \
        assert_msg_has((err), pieces_, (int)(sizeof pieces_ / sizeof *pieces_)); \
    } while (0)

/* The whole file, or NULL when it does not exist. */
static unsigned char *read_if_any(const char *path, size_t *n)
{
    unsigned char *data = NULL;
    *n = 0;
    if (path && access(path, F_OK) == 0)
        read_file(path, &data, n);
    return data;
}

/* Loads the pair and expects the failure to name `file` and `problem`;
 * then the same bytes from memory (seqrt_load_idx_mem, the fuzz entry
 * point) must fail the same way, naming <images> or <labels>. */
static void expect_idx_failure(const char *images, const char *labels,
                               const char *file, const char *problem)
{
    seqrt_dataset d;
    seqrt_error err = {{0}};
    poison(&d);
    assert_int_equal(seqrt_load_idx(images, labels, &d, &err), -1);
    ASSERT_MSG(&err, file, problem);
    assert_empty(&d);

    size_t ni, nl;
    unsigned char *im = read_if_any(images, &ni), *lb = read_if_any(labels, &nl);
    if (im && lb) {
        poison(&d);
        assert_int_equal(seqrt_load_idx_mem(im, ni, lb, nl, NULL, &d, &err), -1);
        ASSERT_MSG(&err, strcmp(file, labels) == 0 ? "<labels>" : "<images>", problem);
        assert_empty(&d);
    }
    free(im);
    free(lb);
}

static void expect_csv_failure(const char *path, const char *where,
                               const char *problem)
{
    seqrt_dataset d;
    seqrt_error err = {{0}};
    poison(&d);
    assert_int_equal(seqrt_load_csv(path, NULL, NULL, &d, &err), -1);
    ASSERT_MSG(&err, path, where, problem);
    assert_empty(&d);

    size_t n;
    unsigned char *text = read_if_any(path, &n);
    if (text) {
        poison(&d);
        assert_int_equal(seqrt_load_csv_mem(text, n, NULL, NULL, &d, &err), -1);
        ASSERT_MSG(&err, "<csv>", where, problem);
        assert_empty(&d);
    }
    free(text);
}

/* ------------------------------------------------- the committed dataset */

/* Facts of the committed files, read independently with Python's gzip. */
static void test_mnist_train(void **state)
{
    (void)state;
    static const uint8_t first[10] = {5, 8, 7, 4, 0, 4, 2, 1, 8, 2};
    seqrt_dataset d;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_load_mnist_dir(MNIST_DIR, "train", &d, &err), 0);
    assert_int_equal(d.count, 8000);
    assert_int_equal(d.sample_size, 28 * 28);
    assert_int_equal(d.sample_size, 784);
    assert_close(d.scale, 1.0 / 255.0, 1e-9);
    assert_non_null(strstr(d.source, "train-images-idx3-ubyte"));
    assert_targets(&d, first, sizeof first);

    /* pixels span 0..255; the first image's bytes sum to 27395, and row
     * 14 of it starts 0 0 0 0 0 153 253 145 */
    uint8_t lo = 255, hi = 0;
    uint64_t sum0 = 0;
    for (size_t i = 0; i < d.count * d.sample_size; i++) {
        if (d.pixels[i] < lo) lo = d.pixels[i];
        if (d.pixels[i] > hi) hi = d.pixels[i];
    }
    for (size_t i = 0; i < 784; i++)
        sum0 += d.pixels[i];
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 255);
    assert_int_equal(sum0, 27395);
    static const uint8_t row14[8] = {0, 0, 0, 0, 0, 153, 253, 145};
    assert_memory_equal(d.pixels + 14 * 28, row14, sizeof row14);

    int counts[256] = {0};
    for (size_t i = 0; i < d.count; i++)
        counts[(int)d.targets[i]]++;
    for (int c = 10; c < 256; c++)
        assert_int_equal(counts[c], 0);
    assert_int_equal(seqrt_dataset_check(&d, 784, 10, SEQRT_TARGET_CLASS, 1, &err), 0);

    seqrt_dataset_free(&d);
    assert_empty(&d);
}

static void test_mnist_t10k(void **state)
{
    (void)state;
    static const uint8_t first[10] = {0, 5, 6, 3, 1, 1, 3, 8, 3, 2};
    seqrt_dataset d;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_load_mnist_dir(MNIST_DIR, "t10k", &d, &err), 0);
    assert_int_equal(d.count, 2000);
    assert_int_equal(d.sample_size, 28 * 28);
    assert_targets(&d, first, sizeof first);
    uint64_t sum0 = 0;
    for (size_t i = 0; i < 784; i++)
        sum0 += d.pixels[i];
    assert_int_equal(sum0, 25722);
    seqrt_dataset_free(&d);
}

/* Images without labels (for predict): the same pixels, every label 0. */
static void test_images_only(void **state)
{
    (void)state;
    seqrt_dataset full, only;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_load_mnist_dir(MNIST_DIR, "t10k", &full, &err), 0);
    assert_int_equal(seqrt_load_idx(MNIST_DIR "/t10k-images-idx3-ubyte.gz", NULL, &only, &err), 0);
    assert_int_equal(only.count, full.count);
    assert_int_equal(only.sample_size, 784);
    assert_memory_equal(only.pixels, full.pixels, full.count * full.sample_size);
    assert_int_equal(only.y_width, 0); /* no targets */
    assert_null(only.targets);
    seqrt_dataset_free(&only);
    seqrt_dataset_free(&full);
    /* a labels file where images are expected is still refused */
    assert_int_equal(seqrt_load_idx(MNIST_DIR "/t10k-labels-idx1-ubyte.gz", NULL, &only, &err), -1);
    assert_non_null(strstr(err.msg, "wrong magic number"));
    assert_null(only.pixels);
}

/* The same files gunzipped into a folder load to the same bytes. */
static void test_plain_equals_gzip(void **state)
{
    (void)state;
    seqrt_dataset gz, plain;
    seqrt_error err = {{0}};
    const char *names[] = {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

    assert_int_equal(mkdir(tmp_path("plain"), 0700), 0);
    for (int i = 0; i < 2; i++) {
        char src[512], dst[64];
        snprintf(src, sizeof src, "%s/%s.gz", MNIST_DIR, names[i]);
        snprintf(dst, sizeof dst, "plain/%s", names[i]);
        gzFile in = gzopen(src, "rb");
        assert_non_null(in);
        static unsigned char buf[2000 * 784 + 64];
        int n = gzread(in, buf, sizeof buf);
        assert_true(n > 0);
        gzclose(in);
        assert_int_equal(buf[0], 0x00); /* plain: no gzip magic */
        write_bytes(tmp_path(dst), buf, (size_t)n);
    }

    assert_int_equal(seqrt_load_mnist_dir(MNIST_DIR, "t10k", &gz, &err), 0);
    assert_int_equal(seqrt_load_mnist_dir(tmp_path("plain"), "t10k", &plain, &err), 0);
    assert_non_null(strstr(plain.source, "plain/t10k-images-idx3-ubyte"));
    assert_null(strstr(plain.source, ".gz"));
    assert_int_equal(plain.count, gz.count);
    assert_int_equal(plain.sample_size, gz.sample_size);
    assert_memory_equal(plain.pixels, gz.pixels, gz.count * gz.sample_size);
    assert_memory_equal(plain.targets, gz.targets, gz.count * sizeof(float));
    seqrt_dataset_free(&gz);
    seqrt_dataset_free(&plain);
}

/* The memory entry points read the same bytes as the file loaders:
 * gzip (one member or several concatenated, as zlib reads them) or plain. */
static void test_mem_equals_file(void **state)
{
    (void)state;
    seqrt_dataset file, mem;
    seqrt_error err = {{0}};
    size_t ni, nl;
    unsigned char *im = read_if_any(MNIST_DIR "/t10k-images-idx3-ubyte.gz", &ni);
    unsigned char *lb = read_if_any(MNIST_DIR "/t10k-labels-idx1-ubyte.gz", &nl);
    assert_non_null(im);
    assert_non_null(lb);
    assert_int_equal(seqrt_load_mnist_dir(MNIST_DIR, "t10k", &file, &err), 0);
    assert_int_equal(seqrt_load_idx_mem(im, ni, lb, nl, NULL, &mem, &err), 0);
    assert_int_equal(mem.count, file.count);
    assert_int_equal(mem.sample_size, 784);
    assert_memory_equal(mem.pixels, file.pixels, file.count * 784);
    assert_memory_equal(mem.targets, file.targets, file.count * sizeof(float));
    assert_string_equal(mem.source, "<images>");
    assert_string_equal(mem.labels_source, "<labels>");
    seqrt_dataset_free(&mem);
    seqrt_dataset_free(&file);
    free(im);
    free(lb);

    /* a CSV in two gzip members, then plain */
    const char *two = tmp_path("two.csv.gz");
    FILE *f = fopen(two, "wb");
    assert_non_null(f);
    const char *parts[2] = {"a,label\n2,1\n", "4,3\n"};
    for (int i = 0; i < 2; i++) {
        gzFile g = gzdopen(dup(fileno(f)), "ab");
        assert_non_null(g);
        assert_true(gzputs(g, parts[i]) > 0);
        assert_int_equal(gzclose(g), Z_OK);
    }
    fclose(f);
    size_t n;
    unsigned char *gz = read_if_any(two, &n);
    assert_int_equal(seqrt_load_csv(two, NULL, NULL, &file, &err), 0);
    assert_int_equal(seqrt_load_csv_mem(gz, n, NULL, NULL, &mem, &err), 0);
    assert_int_equal(file.count, 2);
    assert_int_equal(mem.count, 2);
    assert_memory_equal(mem.values, file.values, 2 * sizeof(float));
    assert_memory_equal(mem.targets, file.targets, 2 * sizeof(float));
    assert_close(mem.targets[1], 3, 0);
    seqrt_dataset_free(&mem);
    seqrt_dataset_free(&file);
    free(gz);
    seqrt_csv_opts raw = {.no_header = 1};
    assert_int_equal(seqrt_load_csv_mem("5,6\n", 4, &raw, NULL, &mem, &err), 0);
    assert_int_equal(mem.targets[0], 6);
    seqrt_dataset_free(&mem);
}

/* ----------------------------------------------------------- batches */

static void test_batch_gather(void **state)
{
    (void)state;
    /* 4 samples of 3 bytes; sample k holds k*10, k*10+1, 255 - k */
    uint8_t pixels[12], labels[4] = {7, 1, 9, 3};
    float targets[4] = {7, 1, 9, 3};
    for (int k = 0; k < 4; k++) {
        pixels[k * 3] = (uint8_t)(k * 10);
        pixels[k * 3 + 1] = (uint8_t)(k * 10 + 1);
        pixels[k * 3 + 2] = (uint8_t)(255 - k);
    }
    seqrt_dataset d = {.count = 4, .ndims = 1, .dims = {3}, .sample_size = 3,
                       .pixels = pixels, .targets = targets, .y_width = 1, .scale = 0.5f};
    (void)labels;
    const uint32_t order[5] = {3, 0, 2, 1, 0};
    float x[9];
    int32_t y[3] = {-1, -1, -1};

    /* order[1..4) = samples 0, 2, 1 */
    seqrt_dataset_batch(&d, order, 1, 3, x, y, NULL, 0);
    const float want[9] = {0, 0.5f, 127.5f, 10, 10.5f, 126.5f, 5, 5.5f, 127};
    for (int i = 0; i < 9; i++)
        assert_close(x[i], want[i], 0);
    assert_int_equal(y[0], 7);
    assert_int_equal(y[1], 9);
    assert_int_equal(y[2], 1);

    /* no order: the identity, from start */
    seqrt_dataset_batch(&d, NULL, 2, 2, x, y, NULL, 0);
    assert_close(x[0], 10, 0);
    assert_close(x[5], 126, 0);
    assert_int_equal(y[0], 9);
    assert_int_equal(y[1], 3);
}

/* On real data with the IDX scale: x = byte/255, exactly as float. */
static void test_batch_mnist_scaled(void **state)
{
    (void)state;
    seqrt_dataset d;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_load_mnist_dir(MNIST_DIR, "t10k", &d, &err), 0);
    const uint32_t order[4] = {1999, 0, 1234, 7};
    static float x[4 * 784];
    int32_t y[4];
    seqrt_dataset_batch(&d, order, 0, 4, x, y, NULL, 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(y[i], d.targets[order[i]]);
        for (int j = 0; j < 784; j++) {
            float want = (float)d.pixels[order[i] * 784 + (size_t)j] * (1.0f / 255.0f);
            assert_close(x[i * 784 + j], want, 0);
            assert_true(x[i * 784 + j] >= 0.0f && x[i * 784 + j] <= 1.0f);
        }
    }
    assert_int_equal(y[1], 0); /* the first t10k label */
    seqrt_dataset_free(&d);
}

/* ------------------------------------------------------------- CSV */

/* Loading path with opts (NULL: defaults) fails with exactly
 * "<path><rest>", and the same bytes from memory with "<csv><rest>". */
static void expect_csv_error(const char *path, const seqrt_csv_opts *opts,
                             const char *rest)
{
    seqrt_dataset d;
    seqrt_error err = {{0}};
    char want[1024];
    poison(&d);
    assert_int_equal(seqrt_load_csv(path, opts, NULL, &d, &err), -1);
    snprintf(want, sizeof want, "%s%s", path, rest);
    assert_string_equal(err.msg, want);
    assert_empty(&d);
    size_t n;
    unsigned char *text = read_if_any(path, &n);
    assert_non_null(text);
    poison(&d);
    assert_int_equal(seqrt_load_csv_mem(text, n, opts, NULL, &d, &err), -1);
    snprintf(want, sizeof want, "<csv>%s", rest);
    assert_string_equal(err.msg, want);
    assert_empty(&d);
    free(text);
}

/* Loads path, expecting success and `count` samples. */
static void load_csv_ok(const char *path, const seqrt_csv_opts *opts, size_t count,
                        seqrt_dataset *d)
{
    seqrt_error err = {{0}};
    if (seqrt_load_csv(path, opts, NULL, d, &err) != 0) {
        print_error("%s: %s\n", path, err.msg);
        fail();
    }
    assert_int_equal(d->count, count);
}

/* A header, CRLF, the full number syntax of strtod, blanks around cells,
 * blank lines at the end; the target is the last column; values are
 * float32 as written, never scaled. */
static void test_csv_header_crlf(void **state)
{
    (void)state;
    const char *path = tmp_path("good.csv");
    write_text(path, "a,b,c,label\r\n"
                     "0.5,1e3,-2,3\r\n"
                     " 7 ,+.25,0x10,0\r\n"
                     "255,-1.5E-2,1,9\r\n\r\n");
    seqrt_dataset d;
    load_csv_ok(path, NULL, 3, &d);
    assert_int_equal(d.xtype, SEQRT_X_F32);
    assert_null(d.pixels);
    assert_int_equal(d.sample_size, 3);
    assert_int_equal(d.ndims, 1);
    assert_int_equal(d.dims[0], 3);
    assert_int_equal(d.y_width, 1);
    assert_int_equal(d.first_line, 2);
    static const float values[9] = {0.5f, 1000, -2, 7, 0.25f, 16, 255, -0.015f, 1};
    for (int i = 0; i < 9; i++)
        assert_close(d.values[i], values[i], 0);
    static const uint8_t labels[3] = {3, 0, 9};
    assert_targets(&d, labels, sizeof labels);
    assert_string_equal(d.source, path);
    assert_string_equal(d.labels_source, path);

    float x[3];
    int32_t y;
    seqrt_dataset_batch(&d, NULL, 2, 1, x, &y, NULL, 0);
    assert_int_equal(y, 9);
    assert_close(x[0], 255, 0); /* not divided by 255: CSV values are taken as they are */
    assert_close(x[1], -0.015f, 0);
    seqrt_dataset_free(&d);
}

/* --no-header: line 1 is data, columns are numbered from 0 (for --target
 * too); no final newline. */
static void test_csv_no_header(void **state)
{
    (void)state;
    const char *path = tmp_path("plain.csv");
    write_text(path, "1,2,3\n4,5,6");
    seqrt_dataset d;
    seqrt_csv_opts o = {.no_header = 1};
    load_csv_ok(path, &o, 2, &d);
    assert_int_equal(d.sample_size, 2);
    assert_int_equal(d.first_line, 1);
    assert_close(d.targets[0], 3, 0);
    assert_close(d.targets[1], 6, 0);
    assert_close(d.values[2], 4, 0);
    seqrt_dataset_free(&d);

    o.target = "0";
    load_csv_ok(path, &o, 2, &d);
    assert_close(d.targets[1], 4, 0);
    assert_close(d.values[0], 2, 0);
    assert_close(d.values[3], 6, 0);
    seqrt_dataset_free(&d);

    o.target = "3";
    expect_csv_error(path, &o, ": --target '3': without a header, targets are column "
                               "numbers from 0 to 2");
    /* with a header, the first line is never dropped as one when it is not */
    const char *nan = tmp_path("nan_first.csv");
    write_text(nan, "nan,1,2\n3,4,5\n");
    seqrt_csv_opts n = {.no_header = 1};
    load_csv_ok(nan, &n, 2, &d);
    assert_true(isnan(d.values[0]));
    seqrt_dataset_free(&d);
}

/* --target by names, in the order given, from anywhere in the row. */
static void test_csv_target_names(void **state)
{
    (void)state;
    const char *path = tmp_path("targets.csv");
    write_text(path, "x0,t1,x1,t0\n1,10,2,20\n3,30,4,40\n");
    seqrt_dataset d;
    seqrt_csv_opts o = {.target = "t0,t1"};
    load_csv_ok(path, &o, 2, &d);
    assert_int_equal(d.y_width, 2);
    assert_int_equal(d.sample_size, 2);
    static const float t[4] = {20, 10, 40, 30}, x[4] = {1, 2, 3, 4};
    for (int i = 0; i < 4; i++) {
        assert_close(d.targets[i], t[i], 0);
        assert_close(d.values[i], x[i], 0);
    }
    seqrt_dataset_free(&d);

    o.target = "t2";
    expect_csv_error(path, &o, ": --target 't2': no such column; the header has 'x0', "
                               "'t1', 'x1', 't0'");
    o.target = "t1,t1";
    expect_csv_error(path, &o, ": --target names column 't1' twice");
    const char *wide = tmp_path("wide.csv");
    write_text(wide, "a,b,c,d,e,f,g,h,i,j\n1,2,3,4,5,6,7,8,9,0\n");
    o.target = "k";
    expect_csv_error(wide, &o, ": --target 'k': no such column; the header has 'a', 'b', "
                               "'c', 'd', 'e', 'f', 'g', 'h' and 2 more");
    const char *one = tmp_path("one.csv");
    write_text(one, "y\n1\n");
    expect_csv_error(one, NULL, ": every column is a target: no input columns are left");

    /* no_target: every column an input (predict on a file without targets) */
    seqrt_csv_opts none = {.no_target = 1};
    load_csv_ok(path, &none, 2, &d);
    assert_int_equal(d.y_width, 0);
    assert_null(d.targets);
    assert_int_equal(d.sample_size, 4);
    assert_close(d.values[7], 40, 0);
    assert_string_equal(d.labels_source, "");
    seqrt_dataset_free(&d);
}

/* RFC 4180: quoted cells (a comma, "" for a quote, a line break inside),
 * and a quoted number. */
static void test_csv_quotes(void **state)
{
    (void)state;
    const char *path = tmp_path("quoted.csv");
    write_text(path, "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
                     "\"1.5\", 2 ,\"3\"\r\n"
                     "4,\" 5 \",6\r\n");
    seqrt_dataset d;
    load_csv_ok(path, NULL, 2, &d); /* the last column, 'two\nlines' */
    assert_int_equal(d.y_width, 1);
    assert_close(d.values[0], 1.5f, 0);
    assert_close(d.values[1], 2, 0);
    assert_close(d.targets[0], 3, 0);
    assert_close(d.values[3], 5, 0);
    seqrt_dataset_free(&d);
    seqrt_csv_opts o = {.target = "say \"hi\""};
    load_csv_ok(path, &o, 2, &d);
    assert_close(d.targets[1], 5, 0);
    assert_close(d.values[3], 6, 0);
    seqrt_dataset_free(&d);
    /* --target splits at commas: a name with a comma cannot be a target */
    o.target = "a,b";
    expect_csv_error(path, &o, ": --target 'a': no such column; the header has 'a,b', "
                               "'say \"hi\"', 'two\nlines'");

    const char *open = tmp_path("open.csv");
    write_text(open, "a,b\n1,\"2\n");
    expect_csv_error(open, NULL, ":2: column 2: a quoted cell is not closed");
    /* a line break inside quotes counts as a line in later messages */
    const char *later = tmp_path("later.csv");
    write_text(later, "\"a\nb\",c\n1,2\n3,x\n");
    expect_csv_error(later, NULL, ":4: column 2 'c': 'x' is not a number");
    const char *after = tmp_path("after.csv");
    write_text(after, "a,b\n1,\"2\"x\n");
    expect_csv_error(after, NULL, ":2: column 2: text after the closing quote of a "
                                  "quoted cell");
}

/* A UTF-8 byte-order mark is skipped, before a header or (--no-header)
 * before data: the first sample is never lost. */
static void test_csv_bom(void **state)
{
    (void)state;
    seqrt_dataset d;
    const char *data = tmp_path("bom_data.csv");
    write_text(data, "\xEF\xBB\xBF" "1,2,3\n4,5,6\n");
    seqrt_csv_opts o = {.no_header = 1};
    load_csv_ok(data, &o, 2, &d);
    assert_close(d.values[0], 1, 0);
    assert_close(d.targets[0], 3, 0);
    assert_int_equal(d.first_line, 1);
    seqrt_dataset_free(&d);

    const char *head = tmp_path("bom_head.csv");
    write_text(head, "\xEF\xBB\xBF" "label,a,b\n7,8,9\n");
    seqrt_csv_opts t = {.target = "label"};
    load_csv_ok(head, &t, 1, &d);
    assert_close(d.targets[0], 7, 0);
    assert_int_equal(d.first_line, 2);
    seqrt_dataset_free(&d);
}

static void test_csv_bad_cells(void **state)
{
    (void)state;
    const char *path = tmp_path("word.csv");
    write_text(path, "label,a,b\n1,2,3\n2,x7,4\n");
    expect_csv_error(path, NULL, ":3: column 2 'a': 'x7' is not a number");
    write_text(path, "label,a,b\n1,2,3\n2,,4\n");
    expect_csv_error(path, NULL, ":3: column 2 'a' is empty: every cell must be a number");
    write_text(path, "label,a,b\n1,2,3\n2,3,4 5\n");
    expect_csv_error(path, NULL, ":3: column 3 'b': '4 5' is not a number");
    seqrt_csv_opts o = {.no_header = 1};
    write_text(path, "1,2,3\n2,3,abc\n");
    expect_csv_error(path, &o, ":2: column 3: 'abc' is not a number");
    /* a header-like second line is a bad row, not a second header */
    write_text(path, "1,2\nlabel,x\n");
    expect_csv_error(path, &o, ":2: column 1: 'label' is not a number");
}

static void test_csv_ragged_row(void **state)
{
    (void)state;
    const char *path = tmp_path("ragged.csv");
    write_text(path, "a,b,c\r\n4,5,6\r\n7,8\r\n");
    expect_csv_error(path, NULL, ":3: 2 cells, expected 3 like the header on line 1");
    write_text(path, "a,b,c\r\n4,5,6,7\r\n");
    expect_csv_error(path, NULL, ":2: 4 cells, expected 3 like the header on line 1");
    seqrt_csv_opts o = {.no_header = 1};
    write_text(path, "1,2,3\n4,5\n");
    expect_csv_error(path, &o, ":2: 2 cells, expected 3 like line 1");
}

static void test_csv_empty(void **state)
{
    (void)state;
    const char *path = tmp_path("empty.csv");
    write_text(path, "");
    expect_csv_error(path, NULL, ": empty file: no samples");
    const char *head = tmp_path("header_only.csv");
    write_text(head, "label,p0\n");
    expect_csv_error(head, NULL, ": no samples, only a header line");
    const char *blanks = tmp_path("blanks.csv");
    write_text(blanks, "\n\n\r\n");
    expect_csv_error(blanks, NULL, ": no samples, only blank lines");
    const char *gap = tmp_path("gap.csv"); /* blank lines only at the end */
    write_text(gap, "label,a\n1,2\n\n\n3,4\n");
    expect_csv_error(gap, NULL, ":3: empty line between samples");
    write_text(gap, "label,a\n\n3,4\n");
    expect_csv_error(gap, NULL, ":2: empty line between the header and the samples");
    seqrt_dataset d;
    write_text(gap, "label,a\n1,2\n\n\r\n\n");
    load_csv_ok(gap, NULL, 1, &d);
    seqrt_dataset_free(&d);
}

/* "nan" and "inf" are read as numbers, and refused by the check with the
 * line, the sample and the input. */
static void test_csv_nan_checked(void **state)
{
    (void)state;
    const char *path = tmp_path("nan.csv");
    write_text(path, "a,b,y\n1,2,0\n3,inf,1\n");
    seqrt_dataset d;
    seqrt_error err = {{0}};
    char want[600];
    load_csv_ok(path, NULL, 2, &d);
    assert_true(isinf(d.values[3]));
    assert_int_equal(seqrt_dataset_check(&d, 2, 2, SEQRT_TARGET_CLASS, 1, &err), -1);
    snprintf(want, sizeof want, "%s:3: sample 1, input 2 of 2 is inf: inputs must be finite",
             path);
    assert_string_equal(err.msg, want);
    seqrt_dataset_free(&d);
    write_text(path, "a,b,y\n1,2,0\n3,4,NaN\n");
    load_csv_ok(path, NULL, 2, &d);
    assert_int_equal(seqrt_dataset_check(&d, 2, 1, SEQRT_TARGET_VALUES, 1, &err), -1);
    snprintf(want, sizeof want, "%s:3: sample 1 has target nan: targets must be finite", path);
    assert_string_equal(err.msg, want);
    seqrt_dataset_free(&d);
}

/* A bad label is reported where it is: the CSV's line, the labels file. */
static void test_check_label_names_its_file(void **state)
{
    (void)state;
    seqrt_dataset d;
    seqrt_error err = {{0}};
    const char *csv = tmp_path("label_line.csv");
    write_text(csv, "a,label\n0,3\n1,12\n");
    load_csv_ok(csv, NULL, 2, &d);
    assert_int_equal(seqrt_dataset_check(&d, 1, 10, SEQRT_TARGET_CLASS, 1, &err), -1);
    ASSERT_MSG(&err, csv, ":3: sample 1 has label 12", "10 classes");
    seqrt_dataset_free(&d);

    const char *images = tmp_path("l-images"), *labels = tmp_path("l-labels");
    write_good_pair(images, labels); /* labels 0, 1, 2 */
    assert_int_equal(seqrt_load_idx(images, labels, &d, &err), 0);
    assert_int_equal(seqrt_dataset_check(&d, 4, 2, SEQRT_TARGET_CLASS, 1, &err), -1);
    ASSERT_MSG(&err, labels, "sample 2 has label 2", "2 classes (labels 0..1)");
    assert_null(strstr(err.msg, images));
    seqrt_dataset_free(&d);
}

/* ------------------------------------------------- IDX element types */

/* An IDX file of type `type` (0x08..0x0E) with dims[0..nd), its values
 * v[i] = 3*i - 5 (0x08: 3*i) in the type's big-endian encoding. */
static size_t idx_typed(unsigned char *buf, unsigned type, int nd, const uint32_t *dims)
{
    put_be32(buf, type << 8 | (unsigned)nd);
    size_t count = 1, at = 4 + 4 * (size_t)nd;
    for (int i = 0; i < nd; i++) {
        put_be32(buf + 4 + 4 * i, dims[i]);
        count *= dims[i];
    }
    for (size_t i = 0; i < count; i++) {
        double v = type == 0x08 ? 3.0 * (double)i : 3.0 * (double)i - 5;
        unsigned char b[8];
        size_t n = 0;
        switch (type) {
        case 0x08: b[0] = (unsigned char)v; n = 1; break;
        case 0x09: b[0] = (unsigned char)(int8_t)v; n = 1; break;
        case 0x0B: { uint16_t u = (uint16_t)(int16_t)v; b[0] = (unsigned char)(u >> 8);
                     b[1] = (unsigned char)u; n = 2; break; }
        case 0x0C: put_be32(b, (uint32_t)(int32_t)v); n = 4; break;
        case 0x0D: { float f = (float)v; uint32_t u; memcpy(&u, &f, 4); put_be32(b, u);
                     n = 4; break; }
        case 0x0E: { uint64_t u; memcpy(&u, &v, 8); put_be32(b, (uint32_t)(u >> 32));
                     put_be32(b + 4, (uint32_t)u); n = 8; break; }
        default: fail();
        }
        memcpy(buf + at, b, n);
        at += n;
    }
    return at;
}

/* Every IDX element type, 1 to 4 sample dimensions, labels of one value
 * or a row per sample: ubyte images stay bytes, the rest float32. */
static void test_idx_every_type(void **state)
{
    (void)state;
    static unsigned char im[4096], lb[256];
    static const unsigned types[] = {0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E};
    static const uint32_t shapes[4][5] = {{2, 6}, {2, 2, 3}, {2, 1, 2, 3}, {2, 1, 1, 2, 3}};
    const char *images = tmp_path("typed-images"), *labels = tmp_path("typed-labels");
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        for (int nd = 2; nd <= 5; nd++) {
            write_bytes(images, im, idx_typed(im, types[t], nd, shapes[nd - 2]));
            const uint32_t ldims[2] = {2, 2};
            /* labels: float32 rows (2 x 2) for the odd types, ubyte class numbers else */
            write_bytes(labels, lb, t % 2 ? idx_typed(lb, 0x0D, 2, ldims)
                                          : idx_labels(lb, 0x801, 2, 2));
            seqrt_dataset d;
            seqrt_error err = {{0}};
            if (seqrt_load_idx(images, labels, &d, &err) != 0) {
                print_error("type 0x%02x, %d dims: %s\n", types[t], nd, err.msg);
                fail();
            }
            assert_int_equal(d.count, 2);
            assert_int_equal(d.ndims, nd - 1);
            for (int i = 1; i < nd; i++)
                assert_int_equal(d.dims[i - 1], shapes[nd - 2][i]);
            assert_int_equal(d.sample_size, 6);
            int bytes = types[t] == 0x08;
            assert_int_equal(d.xtype, bytes ? SEQRT_X_U8 : SEQRT_X_F32);
            for (int i = 0; i < 12; i++) {
                double want = bytes ? 3.0 * i : 3.0 * i - 5;
                assert_close(bytes ? d.pixels[i] : d.values[i], want, 0);
            }
            if (t % 2) {
                assert_int_equal(d.y_width, 2);
                assert_close(d.targets[3], 3.0 * 3 - 5, 0);
            } else {
                assert_int_equal(d.y_width, 1);
                assert_close(d.targets[1], 1, 0);
            }
            seqrt_dataset_free(&d);
        }
    }
    /* too many dimensions, and a labels file of 3 */
    const uint32_t six[6] = {2, 1, 1, 1, 2, 3};
    write_bytes(images, im, idx_typed(im, 0x0D, 6, six));
    expect_idx_failure(images, labels, images, "wrong magic number 0x00000d06, expected "
                       "0x00000803 (IDX images: 0x0000TTDD, type TT 08/09/0B/0C/0D/0E, 2 to 5 "
                       "dimensions)");
    write_bytes(images, im, idx_typed(im, 0x0D, 2, shapes[0]));
    write_bytes(labels, lb, idx_typed(lb, 0x0D, 3, shapes[1]));
    expect_idx_failure(images, labels, labels, "wrong magic number 0x00000d03, expected "
                       "0x00000801 (IDX labels: 0x0000TTDD, type TT 08/09/0B/0C/0D/0E, 1 or 2 "
                       "dimensions): this looks like an IDX images file");
    /* an unknown element type */
    write_bytes(images, im, idx_typed(im, 0x0D, 2, shapes[0]));
    im[2] = 0x0A;
    write_bytes(images, im, 4 + 8 + 24);
    expect_idx_failure(images, labels, images, "wrong magic number 0x00000a02");
    /* float images cut short: the values that arrived are counted */
    write_bytes(images, im, idx_typed(im, 0x0E, 2, shapes[0]) - 9);
    write_bytes(labels, lb, idx_labels(lb, 0x801, 2, 2));
    expect_idx_failure(images, labels, images, "truncated: header says 2 images of 6, the file "
                       "holds 1 (80 of 96 bytes of pixels)");
}

/* --------------------------------------------------------- broken IDX */

static void test_missing_file(void **state)
{
    (void)state;
    const char *images = tmp_path("m-images"), *labels = tmp_path("m-labels");
    write_good_pair(images, labels);
    const char *nowhere = tmp_path("no-such-labels");
    expect_idx_failure(images, nowhere, nowhere, "No such file or directory");

    /* in a folder: names the file it looked for, with and without .gz */
    seqrt_dataset d;
    seqrt_error err = {{0}};
    poison(&d);
    assert_int_equal(seqrt_load_mnist_dir(g_dir, "train", &d, &err), -1);
    ASSERT_MSG(&err, g_dir, "/train-images-idx3-ubyte[.gz]", "No such file");
    assert_empty(&d);

    /* a missing CSV too */
    expect_csv_failure(tmp_path("nothing.csv"), "cannot open", "No such file");
}

static void test_wrong_magic(void **state)
{
    (void)state;
    unsigned char buf[64];
    const char *images = tmp_path("w-images"), *labels = tmp_path("w-labels");
    write_good_pair(images, labels);
    /* labels and images swapped */
    expect_idx_failure(labels, images, labels, "wrong magic number 0x00000801, "
                                               "expected 0x00000803");
    /* a labels file with a nonsense magic */
    const char *odd = tmp_path("w-odd");
    write_bytes(odd, buf, idx_labels(buf, 0x12345678, 3, 3));
    expect_idx_failure(images, odd, odd, "0x12345678, expected 0x00000801");
}

static void test_truncated_pixels(void **state)
{
    (void)state;
    unsigned char buf[64];
    const char *images = tmp_path("t-images"), *labels = tmp_path("t-labels");
    write_good_pair(images, labels);
    write_bytes(images, buf, idx_images(buf, 0x803, 3, 2, 2, 10));
    expect_idx_failure(images, labels, images, "truncated: header says 3 images of "
                                               "2x2, the file holds 2 (10 of 12 bytes");
    /* the same file gzipped: found by inflating it */
    const char *gz = tmp_path("t-images.gz");
    write_gzip(gz, buf, 16 + 10);
    expect_idx_failure(gz, labels, gz, "truncated: header says 3 images of 2x2, "
                                       "the file holds 2 (10 of 12 bytes");
    /* labels cut short */
    write_bytes(labels, buf, idx_labels(buf, 0x801, 3, 1));
    write_bytes(images, buf, idx_images(buf, 0x803, 3, 2, 2, 12));
    expect_idx_failure(images, labels, labels, "truncated: header says 3 labels, "
                                               "the file holds 1");
    /* gzipped labels cut short: found only after the pixels were read, and
     * those must not be handed on */
    const char *gzl = tmp_path("t-labels.gz");
    write_gzip(gzl, buf, idx_labels(buf, 0x801, 3, 2));
    expect_idx_failure(images, gzl, gzl, "truncated: header says 3 labels, the "
                                         "file holds 2");
}

static void test_truncated_header(void **state)
{
    (void)state;
    unsigned char buf[64];
    const char *images = tmp_path("h-images"), *labels = tmp_path("h-labels");
    write_good_pair(images, labels);
    idx_images(buf, 0x803, 3, 2, 2, 0);
    write_bytes(images, buf, 10);
    expect_idx_failure(images, labels, images, "truncated header: expected 16 "
                                               "bytes, found 10");
    write_bytes(images, buf, 0);
    expect_idx_failure(images, labels, images, "empty file");
}

static void test_count_mismatch(void **state)
{
    (void)state;
    unsigned char buf[64];
    const char *images = tmp_path("c-images"), *labels = tmp_path("c-labels");
    write_good_pair(images, labels);
    write_bytes(labels, buf, idx_labels(buf, 0x801, 2, 2));
    seqrt_dataset d;
    seqrt_error err = {{0}};
    poison(&d);
    assert_int_equal(seqrt_load_idx(images, labels, &d, &err), -1);
    ASSERT_MSG(&err, images, labels, "2 labels", "3 images");
    assert_empty(&d);
}

static void test_trailing_garbage(void **state)
{
    (void)state;
    unsigned char buf[64];
    const char *images = tmp_path("g-images"), *labels = tmp_path("g-labels");
    write_good_pair(images, labels);
    write_bytes(images, buf, idx_images(buf, 0x803, 3, 2, 2, 13));
    expect_idx_failure(images, labels, images, "trailing data after the 12 bytes");
}

static void test_absurd_header(void **state)
{
    (void)state;
    unsigned char buf[64];
    const char *images = tmp_path("a-images"), *labels = tmp_path("a-labels");
    write_good_pair(images, labels);
    write_bytes(images, buf, idx_images(buf, 0x803, 3, 0, 2, 12));
    expect_idx_failure(images, labels, images, "absurd image size 0x2");
    write_bytes(images, buf, idx_images(buf, 0x803, 3, 0xFFFFFFFFu, 0xFFFFFFFFu, 12));
    expect_idx_failure(images, labels, images, "absurd image size 4294967295x4294967295");
    /* a huge count: reported as truncation, nothing allocated */
    write_bytes(images, buf, idx_images(buf, 0x803, 0xFFFFFFFFu, 28, 28, 12));
    write_bytes(labels, buf, idx_labels(buf, 0x801, 0xFFFFFFFFu, 3));
    expect_idx_failure(images, labels, images, "header says 4294967295 images of "
                                               "28x28, the file holds 0 (12 of "
                                               "3367254359280 bytes");
    write_bytes(images, buf, idx_images(buf, 0x803, 0, 2, 2, 0));
    expect_idx_failure(images, labels, images, "0 images");
}

static void test_corrupt_gzip(void **state)
{
    (void)state;
    unsigned char buf[2048];
    const char *images = tmp_path("z-images.gz"), *labels = tmp_path("z-labels");
    size_t n = idx_images(buf, 0x803, 40, 7, 7, 40 * 49);
    write_gzip(images, buf, n);
    write_bytes(labels, buf, idx_labels(buf, 0x801, 40, 40));

    seqrt_dataset d;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_load_idx(images, labels, &d, &err), 0); /* intact */
    assert_int_equal(d.count, 40);
    seqrt_dataset_free(&d);

    unsigned char *gz;
    size_t gzn;
    read_file(images, &gz, &gzn);
    assert_true(gzn > 40);
    assert_int_equal(gz[0], 0x1f);
    assert_int_equal(gz[1], 0x8b);

    /* bytes of the deflate stream overwritten */
    static unsigned char bad[sizeof buf];
    assert_true(gzn <= sizeof bad);
    memcpy(bad, gz, gzn);
    memset(bad + 12, 0xFF, 8);
    write_bytes(images, bad, gzn);
    expect_idx_failure(images, labels, images, "corrupt gzip data");

    /* the CRC in the trailer wrong */
    memcpy(bad, gz, gzn);
    bad[gzn - 8] ^= 0x55;
    write_bytes(images, bad, gzn);
    expect_idx_failure(images, labels, images, "corrupt gzip data");

    /* the stream cut in half */
    write_bytes(images, gz, gzn / 2);
    expect_idx_failure(images, labels, images, "the gzip stream ends early");
    free(gz);
}

/* ------------------------------------------------------- dataset_check */

static void test_check_label_out_of_range(void **state)
{
    (void)state;
    const char *path = tmp_path("labels.csv");
    write_text(path, "a,b,y\n0,0,3\n1,1,12\n2,2,4\n");
    seqrt_dataset d;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_load_csv(path, NULL, NULL, &d, &err), 0);
    assert_int_equal(seqrt_dataset_check(&d, 2, 13, SEQRT_TARGET_CLASS, 1, &err), 0);
    assert_int_equal(seqrt_dataset_check(&d, 2, 10, SEQRT_TARGET_CLASS, 1, &err), -1);
    ASSERT_MSG(&err, path, "sample 1 has label 12", "10 classes");
    seqrt_dataset_free(&d);
}

static void test_check_sample_size(void **state)
{
    (void)state;
    seqrt_dataset d;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_load_mnist_dir(MNIST_DIR, "t10k", &d, &err), 0);
    assert_int_equal(seqrt_dataset_check(&d, 100, 10, SEQRT_TARGET_CLASS, 1, &err), -1);
    ASSERT_MSG(&err, "t10k-images-idx3-ubyte.gz has shape (2000, 28, 28): 784 values per "
               "sample, the model's input takes 100");
    seqrt_dataset_free(&d);

    const char *path = tmp_path("size.csv");
    write_text(path, "a,b,c\n1,2,3\n");
    assert_int_equal(seqrt_load_csv(path, NULL, NULL, &d, &err), 0);
    assert_int_equal(seqrt_dataset_check(&d, 784, 10, SEQRT_TARGET_CLASS, 1, &err), -1);
    char want[600];
    snprintf(want, sizeof want, "%s has shape (1, 2): 2 values per sample, the model's "
             "input takes 784", path);
    assert_string_equal(err.msg, want);
    seqrt_dataset_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mnist_train),
        cmocka_unit_test(test_mnist_t10k),
        cmocka_unit_test(test_images_only),
        cmocka_unit_test(test_plain_equals_gzip),
        cmocka_unit_test(test_mem_equals_file),
        cmocka_unit_test(test_batch_gather),
        cmocka_unit_test(test_batch_mnist_scaled),
        cmocka_unit_test(test_csv_header_crlf),
        cmocka_unit_test(test_csv_no_header),
        cmocka_unit_test(test_csv_target_names),
        cmocka_unit_test(test_csv_quotes),
        cmocka_unit_test(test_csv_bom),
        cmocka_unit_test(test_csv_bad_cells),
        cmocka_unit_test(test_csv_ragged_row),
        cmocka_unit_test(test_csv_empty),
        cmocka_unit_test(test_csv_nan_checked),
        cmocka_unit_test(test_check_label_names_its_file),
        cmocka_unit_test(test_idx_every_type),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_wrong_magic),
        cmocka_unit_test(test_truncated_pixels),
        cmocka_unit_test(test_truncated_header),
        cmocka_unit_test(test_count_mismatch),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_absurd_header),
        cmocka_unit_test(test_corrupt_gzip),
        cmocka_unit_test(test_check_label_out_of_range),
        cmocka_unit_test(test_check_sample_size),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
